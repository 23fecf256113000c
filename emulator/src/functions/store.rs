//! Functions, deployments, executions, variables and proxy rules as JSON documents in system
//! tables. The queryable attributes are generated columns over the document, so the document is
//! the one source of truth and the shared list implementation filters and orders on real columns.

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::{Map, Value};

use crate::error::ApiResult;

/// A stored document: its attributes as Appwrite names them (`$id`, `$createdAt`, `name`, …).
pub type Doc = Map<String, Value>;

pub const MIGRATIONS: &[(&str, &str)] = &[(
    "functions-1",
    r#"
    CREATE TABLE functions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL,
        created_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$createdAt"')) VIRTUAL,
        updated_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$updatedAt"')) VIRTUAL,
        name TEXT GENERATED ALWAYS AS (json_extract(doc, '$.name')) VIRTUAL,
        enabled INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.enabled')) VIRTUAL,
        runtime TEXT GENERATED ALWAYS AS (json_extract(doc, '$.runtime')) VIRTUAL,
        deployment_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.deploymentId')) VIRTUAL,
        schedule TEXT GENERATED ALWAYS AS (json_extract(doc, '$.schedule')) VIRTUAL,
        schedule_next TEXT GENERATED ALWAYS AS (json_extract(doc, '$.scheduleNext')) VIRTUAL,
        schedule_previous TEXT GENERATED ALWAYS AS (json_extract(doc, '$.schedulePrevious')) VIRTUAL,
        timeout INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.timeout')) VIRTUAL,
        entrypoint TEXT GENERATED ALWAYS AS (json_extract(doc, '$.entrypoint')) VIRTUAL,
        commands TEXT GENERATED ALWAYS AS (json_extract(doc, '$.commands')) VIRTUAL,
        installation_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.installationId')) VIRTUAL
    );
    CREATE TABLE deployments (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        function_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        created_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$createdAt"')) VIRTUAL,
        updated_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$updatedAt"')) VIRTUAL,
        build_size INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.buildSize')) VIRTUAL,
        source_size INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.sourceSize')) VIRTUAL,
        total_size INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.totalSize')) VIRTUAL,
        build_duration INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.buildDuration')) VIRTUAL,
        status TEXT GENERATED ALWAYS AS (json_extract(doc, '$.status')) VIRTUAL,
        activate INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.activate')) VIRTUAL,
        type TEXT GENERATED ALWAYS AS (json_extract(doc, '$.type')) VIRTUAL,
        entrypoint TEXT GENERATED ALWAYS AS (json_extract(doc, '$.entrypoint')) VIRTUAL
    );
    CREATE INDEX deployments_function ON deployments (function_id);
    CREATE TABLE executions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        function_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        created_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$createdAt"')) VIRTUAL,
        updated_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$updatedAt"')) VIRTUAL,
        trigger TEXT GENERATED ALWAYS AS (json_extract(doc, '$.trigger')) VIRTUAL,
        status TEXT GENERATED ALWAYS AS (json_extract(doc, '$.status')) VIRTUAL,
        response_status_code INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.responseStatusCode')) VIRTUAL,
        duration REAL GENERATED ALWAYS AS (json_extract(doc, '$.duration')) VIRTUAL,
        request_method TEXT GENERATED ALWAYS AS (json_extract(doc, '$.requestMethod')) VIRTUAL,
        request_path TEXT GENERATED ALWAYS AS (json_extract(doc, '$.requestPath')) VIRTUAL,
        deployment_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.deploymentId')) VIRTUAL,
        scheduled_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$.scheduledAt')) VIRTUAL
    );
    CREATE INDEX executions_function ON executions (function_id);
    CREATE INDEX executions_status ON executions (status);
    CREATE TABLE variables (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        resource_type TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        key TEXT NOT NULL,
        doc TEXT NOT NULL,
        created_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$createdAt"')) VIRTUAL,
        updated_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$updatedAt"')) VIRTUAL,
        secret INTEGER GENERATED ALWAYS AS (json_extract(doc, '$.secret')) VIRTUAL,
        UNIQUE (resource_type, resource_id, key)
    );
    CREATE TABLE rules (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        domain TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL,
        created_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$createdAt"')) VIRTUAL,
        updated_at TEXT GENERATED ALWAYS AS (json_extract(doc, '$."$updatedAt"')) VIRTUAL,
        type TEXT GENERATED ALWAYS AS (json_extract(doc, '$.type')) VIRTUAL,
        trigger TEXT GENERATED ALWAYS AS (json_extract(doc, '$.trigger')) VIRTUAL,
        deployment_resource_type TEXT GENERATED ALWAYS AS (json_extract(doc, '$.deploymentResourceType')) VIRTUAL,
        deployment_resource_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.deploymentResourceId')) VIRTUAL,
        deployment_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.deploymentId')) VIRTUAL,
        deployment_vcs_provider_branch TEXT GENERATED ALWAYS AS (json_extract(doc, '$.deploymentVcsProviderBranch')) VIRTUAL,
        status TEXT GENERATED ALWAYS AS (json_extract(doc, '$.status')) VIRTUAL
    );
    "#,
)];

