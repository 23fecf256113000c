//! `POST …/transactions/{id}/operations`: Appwrite's `Operation` validator, then each operation
//! checked against the transaction's view of the data (a create earlier in the batch counts).

use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::super::documents::Access;
use super::super::schema::CollectionSchema;
use super::super::store as meta;
use super::super::Api;
use super::stage::{self, Gate};
use super::store::{self, OpRow};
use super::path_id;
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::response::{created, Reply};

fn invalid_operation(description: &str) -> ApiError {
    ApiError::invalid_param("operations", &format!("Value must a valid array and {description}"))
}

/// Appwrite's `Operation` validator for one item of `operations`.
fn check_operation(api: Api, o: &Map<String, Value>) -> ApiResult<()> {
    const ACTIONS: &[&str] =
        &["create", "update", "upsert", "delete", "increment", "decrement", "bulkCreate", "bulkUpdate", "bulkUpsert", "bulkDelete"];
    let (coll_key, doc_key) = (api.collection_param(), api.document_param());
    for key in ["databaseId", "action", coll_key] {
        if !o.contains_key(key) {
            return Err(invalid_operation(&format!("Missing required key: {key}")));
        }
    }
    for key in ["databaseId", "action", coll_key] {
        if o.get(key).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
            return Err(invalid_operation(&format!("Key '{key}' must be a non\u{2011}empty string")));
        }
    }
    let action = o["action"].as_str().unwrap_or_default();
    if !ACTIONS.contains(&action) {
        return Err(invalid_operation(&format!("Key 'action' must be one of: {}", ACTIONS.join(", "))));
    }
    let needs_id = matches!(action, "create" | "update" | "upsert" | "delete" | "increment" | "decrement");
    if needs_id && !o.contains_key(doc_key) {
        return Err(invalid_operation(&format!("Key '{doc_key}' is required for action '{action}'")));
    }
    if o.contains_key(doc_key) && o.get(doc_key).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
        return Err(invalid_operation(&format!("Key '{doc_key}' must be a non-empty string")));
    }
    let data = o.get("data");
    let is_array = |v: Option<&Value>| matches!(v, Some(Value::Array(_) | Value::Object(_)));
    if action != "delete" {
        if data.is_none() {
            return Err(invalid_operation("Missing required key: data"));
        }
        if !is_array(data) {
            return Err(invalid_operation("Key 'data' must be an array"));
        }
    } else if data.is_some() && !is_array(data) {
        return Err(invalid_operation("Key 'data' must be an array"));
    }
    if matches!(action, "bulkUpdate" | "bulkDelete") {
        let d = data.and_then(Value::as_object);
        match d.and_then(|d| d.get("queries")) {
            None => return Err(invalid_operation(&format!("Key 'queries' is required in data for {action}"))),
            Some(Value::Array(_)) => {}
            Some(_) => return Err(invalid_operation(&format!("Key 'queries' must be an array for {action}"))),
        }
        if action == "bulkUpdate" {
            match d.and_then(|d| d.get("data")) {
                None => return Err(invalid_operation(&format!("Key 'data' is required in data for {action}"))),
                Some(Value::Object(_)) => {}
                Some(Value::Array(a)) if a.is_empty() => {}
                Some(_) => return Err(invalid_operation(&format!("Key 'data.data' must be an array for {action}"))),
            }
        }
    }
    if matches!(action, "increment" | "decrement") {
        let key = api.attribute_param();
        let d = data.and_then(Value::as_object);
        if !d.is_some_and(|d| d.contains_key(key)) {
            return Err(invalid_operation(&format!("Key '{key}' is required in data for {action}")));
        }
        if let Some(v) = d.and_then(|d| d.get("value")) {
            if crate::params::as_f64(v).is_none() {
                return Err(invalid_operation(&format!("Key 'value' must be a numeric value for {action}")));
            }
        }
    }
    Ok(())
}

/// `POST …/transactions/{id}/operations`.
pub async fn create(api: Api, ctx: Ctx, p: Params) -> Reply {
    let id = path_id(&p)?;
    let items = match p.get("operations") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(ApiError::invalid_param("operations", "Value must a valid array")),
    };
    let mut operations = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(o) = item else { return Err(invalid_operation("Value must be an array")) };
        check_operation(api, &o)?;
        operations.push(o);
    }
    if operations.is_empty() {
        return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, "Operations array cannot be empty"));
    }
    let access = Access::of(&ctx)?;
    let t = ctx
        .project()?
        .write(move |tx| {
            let t = stage::open(tx, &access, &id, Gate::Operations, operations.len())?;
            let mut pending = store::operations_of(tx, &t)?;
            let before = pending.len();
            for o in &operations {
                let op = prepare_operation(tx, api, &access, &pending, o)?;
                pending.push(op);
            }
            store::append(tx, &t, &pending[before..], &access.now)
        })
        .await?;
    created(t.model())
}

/// Validates one operation of `…/operations` against the transaction's view of the data.
fn prepare_operation(tx: &Transaction, api: Api, access: &Access, pending: &[OpRow], o: &Map<String, Value>) -> ApiResult<OpRow> {
    let action = o["action"].as_str().unwrap_or_default();
    let bulk = action.starts_with("bulk");
    if bulk && !access.is_key {
        return Err(ApiError::of(types::USER_UNAUTHORIZED));
    }
    let database_id = o["databaseId"].as_str().unwrap_or_default();
    let collection_id = o[api.collection_param()].as_str().unwrap_or_default();
    let db = meta::get_database(tx, database_id)?
        .filter(|d| d.enabled || access.is_key)
        .ok_or_else(|| ApiError::with_arg(types::DATABASE_NOT_FOUND, database_id))?;
    let coll = meta::get_collection(tx, db.seq, collection_id)?
        .filter(|c| c.enabled || access.is_key)
        .ok_or_else(|| ApiError::with_arg(types::COLLECTION_NOT_FOUND, collection_id))?;
    let s = CollectionSchema::load(tx, db, coll)?;
    if bulk && s.attributes.iter().any(|a| a.is_relationship()) {
        return Err(ApiError::msg(
            types::GENERAL_BAD_REQUEST,
            format!("Bulk operations are not supported for {} with relationship attributes", api.collection_param()),
        ));
    }
    let mut doc_id = o.get(api.document_param()).and_then(Value::as_str).map(String::from);
    if action == "create" && doc_id.as_deref() == Some("unique()") {
        doc_id = Some(crate::ids::unique());
    }
    let data = o.get("data").cloned().unwrap_or_else(|| json!({}));
    let fields = data.as_object().cloned().unwrap_or_default();
    let mut current = None;
    if matches!(action, "update" | "delete" | "upsert" | "increment" | "decrement") {
        let id = doc_id.clone().unwrap_or_default();
        current = stage::view(tx, api, access, pending, &s, &id)?;
        if current.is_none() && action != "upsert" {
            return Err(ApiError::with_arg(types::DOCUMENT_NOT_FOUND, &id));
        }
    }
    if !bulk {
        stage::authorize(access, &s, action, current.as_ref(), &fields)?;
    }
    let base = stage::base(tx, api, access, &s, action, doc_id.as_deref(), &data);
    Ok(stage::op(&s, action, doc_id, data, base, &access.now))
}

