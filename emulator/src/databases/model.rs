//! Response models: the JSON Appwrite sends for databases, collections/tables,
//! attributes/columns and indexes (documents are built in `schema`).

use serde_json::{json, Map, Value};

use super::store::{AttributeRow, CollectionRow, DatabaseRow, IndexRow};
use super::Api;

pub fn database(d: &DatabaseRow) -> Value {
    json!({
        "$id": d.id,
        "name": d.name,
        "$createdAt": d.created_at,
        "$updatedAt": d.updated_at,
        "enabled": d.enabled,
        "type": d.kind,
        "description": "",
    })
}

pub fn collection(api: Api, c: &CollectionRow, attrs: &[AttributeRow], indexes: &[IndexRow]) -> Value {
    let mut m = Map::new();
    m.insert("$id".into(), json!(c.id));
    m.insert("$createdAt".into(), json!(c.created_at));
    m.insert("$updatedAt".into(), json!(c.updated_at));
    m.insert("$permissions".into(), json!(c.permissions));
    m.insert("databaseId".into(), json!(c.database_id));
    m.insert("name".into(), json!(c.name));
    m.insert("enabled".into(), json!(c.enabled));
    m.insert(api.security_key().into(), json!(c.document_security));
    m.insert(api.attributes_key().into(), Value::Array(attrs.iter().map(|a| attribute(api, a)).collect()));
    m.insert("indexes".into(), Value::Array(indexes.iter().map(|i| index(api, i)).collect()));
    m.insert("bytesMax".into(), json!(0));
    m.insert("bytesUsed".into(), json!(0));
    m.insert("description".into(), json!(""));
    Value::Object(m)
}

/// The public type name: what the attribute was created as (`float` is stored as `double`).
pub fn attribute(api: Api, a: &AttributeRow) -> Value {
    let mut m = Map::new();
    m.insert("key".into(), json!(a.key));
    m.insert("type".into(), json!(a.kind));
    m.insert("status".into(), json!(a.status));
    m.insert("error".into(), json!(a.error));
    m.insert("required".into(), json!(a.required));
    m.insert("array".into(), json!(a.array));
    m.insert("$createdAt".into(), json!(a.created_at));
    m.insert("$updatedAt".into(), json!(a.updated_at));
    m.insert("description".into(), json!(""));
    match a.kind.as_str() {
        "string" | "varchar" => {
            m.insert("size".into(), json!(a.size));
            insert_format(&mut m, a);
            m.insert("default".into(), a.default.clone());
            m.insert("encrypt".into(), json!(a.encrypted()));
        }
        "text" | "mediumtext" | "longtext" => {
            m.insert("default".into(), a.default.clone());
            m.insert("encrypt".into(), json!(a.encrypted()));
        }
        "integer" | "bigint" | "double" => {
            m.insert("min".into(), a.options.get("min").cloned().unwrap_or(Value::Null));
            m.insert("max".into(), a.options.get("max").cloned().unwrap_or(Value::Null));
            m.insert("default".into(), a.default.clone());
        }
        "boolean" => {
            m.insert("default".into(), a.default.clone());
        }
        "datetime" => {
            m.insert("format".into(), json!("datetime"));
            m.insert("default".into(), a.default.clone());
        }
        "relationship" => {
            m.insert(api.related_key().into(), json!(a.opt_str("relatedCollection").unwrap_or_default()));
            m.insert("relationType".into(), json!(a.opt_str("relationType").unwrap_or_default()));
            m.insert("twoWay".into(), json!(a.opt_bool("twoWay")));
            m.insert("twoWayKey".into(), json!(a.opt_str("twoWayKey").unwrap_or_default()));
            m.insert("onDelete".into(), json!(a.opt_str("onDelete").unwrap_or("restrict")));
            m.insert("side".into(), json!(a.opt_str("side").unwrap_or_default()));
        }
        _ => {}
    }
    Value::Object(m)
}

fn insert_format(m: &mut Map<String, Value>, a: &AttributeRow) {
    match a.format.as_str() {
        "" => {}
        "enum" => {
            m.insert("elements".into(), a.options.get("elements").cloned().unwrap_or(json!([])));
            m.insert("format".into(), json!("enum"));
        }
        f => {
            m.insert("format".into(), json!(f));
        }
    }
}

pub fn index(api: Api, i: &IndexRow) -> Value {
    let attrs_key = if api.is_legacy() { "attributes" } else { "columns" };
    json!({
        "$id": i.key,
        "$createdAt": i.created_at,
        "$updatedAt": i.updated_at,
        "key": i.key,
        "type": i.kind,
        "status": i.status,
        "error": i.error,
        attrs_key: i.attributes,
        "lengths": i.lengths,
        "orders": i.orders,
        "description": "",
    })
}
