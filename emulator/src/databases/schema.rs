//! A collection loaded with its attributes and indexes: what queries may use, and how stored rows
//! become documents.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Row, Transaction};
use serde_json::{json, Map, Number, Value};

use super::store::{self, AttributeRow, CollectionRow, DatabaseRow, IndexRow};
use super::Api;
use crate::error::{ApiError, ApiResult};
use crate::format::Format;
use crate::query::sql::RelationshipInfo;
use crate::query::{Field, Kind, Schema};

/// A collection with everything needed to read and write its documents.
#[derive(Debug, Clone)]
pub struct CollectionSchema {
    pub database: DatabaseRow,
    pub collection: CollectionRow,
    pub attributes: Vec<AttributeRow>,
    pub indexes: Vec<IndexRow>,
}

impl CollectionSchema {
    pub fn load(tx: &Transaction, database: DatabaseRow, collection: CollectionRow) -> ApiResult<Self> {
        let attributes = store::attributes_of(tx, collection.seq)?;
        let indexes = store::indexes_of(tx, collection.seq)?;
        Ok(CollectionSchema { database, collection, attributes, indexes })
    }

    /// Loads `database`/`collection` by ID with Appwrite's 404s. `privileged` callers (keys) also
    /// see disabled databases and collections.
    pub fn require(tx: &Transaction, api: Api, database_id: &str, collection_id: &str, privileged: bool) -> ApiResult<Self> {
        let db = store::get_database(tx, database_id)?
            .filter(|d| d.enabled || privileged)
            .ok_or_else(|| ApiError::with_arg(crate::error::types::DATABASE_NOT_FOUND, database_id))?;
        let c = store::get_collection(tx, db.seq, collection_id)?
            .filter(|c| c.enabled || privileged)
            .ok_or_else(|| ApiError::with_arg(api.collection_not_found(), collection_id))?;
        Self::load(tx, db, c)
    }

    /// Applies [`CollectionSchema::require`]'s visibility rule to an already loaded schema.
    fn visible(self: Arc<Self>, api: Api, database_id: &str, collection_id: &str, privileged: bool) -> ApiResult<Arc<Self>> {
        if !self.database.enabled && !privileged {
            return Err(ApiError::with_arg(crate::error::types::DATABASE_NOT_FOUND, database_id));
        }
        if !self.collection.enabled && !privileged {
            return Err(ApiError::with_arg(api.collection_not_found(), collection_id));
        }
        Ok(self)
    }

    pub fn attribute(&self, key: &str) -> Option<&AttributeRow> {
        self.attributes.iter().find(|a| a.key == key)
    }

    /// Attributes stored as columns of the documents table (relationships stored on this side
    /// included, virtual relationship sides excluded).
    pub fn stored(&self) -> impl Iterator<Item = &AttributeRow> {
        self.attributes.iter().filter(|a| a.status == "available" && stores_column(a))
    }

    /// `_seq, _uid, _created, _updated, _perms, a1, a2, …` in the order `document` reads them.
    pub fn select_columns(&self) -> String {
        let mut cols = String::from("_seq, _uid, _created, _updated, _perms");
        for a in self.stored() {
            cols.push_str(", ");
            cols.push_str(&a.sql());
        }
        cols
    }

    /// Builds the document JSON from a row selected with [`select_columns`].
    pub fn document(&self, api: Api, format: Format, row: &Row) -> rusqlite::Result<Map<String, Value>> {
        let seq: i64 = row.get(0)?;
        let mut m = Map::new();
        m.insert("$id".into(), Value::String(row.get(1)?));
        m.insert(
            "$sequence".into(),
            if format.before_1_9() { json!(seq) } else { Value::String(seq.to_string()) },
        );
        m.insert(api.collection_id_key().into(), json!(self.collection.id));
        m.insert("$databaseId".into(), json!(self.database.id));
        m.insert("$createdAt".into(), Value::String(row.get(2)?));
        m.insert("$updatedAt".into(), Value::String(row.get(3)?));
        let perms: String = row.get(4)?;
        m.insert("$permissions".into(), serde_json::from_str(&perms).unwrap_or(json!([])));
        for (i, a) in self.stored().enumerate() {
            m.insert(a.key.clone(), decode(a, row.get_ref(5 + i)?));
        }
        Ok(m)
    }
}

/// Collections loaded with their attributes and indexes, reused while the metadata generation
/// (see `store::schema_generation`) is unchanged: document reads and writes then cost one
/// lookup instead of four queries.
#[derive(Default)]
pub struct SchemaCache {
    entries: Mutex<HashMap<(String, String), (i64, Arc<CollectionSchema>)>>,
}

