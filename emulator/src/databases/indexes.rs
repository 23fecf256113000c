//! Indexes: key, unique (enforced by a SQLite unique index) and fulltext (FTS5).

use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::schema::CollectionSchema;
use super::store::{self, AttributeRow, IndexRow};
use super::{ddl, model, Api};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{accepted, no_content, ok, Reply};

const TYPES: &[&str] = &["key", "fulltext", "unique", "spatial"];
/// MariaDB allows 64 indexes per table; Appwrite keeps a few for itself.
const MAX_INDEXES: usize = 58;
const INTERNAL_KEYS: &[&str] = &["$id", "$createdAt", "$updatedAt"];

/// Parameters of a new index.
#[derive(Debug, Clone)]
pub struct Spec {
    pub key: String,
    pub kind: String,
    pub attributes: Vec<String>,
    pub orders: Vec<String>,
    pub lengths: Vec<Value>,
}

impl Spec {
    pub fn from_params(api: Api, p: &Params) -> ApiResult<Spec> {
        let key = p.str("key")?;
        ids::check_key("key", &key)?;
        let kind = p.str("type")?;
        if !TYPES.contains(&kind.as_str()) {
            return Err(ApiError::invalid_param("type", &format!("Value must be one of ({})", TYPES.join(", "))));
        }
        let attrs_param = api.attributes_key();
        let attributes = p.str_list_opt(attrs_param)?.ok_or_else(|| ApiError::missing_param(attrs_param))?;
        if attributes.len() > 100 || attributes.iter().any(|a| !(INTERNAL_KEYS.contains(&a.as_str()) || ids::is_valid_id(a))) {
            return Err(ApiError::invalid_param(
                attrs_param,
                &format!("Value must a valid array no longer than 100 items and {}", ids::KEY_DESCRIPTION),
            ));
        }
        let orders = p.str_list_opt("orders")?.unwrap_or_default();
        if orders.iter().any(|o| !o.eq_ignore_ascii_case("asc") && !o.eq_ignore_ascii_case("desc")) {
            return Err(ApiError::invalid_param("orders", "Value must a valid array no longer than 100 items and Value must be one of (ASC, DESC)"));
        }
        let lengths = match p.get("lengths") {
            Some(Value::Array(a)) => a.clone(),
            Some(_) => p.str_list_opt("lengths")?.unwrap_or_default().into_iter().map(|s| s.parse::<i64>().map(Value::from).unwrap_or(Value::Null)).collect(),
            None => Vec::new(),
        };
        Ok(Spec { key, kind, attributes, orders, lengths })
    }

    /// An inline index definition (`indexes` of collection create).
    pub fn from_json(api: Api, def: &Map<String, Value>) -> ApiResult<Spec> {
        let mut def = def.clone();
        if !def.contains_key(api.attributes_key()) {
            if let Some(v) = def.get("attributes").or_else(|| def.get("columns")).cloned() {
                def.insert(api.attributes_key().into(), v);
            }
        }
        Spec::from_params(api, &Params::from_json(def))
    }
}

/// Validates and creates an index (metadata and SQL) inside `tx`.
pub fn create_in(tx: &Transaction, api: Api, schema: &CollectionSchema, spec: &Spec, now: &str) -> ApiResult<IndexRow> {
    let invalid = |m: String| ApiError::msg(api.index_invalid(), m);
    if schema.indexes.len() >= MAX_INDEXES {
        return Err(ApiError::with_arg(api.index_limit(), &schema.collection.id));
    }
    if spec.kind == "spatial" {
        return Err(invalid("Spatial indexes are not supported".into()));
    }
    let mut resolved: Vec<Option<&AttributeRow>> = Vec::new();
    for name in &spec.attributes {
        if INTERNAL_KEYS.contains(&name.as_str()) {
            resolved.push(None);
            continue;
        }
        let a = schema.attribute(name).ok_or_else(|| ApiError::with_arg(api.attribute_unknown(), name))?;
        if a.is_relationship() {
            return Err(ApiError::msg(
                api.attribute_type_invalid(),
                format!("Cannot create an index for a relationship {}: {}", api.attribute_word(), a.key),
            ));
        }
        if a.status != "available" {
            return Err(ApiError::with_arg(api.attribute_not_available(), &a.key));
        }
        if a.array {
            return Err(ApiError::msg(types::INDEX_INVALID, "Creating indexes on array attributes is not currently supported."));
        }
        resolved.push(Some(a));
    }
    if spec.attributes.is_empty() {
        return Err(invalid("No attributes provided for index".into()));
    }
    let mut seen = std::collections::HashSet::new();
    if !spec.attributes.iter().all(|a| seen.insert(a.to_lowercase())) {
        return Err(invalid("Duplicate attributes provided".into()));
    }
    if spec.kind == "fulltext" {
        for (name, a) in spec.attributes.iter().zip(&resolved) {
            let is_string = a.is_none_or(|a| a.is_string_kind());
            if !is_string {
                return Err(invalid(format!("Attribute \"{name}\" cannot be part of a fulltext index, must be of type string")));
            }
        }
    }
    if spec.lengths.len() > spec.attributes.len() {
        return Err(invalid("Invalid index lengths. Count of lengths must be equal or less than the number of attributes.".into()));
    }
    if schema.indexes.iter().any(|i| i.key == spec.key) {
        return Err(ApiError::with_arg(api.index_exists(), &spec.key));
    }
    let orders: Vec<Value> = spec.orders.iter().map(|o| json!(o.to_uppercase())).collect();
    let row = IndexRow {
        seq: 0,
        collection_seq: schema.collection.seq,
        key: spec.key.clone(),
        kind: spec.kind.clone(),
        attributes: spec.attributes.clone(),
        orders,
        lengths: spec.lengths.clone(),
        status: "available".into(),
        error: String::new(),
        created_at: now.into(),
        updated_at: now.into(),
    };
    let row = store::insert_index(tx, &row)?;
    match ddl::create_index(tx, &schema.collection, &row, &resolved) {
        Ok(()) => Ok(row),
        // Existing documents that violate a new unique index.
        Err(e) if e.message.contains("UNIQUE constraint failed") => {
            Err(invalid(format!("Cannot create unique index \"{}\": existing {} hold duplicate values.", row.key, api.documents_key())))
        }
        Err(e) => Err(e),
    }
}

