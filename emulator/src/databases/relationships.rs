//! Relationship attributes: creation, update, `onDelete`, nested writes and expansion.
//! (Filled in by the relationships work; until then relationship routes answer 405.)

use rusqlite::Transaction;
use serde_json::{Map, Value};

use super::documents::Access;
use super::records::Stored;
use super::schema::CollectionSchema;
use super::store::AttributeRow;
use super::Api;
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::response::Reply;

fn unsupported() -> ApiError {
    ApiError::msg(types::GENERAL_NOT_IMPLEMENTED, "Relationship attributes are not implemented yet.")
}

pub async fn create(_api: Api, _ctx: Ctx, _p: Params) -> Reply {
    Err(unsupported())
}

pub async fn update(_api: Api, _ctx: Ctx, _p: Params, _key: String) -> Reply {
    Err(unsupported())
}

pub fn delete_attribute(_tx: &Transaction, _api: Api, _s: &CollectionSchema, _a: &AttributeRow) -> ApiResult<()> {
    Err(unsupported())
}

/// Called before a collection is dropped.
pub fn detach_collection(_tx: &Transaction, _s: &CollectionSchema) -> ApiResult<()> {
    Ok(())
}

/// Resolves relationship values of a write into the values stored on this side.
pub fn before_write(
    _tx: &Transaction,
    _s: &CollectionSchema,
    _api: Api,
    _access: &Access,
    _id: &str,
    _data: &Map<String, Value>,
    values: Map<String, Value>,
) -> ApiResult<Map<String, Value>> {
    Ok(values)
}

/// Writes the related documents and links of a write (after the document row exists).
pub fn after_write(_tx: &Transaction, _s: &CollectionSchema, _api: Api, _access: &Access, _id: &str, _data: &Map<String, Value>) -> ApiResult<()> {
    Ok(())
}

/// Applies `onDelete` before a document is deleted.
pub fn before_delete(_tx: &Transaction, _s: &CollectionSchema, _api: Api, _access: &Access, _current: &Stored) -> ApiResult<()> {
    Ok(())
}

/// Adds related documents to `doc` as a `select` asks.
pub fn expand(
    _tx: &Transaction,
    _s: &CollectionSchema,
    _api: Api,
    _access: &Access,
    doc: Map<String, Value>,
    _selection: &Option<Vec<String>>,
) -> ApiResult<Map<String, Value>> {
    Ok(doc)
}
