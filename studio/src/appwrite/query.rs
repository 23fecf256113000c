//! Appwrite queries as the JSON strings the REST API takes.

use serde_json::{json, Value};

/// `equal(attribute, values)`.
pub fn equal(attribute: &str, values: Value) -> String {
    let values = if values.is_array() { values } else { json!([values]) };
    json!({"method": "equal", "attribute": attribute, "values": values}).to_string()
}

/// `limit(n)`.
pub fn limit(n: usize) -> String {
    json!({"method": "limit", "values": [n]}).to_string()
}

/// `cursorAfter(id)`.
pub fn cursor_after(id: &str) -> String {
    json!({"method": "cursorAfter", "values": [id]}).to_string()
}

/// `orderAsc(attribute)`.
pub fn order_asc(attribute: &str) -> String {
    json!({"method": "orderAsc", "attribute": attribute}).to_string()
}

/// A query from a migration file: a JSON object is serialised, a string is taken as is.
pub fn from_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
