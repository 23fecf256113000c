//! The SQL tables behind collections: one table per collection with one typed column per
//! attribute, real indexes (unique ones enforced by SQLite) and FTS5 tables for fulltext indexes.
//! Every identifier here is generated (`_c12`, `a34`, `_c12_i5`), never taken from a request.

use rusqlite::Transaction;

use super::store::{AttributeRow, CollectionRow, IndexRow};
use crate::error::ApiResult;

/// Creates the documents table and its permissions table.
pub fn create_collection(tx: &Transaction, c: &CollectionRow) -> ApiResult<()> {
    let t = c.table();
    let p = c.perms_table();
    tx.execute_batch(&format!(
        r#"CREATE TABLE "{t}" (
            _seq INTEGER PRIMARY KEY AUTOINCREMENT,
            _uid TEXT NOT NULL UNIQUE,
            _created TEXT NOT NULL,
            _updated TEXT NOT NULL,
            _perms TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX "{t}_created" ON "{t}" (_created);
        CREATE INDEX "{t}_updated" ON "{t}" (_updated);
        CREATE TABLE "{p}" (
            doc INTEGER NOT NULL REFERENCES "{t}" (_seq) ON DELETE CASCADE,
            action TEXT NOT NULL,
            role TEXT NOT NULL,
            PRIMARY KEY (role, action, doc)
        ) WITHOUT ROWID;
        CREATE INDEX "{p}_doc" ON "{p}" (doc);"#
    ))?;
    Ok(())
}

/// Drops a collection's tables (documents, permissions, fulltext).
pub fn drop_collection(tx: &Transaction, c: &CollectionRow, indexes: &[IndexRow]) -> ApiResult<()> {
    for i in indexes.iter().filter(|i| i.kind == "fulltext") {
        drop_index(tx, c, i)?;
    }
    tx.execute_batch(&format!(r#"DROP TABLE IF EXISTS "{}"; DROP TABLE IF EXISTS "{}";"#, c.perms_table(), c.table()))?;
    Ok(())
}

/// The SQLite type of an attribute's column. Arrays are JSON text.
pub fn sql_type(a: &AttributeRow) -> &'static str {
    if a.array {
        return "TEXT";
    }
    match a.kind.as_str() {
        "integer" | "bigint" | "boolean" => "INTEGER",
        "double" => "REAL",
        _ => "TEXT",
    }
}

pub fn add_column(tx: &Transaction, c: &CollectionRow, a: &AttributeRow) -> ApiResult<()> {
    tx.execute_batch(&format!(r#"ALTER TABLE "{}" ADD COLUMN "{}" {}"#, c.table(), a.column(), sql_type(a)))?;
    Ok(())
}

pub fn drop_column(tx: &Transaction, c: &CollectionRow, a: &AttributeRow) -> ApiResult<()> {
    tx.execute_batch(&format!(r#"ALTER TABLE "{}" DROP COLUMN "{}""#, c.table(), a.column()))?;
    Ok(())
}

/// Creates the SQL side of an index over `attrs` (resolved in index order).
pub fn create_index(tx: &Transaction, c: &CollectionRow, i: &IndexRow, attrs: &[Option<&AttributeRow>]) -> ApiResult<()> {
    let t = c.table();
    let name = i.sql_name();
    let column = |pos: usize| -> String {
        match (attrs[pos], i.attributes[pos].as_str()) {
            (Some(a), _) => format!("\"{}\"", a.column()),
            (None, "$id") => "_uid".into(),
            (None, "$createdAt") => "_created".into(),
            (None, "$updatedAt") => "_updated".into(),
            (None, _) => "_seq".into(),
        }
    };
    if i.kind == "fulltext" {
        let cols: Vec<String> = (0..attrs.len()).map(column).collect();
        let cols = cols.join(", ");
        let new_cols: Vec<String> = (0..attrs.len()).map(|p| format!("new.{}", column(p))).collect();
        let old_cols: Vec<String> = (0..attrs.len()).map(|p| format!("old.{}", column(p))).collect();
        let (new_cols, old_cols) = (new_cols.join(", "), old_cols.join(", "));
        tx.execute_batch(&format!(
            r#"CREATE VIRTUAL TABLE "{name}" USING fts5({cols}, content='{t}', content_rowid='_seq');
            INSERT INTO "{name}" (rowid, {cols}) SELECT _seq, {cols} FROM "{t}";
            CREATE TRIGGER "{name}_ai" AFTER INSERT ON "{t}" BEGIN
                INSERT INTO "{name}" (rowid, {cols}) VALUES (new._seq, {new_cols});
            END;
            CREATE TRIGGER "{name}_ad" AFTER DELETE ON "{t}" BEGIN
                INSERT INTO "{name}" ("{name}", rowid, {cols}) VALUES ('delete', old._seq, {old_cols});
            END;
            CREATE TRIGGER "{name}_au" AFTER UPDATE ON "{t}" BEGIN
                INSERT INTO "{name}" ("{name}", rowid, {cols}) VALUES ('delete', old._seq, {old_cols});
                INSERT INTO "{name}" (rowid, {cols}) VALUES (new._seq, {new_cols});
            END;"#
        ))?;
        return Ok(());
    }
    let unique = i.kind == "unique";
    let parts: Vec<String> = (0..attrs.len())
        .map(|p| {
            let text = attrs[p].is_none_or(|a| sql_type(a) == "TEXT");
            // Appwrite's MariaDB collation makes unique string indexes case-insensitive.
            let collate = if unique && text { " COLLATE NOCASE" } else { "" };
            let dir = match i.orders.get(p).and_then(|o| o.as_str()) {
                Some(o) if o.eq_ignore_ascii_case("desc") => " DESC",
                _ => "",
            };
            format!("{}{collate}{dir}", column(p))
        })
        .collect();
    tx.execute_batch(&format!(
        r#"CREATE {}INDEX "{name}" ON "{t}" ({})"#,
        if unique { "UNIQUE " } else { "" },
        parts.join(", ")
    ))?;
    Ok(())
}

pub fn drop_index(tx: &Transaction, _c: &CollectionRow, i: &IndexRow) -> ApiResult<()> {
    let name = i.sql_name();
    if i.kind == "fulltext" {
        tx.execute_batch(&format!(
            r#"DROP TRIGGER IF EXISTS "{name}_ai"; DROP TRIGGER IF EXISTS "{name}_ad"; DROP TRIGGER IF EXISTS "{name}_au"; DROP TABLE IF EXISTS "{name}";"#
        ))?;
    } else {
        tx.execute_batch(&format!(r#"DROP INDEX IF EXISTS "{name}""#))?;
    }
    Ok(())
}
