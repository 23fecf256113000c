//! Metadata of databases, collections, attributes and indexes, stored in system tables; each
//! collection's documents live in a real table of their own (see `ddl`).

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde_json::{Map, Value};

use crate::error::ApiResult;

pub const MIGRATIONS: &[(&str, &str)] = &[
    (
    "databases-1",
    r#"
    CREATE TABLE databases (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        type TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE collections (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        database_seq INTEGER NOT NULL REFERENCES databases(seq) ON DELETE CASCADE,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        document_security INTEGER NOT NULL DEFAULT 0,
        permissions TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (database_seq, id)
    );
    CREATE TABLE attributes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_seq INTEGER NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
        key TEXT NOT NULL,
        type TEXT NOT NULL,
        format TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        required INTEGER NOT NULL DEFAULT 0,
        array INTEGER NOT NULL DEFAULT 0,
        default_value TEXT,
        options TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'available',
        error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (collection_seq, key)
    );
    CREATE TABLE indexes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_seq INTEGER NOT NULL REFERENCES collections(seq) ON DELETE CASCADE,
        key TEXT NOT NULL,
        type TEXT NOT NULL,
        attributes TEXT NOT NULL,
        orders TEXT NOT NULL,
        lengths TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'available',
        error TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (collection_seq, key)
    );
    "#,
), (
    "databases-2-schema-generation",
    r#"
    CREATE TABLE _qw_schema_gen (id INTEGER PRIMARY KEY CHECK (id = 1), gen INTEGER NOT NULL);
    INSERT INTO _qw_schema_gen (id, gen) VALUES (1, 0);
    CREATE TRIGGER databases_gen_i AFTER INSERT ON databases BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER databases_gen_u AFTER UPDATE ON databases BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER databases_gen_d AFTER DELETE ON databases BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER collections_gen_i AFTER INSERT ON collections BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER collections_gen_u AFTER UPDATE ON collections BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER collections_gen_d AFTER DELETE ON collections BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER attributes_gen_i AFTER INSERT ON attributes BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER attributes_gen_u AFTER UPDATE ON attributes BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER attributes_gen_d AFTER DELETE ON attributes BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER indexes_gen_i AFTER INSERT ON indexes BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER indexes_gen_u AFTER UPDATE ON indexes BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    CREATE TRIGGER indexes_gen_d AFTER DELETE ON indexes BEGIN UPDATE _qw_schema_gen SET gen = gen + 1; END;
    "#,
)];

/// The metadata generation: bumped by triggers on every change to databases, collections,
/// attributes and indexes, so cached schemas know when they are stale.
pub fn schema_generation(tx: &Transaction) -> ApiResult<i64> {
    Ok(tx.prepare_cached("SELECT gen FROM _qw_schema_gen WHERE id = 1")?.query_row([], |r| r.get(0))?)
}

/// A database (legacy or TablesDB: one store, two views).
#[derive(Debug, Clone)]
pub struct DatabaseRow {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub kind: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A collection, also called a table.
#[derive(Debug, Clone)]
pub struct CollectionRow {
    pub seq: i64,
    pub database_seq: i64,
    pub database_id: String,
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub document_security: bool,
    pub permissions: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl CollectionRow {
    /// The table holding this collection's documents (a generated name).
    pub fn table(&self) -> String {
        format!("_c{}", self.seq)
    }

    /// The table of per-document permissions, used to filter lists with document security.
    pub fn perms_table(&self) -> String {
        format!("_c{}_perms", self.seq)
    }
}

/// An attribute, also called a column.
#[derive(Debug, Clone)]
pub struct AttributeRow {
    pub seq: i64,
    pub collection_seq: i64,
    pub key: String,
    /// string, varchar, text, mediumtext, longtext, integer, bigint, double, boolean, datetime, relationship
    pub kind: String,
    /// email, enum, url, ip, datetime, intRange, bigintRange, floatRange or empty
    pub format: String,
    pub size: i64,
    pub required: bool,
    pub array: bool,
    pub default: Value,
    /// min/max, elements, encrypt, and the relationship options.
    pub options: Map<String, Value>,
    pub status: String,
    pub error: String,
    pub created_at: String,
    pub updated_at: String,
}

impl AttributeRow {
    /// The generated SQL column name.
    pub fn column(&self) -> String {
        format!("a{}", self.seq)
    }

    /// The quoted SQL column.
    pub fn sql(&self) -> String {
        format!("\"{}\"", self.column())
    }

    pub fn opt_str(&self, key: &str) -> Option<&str> {
        self.options.get(key).and_then(Value::as_str)
    }

