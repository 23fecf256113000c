//! Documents as rows: insert, update, delete and read one collection's documents inside a
//! SQLite transaction. Handlers, bulk operations and transactions all go through here.

use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, OptionalExtension, Transaction};
use serde_json::{Map, Value};

use super::schema::{encode, CollectionSchema};
use super::Api;
use crate::error::{ApiError, ApiResult};
use crate::format::Format;
use crate::permissions;

/// A document as stored: its sequence and its JSON.
#[derive(Debug, Clone)]
pub struct Stored {
    pub seq: i64,
    pub doc: Map<String, Value>,
}

impl Stored {
    pub fn id(&self) -> &str {
        self.doc.get("$id").and_then(Value::as_str).unwrap_or_default()
    }

    pub fn permissions(&self) -> Vec<String> {
        self.doc
            .get("$permissions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect())
            .unwrap_or_default()
    }

    /// The attribute values only (no `$` keys).
    pub fn values(&self) -> Map<String, Value> {
        self.doc.iter().filter(|(k, _)| !k.starts_with('$')).map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Reads one document by ID.
pub fn fetch(tx: &Transaction, s: &CollectionSchema, api: Api, format: Format, id: &str) -> ApiResult<Option<Stored>> {
    let sql = format!("SELECT {} FROM \"{}\" WHERE _uid = ?1", s.select_columns(), s.collection.table());
    let mut st = tx.prepare_cached(&sql)?;
    let found = st
        .query_row([id], |r| Ok(Stored { seq: r.get(0)?, doc: s.document(api, format, r)? }))
        .optional()?;
    Ok(found)
}

/// Maps SQLite's unique-constraint failure to `document_already_exists` for `id`.
fn duplicate(api: Api, id: &str) -> impl Fn(rusqlite::Error) -> ApiError + '_ {
    move |e| match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            ApiError::with_arg(api.document_exists(), id)
        }
        _ => e.into(),
    }
}

/// Inserts a validated document and its permission rows; returns its sequence.
pub fn insert(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    id: &str,
    values: &Map<String, Value>,
    perms: &[String],
    created_at: &str,
    updated_at: &str,
) -> ApiResult<i64> {
    let mut cols = vec!["_uid".to_string(), "_created".into(), "_updated".into(), "_perms".into()];
    let mut params = vec![
        Sql::Text(id.to_string()),
        Sql::Text(created_at.to_string()),
        Sql::Text(updated_at.to_string()),
        Sql::Text(serde_json::to_string(perms).unwrap()),
    ];
    for a in s.stored() {
        cols.push(a.sql());
        params.push(encode(a, values.get(&a.key).unwrap_or(&Value::Null)));
    }
    let marks: Vec<&str> = cols.iter().map(|_| "?").collect();
    let sql = format!("INSERT INTO \"{}\" ({}) VALUES ({})", s.collection.table(), cols.join(", "), marks.join(", "));
    tx.prepare_cached(&sql)?.execute(params_from_iter(params.iter())).map_err(duplicate(api, id))?;
    let seq = tx.last_insert_rowid();
    write_permissions(tx, s, seq, perms)?;
    Ok(seq)
}

/// Replaces a document's values, permissions and `$updatedAt` (and optionally `$createdAt`).
pub fn update(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    current: &Stored,
    values: &Map<String, Value>,
    perms: &[String],
    updated_at: &str,
    created_at: Option<&str>,
) -> ApiResult<()> {
    let mut sets = vec!["_updated = ?".to_string(), "_perms = ?".into()];
    let mut params = vec![Sql::Text(updated_at.to_string()), Sql::Text(serde_json::to_string(perms).unwrap())];
    if let Some(c) = created_at {
        sets.push("_created = ?".into());
        params.push(Sql::Text(c.to_string()));
    }
    for a in s.stored() {
        sets.push(format!("{} = ?", a.sql()));
        params.push(encode(a, values.get(&a.key).unwrap_or(&Value::Null)));
    }
    params.push(Sql::Integer(current.seq));
    let sql = format!("UPDATE \"{}\" SET {} WHERE _seq = ?", s.collection.table(), sets.join(", "));
    tx.prepare_cached(&sql)?.execute(params_from_iter(params.iter())).map_err(duplicate(api, current.id()))?;
    if perms != current.permissions().as_slice() {
        tx.execute(&format!("DELETE FROM \"{}\" WHERE doc = ?1", s.collection.perms_table()), [current.seq])?;
        write_permissions(tx, s, current.seq, perms)?;
    }
    Ok(())
}

fn write_permissions(tx: &Transaction, s: &CollectionSchema, seq: i64, perms: &[String]) -> ApiResult<()> {
    if perms.is_empty() {
        return Ok(());
    }
    let mut st = tx.prepare_cached(&format!(
        "INSERT OR IGNORE INTO \"{}\" (doc, action, role) VALUES (?1, ?2, ?3)",
        s.collection.perms_table()
    ))?;
    for p in perms {
        if let Ok(parsed) = permissions::parse(p) {
            st.execute(rusqlite::params![seq, parsed.action, parsed.role])?;
        }
    }
    Ok(())
}

/// Deletes one document (its permission rows and fulltext entries follow).
pub fn delete(tx: &Transaction, s: &CollectionSchema, seq: i64) -> ApiResult<()> {
    tx.prepare_cached(&format!("DELETE FROM \"{}\" WHERE _seq = ?1", s.collection.table()))?.execute([seq])?;
    Ok(())
}

/// The SQL condition limiting a list to documents the caller may read through their own
/// permissions (document security), or `None` when the collection already grants it.
pub fn read_visibility(s: &CollectionSchema, roles: &[String]) -> Option<(String, Vec<Sql>)> {
    let marks: Vec<&str> = roles.iter().map(|_| "?").collect();
    let sql = format!(
        "_seq IN (SELECT doc FROM \"{}\" WHERE action = 'read' AND role IN ({}))",
        s.collection.perms_table(),
        marks.join(", ")
    );
    Some((sql, roles.iter().map(|r| Sql::Text(r.clone())).collect()))
}
