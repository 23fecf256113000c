//! Databases (legacy API): databases, collections, attributes, indexes and documents.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{query, query_params, segment, Client, Result};

/// A database.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Database {
    #[serde(rename = "$id")]
    pub id: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// A collection with its attributes and indexes.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Collection {
    #[serde(rename = "$id")]
    pub id: String,
    pub name: String,
    #[serde(rename = "$permissions", default)]
    pub permissions: Vec<String>,
    #[serde(rename = "documentSecurity", default)]
    pub document_security: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    #[serde(default)]
    pub indexes: Vec<Index>,
}

/// An attribute as the server reports it; every type-specific field is kept in `fields`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Attribute {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub error: String,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// An index as the server reports it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Index {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub attributes: Vec<String>,
    #[serde(default)]
    pub orders: Vec<Option<String>>,
    #[serde(default)]
    pub lengths: Vec<Option<i64>>,
}

/// A page of documents.
#[derive(Debug, Clone, Deserialize)]
pub struct DocumentList {
    pub total: u64,
    pub documents: Vec<Map<String, Value>>,
}

#[derive(Deserialize)]
struct DatabaseList {
    databases: Vec<Database>,
}

#[derive(Deserialize)]
struct CollectionList {
    collections: Vec<Collection>,
}

fn yes() -> bool {
    true
}

/// How many items one list page asks for.
const PAGE: usize = 100;

fn db_path(db: &str) -> String {
    format!("/databases/{}", segment(db))
}

fn coll_path(db: &str, c: &str) -> String {
    format!("/databases/{}/collections/{}", segment(db), segment(c))
}

impl Client {
    /// Every database, following pages.
    pub fn list_databases(&self) -> Result<Vec<Database>> {
        self.list_all(|queries| self.get::<DatabaseList>("/databases", &query_params(queries)).map(|l| l.databases), |d| d.id.clone())
    }

    /// One database.
    pub fn get_database(&self, db: &str) -> Result<Database> {
        self.get(&db_path(db), &[])
    }

    /// Creates a database.
    pub fn create_database(&self, db: &str, name: &str, enabled: bool) -> Result<Database> {
        self.post("/databases", &json!({"databaseId": db, "name": name, "enabled": enabled}))
    }

    /// Renames or enables/disables a database.
    pub fn update_database(&self, db: &str, name: &str, enabled: bool) -> Result<Database> {
        self.put(&db_path(db), &json!({"name": name, "enabled": enabled}))
    }

    /// Deletes a database and everything in it.
    pub fn delete_database(&self, db: &str) -> Result<()> {
        self.delete(&db_path(db))
    }

    /// Every collection of a database, with attributes and indexes.
    pub fn list_collections(&self, db: &str) -> Result<Vec<Collection>> {
        let path = format!("{}/collections", db_path(db));
        self.list_all(|queries| self.get::<CollectionList>(&path, &query_params(queries)).map(|l| l.collections), |c| c.id.clone())
    }

    /// One collection.
    pub fn get_collection(&self, db: &str, c: &str) -> Result<Collection> {
        self.get(&coll_path(db, c), &[])
    }

    /// Creates an empty collection.
    pub fn create_collection(&self, db: &str, c: &str, name: &str, permissions: &[String], document_security: bool, enabled: bool) -> Result<Collection> {
        self.post(
            &format!("{}/collections", db_path(db)),
            &json!({"collectionId": c, "name": name, "permissions": permissions, "documentSecurity": document_security, "enabled": enabled}),
        )
    }

    /// Updates a collection's settings (Appwrite requires the name on every update).
    pub fn update_collection(&self, db: &str, c: &str, name: &str, permissions: &[String], document_security: bool, enabled: bool) -> Result<Collection> {
        self.put(&coll_path(db, c), &json!({"name": name, "permissions": permissions, "documentSecurity": document_security, "enabled": enabled}))
    }

    /// Deletes a collection and its documents.
    pub fn delete_collection(&self, db: &str, c: &str) -> Result<()> {
        self.delete(&coll_path(db, c))
    }

    /// `POST …/attributes/{route_type}` with the route's parameters (202, may be `processing`).
    pub fn create_attribute(&self, db: &str, c: &str, route_type: &str, params: &Value) -> Result<Attribute> {
        self.post(&format!("{}/attributes/{}", coll_path(db, c), segment(route_type)), params)
    }

    /// `PATCH …/attributes/{route_type}/{key}`.
    pub fn update_attribute(&self, db: &str, c: &str, route_type: &str, key: &str, params: &Value) -> Result<Attribute> {
        self.patch(&format!("{}/attributes/{}/{}", coll_path(db, c), segment(route_type), segment(key)), params)
    }

    /// One attribute, with its `status`.
    pub fn get_attribute(&self, db: &str, c: &str, key: &str) -> Result<Attribute> {
        self.get(&format!("{}/attributes/{}", coll_path(db, c), segment(key)), &[])
    }

