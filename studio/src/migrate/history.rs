//! The history of applied migrations, kept in the target itself: the `qw_migrations` collection of
//! the environment's database, one document per migration, created on first use.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::plan::{Record, Recorded};
use crate::appwrite::{query, Client, Error, Result};

/// The history collection's ID.
/// (Appwrite IDs cannot start with `_`, so not `_migrations`.)
pub const COLLECTION: &str = "qw_migrations";

/// One migration's history document.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub version: u32,
    /// `NNN_name`.
    pub name: String,
    /// `json` or `js`.
    pub kind: String,
    pub checksum: String,
    pub status: Recorded,
    /// When `up` finished (or started, while it runs).
    pub applied_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub steps_total: usize,
    /// Checksums of the `up` steps done.
    pub done: Vec<String>,
    /// `down` steps done while rolling back.
    pub undone: usize,
    /// The 1-based step that failed.
    pub failed_step: Option<usize>,
    pub error: Option<String>,
    /// Who ran it: user@host and process.
    pub runner: String,
}

impl Entry {
    /// What planning needs of it.
    pub fn record(&self) -> Record {
        Record { version: self.version, label: self.name.clone(), checksum: self.checksum.clone(), status: self.status, done: self.done.clone(), undone: self.undone }
    }

    fn data(&self) -> Value {
        json!({
            "version": self.version,
            "name": self.name,
            "kind": self.kind,
            "checksum": self.checksum,
            "status": self.status.as_str(),
            "applied_at": self.applied_at,
            "duration_ms": self.duration_ms,
            "steps_total": self.steps_total,
            "done": serde_json::to_string(&self.done).expect("strings serialise"),
            "undone": self.undone,
            "failed_step": self.failed_step,
            "error": self.error.as_ref().map(|e| e.chars().take(ERROR_SIZE).collect::<String>()),
            "runner": self.runner,
        })
    }

    fn parse(doc: &Map<String, Value>) -> Option<Entry> {
        let s = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
        let n = |k: &str| doc.get(k).and_then(Value::as_i64);
        Some(Entry {
            version: u32::try_from(n("version")?).ok()?,
            name: s("name")?,
            kind: s("kind").unwrap_or_default(),
            checksum: s("checksum")?,
            status: Recorded::parse(&s("status")?)?,
            applied_at: s("applied_at"),
            duration_ms: n("duration_ms"),
            steps_total: n("steps_total").unwrap_or(0) as usize,
            done: s("done").and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default(),
            undone: n("undone").unwrap_or(0) as usize,
            failed_step: n("failed_step").map(|v| v as usize),
            error: s("error"),
            runner: s("runner").unwrap_or_default(),
        })
    }
}

const ERROR_SIZE: usize = 8192;

/// The document ID of a migration's entry.
pub fn document_id(version: u32) -> String {
    format!("v{version}")
}

/// The attributes of the history collection.
fn attributes() -> Vec<Value> {
    vec![
        json!({"key": "version", "type": "integer", "required": true}),
        json!({"key": "name", "type": "string", "size": 255, "required": true}),
        json!({"key": "kind", "type": "string", "size": 8, "required": false}),
        json!({"key": "checksum", "type": "string", "size": 64, "required": true}),
        json!({"key": "status", "type": "string", "size": 32, "required": true}),
        json!({"key": "applied_at", "type": "datetime", "required": false}),
        json!({"key": "duration_ms", "type": "integer", "required": false}),
        json!({"key": "steps_total", "type": "integer", "required": false}),
        json!({"key": "done", "type": "string", "size": 65535, "required": false}),
        json!({"key": "undone", "type": "integer", "required": false}),
        json!({"key": "failed_step", "type": "integer", "required": false}),
        json!({"key": "error", "type": "string", "size": ERROR_SIZE, "required": false}),
        json!({"key": "runner", "type": "string", "size": 255, "required": false}),
    ]
}

/// Creates the collection `id` with `attributes` unless it is complete already; safe when two
/// runners do it at once (a 409 means the other one did).
pub fn ensure_collection(client: &Client, db: &str, id: &str, name: &str, attributes: &[Value], timeout: Duration) -> Result<()> {
    let existing = match client.get_collection(db, id) {
        Ok(c) => c.attributes.into_iter().map(|a| a.key).collect::<Vec<_>>(),
        Err(e) if e.is_not_found() => {
            match client.create_collection(db, id, name, &[], false, true) {
                Ok(_) => {}
                Err(e) if e.is_conflict() => {}
                Err(e) => return Err(e),
            }
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    // Two runners may bootstrap at once: an attribute the other one created is fine.
    let target = super::apply::Target { client, database: db.to_string(), available_timeout: timeout, resuming: true };
    for a in attributes {
        let def = a.as_object().expect("attribute definitions are objects");
        let key = def["key"].as_str().unwrap_or_default();
        if existing.iter().any(|k| k == key) {
            continue;
        }
        let op = super::format::Op::CreateAttribute { database: None, collection: id.to_string(), attribute: def.clone() };
        match target.run(&op) {
            Ok(_) => {}
            Err(super::apply::StepError::Api(e)) => return Err(e),
            Err(other) => return Err(Error::Decode { message: other.to_string() }),
        }
    }
    Ok(())
}

/// Creates the history collection if it is missing.
pub fn ensure(client: &Client, db: &str, timeout: Duration) -> Result<()> {
    ensure_collection(client, db, COLLECTION, "Migrations (qw)", &attributes(), timeout)
}

/// Every entry, by version; empty when the database or the collection does not exist yet.
pub fn read(client: &Client, db: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let result = client.each_document(db, COLLECTION, &[query::order_asc("version")], |doc| {
        if let Some(e) = Entry::parse(doc) {
            out.push(e);
        }
        Ok(())
    });
    match result {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    }
    out.sort_by_key(|e| e.version);
    Ok(out)
}

/// Writes an entry (creating or replacing it).
pub fn save(client: &Client, db: &str, entry: &Entry) -> Result<()> {
    let id = document_id(entry.version);
    match client.update_document(db, COLLECTION, &id, &entry.data()) {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => client.create_document(db, COLLECTION, &id, &entry.data(), Some(&[])).map(|_| ()),
        Err(e) => Err(e),
    }
}

/// Removes a migration's entry (after it is rolled back).
pub fn remove(client: &Client, db: &str, version: u32) -> Result<()> {
    match client.delete_document(db, COLLECTION, &document_id(version)) {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_survives_the_round_trip_through_a_document() {
        let entry = Entry {
            version: 7,
            name: "007_x".into(),
            kind: "json".into(),
            checksum: "c".repeat(64),
            status: Recorded::Failed,
            applied_at: Some("2026-01-01T00:00:00.000+00:00".into()),
            duration_ms: None,
            steps_total: 3,
            done: vec!["a1".into(), "b2".into()],
            undone: 0,
            failed_step: Some(3),
            error: Some("boom".into()),
            runner: "me@here pid 1".into(),
        };
        let mut doc = entry.data().as_object().cloned().unwrap();
        doc.insert("$id".into(), json!(document_id(7)));
        assert_eq!(Entry::parse(&doc), Some(entry.clone()));
        assert_eq!(entry.record().done, ["a1", "b2"]);
        doc.insert("status".into(), json!("exploded"));
        assert_eq!(Entry::parse(&doc), None, "an unknown status is not guessed at");
    }
}