    pub fn opt_bool(&self, key: &str) -> bool {
        self.options.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn is_relationship(&self) -> bool {
        self.kind == "relationship"
    }

    pub fn is_string_kind(&self) -> bool {
        matches!(self.kind.as_str(), "string" | "varchar" | "text" | "mediumtext" | "longtext")
    }

    pub fn encrypted(&self) -> bool {
        self.opt_bool("encrypt")
    }
}

/// An index.
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub seq: i64,
    pub collection_seq: i64,
    pub key: String,
    pub kind: String,
    pub attributes: Vec<String>,
    pub orders: Vec<Value>,
    pub lengths: Vec<Value>,
    pub status: String,
    pub error: String,
    pub created_at: String,
    pub updated_at: String,
}

impl IndexRow {
    /// The generated SQL name of the index (or of its FTS5 table for fulltext).
    pub fn sql_name(&self) -> String {
        if self.kind == "fulltext" {
            format!("_c{}_fts{}", self.collection_seq, self.seq)
        } else {
            format!("_c{}_i{}", self.collection_seq, self.seq)
        }
    }
}

fn json_list(s: String) -> Vec<Value> {
    serde_json::from_str(&s).unwrap_or_default()
}

fn string_list(s: String) -> Vec<String> {
    serde_json::from_str(&s).unwrap_or_default()
}

fn database_row(r: &Row) -> rusqlite::Result<DatabaseRow> {
    Ok(DatabaseRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        enabled: r.get(3)?,
        kind: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

const DATABASE_COLS: &str = "seq, id, name, enabled, type, created_at, updated_at";

pub fn get_database(tx: &Transaction, id: &str) -> ApiResult<Option<DatabaseRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {DATABASE_COLS} FROM databases WHERE id = ?1"))?;
    Ok(st.query_row([id], database_row).optional()?)
}

pub fn database_by_seq(tx: &Transaction, seq: i64) -> ApiResult<Option<DatabaseRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {DATABASE_COLS} FROM databases WHERE seq = ?1"))?;
    Ok(st.query_row([seq], database_row).optional()?)
}

pub fn insert_database(tx: &Transaction, id: &str, name: &str, enabled: bool, kind: &str, now: &str) -> ApiResult<DatabaseRow> {
    tx.execute(
        "INSERT INTO databases (id, name, enabled, type, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![id, name, enabled, kind, now],
    )?;
    Ok(get_database(tx, id)?.expect("just inserted"))
}

fn collection_row(r: &Row) -> rusqlite::Result<CollectionRow> {
    Ok(CollectionRow {
        seq: r.get(0)?,
        database_seq: r.get(1)?,
        database_id: r.get(2)?,
        id: r.get(3)?,
        name: r.get(4)?,
        enabled: r.get(5)?,
        document_security: r.get(6)?,
        permissions: string_list(r.get(7)?),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

pub const COLLECTION_COLS: &str = "c.seq, c.database_seq, d.id, c.id, c.name, c.enabled, c.document_security, c.permissions, c.created_at, c.updated_at";

pub fn get_collection(tx: &Transaction, database_seq: i64, id: &str) -> ApiResult<Option<CollectionRow>> {
    let mut st = tx.prepare_cached(&format!(
        "SELECT {COLLECTION_COLS} FROM collections c JOIN databases d ON d.seq = c.database_seq WHERE c.database_seq = ?1 AND c.id = ?2"
    ))?;
    Ok(st.query_row(params![database_seq, id], collection_row).optional()?)
}

pub fn collection_by_seq(tx: &Transaction, seq: i64) -> ApiResult<Option<CollectionRow>> {
    let mut st = tx.prepare_cached(&format!(
        "SELECT {COLLECTION_COLS} FROM collections c JOIN databases d ON d.seq = c.database_seq WHERE c.seq = ?1"
    ))?;
    Ok(st.query_row([seq], collection_row).optional()?)
}

pub fn collections_of(tx: &Transaction, database_seq: i64) -> ApiResult<Vec<CollectionRow>> {
    let mut st = tx.prepare_cached(&format!(
        "SELECT {COLLECTION_COLS} FROM collections c JOIN databases d ON d.seq = c.database_seq WHERE c.database_seq = ?1 ORDER BY c.seq"
    ))?;
    let rows = st.query_map([database_seq], collection_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn map_collection(r: &Row) -> rusqlite::Result<CollectionRow> {
    collection_row(r)
}

pub fn map_database(r: &Row) -> rusqlite::Result<DatabaseRow> {
    database_row(r)
}

fn attribute_row(r: &Row) -> rusqlite::Result<AttributeRow> {
    let default: Option<String> = r.get(8)?;
    let options: String = r.get(9)?;
    Ok(AttributeRow {
        seq: r.get(0)?,
        collection_seq: r.get(1)?,
        key: r.get(2)?,
        kind: r.get(3)?,
        format: r.get(4)?,
        size: r.get(5)?,
        required: r.get(6)?,
        array: r.get(7)?,
        default: default.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or(Value::Null),
        options: serde_json::from_str(&options).unwrap_or_default(),
        status: r.get(10)?,
        error: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

pub const ATTRIBUTE_COLS: &str =
    "seq, collection_seq, key, type, format, size, required, array, default_value, options, status, error, created_at, updated_at";

pub fn attributes_of(tx: &Transaction, collection_seq: i64) -> ApiResult<Vec<AttributeRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {ATTRIBUTE_COLS} FROM attributes WHERE collection_seq = ?1 ORDER BY seq"))?;
    let rows = st.query_map([collection_seq], attribute_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn map_attribute(r: &Row) -> rusqlite::Result<AttributeRow> {
    attribute_row(r)
}

/// Inserts an attribute and returns it with its sequence (which names its column).
#[allow(clippy::too_many_arguments)]
pub fn insert_attribute(tx: &Transaction, a: &AttributeRow) -> ApiResult<AttributeRow> {
    tx.execute(
        "INSERT INTO attributes (collection_seq, key, type, format, size, required, array, default_value, options, status, error, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            a.collection_seq,
            a.key,
            a.kind,
            a.format,
            a.size,
            a.required,
            a.array,
            if a.default.is_null() { None } else { Some(a.default.to_string()) },
            Value::Object(a.options.clone()).to_string(),
            a.status,
            a.error,
            a.created_at,
            a.updated_at
        ],
    )?;
    let seq = tx.last_insert_rowid();
    Ok(AttributeRow { seq, ..a.clone() })
}

/// Writes back every mutable field of an attribute.
pub fn update_attribute(tx: &Transaction, a: &AttributeRow) -> ApiResult<()> {
    tx.execute(
        "UPDATE attributes SET key = ?2, size = ?3, required = ?4, default_value = ?5, options = ?6, status = ?7, error = ?8, updated_at = ?9 WHERE seq = ?1",
        params![
            a.seq,
            a.key,
            a.size,
            a.required,
            if a.default.is_null() { None } else { Some(a.default.to_string()) },
            Value::Object(a.options.clone()).to_string(),
            a.status,
            a.error,
            a.updated_at
        ],
    )?;
    Ok(())
}

fn index_row(r: &Row) -> rusqlite::Result<IndexRow> {
    Ok(IndexRow {
        seq: r.get(0)?,
        collection_seq: r.get(1)?,
        key: r.get(2)?,
        kind: r.get(3)?,
        attributes: string_list(r.get(4)?),
        orders: json_list(r.get(5)?),
        lengths: json_list(r.get(6)?),
        status: r.get(7)?,
        error: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

pub const INDEX_COLS: &str = "seq, collection_seq, key, type, attributes, orders, lengths, status, error, created_at, updated_at";

pub fn indexes_of(tx: &Transaction, collection_seq: i64) -> ApiResult<Vec<IndexRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {INDEX_COLS} FROM indexes WHERE collection_seq = ?1 ORDER BY seq"))?;
    let rows = st.query_map([collection_seq], index_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn map_index(r: &Row) -> rusqlite::Result<IndexRow> {
    index_row(r)
}

pub fn insert_index(tx: &Transaction, i: &IndexRow) -> ApiResult<IndexRow> {
    tx.execute(
        "INSERT INTO indexes (collection_seq, key, type, attributes, orders, lengths, status, error, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            i.collection_seq,
            i.key,
            i.kind,
            serde_json::to_string(&i.attributes).unwrap(),
            Value::Array(i.orders.clone()).to_string(),
            Value::Array(i.lengths.clone()).to_string(),
            i.status,
            i.error,
            i.created_at,
            i.updated_at
        ],
    )?;
    Ok(IndexRow { seq: tx.last_insert_rowid(), ..i.clone() })
}

pub fn set_index_attributes(tx: &Transaction, seq: i64, attributes: &[String], now: &str) -> ApiResult<()> {
    tx.execute(
        "UPDATE indexes SET attributes = ?2, updated_at = ?3 WHERE seq = ?1",
        params![seq, serde_json::to_string(attributes).unwrap(), now],
    )?;
    Ok(())
}
