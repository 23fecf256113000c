//! Applying staged operations through the same functions the document routes use
//! (`documents::create_one`, `update_one`, `upsert_one`, `delete_one`, `increment_in`,
//! `bulk_*_in`), for a commit (all or nothing, with conflict detection) or for a read that must
//! see the staged changes (inside a savepoint that is rolled back).

use std::collections::{HashMap, HashSet};

use rusqlite::Transaction;
use serde_json::{Map, Value};

use super::super::documents::{self, Access};
use super::super::records::{self, Stored};
use super::super::schema::CollectionSchema;
use super::super::store;
use super::super::Api;
use super::store::OpRow;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;

/// A stable fingerprint of a document's stored state (FNV-1a over its dates, permissions and
/// values), recorded at staging and compared at commit.
pub fn fingerprint(d: &Stored) -> String {
    let text = serde_json::to_string(&(d.doc.get("$updatedAt"), d.doc.get("$permissions"), d.values())).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Runs `f` inside a savepoint released on success and rolled back on failure.
pub fn savepoint<T>(tx: &Transaction, name: &str, f: impl FnOnce() -> ApiResult<T>) -> ApiResult<T> {
    tx.execute_batch(&format!("SAVEPOINT {name}"))?;
    match f() {
        Ok(v) => {
            tx.execute_batch(&format!("RELEASE {name}"))?;
            Ok(v)
        }
        Err(e) => {
            tx.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))?;
            Err(e)
        }
    }
}

/// Runs `f` inside a savepoint that is always rolled back: nothing it writes survives.
pub fn scratch<T>(tx: &Transaction, f: impl FnOnce() -> ApiResult<T>) -> ApiResult<T> {
    tx.execute_batch("SAVEPOINT qw_scratch")?;
    let out = f();
    tx.execute_batch("ROLLBACK TO qw_scratch; RELEASE qw_scratch")?;
    out
}

/// A document event a committed operation fires once the commit is done.
#[derive(Debug, Clone)]
pub struct Fired {
    pub collection_seq: i64,
    pub id: String,
    pub action: &'static str,
    /// The deleted document (the others are read back after the commit).
    pub deleted: Option<Map<String, Value>>,
}

/// Replays operations in order over the current SQLite transaction.
pub struct Replay<'a> {
    tx: &'a Transaction<'a>,
    api: Api,
    access: &'a Access,
    schemas: HashMap<i64, CollectionSchema>,
    /// Documents an earlier operation of this replay wrote: not checked for conflicts again.
    touched: HashSet<(i64, String)>,
    check_conflicts: bool,
    pub fired: Vec<Fired>,
    /// The document the failing operation was about (for `document_not_found`).
    pub current_id: Option<String>,
}