    /// Deletes an attribute and its data.
    pub fn delete_attribute(&self, db: &str, c: &str, key: &str) -> Result<()> {
        self.delete(&format!("{}/attributes/{}", coll_path(db, c), segment(key)))
    }

    /// Creates an index (202, may be `processing`).
    #[allow(clippy::too_many_arguments)]
    pub fn create_index(&self, db: &str, c: &str, key: &str, kind: &str, attributes: &[String], orders: &[String], lengths: &[Option<i64>]) -> Result<Index> {
        let mut body = json!({"key": key, "type": kind, "attributes": attributes, "orders": orders});
        if !lengths.is_empty() {
            body["lengths"] = json!(lengths);
        }
        self.post(&format!("{}/indexes", coll_path(db, c)), &body)
    }

    /// One index, with its `status`.
    pub fn get_index(&self, db: &str, c: &str, key: &str) -> Result<Index> {
        self.get(&format!("{}/indexes/{}", coll_path(db, c), segment(key)), &[])
    }

    /// Deletes an index.
    pub fn delete_index(&self, db: &str, c: &str, key: &str) -> Result<()> {
        self.delete(&format!("{}/indexes/{}", coll_path(db, c), segment(key)))
    }

    /// A page of documents matching `queries`.
    pub fn list_documents(&self, db: &str, c: &str, queries: &[String]) -> Result<DocumentList> {
        self.get(&format!("{}/documents", coll_path(db, c)), &query_params(queries))
    }

    /// One document.
    pub fn get_document(&self, db: &str, c: &str, id: &str) -> Result<Map<String, Value>> {
        self.get(&format!("{}/documents/{}", coll_path(db, c), segment(id)), &[])
    }

    /// Creates a document; `permissions` `None` keeps the server's default.
    pub fn create_document(&self, db: &str, c: &str, id: &str, data: &Value, permissions: Option<&[String]>) -> Result<Map<String, Value>> {
        let mut body = json!({"documentId": id, "data": data});
        if let Some(p) = permissions {
            body["permissions"] = json!(p);
        }
        self.post(&format!("{}/documents", coll_path(db, c)), &body)
    }

    /// Merges `data` into a document.
    pub fn update_document(&self, db: &str, c: &str, id: &str, data: &Value) -> Result<Map<String, Value>> {
        self.patch(&format!("{}/documents/{}", coll_path(db, c), segment(id)), &json!({"data": data}))
    }

    /// Deletes a document.
    pub fn delete_document(&self, db: &str, c: &str, id: &str) -> Result<()> {
        self.delete(&format!("{}/documents/{}", coll_path(db, c), segment(id)))
    }

    /// Merges `data` into every document matching `queries` in one call; the count changed.
    pub fn update_documents(&self, db: &str, c: &str, queries: &[String], data: &Value) -> Result<u64> {
        let list: DocumentList = self.patch(&format!("{}/documents", coll_path(db, c)), &json!({"data": data, "queries": queries}))?;
        Ok(list.total)
    }

    /// Deletes every document matching `queries` in one call; the count deleted.
    pub fn delete_documents(&self, db: &str, c: &str, queries: &[String]) -> Result<u64> {
        let list: DocumentList = self.call(reqwest::Method::DELETE, &format!("{}/documents", coll_path(db, c)), &json!({"queries": queries}))?;
        Ok(list.total)
    }

    /// Visits every document matching `queries` in pages ordered by ID-cursor; `visit` may change
    /// the documents it is given but not which ones match.
    pub fn each_document(&self, db: &str, c: &str, queries: &[String], mut visit: impl FnMut(&Map<String, Value>) -> Result<()>) -> Result<u64> {
        let mut cursor: Option<String> = None;
        let mut seen = 0;
        loop {
            let mut q = queries.to_vec();
            q.push(query::limit(PAGE));
            if let Some(id) = &cursor {
                q.push(query::cursor_after(id));
            }
            let page = self.list_documents(db, c, &q)?;
            for doc in &page.documents {
                visit(doc)?;
                seen += 1;
            }
            if page.documents.len() < PAGE {
                return Ok(seen);
            }
            cursor = page.documents.last().and_then(|d| d.get("$id")).and_then(Value::as_str).map(str::to_string);
        }
    }

    /// Follows `cursorAfter` pages of a list until a short page.
    pub(super) fn list_all<T>(&self, fetch: impl Fn(&[String]) -> Result<Vec<T>>, id: impl Fn(&T) -> String) -> Result<Vec<T>> {
        let mut out: Vec<T> = Vec::new();
        loop {
            let mut q = vec![query::limit(PAGE)];
            if let Some(last) = out.last() {
                q.push(query::cursor_after(&id(last)));
            }
            let page = fetch(&q)?;
            let short = page.len() < PAGE;
            out.extend(page);
            if short {
                return Ok(out);
            }
        }
    }
}
