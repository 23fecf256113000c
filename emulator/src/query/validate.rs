//! Query validation with the messages of utopia-php/database 7.2.6 (`Queries`, `Query\Filter`,
//! `Query\Order`, `Query\Select`, `Query\Limit`, `Query\Offset`, `Query\Cursor`, `IndexedQueries`).

use serde_json::Value;

use super::sql::{Kind, Schema};
use super::{Grouped, Query, MAX_VALUES};

const INTERNAL: &[&str] = &["$id", "$sequence", "$createdAt", "$updatedAt", "$permissions", "$collection", "$tenant"];
const MAX_INT: &str = "9,223,372,036,854,775,807";

/// Validates grouped queries against `schema`. `allow_select` is false for the metadata lists
/// (databases, collections, buckets, …), where select is not a valid method. The error is the
/// validator description, without the `Invalid query: ` prefix the caller adds.
pub fn validate(g: &Grouped, schema: &dyn Schema, allow_select: bool) -> Result<(), String> {
    validate_list(&g.all, schema, allow_select)?;
    for f in &g.filters {
        check_search(f, schema)?;
    }
    Ok(())
}

fn validate_list(queries: &[Query], schema: &dyn Schema, allow_select: bool) -> Result<(), String> {
    for q in queries {
        if q.is_logical() {
            validate_list(&q.nested, schema, allow_select)?;
        }
        let m = q.method.as_str();
        let result = match m {
            "limit" => limit(q),
            "offset" => offset(q),
            "cursorAfter" | "cursorBefore" => cursor(q),
            "orderAsc" | "orderDesc" | "orderRandom" => order(q, schema),
            "select" if allow_select => select(q, schema),
            "select" => return Err(format!("Invalid query method: {m}")),
            _ => filter(q, schema),
        };
        result.map_err(|d| format!("Invalid query: {d}"))?;
    }
    Ok(())
}

fn is_numeric(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::String(s) => s.trim().parse::<f64>().is_ok(),
        _ => false,
    }
}

fn limit(q: &Query) -> Result<(), String> {
    let v = q.value().cloned().unwrap_or(Value::Null);
    if !is_numeric(&v) {
        return Err("Invalid limit: Value must be a valid number".into());
    }
    match crate::params::as_i64(&v) {
        Some(n) if n >= 1 => Ok(()),
        _ => Err(format!("Invalid limit: Value must be a valid range between 1 and {MAX_INT}")),
    }
}

fn offset(q: &Query) -> Result<(), String> {
    let v = q.value().cloned().unwrap_or(Value::Null);
    if !is_numeric(&v) {
        return Err("Invalid offset: Value must be a valid number".into());
    }
    match crate::params::as_i64(&v) {
        Some(n) if n >= 0 => Ok(()),
        _ => Err(format!("Invalid offset: Value must be a valid range between 0 and {MAX_INT}")),
    }
}

fn cursor(q: &Query) -> Result<(), String> {
    match q.value() {
        Some(Value::String(s)) if crate::ids::is_valid_id(s) => Ok(()),
        _ => Err("Invalid cursor: UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore".into()),
    }
}

fn order(q: &Query, schema: &dyn Schema) -> Result<(), String> {
    if q.method == "orderRandom" {
        return Ok(());
    }
    let a = q.attribute.as_str();
    if let Some((top, _)) = a.split_once('.') {
        if schema.field(a).is_none() && schema.field(top).is_some() {
            return Err(format!("Cannot order by nested attribute: {top}"));
        }
    }
    if schema.field(a).is_none() {
        return Err(format!("Attribute not found in schema: {a}"));
    }
    Ok(())
}

fn select(q: &Query, schema: &dyn Schema) -> Result<(), String> {
    if q.values.is_empty() {
        return Err("No attributes selected".into());
    }
    let mut seen = Vec::new();
    for v in &q.values {
        let Value::String(s) = v else {
            return Err(format!("Attribute selection must be a string, got {}", debug_type(v)));
        };
        seen.push(s.as_str());
    }
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    if dedup.len() != seen.len() {
        return Err("Duplicate attributes selected".into());
    }
    for s in seen {
        let top = if s.contains('.') && schema.field(s).is_none() { s.split('.').next().unwrap_or(s) } else { s };
        if INTERNAL.contains(&top) || top == "*" {
            continue;
        }
        if schema.field(top).is_none() {
            return Err(format!("Attribute not found in schema: {top}"));
        }
    }
    Ok(())
}

fn debug_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "array",
    }
}

