//! Carrying out one declarative step against a target, waiting for attributes and indexes to
//! become `available` where later work depends on them.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::format::{Op, Settings};
use super::transform;
use crate::appwrite::{query, Client, Error};

/// A target database and how patient to be with it.
pub struct Target<'a> {
    pub client: &'a Client,
    /// The environment's database: what steps without `database` act on.
    pub database: String,
    /// How long an attribute or index may stay `processing` before the step fails.
    pub available_timeout: Duration,
    /// The step may have been carried out, wholly or partly, by a run that stopped before it could
    /// record it: "already exists" from a create and "not found" from a delete then mean done.
    pub resuming: bool,
}

/// What one step did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Documents written or deleted by a data step.
    pub documents: u64,
}

/// Why a step failed.
#[derive(Debug, Clone, PartialEq)]
pub enum StepError {
    Api(Error),
    /// The step cannot be carried out as written (a transform that does not fit a value, …).
    Invalid(String),
    /// An attribute or index did not become available.
    NotAvailable(String),
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::Api(e) => write!(f, "{e}"),
            StepError::Invalid(m) | StepError::NotAvailable(m) => f.write_str(m),
        }
    }
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        StepError::Api(e)
    }
}

type Result<T> = std::result::Result<T, StepError>;

/// The attribute route type (`POST …/attributes/{type}`) of a definition.
pub fn route_type(def: &Settings) -> String {
    let kind = def.get("type").and_then(Value::as_str).unwrap_or_default();
    let format = def.get("format").and_then(Value::as_str).unwrap_or_default();
    match (kind, format) {
        ("string", f @ ("email" | "enum" | "url" | "ip")) => f.to_string(),
        ("double" | "float", _) => "float".into(),
        ("linestring", _) => "line".into(),
        (k, _) => k.to_string(),
    }
}

/// The create parameters of an attribute definition.
pub fn create_params(def: &Settings) -> Value {
    let mut p = Map::new();
    let kind = route_type(def);
    if kind == "relationship" {
        p.insert("relatedCollectionId".into(), def.get("relatedCollection").cloned().unwrap_or(Value::Null));
        p.insert("type".into(), def.get("relationType").cloned().unwrap_or(Value::Null));
        for k in ["twoWay", "key", "twoWayKey", "onDelete"] {
            if let Some(v) = def.get(k) {
                p.insert(k.into(), v.clone());
            }
        }
        return Value::Object(p);
    }
    p.insert("key".into(), def.get("key").cloned().unwrap_or(Value::Null));
    p.insert("required".into(), def.get("required").cloned().unwrap_or(json!(false)));
    for k in ["array", "default", "size", "min", "max", "elements", "encrypt"] {
        if let Some(v) = def.get(k) {
            p.insert(k.into(), v.clone());
        }
    }
    Value::Object(p)
}

