//! Schemas: each environment's databases and collections match `schemas/databases` and `schemas/collections`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::CheckInput;
use crate::finding::{Finding, Level};
use crate::project::model::{Collection, CollectionSchema};
use crate::project::paths;
use crate::project::pointer::pointer;
use crate::project::Project;

/// The family name.
pub const FAMILY: &str = "schemas";

/// Built-in attributes an index may use besides the collection's own.
const SYSTEM_ATTRIBUTES: [&str; 4] = ["$id", "$createdAt", "$updatedAt", "$sequence"];

/// Every schema finding.
pub fn check(input: &CheckInput) -> Vec<Finding> {
    let project = input.project;
    let mut findings = schema_file_findings(project);
    for env in input.environments() {
        let before = findings.iter().filter(|f| f.level == Level::Error).count();
        findings.extend(environment_findings(project, env));
        if findings.iter().filter(|f| f.level == Level::Error).count() == before {
            let n = project.environments.get(env).map(|e| e.appwrite.collections.len()).unwrap_or(0);
            findings.push(Finding::new(Level::Ok, FAMILY, "schemas-match", paths::appwrite(env), "/collections", format!("{env}: its database and {n} collections match schemas/")).env(env));
        }
    }
    findings
}

/// An attribute or index as compared: keys with their default values dropped, orders upper-cased.
pub fn canonical(value: &Value) -> Value {
    let Value::Object(map) = value else { return value.clone() };
    let mut out = serde_json::Map::new();
    for (k, v) in map {
        let default = matches!((k.as_str(), v), ("array" | "encrypt", Value::Bool(false)) | ("default", Value::Null) | ("status", _))
            || matches!((k.as_str(), v), ("format", Value::String(s)) if s.is_empty())
            || matches!((k.as_str(), v), ("lengths", Value::Array(a)) if a.is_empty());
        if default {
            continue;
        }
        let v = match (k.as_str(), v) {
            ("orders", Value::Array(a)) => Value::Array(a.iter().map(|o| Value::String(o.as_str().unwrap_or_default().to_uppercase())).collect()),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// The `key` of an attribute or index.
pub fn key_of(value: &Value) -> String {
    value.get("key").and_then(Value::as_str).unwrap_or_default().to_string()
}

fn schema_file_findings(project: &Project) -> Vec<Finding> {
    let mut findings = Vec::new();
    for located in project.collections.values() {
        let schema = &located.value;
        let keys: BTreeSet<String> = schema.attributes.iter().map(key_of).collect();
        let mut seen = BTreeSet::new();
        for (i, attr) in schema.attributes.iter().enumerate() {
            if !seen.insert(key_of(attr)) {
                findings.push(Finding::new(Level::Error, FAMILY, "attribute-duplicate", &located.file, pointer(&["attributes".to_string(), i.to_string(), "key".into()]), format!("attribute {} is defined twice", key_of(attr))).hint("keep one definition"));
            }
        }
        for (i, index) in schema.indexes.iter().enumerate() {
            let attrs = index.get("attributes").and_then(Value::as_array).cloned().unwrap_or_default();
            for (j, a) in attrs.iter().enumerate() {
                let a = a.as_str().unwrap_or_default();
                if !keys.contains(a) && !SYSTEM_ATTRIBUTES.contains(&a) {
                    findings.push(
                        Finding::new(Level::Error, FAMILY, "index-unknown-attribute", &located.file, pointer(&["indexes".to_string(), i.to_string(), "attributes".into(), j.to_string()]), format!("index {} uses {a}, which is not an attribute of {}", key_of(index), schema.collection_id))
                            .hint("index an existing attribute or add the attribute"),
                    );
                }
            }
            let orders = index.get("orders").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
            if orders > attrs.len() {
                findings.push(Finding::new(Level::Error, FAMILY, "index-orders", &located.file, pointer(&["indexes".to_string(), i.to_string(), "orders".into()]), format!("index {} has {orders} orders for {} attributes", key_of(index), attrs.len())).hint("give one order per attribute"));
            }
        }
    }
    for located in project.databases.values() {
        for (i, c) in located.value.collections.iter().enumerate() {
            if !project.collections.contains_key(c) {
                findings.push(
                    Finding::new(Level::Error, FAMILY, "collection-schema-missing", &located.file, pointer(&["collections".to_string(), i.to_string()]), format!("{} lists collection {c}, which has no schemas/collections file", located.value.database_id))
                        .hint(format!("create it with qw collection create {c}")),
                );
            }
        }
        if !project.environments.contains_key(&located.value.environment) {
            findings.push(Finding::new(Level::Warning, FAMILY, "database-environment-unknown", &located.file, "/environment", format!("{} belongs to environment {}, which has no folder", located.value.database_id, located.value.environment)).hint("fix the environment name"));
        }
    }
    findings
}

fn environment_findings(project: &Project, env: &str) -> Vec<Finding> {
    let Some(environment) = project.environments.get(env) else { return Vec::new() };
    let file = paths::appwrite(env);
    let app = &environment.appwrite;
    let mut findings = Vec::new();
    let expected: BTreeMap<&str, _> = project.databases.values().filter(|d| d.value.environment == env).map(|d| (d.value.database_id.as_str(), d)).collect();
    for (i, db) in app.databases.iter().enumerate() {
        if !expected.contains_key(db.id.as_str()) {
            findings.push(
                Finding::new(Level::Error, FAMILY, "database-unexpected", &file, pointer(&["databases".to_string(), i.to_string(), "$id".into()]), format!("database {} has no schema for {env} in schemas/databases", db.id))
                    .hint(format!("create schemas/databases/{}.json with environment {env}, or fix the ID", db.id))
                    .env(env),
            );
        }
    }
    for (id, schema) in &expected {
        if !app.databases.iter().any(|d| d.id == *id) {
            findings.push(Finding::new(Level::Error, FAMILY, "database-missing", &file, "/databases", format!("database {id} ({}) is not in {env}", schema.file)).hint(format!("add {{\"$id\": \"{id}\", \"name\": \"{}\"}} to databases", schema.value.name)).env(env));
        }
    }
    for (i, collection) in app.collections.iter().enumerate() {
        let at = |field: &str| pointer(&["collections".to_string(), i.to_string(), field.to_string()]);
        match expected.get(collection.database_id.as_str()) {
            None => findings.push(
                Finding::new(Level::Error, FAMILY, "collection-database-unknown", &file, at("databaseId"), format!("collection {} is in database {}, which is not {env}'s database", collection.id, collection.database_id))
                    .hint(format!("use one of: {}", expected.keys().copied().collect::<Vec<_>>().join(", ")))
                    .env(env),
            ),
            Some(db) if !db.value.collections.contains(&collection.id) => findings.push(
                Finding::new(Level::Error, FAMILY, "collection-not-in-database", &file, at("$id"), format!("collection {} is not listed in {}", collection.id, db.file))
                    .hint(format!("add {} to the collections of {}", collection.id, db.file))
                    .env(env),
            ),
            Some(_) => {}
        }
        match project.collections.get(&collection.id) {
            None => findings.push(
                Finding::new(Level::Error, FAMILY, "collection-schema-missing", &file, at("$id"), format!("collection {} has no file in schemas/collections", collection.id))
                    .hint(format!("create schemas/collections/{}.json (qw collection create {})", collection.id, collection.id))
                    .env(env),
            ),
            Some(schema) => findings.extend(compare(env, &file, i, collection, &schema.value, &schema.file)),
        }
    }
    for db in expected.values() {
        for c in &db.value.collections {
            if !app.collections.iter().any(|x| x.id == *c && x.database_id == db.value.database_id) {
                findings.push(Finding::new(Level::Error, FAMILY, "collection-missing", &file, "/collections", format!("collection {c} of {} is not in {env}", db.value.database_id)).hint(format!("add it from {}", paths::collection(c))).env(env));
            }
        }
    }
    findings
}

fn compare(env: &str, file: &str, i: usize, collection: &Collection, schema: &CollectionSchema, schema_file: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mismatch = |ptr: String, what: String| {
        Finding::new(Level::Error, FAMILY, "collection-schema-mismatch", file, ptr, format!("collection {} in {env}: {what}", collection.id)).hint(format!("make it match {schema_file}")).env(env)
    };
    let base = |parts: &[&str]| {
        let mut segs = vec!["collections".to_string(), i.to_string()];
        segs.extend(parts.iter().map(|p| p.to_string()));
        pointer(&segs)
    };
    if collection.name != schema.name {
        findings.push(mismatch(base(&["name"]), format!("name {:?} differs from the schema's {:?}", collection.name, schema.name)));
    }
    if collection.document_security != schema.document_security {
        findings.push(mismatch(base(&["documentSecurity"]), format!("documentSecurity {} differs from the schema's {}", collection.document_security, schema.document_security)));
    }
    if collection.permissions != schema.permissions {
        findings.push(mismatch(base(&["$permissions"]), format!("permissions {:?} differ from the schema's {:?}", collection.permissions, schema.permissions)));
    }
    for (field, have, want) in [("attributes", &collection.attributes, &schema.attributes), ("indexes", &collection.indexes, &schema.indexes)] {
        let singular = if field == "attributes" { "attribute" } else { "index" };
        let want_by_key: BTreeMap<String, Value> = want.iter().map(|v| (key_of(v), canonical(v))).collect();
        let have_keys: BTreeSet<String> = have.iter().map(key_of).collect();
        for (j, item) in have.iter().enumerate() {
            let key = key_of(item);
            match want_by_key.get(&key) {
                None => findings.push(mismatch(base(&[field, &j.to_string()]), format!("{singular} {key} is not in the schema"))),
                Some(w) if *w != canonical(item) => findings.push(mismatch(base(&[field, &j.to_string()]), format!("{singular} {key} is {} but the schema says {}", canonical(item), w))),
                Some(_) => {}
            }
        }
        for key in want_by_key.keys().filter(|k| !have_keys.contains(*k)) {
            findings.push(mismatch(base(&[field]), format!("{singular} {key} of the schema is missing")));
        }
    }
    findings
}
