//! Staging: the checks 1.9.6 makes before it logs an operation, whether it comes from a write
//! route with `transactionId` or from `POST …/transactions/{id}/operations`, and the mock
//! responses the routes answer with.

use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::super::documents::{self, Access};
use super::super::records::{self, Stored};
use super::super::schema::CollectionSchema;
use super::super::Api;
use super::replay::{fingerprint, permissions_of, scratch, strings, Replay};
use super::store::{self, OpRow, TxnRow};
use crate::error::{types, ApiError, ApiResult};
use crate::permissions::{self, ITEM_ACTIONS};

/// Most operations one transaction may hold (`APP_LIMIT_DATABASE_TRANSACTION`).
pub const MAX_OPERATIONS: i64 = 100;

/// 1.9.6 spells this message with a non-breaking hyphen (U+2011).
pub const NOT_PENDING: &str = "Invalid or non\u{2011}pending transaction";

/// The transaction checks differ between the routes that stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Single-document routes: not found, not ready, expired.
    Route,
    /// Increment/decrement: a missing or settled transaction is a bad request; expiry counts.
    Counter,
    /// Bulk update/upsert/delete routes: a bad request either way, and expiry is not checked.
    Bulk,
    /// `…/transactions/{id}/operations`.
    Operations,
}

/// True when the caller may see the transaction (keys see all; users their own).
pub fn visible(t: &TxnRow, access: &Access) -> bool {
    access.is_key || permissions::allows(&t.permissions, permissions::READ, &access.roles)
}

pub fn expired(t: &TxnRow, access: &Access) -> bool {
    let now = crate::clock::parse_datetime(&access.now);
    let expires = crate::clock::parse_datetime(&t.expires_at);
    matches!((now, expires), (Some(n), Some(e)) if n > e)
}

/// Loads a transaction that may take `adding` more operations.
pub fn open(tx: &Transaction, access: &Access, tid: &str, gate: Gate, adding: usize) -> ApiResult<TxnRow> {
    let t = store::get(tx, tid)?.filter(|t| visible(t, access));
    let t = match (t, gate) {
        (Some(t), _) => t,
        (None, Gate::Route | Gate::Operations) => return Err(ApiError::with_arg(types::TRANSACTION_NOT_FOUND, tid)),
        (None, _) => return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, NOT_PENDING)),
    };
    if t.status != "pending" {
        return Err(match gate {
            Gate::Route => ApiError::of(types::TRANSACTION_NOT_READY),
            _ => ApiError::msg(types::GENERAL_BAD_REQUEST, NOT_PENDING),
        });
    }
    if gate != Gate::Bulk && expired(&t, access) {
        return Err(ApiError::of(types::TRANSACTION_EXPIRED));
    }
    if t.operations + adding as i64 > MAX_OPERATIONS {
        return Err(ApiError::msg(
            types::TRANSACTION_LIMIT_EXCEEDED,
            format!("Transaction already has {} operations, adding {adding} would exceed the maximum of {MAX_OPERATIONS}", t.operations),
        ));
    }
    Ok(t)
}

/// Whether any of `ops` may have written document `id` of `s`.
fn touches(ops: &[OpRow], s: &CollectionSchema, id: &str) -> bool {
    ops.iter().filter(|o| o.collection_seq == s.collection.seq).any(|o| match o.action.as_str() {
        "bulkUpdate" | "bulkDelete" => true,
        "bulkCreate" | "bulkUpsert" => o.data.as_array().is_some_and(|a| a.iter().any(|d| d.get("$id").and_then(Value::as_str) == Some(id))),
        _ => o.document_id.as_deref() == Some(id),
    })
}

/// Document `id` as the transaction sees it: committed, or with the staged operations replayed
/// (in a savepoint that is rolled back) when they touch it.
pub fn view(tx: &Transaction, api: Api, access: &Access, ops: &[OpRow], s: &CollectionSchema, id: &str) -> ApiResult<Option<Stored>> {
    if !touches(ops, s, id) {
        return records::fetch(tx, s, api, access.format, id);
    }
    scratch(tx, || {
        Replay::new(tx, api, access, false).run(ops)?;
        records::fetch(tx, s, api, access.format, id)
    })
}

