//! The schema of a target as compared: databases, collections with canonical attributes and
//! indexes, buckets; read from a server or built from `schemas/`, and the differences between two.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::appwrite::{Client, Collection, Result};
use crate::project::model::CollectionSchema;

/// Collections the migration runner keeps for itself; never part of the compared schema.
pub const RUNNER_COLLECTIONS: [&str; 2] = [super::history::COLLECTION, super::lock::COLLECTION];

/// A whole target's schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub databases: BTreeMap<String, DatabaseSnap>,
    pub buckets: BTreeMap<String, Value>,
}

/// One database and its collections.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DatabaseSnap {
    pub name: String,
    pub enabled: bool,
    pub collections: BTreeMap<String, CollectionSnap>,
}

/// One collection, attributes and indexes in canonical form and server order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CollectionSnap {
    pub name: String,
    pub enabled: bool,
    pub document_security: bool,
    pub permissions: Vec<String>,
    pub attributes: Vec<Value>,
    pub indexes: Vec<Value>,
}

impl CollectionSnap {
    /// From a server's collection.
    pub fn of(c: &Collection) -> CollectionSnap {
        CollectionSnap {
            name: c.name.clone(),
            enabled: c.enabled,
            document_security: c.document_security,
            permissions: c.permissions.clone(),
            attributes: c
                .attributes
                .iter()
                .map(|a| {
                    let mut m = a.fields.clone();
                    m.insert("key".into(), json!(a.key));
                    m.insert("type".into(), json!(a.kind));
                    canonical_attribute(&m)
                })
                .collect(),
            indexes: c
                .indexes
                .iter()
                .map(|i| canonical_index(&json!({"key": i.key, "type": i.kind, "attributes": i.attributes, "orders": i.orders, "lengths": i.lengths}).as_object().cloned().unwrap_or_default()))
                .collect(),
        }
    }

    /// From a `schemas/collections` file.
    pub fn of_schema(s: &CollectionSchema) -> CollectionSnap {
        CollectionSnap {
            name: s.name.clone(),
            enabled: true,
            document_security: s.document_security,
            permissions: s.permissions.clone(),
            attributes: s.attributes.iter().filter_map(Value::as_object).map(canonical_attribute).collect(),
            indexes: s.indexes.iter().filter_map(Value::as_object).map(canonical_index).collect(),
        }
    }
}

const INT_BOUNDS: (i64, i64) = (i64::MIN, i64::MAX);

