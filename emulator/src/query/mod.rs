//! Appwrite's query language: JSON query strings parsed (`Query::parse`), grouped into filters,
//! selections, orders and paging (`Query::groupByType`), validated against a schema with the
//! server's messages, and compiled to SQL with bound parameters only.

pub mod list;
pub mod sql;
mod validate;

use serde_json::Value;

use crate::error::{types, ApiError, ApiResult};

pub use sql::{Compiled, Field, Kind, Schema};
pub use validate::validate;

/// Every method a 1.9.6 server parses (utopia-php/database 6.0.0 `Query::isMethod`; note that
/// `regex` is not among them, so a 1.9.6 server answers "Invalid query method: regex").
pub const METHODS: &[&str] = &[
    "equal", "notEqual", "lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual", "contains",
    "containsAny", "notContains", "search", "notSearch", "orderAsc", "orderDesc", "orderRandom", "limit",
    "offset", "cursorAfter", "cursorBefore", "isNull", "isNotNull", "between", "notBetween", "startsWith",
    "notStartsWith", "endsWith", "notEndsWith", "crosses", "notCrosses", "distanceEqual",
    "distanceNotEqual", "distanceGreaterThan", "distanceLessThan", "intersects", "notIntersects",
    "overlaps", "notOverlaps", "touches", "notTouches", "or", "and", "containsAll", "elemMatch", "select",
    "vectorDot", "vectorCosine", "vectorEuclidean", "exists", "notExists",
];

/// At most this many queries per request, each at most `MAX_QUERY_LENGTH` chars.
pub const MAX_QUERIES: usize = 100;
pub const MAX_QUERY_LENGTH: usize = 4096;
/// Values one filter may hold.
pub const MAX_VALUES: usize = 5000;
/// `total` stops counting here.
pub const COUNT_CAP: i64 = 5000;
/// Page size when no `limit` is given.
pub const DEFAULT_LIMIT: i64 = 25;

/// One parsed query. Logical queries (`and`, `or`, `elemMatch`) keep their children in `nested`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub method: String,
    pub attribute: String,
    pub values: Vec<Value>,
    pub nested: Vec<Query>,
}

impl Query {
    /// Parses one query string (`Query::parse`); errors carry the server's text.
    pub fn parse(raw: &str) -> Result<Query, String> {
        if nesting_depth(raw) > MAX_JSON_DEPTH {
            return Err("Invalid query: Maximum stack depth exceeded".into());
        }
        // Depth is bounded above, so serde_json's own recursion limit (128) can be lifted to PHP's.
        let mut de = serde_json::Deserializer::from_str(raw);
        de.disable_recursion_limit();
        // PHP reports every other json_decode failure of a query string as "Syntax error".
        let value = serde::Deserialize::deserialize(&mut de)
            .and_then(|v: Value| de.end().map(|_| v))
            .map_err(|_| "Invalid query: Syntax error".to_string())?;
        Self::from_value(&value)
    }

    fn from_value(value: &Value) -> Result<Query, String> {
        let empty = serde_json::Map::new();
        let obj = match value {
            Value::Object(obj) => obj,
            // PHP decodes a JSON list to an array too; it then has no method.
            Value::Array(_) => &empty,
            _ => return Err(format!("Invalid query. Must be an array, got {}", php_type(value))),
        };
        let method = match obj.get("method") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s.as_str(),
            Some(other) => return Err(format!("Invalid query method. Must be a string, got {}", php_type(other))),
        };
        if !METHODS.contains(&method) {
            return Err(format!("Invalid query method: {method}"));
        }
        let attribute = match obj.get("attribute") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(format!("Invalid query attribute. Must be a string, got {}", php_type(other))),
        };
        let values = match obj.get("values") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(other) => return Err(format!("Invalid query values. Must be an array, got {}", php_type(other))),
        };
        let mut nested = Vec::new();
        if matches!(method, "and" | "or" | "elemMatch") {
            for v in &values {
                nested.push(Self::from_value(v)?);
            }
        }
        Ok(Query { method: method.to_string(), attribute, values, nested })
    }

    pub fn is_logical(&self) -> bool {
        matches!(self.method.as_str(), "and" | "or" | "elemMatch")
    }

    /// The first value, for single-value methods.
    pub fn value(&self) -> Option<&Value> {
        self.values.first()
    }
}

/// PHP's `json_decode` default depth.
const MAX_JSON_DEPTH: usize = 512;

/// The deepest `[`/`{` nesting of a JSON text, ignoring brackets inside strings.
fn nesting_depth(raw: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for c in raw.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn php_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "double",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "array",
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Asc,
    Desc,
    Random,
}