impl Target<'_> {
    fn created<T>(&self, r: std::result::Result<T, Error>) -> Result<()> {
        match r {
            Err(e) if self.resuming && e.is_conflict() => Ok(()),
            other => other.map(|_| ()).map_err(StepError::from),
        }
    }

    fn deleted(&self, r: std::result::Result<(), Error>) -> Result<()> {
        match r {
            Err(e) if self.resuming && e.is_not_found() => Ok(()),
            other => other.map_err(StepError::from),
        }
    }

    fn db<'a>(&'a self, database: &'a Option<String>) -> &'a str {
        database.as_deref().unwrap_or(&self.database)
    }

    /// Carries out one step.
    pub fn run(&self, op: &Op) -> Result<Outcome> {
        let c = self.client;
        match op {
            Op::CreateDatabase { database, name, enabled } => {
                self.created(c.create_database(database, name, enabled.unwrap_or(true)))?;
            }
            Op::UpdateDatabase { database, set, .. } => {
                let db = self.db(database);
                let current = c.get_database(db)?;
                let name = set.get("name").and_then(Value::as_str).unwrap_or(&current.name);
                c.update_database(db, name, set.get("enabled").and_then(Value::as_bool).unwrap_or(current.enabled))?;
            }
            Op::DeleteDatabase { database, .. } => self.deleted(c.delete_database(database))?,
            Op::CreateCollection { database, collection, definition } => {
                let db = self.db(database);
                let security = definition.get("documentSecurity").or_else(|| definition.get("rowSecurity")).and_then(Value::as_bool).unwrap_or(false);
                self.created(c.create_collection(db, collection, str_of(definition, "name"), &strings(definition.get("permissions")), security, bool_of(definition, "enabled", true)))?;
                let attributes = definition.get("attributes").or_else(|| definition.get("columns")).and_then(Value::as_array).cloned().unwrap_or_default();
                for a in attributes.iter().filter_map(Value::as_object) {
                    self.create_attribute(db, collection, a)?;
                }
                for i in definition.get("indexes").and_then(Value::as_array).cloned().unwrap_or_default().iter().filter_map(Value::as_object) {
                    self.create_index(db, collection, i)?;
                }
            }
            Op::UpdateCollection { database, collection, set, .. } => {
                let db = self.db(database);
                let cur = c.get_collection(db, collection)?;
                let permissions = set.get("permissions").map(|p| strings(Some(p))).unwrap_or(cur.permissions);
                c.update_collection(
                    db,
                    collection,
                    set.get("name").and_then(Value::as_str).unwrap_or(&cur.name),
                    &permissions,
                    set.get("documentSecurity").and_then(Value::as_bool).unwrap_or(cur.document_security),
                    set.get("enabled").and_then(Value::as_bool).unwrap_or(cur.enabled),
                )?;
            }
            Op::DeleteCollection { database, collection, .. } => self.deleted(c.delete_collection(self.db(database), collection))?,
            Op::CreateAttribute { database, collection, attribute } => self.create_attribute(self.db(database), collection, attribute)?,
            Op::UpdateAttribute { database, collection, key, set, .. } => {
                let db = self.db(database);
                let current = self.wait_attribute(db, collection, key)?;
                let mut def = current.fields.clone();
                def.insert("type".into(), json!(current.kind));
                let mut p = Map::new();
                // Appwrite wants `required` and `default` on every update; keep what is there.
                p.insert("required".into(), set.get("required").cloned().or_else(|| current.fields.get("required").cloned()).unwrap_or(json!(false)));
                p.insert("default".into(), set.get("default").cloned().or_else(|| current.fields.get("default").cloned()).unwrap_or(Value::Null));
                for k in ["size", "min", "max", "elements"] {
                    if let Some(v) = set.get(k) {
                        p.insert(k.into(), v.clone());
                    }
                }
                // Enum updates require the elements even when they do not change.
                if route_type(&def) == "enum" && !p.contains_key("elements") {
                    p.insert("elements".into(), current.fields.get("elements").cloned().unwrap_or(json!([])));
                }
                if let Some(new_key) = set.get("key") {
                    p.insert("newKey".into(), new_key.clone());
                }
                c.update_attribute(db, collection, &route_type(&def), key, &Value::Object(p))?;
                let now = set.get("key").and_then(Value::as_str).unwrap_or(key);
                self.wait_attribute(db, collection, now)?;
            }
            Op::DeleteAttribute { database, collection, key, .. } => {
                let db = self.db(database);
                self.deleted(c.delete_attribute(db, collection, key))?;
                self.wait_gone(|| c.get_attribute(db, collection, key).map(|_| ()), &format!("attribute {collection}.{key}"))?;
            }
            Op::CreateIndex { database, collection, index } => self.create_index(self.db(database), collection, index)?,
            Op::DeleteIndex { database, collection, key, .. } => {
                let db = self.db(database);
                self.deleted(c.delete_index(db, collection, key))?;
                self.wait_gone(|| c.get_index(db, collection, key).map(|_| ()), &format!("index {collection}.{key}"))?;
            }
            Op::CreateBucket { bucket, settings } => {
                self.created(c.create_bucket(bucket, settings))?;
            }
            Op::UpdateBucket { bucket, set, .. } => {
                let current = c.get_bucket(bucket)?;
                let mut settings = Map::new();
                settings.insert("name".into(), json!(current.name));
                if let Some(p) = current.settings.get("$permissions") {
                    settings.insert("permissions".into(), p.clone());
                }
                for k in ["fileSecurity", "enabled", "maximumFileSize", "allowedFileExtensions", "compression", "encryption", "antivirus", "transformations"] {
                    if let Some(v) = current.settings.get(k) {
                        settings.insert(k.into(), v.clone());
                    }
                }
                settings.extend(set.clone());
                c.update_bucket(bucket, &settings)?;
            }
            Op::DeleteBucket { bucket, .. } => self.deleted(c.delete_bucket(bucket))?,
            Op::UpdateDocuments { database, collection, queries, patch } => {
                let db = self.db(database);
                for k in patch.keys() {
                    self.wait_attribute(db, collection, k)?;
                }
                let n = c.update_documents(db, collection, &queries.iter().map(query::from_value).collect::<Vec<_>>(), &Value::Object(patch.clone()))?;
                return Ok(Outcome { documents: n });
            }
            Op::DeleteDocuments { database, collection, queries } => {
                let n = c.delete_documents(self.db(database), collection, &queries.iter().map(query::from_value).collect::<Vec<_>>())?;
                return Ok(Outcome { documents: n });
            }
            Op::CopyAttribute { database, collection, from, to, queries } => {
                return self.rewrite(self.db(database), collection, from, to, queries, |v| Ok(v.clone()));
            }
            Op::TransformAttribute { database, collection, from, to, queries, transform: t } => {
                return self.rewrite(self.db(database), collection, from, to, queries, |v| transform::apply(t, v));
            }
        }
        Ok(Outcome::default())
    }

    fn create_attribute(&self, db: &str, collection: &str, def: &Settings) -> Result<()> {
        self.created(self.client.create_attribute(db, collection, &route_type(def), &create_params(def)))?;
        let key = def.get("key").and_then(Value::as_str).unwrap_or_default();
        self.wait_attribute(db, collection, key).map(|_| ())
    }

    fn create_index(&self, db: &str, collection: &str, def: &Settings) -> Result<()> {
        let attributes = strings(def.get("attributes").or_else(|| def.get("columns")));
        for a in attributes.iter().filter(|a| !a.starts_with('$')) {
            self.wait_attribute(db, collection, a)?;
        }
        let lengths: Vec<Option<i64>> = def.get("lengths").and_then(Value::as_array).map(|l| l.iter().map(Value::as_i64).collect()).unwrap_or_default();
        let key = str_of(def, "key");
        self.created(self.client.create_index(db, collection, key, str_of(def, "type"), &attributes, &strings(def.get("orders")), &lengths))?;
        self.wait(&format!("index {collection}.{key}"), || {
            let i = self.client.get_index(db, collection, key)?;
            Ok(Some((i.status, i.error)))
        })
    }

    /// Waits until the attribute is `available` and returns it.
    fn wait_attribute(&self, db: &str, collection: &str, key: &str) -> Result<crate::appwrite::Attribute> {
        let mut last = None;
        self.wait(&format!("attribute {collection}.{key}"), || {
            let a = self.client.get_attribute(db, collection, key)?;
            let status = (a.status.clone(), a.error.clone());
            last = Some(a);
            Ok(Some(status))
        })?;
        Ok(last.expect("waited on a fetched attribute"))
    }

    /// Polls `status` (backing off from 50 ms to 1 s) until it is `available` or gone (`None`);
    /// `failed`/`stuck` stop it, and so does the deadline.
    fn wait(&self, what: &str, mut status: impl FnMut() -> std::result::Result<Option<(String, String)>, Error>) -> Result<()> {
        let deadline = Instant::now() + self.available_timeout;
        let mut pause = Duration::from_millis(50);
        loop {
            let Some((s, error)) = status()? else { return Ok(()) };
            match s.as_str() {
                "available" | "" => return Ok(()),
                "failed" | "stuck" => return Err(StepError::NotAvailable(format!("{what} is {s}: {error}"))),
                _ if Instant::now() >= deadline => {
                    return Err(StepError::NotAvailable(format!("{what} is still {s} after {} s", self.available_timeout.as_secs())));
                }
                _ => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    /// Waits until `get` answers 404 (Appwrite deletes attributes and indexes in the background).
    fn wait_gone(&self, get: impl Fn() -> std::result::Result<(), Error>, what: &str) -> Result<()> {
        self.wait(what, || match get() {
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
            Ok(()) => Ok(Some(("being deleted".into(), String::new()))),
        })
    }

    /// Writes `f(document[from])` into `to` of every matching document whose value differs.
    fn rewrite(&self, db: &str, collection: &str, from: &str, to: &str, queries: &[Value], f: impl Fn(&Value) -> std::result::Result<Value, String>) -> Result<Outcome> {
        self.wait_attribute(db, collection, from)?;
        self.wait_attribute(db, collection, to)?;
        let queries: Vec<String> = queries.iter().map(query::from_value).collect();
        let mut written = 0;
        let mut invalid: Option<String> = None;
        let result = self.client.each_document(db, collection, &queries, |doc| {
            let id = doc.get("$id").and_then(Value::as_str).unwrap_or_default();
            let source = doc.get(from).cloned().unwrap_or(Value::Null);
            let value = match f(&source) {
                Ok(v) => v,
                Err(m) => {
                    // Stops the walk; the real reason is kept in `invalid`.
                    invalid = Some(format!("document {id}: {from} = {source}: {m}"));
                    return Err(Error::Decode { message: String::new() });
                }
            };
            if doc.get(to) != Some(&value) {
                self.client.update_document(db, collection, id, &json!({ to: value }))?;
                written += 1;
            }
            Ok(())
        });
        match (result, invalid) {
            (_, Some(m)) => Err(StepError::Invalid(m)),
            (Err(e), None) => Err(e.into()),
            (Ok(_), None) => Ok(Outcome { documents: written }),
        }
    }
}

fn str_of<'a>(m: &'a Settings, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn bool_of(m: &Settings, k: &str, default: bool) -> bool {
    m.get(k).and_then(Value::as_bool).unwrap_or(default)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appwrite::Connection;

    fn target(client: &Client, timeout: Duration) -> Target<'_> {
        Target { client, database: "db".into(), available_timeout: timeout, resuming: false }
    }

    #[test]
    fn waiting_follows_the_status_until_available_failed_or_the_deadline() {
        let client = Client::new(Connection { endpoint: "http://127.0.0.1:9/v1".into(), project: "p".into(), api_key: "k".into() }, Duration::from_secs(1)).unwrap();
        let run = |statuses: &[&str], timeout: Duration| {
            let mut seen = statuses.iter().map(|s| (s.to_string(), if *s == "failed" { "disk full".to_string() } else { String::new() }));
            let mut last = (String::new(), String::new());
            target(&client, timeout).wait("attribute c.a", || {
                last = seen.next().unwrap_or_else(|| last.clone());
                Ok(Some(last.clone()))
            })
        };
        assert_eq!(run(&["processing", "processing", "available"], Duration::from_secs(60)), Ok(()));
        assert_eq!(run(&["processing", "failed"], Duration::from_secs(60)), Err(StepError::NotAvailable("attribute c.a is failed: disk full".into())));
        assert_eq!(run(&["processing"], Duration::ZERO), Err(StepError::NotAvailable("attribute c.a is still processing after 0 s".into())));
    }

    #[test]
    fn route_types_and_params() {
        let cases = [
            (json!({"key": "e", "type": "string", "format": "email", "required": true}), "email", json!({"key": "e", "required": true})),
            (json!({"key": "s", "type": "string", "format": "enum", "elements": ["a"], "required": false, "default": "a"}), "enum", json!({"key": "s", "required": false, "default": "a", "elements": ["a"]})),
            (json!({"key": "d", "type": "double", "required": false, "min": 0}), "float", json!({"key": "d", "required": false, "min": 0})),
            (json!({"key": "t", "type": "datetime", "format": "datetime", "required": true}), "datetime", json!({"key": "t", "required": true})),
            (json!({"key": "n", "type": "string", "size": 36, "required": true, "array": false}), "string", json!({"key": "n", "required": true, "array": false, "size": 36})),
            (
                json!({"key": "owner", "type": "relationship", "required": false, "relatedCollection": "users", "relationType": "manyToOne", "onDelete": "cascade"}),
                "relationship",
                json!({"relatedCollectionId": "users", "type": "manyToOne", "key": "owner", "onDelete": "cascade"}),
            ),
        ];
        for (def, route, params) in cases {
            let def = def.as_object().unwrap();
            assert_eq!(route_type(def), route);
            assert_eq!(create_params(def), params, "{def:?}");
        }
    }
}