fn ucfirst(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn is_empty_values(values: &[Value]) -> bool {
    values.is_empty() || matches!(&values[0], Value::Array(a) if a.is_empty())
}

fn filter(q: &Query, schema: &dyn Schema) -> Result<(), String> {
    let m = q.method.as_str();
    match m {
        "equal" | "contains" | "containsAny" | "notContains" | "containsAll" | "exists" | "notExists" => {
            if is_empty_values(&q.values) {
                return Err(format!("{} queries require at least one value.", ucfirst(m)));
            }
            attribute_and_values(q, schema)
        }
        "distanceEqual" | "distanceNotEqual" | "distanceGreaterThan" | "distanceLessThan" => {
            let ok = q.values.len() == 1 && matches!(&q.values[0], Value::Array(a) if a.len() == 3);
            if !ok {
                return Err("Distance query requires [[geometry, distance]] parameters".into());
            }
            attribute_and_values(q, schema)
        }
        "notEqual" | "lessThan" | "lessThanEqual" | "greaterThan" | "greaterThanEqual" | "search" | "notSearch"
        | "startsWith" | "notStartsWith" | "endsWith" | "notEndsWith" => {
            if q.values.len() != 1 {
                return Err(format!("{} queries require exactly one value.", ucfirst(m)));
            }
            attribute_and_values(q, schema)
        }
        "between" | "notBetween" => {
            if q.values.len() != 2 {
                return Err(format!("{} queries require exactly two values.", ucfirst(m)));
            }
            attribute_and_values(q, schema)
        }
        "isNull" | "isNotNull" => attribute_and_values(q, schema),
        "vectorDot" | "vectorCosine" | "vectorEuclidean" => {
            valid_attribute(&q.attribute, schema)?;
            Err("Vector queries can only be used on vector attributes".into())
        }
        "or" | "and" => {
            if q.nested.iter().any(|n| !is_filter(n)) {
                return Err(format!("{} queries can only contain filter queries", ucfirst(m)));
            }
            if q.nested.len() < 2 {
                return Err(format!("{} queries require at least two queries", ucfirst(m)));
            }
            Ok(())
        }
        "elemMatch" => Err("elemMatch is not supported by the database".into()),
        // spatial methods
        _ => {
            if is_empty_values(&q.values) {
                return Err(format!("{} queries require at least one value.", ucfirst(m)));
            }
            attribute_and_values(q, schema)
        }
    }
}

fn is_filter(q: &Query) -> bool {
    !matches!(
        q.method.as_str(),
        "select" | "limit" | "offset" | "cursorAfter" | "cursorBefore" | "orderAsc" | "orderDesc" | "orderRandom"
    )
}

fn valid_attribute(attribute: &str, schema: &dyn Schema) -> Result<(), String> {
    if let Some(f) = schema.field(attribute) {
        if f.encrypted {
            return Err(format!("Cannot query encrypted attribute: {attribute}"));
        }
        return Ok(());
    }
    let top = attribute.split('.').next().unwrap_or(attribute);
    if attribute.contains('.') && schema.field(top).is_some() {
        return Ok(());
    }
    Err(format!("Attribute not found in schema: {top}"))
}

const SPATIAL: &[&str] = &[
    "crosses", "notCrosses", "distanceEqual", "distanceNotEqual", "distanceGreaterThan", "distanceLessThan",
    "intersects", "notIntersects", "overlaps", "notOverlaps", "touches", "notTouches",
];

fn attribute_and_values(q: &Query, schema: &dyn Schema) -> Result<(), String> {
    valid_attribute(&q.attribute, schema)?;
    let m = q.method.as_str();
    if matches!(m, "exists" | "notExists") {
        return Ok(());
    }
    let Some(field) = schema.field(&q.attribute) else {
        // a nested path through a relationship: values are checked on the related collection
        return Ok(());
    };
    if q.values.len() > MAX_VALUES {
        return Err(format!("Query on attribute has greater than {MAX_VALUES} values: {}", q.attribute));
    }
    if SPATIAL.contains(&m) {
        return Err(format!("Spatial query \"{m}\" cannot be applied on non-spatial attribute: {}", q.attribute));
    }
    for v in &q.values {
        if !value_fits(field.kind, field.bits, v) {
            return Err(format!("Query value is invalid for attribute \"{}\"", q.attribute));
        }
    }
    if let Some(rel) = &field.relationship {
        if rel.virtual_side {
            return Err("Cannot query on virtual relationship attribute".into());
        }
    }
    let containsish = matches!(m, "contains" | "containsAny" | "containsAll" | "notContains");
    if !field.array && containsish && !matches!(field.kind, Kind::String) {
        let name = if m == "notContains" { "notContains" } else { "contains" };
        return Err(format!(
            "Cannot query {name} on attribute \"{}\" because it is not an array, string, or object.",
            q.attribute
        ));
    }
    if field.array && !containsish && !matches!(m, "isNull" | "isNotNull" | "exists" | "notExists") {
        return Err(format!("Cannot query {m} on attribute \"{}\" because it is an array.", q.attribute));
    }
    Ok(())
}

/// Whether a query value has the attribute's type (non-loose, as the server's validators are).
pub fn value_fits(kind: Kind, bits: u32, v: &Value) -> bool {
    match kind {
        Kind::String | Kind::Relationship => v.is_string(),
        Kind::Integer => match v.as_i64() {
            Some(n) => bits >= 64 || (i32::MIN as i64..=i32::MAX as i64).contains(&n),
            None => false,
        },
        Kind::BigInt => v.as_i64().is_some() || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
        Kind::Float => v.is_number(),
        Kind::Boolean => v.is_boolean(),
        Kind::Datetime => v.as_str().is_some_and(|s| crate::clock::parse_datetime(s).is_some()),
        Kind::Sequence => v.as_i64().is_some() || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
    }
}

fn check_search(q: &Query, schema: &dyn Schema) -> Result<(), String> {
    if matches!(q.method.as_str(), "search" | "notSearch") && schema.field(&q.attribute).and_then(|f| f.fulltext).is_none() {
        return Err(format!("Searching by attribute \"{}\" requires a fulltext index.", q.attribute));
    }
    Ok(())
}