/// Queries grouped by kind (`Query::groupByType`): the first limit, offset and cursor win.
#[derive(Debug, Clone, Default)]
pub struct Grouped {
    pub filters: Vec<Query>,
    pub selects: Vec<Query>,
    pub orders: Vec<(String, Dir)>,
    pub limit: Option<Value>,
    pub offset: Option<Value>,
    /// (`true` for cursorAfter, the cursor query)
    pub cursor: Option<(bool, Query)>,
    /// Every query, in order, for validation.
    pub all: Vec<Query>,
}

impl Grouped {
    /// The selected attribute names, if any select was given.
    pub fn selection(&self) -> Option<Vec<String>> {
        if self.selects.is_empty() {
            return None;
        }
        Some(self.selects.iter().flat_map(|q| q.values.iter().filter_map(|v| v.as_str().map(String::from))).collect())
    }

    pub fn limit(&self) -> i64 {
        self.limit.as_ref().and_then(crate::params::as_i64).unwrap_or(DEFAULT_LIMIT)
    }

    pub fn offset(&self) -> i64 {
        self.offset.as_ref().and_then(crate::params::as_i64).unwrap_or(0)
    }
}

/// Checks the `queries` param limits (100 queries of 4096 chars: `general_argument_invalid`), parses
/// each (`general_query_invalid`) and groups them.
pub fn parse_all(raw: &[String]) -> ApiResult<Grouped> {
    if raw.len() > MAX_QUERIES || raw.iter().any(|q| q.chars().count() > MAX_QUERY_LENGTH) {
        return Err(ApiError::invalid_param(
            "queries",
            &format!("Value must a valid array no longer than {MAX_QUERIES} items and Value must be a valid string and no longer than {MAX_QUERY_LENGTH} chars"),
        ));
    }
    let mut g = Grouped::default();
    for text in raw {
        let q = Query::parse(text).map_err(|m| ApiError::msg(types::GENERAL_QUERY_INVALID, m))?;
        g.all.push(q.clone());
        match q.method.as_str() {
            "orderAsc" | "orderDesc" | "orderRandom" => {
                let dir = match q.method.as_str() {
                    "orderAsc" => Dir::Asc,
                    "orderDesc" => Dir::Desc,
                    _ => Dir::Random,
                };
                g.orders.push((q.attribute.clone(), dir));
            }
            "limit" => {
                if g.limit.is_none() {
                    g.limit = Some(q.value().cloned().unwrap_or(Value::Null));
                }
            }
            "offset" => {
                if g.offset.is_none() {
                    g.offset = Some(q.value().cloned().unwrap_or(Value::Null));
                }
            }
            "cursorAfter" | "cursorBefore" => {
                if g.cursor.is_none() {
                    g.cursor = Some((q.method == "cursorAfter", q));
                }
            }
            "select" => g.selects.push(q),
            _ => g.filters.push(q),
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_groups() {
        let raw: Vec<String> = [
            r#"{"method":"equal","attribute":"status","values":["open","pending"]}"#,
            r#"{"method":"limit","values":[5]}"#,
            r#"{"method":"limit","values":[9]}"#,
            r#"{"method":"orderDesc","attribute":"n"}"#,
            r#"{"method":"or","values":[{"method":"equal","attribute":"a","values":[1]},{"method":"isNull","attribute":"b"}]}"#,
            r#"{"method":"select","values":["a","b"]}"#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let g = parse_all(&raw).unwrap();
        assert_eq!(g.filters.len(), 2);
        assert_eq!(g.limit(), 5);
        assert_eq!(g.orders, vec![("n".to_string(), Dir::Desc)]);
        assert_eq!(g.filters[1].nested.len(), 2);
        assert_eq!(g.selection().unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn parse_errors_have_server_text() {
        assert_eq!(Query::parse(r#"{"method":"nope"}"#).unwrap_err(), "Invalid query method: nope");
        assert_eq!(Query::parse(r#"{"method":1}"#).unwrap_err(), "Invalid query method. Must be a string, got integer");
        assert_eq!(Query::parse(r#"{"method":"equal","values":"x"}"#).unwrap_err(), "Invalid query values. Must be an array, got string");
        assert!(Query::parse("not json").unwrap_err().starts_with("Invalid query: "));
        assert_eq!(Query::parse("[1]").unwrap_err(), "Invalid query method: ");
        assert_eq!(Query::parse("12").unwrap_err(), "Invalid query. Must be an array, got integer");
        let deep = "[".repeat(600) + &"]".repeat(600);
        assert_eq!(Query::parse(&deep).unwrap_err(), "Invalid query: Maximum stack depth exceeded");
        let nested = r#"{"method":"or","values":["#.repeat(150) + &"]}".repeat(150);
        assert_eq!(Query::parse(&nested).unwrap().method, "or");
        let too_many: Vec<String> = (0..101).map(|_| r#"{"method":"limit","values":[1]}"#.to_string()).collect();
        assert_eq!(parse_all(&too_many).unwrap_err().ty, types::GENERAL_ARGUMENT_INVALID);
    }
}