impl<'a> Replay<'a> {
    pub fn new(tx: &'a Transaction<'a>, api: Api, access: &'a Access, check_conflicts: bool) -> Replay<'a> {
        Replay { tx, api, access, schemas: HashMap::new(), touched: HashSet::new(), check_conflicts, fired: Vec::new(), current_id: None }
    }

    pub fn schema(&mut self, collection_seq: i64) -> ApiResult<CollectionSchema> {
        if let Some(s) = self.schemas.get(&collection_seq) {
            return Ok(s.clone());
        }
        let coll = store::collection_by_seq(self.tx, collection_seq)?.ok_or_else(|| ApiError::of(types::COLLECTION_NOT_FOUND))?;
        let db = store::database_by_seq(self.tx, coll.database_seq)?.ok_or_else(|| ApiError::of(types::DATABASE_NOT_FOUND))?;
        let s = CollectionSchema::load(self.tx, db, coll)?;
        self.schemas.insert(collection_seq, s.clone());
        Ok(s)
    }

    /// Applies every operation; a read replay skips the ones that fail.
    pub fn run(&mut self, ops: &[OpRow]) -> ApiResult<()> {
        for op in ops {
            if self.check_conflicts {
                self.apply(op)?;
            } else {
                let tx = self.tx;
                let _ = savepoint(tx, "qw_op", || self.apply(op));
            }
        }
        Ok(())
    }

    /// utopia's request-timestamp rule: a document written by someone else after the operation
    /// was staged is a conflict. The staged fingerprint also catches writes in the same millisecond.
    fn check(&self, s: &CollectionSchema, op: &OpRow, current: Option<&Stored>) -> ApiResult<()> {
        let Some(cur) = current else { return Ok(()) };
        if !self.check_conflicts || self.touched.contains(&(s.collection.seq, cur.id().to_string())) {
            return Ok(());
        }
        let conflict = match op.base.get(cur.id()) {
            Some(Value::String(fp)) => fingerprint(cur) != *fp,
            _ => cur.doc.get("$updatedAt").and_then(Value::as_str).unwrap_or_default() > op.staged_at.as_str(),
        };
        if conflict {
            return Err(ApiError::of(types::TRANSACTION_CONFLICT));
        }
        Ok(())
    }

    fn touch(&mut self, s: &CollectionSchema, id: &str) {
        self.touched.insert((s.collection.seq, id.to_string()));
    }

    fn fire(&mut self, s: &CollectionSchema, id: &str, action: &'static str, deleted: Option<Map<String, Value>>) {
        self.fired.push(Fired { collection_seq: s.collection.seq, id: id.to_string(), action, deleted });
    }

    fn fetch(&self, s: &CollectionSchema, id: &str) -> ApiResult<Option<Stored>> {
        records::fetch(self.tx, s, self.api, self.access.format, id)
    }

    /// Applies one operation.
    pub fn apply(&mut self, op: &OpRow) -> ApiResult<()> {
        let s = self.schema(op.collection_seq)?;
        let (tx, api, access) = (self.tx, self.api, self.access);
        let data = op.data.as_object().cloned().unwrap_or_default();
        let id = op.document_id.clone().or_else(|| data.get("$id").and_then(Value::as_str).map(String::from));
        self.current_id = id.clone();
        match op.action.as_str() {
            "create" => {
                let id = match id.as_deref() {
                    None | Some("unique()") => ids::unique(),
                    Some(x) => x.to_string(),
                };
                let perms = permissions_of(&data).or(Some(Vec::new()));
                documents::create_one(tx, &s, api, access, &id, data, perms)?;
                self.touch(&s, &id);
                self.fire(&s, &id, "create", None);
            }
            "update" => {
                let id = id.unwrap_or_default();
                let current = documents::require_doc(tx, &s, api, access, &id)?;
                self.check(&s, op, Some(&current))?;
                let perms = permissions_of(&data);
                documents::update_one(tx, &s, api, access, &current, data, perms, false)?;
                self.touch(&s, &id);
                self.fire(&s, &id, "update", None);
            }
            "upsert" => {
                let id = id.unwrap_or_default();
                let current = self.fetch(&s, &id)?;
                self.check(&s, op, current.as_ref())?;
                let perms = permissions_of(&data);
                documents::upsert_one(tx, &s, api, access, &id, data, perms)?;
                self.touch(&s, &id);
                self.fire(&s, &id, "update", None);
            }
            "delete" => {
                let id = id.unwrap_or_default();
                let current = documents::require_doc(tx, &s, api, access, &id)?;
                self.check(&s, op, Some(&current))?;
                documents::delete_one(tx, &s, api, access, &current)?;
                self.touch(&s, &id);
                self.fire(&s, &id, "delete", Some(current.doc));
            }
            "increment" | "decrement" => {
                let id = id.unwrap_or_default();
                let attribute = data
                    .get(api.attribute_param())
                    .or_else(|| data.get(if api.is_legacy() { "column" } else { "attribute" }))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let value = data.get("value").and_then(crate::params::as_f64).unwrap_or(1.0);
                if value <= 0.0 {
                    return Err(ApiError::msg(types::GENERAL_ARGUMENT_INVALID, "Value must be numeric and greater than 0"));
                }
                let (sign, bound) = if op.action == "increment" { (1.0, "max") } else { (-1.0, "min") };
                let limit = data.get(bound).and_then(crate::params::as_f64);
                documents::increment_in(tx, &s, api, access, &id, &attribute, sign * value, limit)?;
                self.touch(&s, &id);
                self.fire(&s, &id, "update", None);
            }
            "bulkCreate" => {
                let docs = objects(&op.data);
                for d in documents::bulk_create(tx, &s, api, access, docs)? {
                    self.touch(&s, d.id());
                }
            }
            "bulkUpdate" => {
                let queries = strings(data.get("queries"));
                for d in documents::matching(tx, &s, api, access, &queries)? {
                    self.check(&s, op, Some(&d))?;
                }
                let set = data.get("data").and_then(Value::as_object).cloned().unwrap_or_default();
                for d in documents::bulk_update_in(tx, &s, api, access, &queries, set)? {
                    self.touch(&s, d.id());
                }
            }
            "bulkUpsert" => {
                let docs = objects(&op.data);
                for d in &docs {
                    if let Some(x) = d.get("$id").and_then(Value::as_str) {
                        let current = self.fetch(&s, x)?;
                        self.check(&s, op, current.as_ref())?;
                    }
                }
                for (d, _) in documents::bulk_upsert_in(tx, &s, api, access, docs)? {
                    self.touch(&s, d.id());
                }
            }
            "bulkDelete" => {
                let queries = strings(data.get("queries"));
                for d in documents::matching(tx, &s, api, access, &queries)? {
                    self.check(&s, op, Some(&d))?;
                }
                for d in documents::bulk_delete_in(tx, &s, api, access, &queries)? {
                    self.touch(&s, d.id());
                }
            }
            other => return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, format!("Invalid action: {other}"))),
        }
        Ok(())
    }
}