/// An attribute with only what defines it, in one spelling: `float` is `double`; sizes of
/// formatted strings, `format` of datetimes, default bounds of numbers, `array: false`,
/// `encrypt: false` and null defaults dropped; numbers of `double` attributes as floats.
pub fn canonical_attribute(a: &Map<String, Value>) -> Value {
    let mut kind = a.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
    if kind == "float" {
        kind = "double".into();
    }
    let format = a.get("format").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    out.insert("key".into(), a.get("key").cloned().unwrap_or(Value::Null));
    out.insert("type".into(), json!(kind));
    if !format.is_empty() && kind != "datetime" {
        out.insert("format".into(), json!(format));
    }
    if let Some(e) = a.get("elements").filter(|_| format == "enum") {
        out.insert("elements".into(), e.clone());
    }
    if matches!(kind.as_str(), "string" | "varchar") && !matches!(format, "email" | "url" | "ip" | "enum") {
        if let Some(s) = a.get("size") {
            out.insert("size".into(), s.clone());
        }
    }
    out.insert("required".into(), json!(a.get("required").and_then(Value::as_bool).unwrap_or(false)));
    if a.get("array").and_then(Value::as_bool) == Some(true) {
        out.insert("array".into(), json!(true));
    }
    let number = |v: &Value| -> Value {
        match kind.as_str() {
            "double" => v.as_f64().map(|f| json!(f)).unwrap_or_else(|| v.clone()),
            _ => v.clone(),
        }
    };
    for bound in ["min", "max"] {
        let Some(v) = a.get(bound).filter(|v| !v.is_null()) else { continue };
        let default_bound = match kind.as_str() {
            "integer" | "bigint" => v.as_i64() == Some(if bound == "min" { INT_BOUNDS.0 } else { INT_BOUNDS.1 }),
            "double" => v.as_f64().is_some_and(|f| f.abs() >= f64::MAX),
            _ => false,
        };
        if !default_bound {
            out.insert(bound.into(), number(v));
        }
    }
    if let Some(d) = a.get("default").filter(|d| !d.is_null()) {
        out.insert("default".into(), number(d));
    }
    if a.get("encrypt").and_then(Value::as_bool) == Some(true) {
        out.insert("encrypt".into(), json!(true));
    }
    if kind == "relationship" {
        for k in ["relatedCollection", "relationType", "twoWay", "twoWayKey", "onDelete"] {
            if let Some(v) = a.get(k).or_else(|| if k == "relatedCollection" { a.get("relatedTable") } else { None }) {
                out.insert(k.into(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// An index with upper-case orders (ASC where none is given) and no empty lengths.
pub fn canonical_index(i: &Map<String, Value>) -> Value {
    let attributes: Vec<Value> = i.get("attributes").or_else(|| i.get("columns")).and_then(Value::as_array).cloned().unwrap_or_default();
    let orders: Vec<Value> = i.get("orders").and_then(Value::as_array).cloned().unwrap_or_default();
    let orders: Vec<Value> = (0..attributes.len()).map(|n| json!(orders.get(n).and_then(Value::as_str).map(str::to_uppercase).unwrap_or_else(|| "ASC".into()))).collect();
    let mut out = Map::new();
    out.insert("key".into(), i.get("key").cloned().unwrap_or(Value::Null));
    out.insert("type".into(), i.get("type").cloned().unwrap_or(Value::Null));
    out.insert("attributes".into(), Value::Array(attributes));
    out.insert("orders".into(), Value::Array(orders));
    if let Some(l) = i.get("lengths").and_then(Value::as_array).filter(|l| l.iter().any(|x| !x.is_null())) {
        out.insert("lengths".into(), Value::Array(l.clone()));
    }
    Value::Object(out)
}

/// A bucket's settings as compared.
fn canonical_bucket(b: &crate::appwrite::Bucket) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(b.name));
    for k in ["$permissions", "fileSecurity", "enabled", "maximumFileSize", "allowedFileExtensions", "compression", "encryption", "antivirus", "transformations"] {
        if let Some(v) = b.settings.get(k) {
            out.insert(k.trim_start_matches('$').into(), v.clone());
        }
    }
    Value::Object(out)
}

/// Reads the whole schema of the client's project (the runner's own collections left out).
pub fn read(client: &Client) -> Result<Snapshot> {
    let mut snap = Snapshot::default();
    for db in client.list_databases()? {
        let mut collections = BTreeMap::new();
        for c in client.list_collections(&db.id)? {
            if !RUNNER_COLLECTIONS.contains(&c.id.as_str()) {
                collections.insert(c.id.clone(), CollectionSnap::of(&c));
            }
        }
        snap.databases.insert(db.id.clone(), DatabaseSnap { name: db.name, enabled: db.enabled, collections });
    }
    // A server without Storage (an older emulator) simply has no buckets to compare.
    match client.list_buckets() {
        Ok(buckets) => snap.buckets = buckets.iter().map(|b| (b.id.clone(), canonical_bucket(b))).collect(),
        Err(e) if e.api_type() == Some("general_route_not_found") => {}
        Err(e) => return Err(e),
    }
    Ok(snap)
}

/// One difference between an expected and an actual schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// Where: e.g. `["database main-dev", "collection jobs", "attribute status", "default"]`.
    pub path: Vec<String>,
    pub expected: Option<Value>,
    pub actual: Option<Value>,
}

impl Difference {
    /// `collection jobs, attribute status, default: expected "uploaded", actual null`.
    pub fn message(&self) -> String {
        let show = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_else(|| "absent".into());
        format!("{}: expected {}, actual {}", self.path.join(", "), show(&self.expected), show(&self.actual))
    }
}

/// Every difference between `expected` and `actual`, named down to the property.
pub fn diff(expected: &Snapshot, actual: &Snapshot) -> Vec<Difference> {
    let mut out = Vec::new();
    keyed(&mut out, &[], "database", &expected.databases, &actual.databases, |out, path, e, a| {
        prop(out, path, "name", json!(e.name), json!(a.name));
        prop(out, path, "enabled", json!(e.enabled), json!(a.enabled));
        keyed(out, path, "collection", &e.collections, &a.collections, diff_collection);
    });
    keyed(&mut out, &[], "bucket", &expected.buckets, &actual.buckets, fields);
    out
}

/// The differences of one collection.
pub fn diff_collection(out: &mut Vec<Difference>, path: &[String], e: &CollectionSnap, a: &CollectionSnap) {
    prop(out, path, "name", json!(e.name), json!(a.name));
    prop(out, path, "enabled", json!(e.enabled), json!(a.enabled));
    prop(out, path, "documentSecurity", json!(e.document_security), json!(a.document_security));
    let sorted = |p: &[String]| {
        let mut p = p.to_vec();
        p.sort();
        p
    };
    prop(out, path, "permissions", json!(sorted(&e.permissions)), json!(sorted(&a.permissions)));
    for (word, e_items, a_items) in [("attribute", &e.attributes, &a.attributes), ("index", &e.indexes, &a.indexes)] {
        let by_key = |items: &Vec<Value>| -> BTreeMap<String, Value> { items.iter().map(|v| (v["key"].as_str().unwrap_or_default().to_string(), v.clone())).collect() };
        keyed(out, path, word, &by_key(e_items), &by_key(a_items), fields);
    }
}

fn prop(out: &mut Vec<Difference>, path: &[String], name: &str, e: Value, a: Value) {
    if e != a {
        out.push(Difference { path: [path, &[name.to_string()]].concat(), expected: Some(e), actual: Some(a) });
    }
}

fn fields(out: &mut Vec<Difference>, path: &[String], e: &Value, a: &Value) {
    let empty = Map::new();
    let (e, a) = (e.as_object().unwrap_or(&empty), a.as_object().unwrap_or(&empty));
    let mut keys: Vec<&String> = e.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        if e.get(k) != a.get(k) {
            out.push(Difference { path: [path, std::slice::from_ref(k)].concat(), expected: e.get(k).cloned(), actual: a.get(k).cloned() });
        }
    }
}

fn keyed<T: Serialize>(out: &mut Vec<Difference>, path: &[String], word: &str, e: &BTreeMap<String, T>, a: &BTreeMap<String, T>, mut inner: impl FnMut(&mut Vec<Difference>, &[String], &T, &T)) {
    for (k, ev) in e {
        let here = [path, &[format!("{word} {k}")]].concat();
        match a.get(k) {
            Some(av) => inner(out, &here, ev, av),
            None => out.push(Difference { path: here, expected: Some(serde_json::to_value(ev).unwrap_or(Value::Null)), actual: None }),
        }
    }
    for (k, av) in a {
        if !e.contains_key(k) {
            out.push(Difference { path: [path, &[format!("{word} {k}")]].concat(), expected: None, actual: Some(serde_json::to_value(av).unwrap_or(Value::Null)) });
        }
    }
}

/// The collections whose schema differs between two snapshots, as `(database, collection)`.
pub fn changed_collections(before: &Snapshot, after: &Snapshot) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let empty = DatabaseSnap::default();
    for (db_id, a) in &after.databases {
        let b = before.databases.get(db_id).unwrap_or(&empty);
        for (c, snap) in &a.collections {
            if b.collections.get(c) != Some(snap) {
                out.push((db_id.clone(), c.clone()));
            }
        }
    }
    out
}

/// An attribute in the repository's `schemas/collections` shape (key order of those files).
pub fn file_attribute(canonical: &Value) -> Value {
    let c = canonical.as_object().cloned().unwrap_or_default();
    let kind = c.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            out.insert(k.to_string(), v);
        }
    };
    put("key", c.get("key").cloned());
    put("type", c.get("type").cloned());
    put("format", c.get("format").cloned().or_else(|| (kind == "datetime").then(|| json!("datetime"))));
    put("elements", c.get("elements").cloned());
    put("size", c.get("size").cloned());
    put("required", c.get("required").cloned());
    put("array", Some(c.get("array").cloned().unwrap_or(json!(false))));
    for k in ["min", "max", "default"] {
        put(k, c.get(k).map(whole));
    }
    for (k, v) in &c {
        if !out.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Whole floats written as integers, as people write them in schema files.
fn whole(v: &Value) -> Value {
    match v.as_f64() {
        Some(f) if v.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => json!(f as i64),
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(v: Value) -> Value {
        canonical_attribute(v.as_object().unwrap())
    }

    #[test]
    fn server_and_file_spellings_of_an_attribute_agree() {
        let cases = [
            (
                json!({"key": "n", "type": "integer", "status": "available", "error": "", "required": false, "array": false, "min": 0, "max": 9223372036854775807i64, "default": 0, "description": ""}),
                json!({"key": "n", "type": "integer", "required": false, "min": 0, "default": 0}),
            ),
            (
                json!({"key": "d", "type": "double", "required": false, "array": false, "min": 0.0, "max": 1.7976931348623157e308, "default": 0.0}),
                json!({"key": "d", "type": "double", "required": false, "array": false, "min": 0, "default": 0}),
            ),
            (
                json!({"key": "s", "type": "string", "format": "enum", "size": 255, "elements": ["a", "b"], "required": false, "default": "a", "encrypt": false}),
                json!({"key": "s", "type": "string", "format": "enum", "elements": ["a", "b"], "required": false, "array": false, "default": "a"}),
            ),
            (json!({"key": "t", "type": "datetime", "format": "datetime", "required": true, "default": null}), json!({"key": "t", "type": "datetime", "required": true})),
            (json!({"key": "f", "type": "float", "required": true}), json!({"key": "f", "type": "double", "required": true})),
        ];
        for (server, file) in cases {
            assert_eq!(attr(server.clone()), attr(file.clone()), "{server} vs {file}");
        }
        assert_ne!(attr(json!({"key": "s", "type": "string", "size": 10, "required": false})), attr(json!({"key": "s", "type": "string", "size": 11, "required": false})));
    }

    #[test]
    fn file_shape_keeps_the_repository_key_order() {
        let c = attr(json!({"key": "d", "type": "double", "required": false, "min": 0.0, "max": 1.7976931348623157e308, "default": 0.0}));
        assert_eq!(serde_json::to_string(&file_attribute(&c)).unwrap(), r#"{"key":"d","type":"double","required":false,"array":false,"min":0,"default":0}"#);
        let e = attr(json!({"key": "s", "type": "string", "format": "enum", "elements": ["a"], "size": 255, "required": false}));
        assert_eq!(serde_json::to_string(&file_attribute(&e)).unwrap(), r#"{"key":"s","type":"string","format":"enum","elements":["a"],"required":false,"array":false}"#);
    }

    #[test]
    fn differences_are_named_down_to_the_property() {
        let coll = |default: Value, extra: bool| {
            let mut attributes = vec![attr(json!({"key": "status", "type": "string", "size": 10, "required": false, "default": default}))];
            if extra {
                attributes.push(attr(json!({"key": "x", "type": "boolean", "required": false})));
            }
            CollectionSnap { name: "Jobs".into(), enabled: true, attributes, ..Default::default() }
        };
        let snap = |c: CollectionSnap| Snapshot {
            databases: [("main".to_string(), DatabaseSnap { name: "Main".into(), enabled: true, collections: [("jobs".to_string(), c)].into() })].into(),
            buckets: BTreeMap::new(),
        };
        let d = diff(&snap(coll(json!("uploaded"), false)), &snap(coll(Value::Null, true)));
        let messages: Vec<String> = d.iter().map(Difference::message).collect();
        assert_eq!(
            messages,
            [
                "database main, collection jobs, attribute status, default: expected \"uploaded\", actual absent",
                "database main, collection jobs, attribute x: expected absent, actual {\"key\":\"x\",\"type\":\"boolean\",\"required\":false}",
            ]
        );
        assert!(diff(&snap(coll(json!("a"), true)), &snap(coll(json!("a"), true))).is_empty());
        assert_eq!(changed_collections(&snap(coll(json!("a"), false)), &snap(coll(json!("a"), true))), [("main".to_string(), "jobs".to_string())]);
    }
}