fn load(tx: &Transaction, api: Api, p: &Params) -> ApiResult<CollectionSchema> {
    CollectionSchema::require(tx, api, p.path("databaseId"), p.path(api.collection_param()), true)
}

fn publish(ctx: &Ctx, schema: &CollectionSchema, i: &IndexRow, action: &str) {
    let index_id = format!("{}_{}_{}", schema.database.seq, schema.collection.seq, i.key);
    crate::events::publish_typed(
        ctx,
        &format!("databases.[databaseId].collections.[collectionId].indexes.[indexId].{action}"),
        &[("databaseId", &schema.database.id), ("collectionId", &schema.collection.id), ("indexId", &index_id)],
        model::index(Api::Legacy, i),
        Some(&schema.database.kind),
    );
}

pub async fn create(api: Api, ctx: Ctx, p: Params) -> Reply {
    let spec = Spec::from_params(api, &p)?;
    let now = ctx.state.clock.now_iso();
    let (schema, row) = ctx
        .project()?
        .write(move |tx| {
            let schema = load(tx, api, &p)?;
            let row = create_in(tx, api, &schema, &spec, &now)?;
            Ok((schema, row))
        })
        .await?;
    publish(&ctx, &schema, &row, "create");
    let mut out = model::index(api, &row);
    out["status"] = json!("processing");
    accepted(out)
}

pub async fn get(api: Api, ctx: Ctx, p: Params) -> Reply {
    let row = ctx
        .project()?
        .read(move |tx| {
            let schema = load(tx, api, &p)?;
            let key = p.path("key");
            schema.indexes.iter().find(|i| i.key == key).cloned().ok_or_else(|| ApiError::with_arg(api.index_not_found(), key))
        })
        .await?;
    ok(model::index(api, &row))
}

pub async fn list(api: Api, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            let schema = load(tx, api, &p)?;
            let fixed = FixedSchema::new(
                "",
                &[("key", "key", Kind::String), ("type", "type", Kind::String), ("status", "status", Kind::String), ("error", "error", Kind::String)],
                "seq",
            );
            let mut scope = Compiled::default();
            scope.push("collection_seq = ?", [rusqlite::types::Value::Integer(schema.collection.seq)]);
            let spec = ListSpec {
                from: "indexes".into(),
                select: store::INDEX_COLS.into(),
                scope,
                visibility: Compiled::default(),
                schema: &fixed,
                id_sql: "key",
                resource: "Index",
                order_words: (api.attribute_word(), api.documents_key()),
                errors: Errors::Param,
                search: None,
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, store::map_index)?;
            Ok((page.items, page.total))
        })
        .await?;
    ok(json!({"total": total, "indexes": items.iter().map(|i| model::index(api, i)).collect::<Vec<_>>()}))
}

pub async fn delete(api: Api, ctx: Ctx, p: Params) -> Reply {
    let (schema, row) = ctx
        .project()?
        .write(move |tx| {
            let schema = load(tx, api, &p)?;
            let key = p.path("key");
            let row = schema.indexes.iter().find(|i| i.key == key).cloned().ok_or_else(|| ApiError::with_arg(api.index_not_found(), key))?;
            ddl::drop_index(tx, &schema.collection, &row)?;
            tx.execute("DELETE FROM indexes WHERE seq = ?1", [row.seq])?;
            Ok((schema, row))
        })
        .await?;
    publish(&ctx, &schema, &row, "delete");
    no_content()
}