/// Fingerprints of the committed documents an operation will write, keyed by ID.
pub fn base(tx: &Transaction, api: Api, access: &Access, s: &CollectionSchema, action: &str, id: Option<&str>, data: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let mut add = |d: Stored| {
        out.insert(d.id().to_string(), json!(fingerprint(&d)));
    };
    match action {
        "bulkUpdate" | "bulkDelete" => {
            let queries = strings(data.get("queries"));
            // Unusable queries fail at commit, as in Appwrite; nothing to record then.
            if let Ok(docs) = documents::matching(tx, s, api, access, &queries) {
                docs.into_iter().for_each(&mut add);
            }
        }
        "bulkUpsert" => {
            for d in data.as_array().into_iter().flatten() {
                if let Some(x) = d.get("$id").and_then(Value::as_str) {
                    if let Ok(Some(found)) = records::fetch(tx, s, api, access.format, x) {
                        add(found);
                    }
                }
            }
        }
        _ => {
            if let Some(Ok(Some(found))) = id.map(|x| records::fetch(tx, s, api, access.format, x)) {
                add(found);
            }
        }
    }
    out
}

/// The staged operation row.
pub fn op(s: &CollectionSchema, action: &str, id: Option<String>, data: Value, base: Map<String, Value>, now: &str) -> OpRow {
    OpRow {
        database_seq: s.database.seq,
        collection_seq: s.collection.seq,
        document_id: id,
        action: action.to_string(),
        data,
        staged_at: now.to_string(),
        base,
    }
}

/// The document a staging route answers with: `$id`, the collection and database IDs, then the
/// rest, with the model's defaults for what is missing.
pub fn mock(api: Api, s: &CollectionSchema, id: &str, parts: &[&Map<String, Value>]) -> Value {
    let mut m = Map::new();
    m.insert("$id".into(), json!(id));
    m.insert("$sequence".into(), json!(""));
    m.insert(api.collection_id_key().into(), json!(s.collection.id));
    m.insert("$databaseId".into(), json!(s.database.id));
    m.insert("$createdAt".into(), json!(""));
    m.insert("$updatedAt".into(), json!(""));
    m.insert("$permissions".into(), json!([]));
    for p in parts {
        for (k, v) in p.iter() {
            if matches!(k.as_str(), "$collection" | "$collectionId" | "$tableId" | "$databaseId" | "$tenant") {
                continue;
            }
            m.insert(k.clone(), v.clone());
        }
    }
    m.insert("$id".into(), json!(id));
    Value::Object(m)
}

/// Permissions given with a staged write: validated, `write` expanded, grantable by the caller.
pub fn given_permissions(access: &Access, given: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    let Some(p) = given else { return Ok(None) };
    let p = permissions::normalize("permissions", &p, ITEM_ACTIONS)?;
    if !access.is_key {
        permissions::check_grantable(&p, &access.roles)?;
    }
    Ok(Some(p))
}

/// The permission an operation needs, checked at staging for callers that are not keys
/// (`Operations\Create`).
pub fn authorize(access: &Access, s: &CollectionSchema, action: &str, doc: Option<&Stored>, data: &Map<String, Value>) -> ApiResult<()> {
    if access.is_key {
        return Ok(());
    }
    let needed = match action {
        "create" => permissions::CREATE,
        "update" | "increment" | "decrement" => permissions::UPDATE,
        "delete" => permissions::DELETE,
        "upsert" if doc.is_some() => permissions::UPDATE,
        _ => permissions::CREATE,
    };
    let collection_ok = permissions::allows(&s.collection.permissions, needed, &access.roles);
    let document_ok = needed != permissions::CREATE
        && s.collection.document_security
        && doc.is_some_and(|d| permissions::allows(&d.permissions(), needed, &access.roles));
    if !(collection_ok || document_ok) {
        return Err(ApiError::of(types::USER_UNAUTHORIZED));
    }
    if let Some(p) = permissions_of(data) {
        permissions::check_grantable(&p, &access.roles)?;
    }
    Ok(())
}