impl SchemaCache {
    /// [`CollectionSchema::require`] through the cache.
    pub fn require(
        &self,
        tx: &Transaction,
        api: Api,
        database_id: &str,
        collection_id: &str,
        privileged: bool,
    ) -> ApiResult<Arc<CollectionSchema>> {
        let gen = store::schema_generation(tx)?;
        let key = (database_id.to_string(), collection_id.to_string());
        let cached = self.entries.lock().unwrap().get(&key).filter(|(g, _)| *g == gen).map(|(_, s)| s.clone());
        let schema = match cached {
            Some(s) => s,
            None => {
                let s = Arc::new(CollectionSchema::require(tx, api, database_id, collection_id, true)?);
                let mut entries = self.entries.lock().unwrap();
                if entries.len() > 1024 {
                    entries.clear();
                }
                entries.insert(key, (gen, s.clone()));
                s
            }
        };
        schema.visible(api, database_id, collection_id, privileged)
    }
}

/// Whether an attribute has a column: everything but the relationship sides that store nothing.
pub fn stores_column(a: &AttributeRow) -> bool {
    !a.is_relationship() || !relationship_is_virtual(a)
}

/// The relationship sides that keep no value of their own (utopia's "virtual" sides).
pub fn relationship_is_virtual(a: &AttributeRow) -> bool {
    let side_child = a.opt_str("side") == Some("child");
    match a.opt_str("relationType").unwrap_or_default() {
        "oneToOne" => side_child && !a.opt_bool("twoWay"),
        "oneToMany" => !side_child,
        "manyToOne" => side_child,
        "manyToMany" => true,
        _ => false,
    }
}

/// A stored SQL value as JSON for attribute `a`.
pub fn decode(a: &AttributeRow, v: ValueRef) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Text(t) if a.array => serde_json::from_slice(t).unwrap_or(Value::Null),
        ValueRef::Integer(n) if a.kind == "boolean" => Value::Bool(n != 0),
        ValueRef::Integer(n) if a.kind == "double" => Number::from_f64(n as f64).map(Value::Number).unwrap_or(Value::Null),
        ValueRef::Integer(n) => json!(n),
        ValueRef::Real(f) => Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(_) => Value::Null,
    }
}

/// A validated JSON value as the SQL value stored for attribute `a`.
pub fn encode(a: &AttributeRow, v: &Value) -> Sql {
    match v {
        Value::Null => Sql::Null,
        _ if a.array => Sql::Text(v.to_string()),
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) if a.kind == "double" => Sql::Real(n.as_f64().unwrap_or(0.0)),
        Value::Number(n) => n.as_i64().map(Sql::Integer).unwrap_or_else(|| Sql::Real(n.as_f64().unwrap_or(0.0))),
        Value::String(s) if a.kind == "datetime" => Sql::Text(crate::clock::normalize_datetime(s).unwrap_or_else(|| s.clone())),
        Value::String(s) if a.kind == "bigint" => s.parse::<i64>().map(Sql::Integer).unwrap_or_else(|_| Sql::Text(s.clone())),
        Value::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}

impl Schema for CollectionSchema {
    fn field(&self, name: &str) -> Option<Field> {
        match name {
            "$id" => return Some(Field::new("_uid", Kind::String)),
            "$sequence" => return Some(Field::new("_seq", Kind::Sequence)),
            "$createdAt" => return Some(Field::new("_created", Kind::Datetime)),
            "$updatedAt" => return Some(Field::new("_updated", Kind::Datetime)),
            _ => {}
        }
        let a = self.attribute(name).filter(|a| a.status == "available")?;
        let kind = match a.kind.as_str() {
            "integer" => Kind::Integer,
            "bigint" => Kind::BigInt,
            "double" => Kind::Float,
            "boolean" => Kind::Boolean,
            "datetime" => Kind::Datetime,
            "relationship" => Kind::Relationship,
            _ => Kind::String,
        };
        let fulltext = self
            .indexes
            .iter()
            .find(|i| i.kind == "fulltext" && i.attributes.len() == 1 && i.attributes[0] == a.key)
            .map(|i| format!("\"{}\"", i.sql_name()));
        Some(Field {
            sql: if stores_column(a) { a.sql() } else { "NULL".into() },
            kind,
            array: a.array,
            bits: if a.size >= 8 || a.kind == "bigint" { 64 } else { 32 },
            encrypted: a.encrypted(),
            fulltext,
            relationship: a.is_relationship().then(|| RelationshipInfo { virtual_side: relationship_is_virtual(a) }),
        })
    }

    fn sequence_sql(&self) -> &str {
        "_seq"
    }
}