/// `$permissions` of staged document data, if set.
pub fn permissions_of(data: &Map<String, Value>) -> Option<Vec<String>> {
    match data.get("$permissions") {
        Some(Value::Array(a)) => Some(a.iter().filter_map(|v| v.as_str().map(String::from)).collect()),
        _ => None,
    }
}

fn objects(v: &Value) -> Vec<Map<String, Value>> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_object().cloned()).collect()).unwrap_or_default()
}

pub fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// How a failed commit is reported (1.9.6 `Transactions\Update`): a missing document is
/// `document_not_found`, a duplicate or concurrent write `transaction_conflict`, an invalid
/// document `document_invalid_structure`, a bound `attribute_limit_exceeded`.
pub fn commit_error(e: ApiError, current_id: Option<&str>) -> ApiError {
    let name = e.ty.name;
    if name == types::DOCUMENT_NOT_FOUND.name || name == types::ROW_NOT_FOUND.name {
        return ApiError::with_arg(types::DOCUMENT_NOT_FOUND, current_id.unwrap_or("unknown"));
    }
    if name == types::DOCUMENT_ALREADY_EXISTS.name || name == types::ROW_ALREADY_EXISTS.name {
        return ApiError::of(types::TRANSACTION_CONFLICT);
    }
    if name == types::ROW_INVALID_STRUCTURE.name {
        return ApiError::msg(types::DOCUMENT_INVALID_STRUCTURE, e.message);
    }
    if name == types::COLUMN_LIMIT_EXCEEDED.name {
        return ApiError::msg(types::ATTRIBUTE_LIMIT_EXCEEDED, e.message);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(updated: &str, n: i64) -> Stored {
        let doc = json!({"$id": "d", "$updatedAt": updated, "$permissions": ["read(\"any\")"], "n": n});
        Stored { seq: 1, doc: doc.as_object().unwrap().clone() }
    }

    #[test]
    fn fingerprints_are_stable_and_see_every_change() {
        let a = stored("2026-01-01T00:00:00.000+00:00", 1);
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_eq!(fingerprint(&a).len(), 16);
        assert_ne!(fingerprint(&a), fingerprint(&stored("2026-01-01T00:00:00.000+00:00", 2)), "same millisecond, new value");
        assert_ne!(fingerprint(&a), fingerprint(&stored("2026-01-01T00:00:00.001+00:00", 1)));
    }

    #[test]
    fn commit_errors_use_the_legacy_types() {
        let e = commit_error(ApiError::with_arg(types::ROW_NOT_FOUND, "x"), Some("r1"));
        assert_eq!((e.ty.name, e.message.as_str()), ("document_not_found", "Document with the requested ID 'r1' could not be found."));
        assert_eq!(commit_error(ApiError::of(types::ROW_ALREADY_EXISTS), None).ty.name, "transaction_conflict");
        let e = commit_error(ApiError::msg(types::ROW_INVALID_STRUCTURE, "Invalid document structure: x"), None);
        assert_eq!((e.ty.name, e.message.as_str()), ("document_invalid_structure", "Invalid document structure: x"));
    }
}