/// Which system table a document lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Functions,
    Deployments,
    Executions,
    Variables,
    Rules,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Functions => "functions",
            Table::Deployments => "deployments",
            Table::Executions => "executions",
            Table::Variables => "variables",
            Table::Rules => "rules",
        }
    }
}

/// Parses a stored document (row mapper for lists reading the `doc` column).
pub fn parse_doc(text: &str) -> Doc {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The document `id` of `table`, if any.
pub fn get(tx: &Transaction, table: Table, id: &str) -> ApiResult<Option<Doc>> {
    let sql = format!("SELECT doc FROM {} WHERE id = ?1", table.name());
    let text: Option<String> = tx.prepare_cached(&sql)?.query_row([id], |r| r.get(0)).optional()?;
    Ok(text.map(|t| parse_doc(&t)))
}

/// Replaces the stored document (same `$id`).
pub fn put(tx: &Transaction, table: Table, doc: &Doc) -> ApiResult<()> {
    let id = str_of(doc, "$id");
    let sql = format!("UPDATE {} SET doc = ?2 WHERE id = ?1", table.name());
    tx.prepare_cached(&sql)?.execute(params![id, Value::Object(doc.clone()).to_string()])?;
    Ok(())
}

/// Inserts a function or rule (tables without a parent column).
pub fn insert_function(tx: &Transaction, doc: &Doc) -> ApiResult<bool> {
    let n = tx.execute(
        "INSERT INTO functions (id, doc) VALUES (?1, ?2) ON CONFLICT(id) DO NOTHING",
        params![str_of(doc, "$id"), Value::Object(doc.clone()).to_string()],
    )?;
    Ok(n == 1)
}

/// Inserts a deployment or execution of `function_id`.
pub fn insert_child(tx: &Transaction, table: Table, function_id: &str, doc: &Doc) -> ApiResult<bool> {
    let sql = format!("INSERT INTO {} (id, function_id, doc) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING", table.name());
    let n = tx.execute(&sql, params![str_of(doc, "$id"), function_id, Value::Object(doc.clone()).to_string()])?;
    Ok(n == 1)
}

/// Inserts a variable; false when its ID or its key (per resource) is taken.
pub fn insert_variable(tx: &Transaction, doc: &Doc) -> ApiResult<bool> {
    let n = tx.execute(
        "INSERT INTO variables (id, resource_type, resource_id, key, doc) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        params![
            str_of(doc, "$id"),
            str_of(doc, "resourceType"),
            str_of(doc, "resourceId"),
            str_of(doc, "key"),
            Value::Object(doc.clone()).to_string()
        ],
    )?;
    Ok(n == 1)
}

/// Rewrites a variable; false when the new key is taken.
pub fn update_variable(tx: &Transaction, doc: &Doc) -> ApiResult<bool> {
    let n = tx.execute(
        "UPDATE OR IGNORE variables SET key = ?2, doc = ?3 WHERE id = ?1",
        params![str_of(doc, "$id"), str_of(doc, "key"), Value::Object(doc.clone()).to_string()],
    )?;
    Ok(n == 1)
}

/// Inserts a proxy rule; false when the ID or domain is taken.
pub fn insert_rule(tx: &Transaction, doc: &Doc) -> ApiResult<bool> {
    let n = tx.execute(
        "INSERT INTO rules (id, domain, doc) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        params![str_of(doc, "$id"), str_of(doc, "domain"), Value::Object(doc.clone()).to_string()],
    )?;
    Ok(n == 1)
}

pub fn delete(tx: &Transaction, table: Table, id: &str) -> ApiResult<()> {
    tx.execute(&format!("DELETE FROM {} WHERE id = ?1", table.name()), [id])?;
    Ok(())
}

/// Every document of `table` whose `column` equals `value`, oldest first.
pub fn all_where(tx: &Transaction, table: Table, column: &str, value: &str) -> ApiResult<Vec<Doc>> {
    // `column` is always a literal from this module, never request text.
    let sql = format!("SELECT doc FROM {} WHERE {column} = ?1 ORDER BY seq", table.name());
    let mut st = tx.prepare_cached(&sql)?;
    let rows = st.query_map([value], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows.iter().map(|t| parse_doc(t)).collect())
}

/// Every document of `table`, oldest first.
pub fn all(tx: &Transaction, table: Table) -> ApiResult<Vec<Doc>> {
    let sql = format!("SELECT doc FROM {} ORDER BY seq", table.name());
    let mut st = tx.prepare_cached(&sql)?;
    let rows = st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows.iter().map(|t| parse_doc(t)).collect())
}

/// Deletes every document of `table` whose `column` equals `value`.
pub fn delete_where(tx: &Transaction, table: Table, column: &str, value: &str) -> ApiResult<()> {
    tx.execute(&format!("DELETE FROM {} WHERE {column} = ?1", table.name()), [value])?;
    Ok(())
}

/// A string attribute ("" when absent).
pub fn str_of(doc: &Doc, key: &str) -> String {
    doc.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

pub fn bool_of(doc: &Doc, key: &str) -> bool {
    doc.get(key).and_then(Value::as_bool).unwrap_or(false)
}

pub fn i64_of(doc: &Doc, key: &str) -> i64 {
    doc.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// A list-of-strings attribute.
pub fn list_of(doc: &Doc, key: &str) -> Vec<String> {
    doc.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default()
}
