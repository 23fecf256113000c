//! Request parameters as Appwrite sees them: the query string (PHP-style `x[0]`, `x[]`, `x[k]`),
//! a JSON, form or multipart body, and the route's path parameters, merged into one map with
//! typed accessors that answer Appwrite's `general_argument_invalid` errors.

use axum::body::Body;
use axum::http::HeaderMap;
use bytes::Bytes;
use futures_util::TryStreamExt;
use serde_json::{Map, Number, Value};

use crate::error::{types, ApiError, ApiResult};

/// The largest request body accepted (JSON or multipart); chunked uploads send 5 MiB pieces.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A file part of a multipart body.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// All parameters of one request.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: Map<String, Value>,
    path: Vec<(String, String)>,
    files: Vec<FilePart>,
}

impl Params {
    /// Parameters from a JSON object (tests, internal calls).
    pub fn from_json(values: Map<String, Value>) -> Self {
        Params { values, path: Vec::new(), files: Vec::new() }
    }

    /// Parses the query string and body. Path parameters are added with [`Params::set_path`].
    pub async fn parse(query: Option<&str>, headers: &HeaderMap, body: Body) -> ApiResult<Params> {
        let mut params = Params::default();
        if let Some(q) = query {
            insert_form(&mut params.values, q.as_bytes());
        }
        let raw_content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
        let content_type = raw_content_type.to_ascii_lowercase();
        let mime = content_type.split(';').next().unwrap_or("").trim().to_string();
        if mime == "multipart/form-data" {
            // The boundary is case-sensitive (browsers send mixed-case ones).
            let boundary = multer::parse_boundary(raw_content_type)
                .map_err(|e| bad_request(format!("Invalid multipart body: {e}.")))?;
            params.read_multipart(body, boundary, content_length(headers)).await?;
            return Ok(params);
        }
        let bytes = read_limited(body, content_length(headers)).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        match mime.as_str() {
            "application/json" | "" => {
                let value: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| bad_request(format!("Invalid JSON body: {e}.")))?;
                match value {
                    Value::Object(map) => params.values.extend(map),
                    _ => return Err(bad_request("Invalid JSON body: expected a JSON object.")),
                }
            }
            "application/x-www-form-urlencoded" => insert_form(&mut params.values, &bytes),
            other => {
                return Err(bad_request(format!(
                    "Unsupported content type '{other}'. Send application/json, multipart/form-data or application/x-www-form-urlencoded."
                )))
            }
        }
        Ok(params)
    }

    async fn read_multipart(&mut self, body: Body, boundary: String, expected_len: Option<usize>) -> ApiResult<()> {
        // The body is read up to the limit first, so an oversized one is drained and answered
        // (a server that stops reading mid-upload leaves the client with a reset, not an error).
        let body = Body::from(read_limited(body, expected_len).await?);
        let constraints = multer::Constraints::new()
            .size_limit(multer::SizeLimit::new().whole_stream(MAX_BODY_BYTES as u64));
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(multer::Error::StreamSizeExceeded { .. }) => return Err(too_large()),
                Err(e) => return Err(bad_request(format!("Invalid multipart body: {e}."))),
            };
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            let content_type = field.content_type().map(|m| m.to_string());
            let data = field.bytes().await.map_err(|e| match e {
                multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => too_large(),
                e => bad_request(format!("Invalid multipart body: {e}.")),
            })?;
            match filename {
                Some(filename) => self.files.push(FilePart { field: name, filename, content_type, data }),
                None => {
                    let text = String::from_utf8_lossy(&data).into_owned();
                    insert_pair(&mut self.values, &name, Value::String(text));
                }
            }
        }
        Ok(())
    }

    /// Sets a parameter.
    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }

    /// Records a path parameter; path parameters are kept apart from query and body ones (a
    /// route's `{key}` segment may name something else than a `key` in the body).
    pub fn set_path(&mut self, name: &str, value: &str) {
        self.path.push((name.to_string(), value.to_string()));
    }

    /// The raw value; JSON `null` counts as absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    /// True when the parameter was sent at all, even as `null`.
    pub fn present(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// All parameters, for handlers that forward them.
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// The file part named `field`, if any.
    pub fn file(&self, field: &str) -> Option<&FilePart> {
        self.files.iter().find(|f| f.field == field)
    }

    /// Takes the file part named `field` out of the parameters.
    pub fn take_file(&mut self, field: &str) -> Option<FilePart> {
        let i = self.files.iter().position(|f| f.field == field)?;
        Some(self.files.remove(i))
    }

    /// A path parameter (always present once routed).
    pub fn path(&self, name: &str) -> &str {
        self.path.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn str(&self, name: &str) -> ApiResult<String> {
        self.str_opt(name)?.ok_or_else(|| ApiError::missing_param(name))
    }

    pub fn str_opt(&self, name: &str) -> ApiResult<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(ApiError::invalid_param(name, "Value must be a valid string")),
        }
    }

    /// A string of 1..=max chars (utopia `Text` with a minimum of 1).
    pub fn text(&self, name: &str, max: usize) -> ApiResult<String> {
        let s = self.str(name)?;
        check_text(name, &s, 1, max)?;
        Ok(s)
    }

    pub fn text_opt(&self, name: &str, max: usize) -> ApiResult<Option<String>> {
        let Some(s) = self.str_opt(name)? else { return Ok(None) };
        check_text(name, &s, 0, max)?;
        Ok(Some(s))
    }

    pub fn bool(&self, name: &str) -> ApiResult<bool> {
        self.bool_opt(name)?.ok_or_else(|| ApiError::missing_param(name))
    }

    /// Booleans arrive as JSON booleans or as `true`/`false`/`1`/`0` strings (query and multipart).
    pub fn bool_opt(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => as_bool(v).map(Some).ok_or_else(|| ApiError::invalid_param(name, "Value must be a valid boolean")),
        }
    }

    pub fn int_opt(&self, name: &str) -> ApiResult<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => as_i64(v).map(Some).ok_or_else(|| ApiError::invalid_param(name, "Value must be a valid integer")),
        }
    }

    /// An integer within `min..=max` (utopia `Range`).
    pub fn range_opt(&self, name: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
        let v = self.get(name);
        match v.and_then(as_i64) {
            None if v.is_none() => Ok(None),
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::invalid_param(name, &format!("Value must be a valid range between {} and {}", crate::php::number_format_i(min), crate::php::number_format_i(max)))),
        }
    }

    pub fn f64_opt(&self, name: &str) -> ApiResult<Option<f64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => as_f64(v).map(Some).ok_or_else(|| ApiError::invalid_param(name, "Value must be a valid float")),
        }
    }

    /// A list of strings (`x[0]`, `x[]`, a JSON array, or a JSON-encoded array string).
    pub fn str_list_opt(&self, name: &str) -> ApiResult<Option<Vec<String>>> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let items = match v {
            Value::Array(a) => a.clone(),
            Value::Object(o) if o.keys().all(|k| k.parse::<usize>().is_ok()) => o.values().cloned().collect(),
            Value::String(s) if s.trim_start().starts_with('[') => match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(a)) => a,
                _ => return Err(ApiError::invalid_param(name, "Value must a valid array and Value must be a valid string")),
            },
            Value::String(s) if s.is_empty() => Vec::new(),
            Value::String(s) => vec![Value::String(s.clone())],
            _ => return Err(ApiError::invalid_param(name, "Value must a valid array and Value must be a valid string")),
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(ApiError::invalid_param(name, "Value must a valid array and Value must be a valid string")),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some)
    }

    /// A list of at most `max_items` strings each of at most `max_len` chars (utopia `ArrayList(Text)`).
    pub fn bounded_list_opt(&self, name: &str, max_items: usize, max_len: usize) -> ApiResult<Option<Vec<String>>> {
        let Some(list) = self.str_list_opt(name)? else { return Ok(None) };
        if list.len() > max_items || list.iter().any(|s| s.chars().count() > max_len) {
            return Err(ApiError::invalid_param(
                name,
                &format!("Value must a valid array no longer than {max_items} items and Value must be a valid string and at least 1 chars and no longer than {max_len} chars"),
            ));
        }
        Ok(Some(list))
    }

    /// A JSON object, also accepted as a JSON-encoded string.
    pub fn object_opt(&self, name: &str) -> ApiResult<Option<Map<String, Value>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o.clone())),
            Some(Value::Array(a)) if a.is_empty() => Ok(Some(Map::new())),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(o)) => Ok(Some(o)),
                Ok(Value::Array(a)) if a.is_empty() => Ok(Some(Map::new())),
                _ => Err(ApiError::invalid_param(name, "Value must be a valid JSON object")),
            },
            Some(_) => Err(ApiError::invalid_param(name, "Value must be a valid JSON object")),
        }
    }

    /// A list of JSON objects (bulk `documents`/`rows`, transaction `operations`).
    pub fn object_list_opt(&self, name: &str) -> ApiResult<Option<Vec<Map<String, Value>>>> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let items = match v {
            Value::Array(a) => a.clone(),
            Value::Object(o) if o.keys().all(|k| k.parse::<usize>().is_ok()) => o.values().cloned().collect(),
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(a)) => a,
                _ => return Err(ApiError::invalid_param(name, "Value must a valid array and Value must be a valid JSON object")),
            },
            _ => return Err(ApiError::invalid_param(name, "Value must a valid array and Value must be a valid JSON object")),
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::Object(o) => Ok(o),
                Value::String(s) => match serde_json::from_str::<Value>(&s) {
                    Ok(Value::Object(o)) => Ok(o),
                    _ => Err(ApiError::invalid_param(name, "Value must a valid array and Value must be a valid JSON object")),
                },
                _ => Err(ApiError::invalid_param(name, "Value must a valid array and Value must be a valid JSON object")),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some)
    }
}

fn check_text(name: &str, s: &str, min: usize, max: usize) -> ApiResult<()> {
    let len = s.chars().count();
    if len < min || len > max {
        let description = if min > 0 {
            format!("Value must be a valid string and at least {min} chars and no longer than {max} chars")
        } else {
            format!("Value must be a valid string and no longer than {max} chars")
        };
        return Err(ApiError::invalid_param(name, &description));
    }
    Ok(())
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers.get("content-length")?.to_str().ok()?.trim().parse().ok()
}

/// Reads a whole body of at most [`MAX_BODY_BYTES`]; past that, the rest is read and dropped and
/// the answer is a clear 400.
async fn read_limited(body: Body, expected_len: Option<usize>) -> ApiResult<Bytes> {
    use http_body_util::BodyExt;
    let mut body = body;
    // Sized up front from Content-Length: a 5 MiB chunk is then read without regrowing and copying.
    let mut buf = bytes::BytesMut::with_capacity(expected_len.unwrap_or(0).min(MAX_BODY_BYTES));
    let mut over = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| bad_request(format!("Could not read the request body: {e}.")))?;
        if let Ok(data) = frame.into_data() {
            if over || buf.len() + data.len() > MAX_BODY_BYTES {
                over = true;
                buf.clear();
                continue;
            }
            buf.extend_from_slice(&data);
        }
    }
    if over {
        return Err(too_large());
    }
    Ok(buf.freeze())
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::msg(types::GENERAL_BAD_REQUEST, message)
}

fn too_large() -> ApiError {
    ApiError::msg(
        types::GENERAL_BAD_REQUEST,
        format!("Request body is larger than the {} MiB limit.", MAX_BODY_BYTES / 1024 / 1024),
    )
}

/// Loose boolean: JSON bool, 1/0, or the strings true/false/1/0.
pub fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        Value::String(s) => match s.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Integer from a JSON number (integral) or a numeric string.
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Float from a JSON number or a numeric string.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    }
}

/// Adds every `name=value` pair of a urlencoded string, PHP-style.
fn insert_form(map: &mut Map<String, Value>, input: &[u8]) {
    for (k, v) in form_urlencoded::parse(input) {
        insert_pair(map, &k, Value::String(v.into_owned()));
    }
}

/// Inserts `a[0][b]=v`-style keys into nested arrays/objects. A repeated plain key becomes a list.
fn insert_pair(map: &mut Map<String, Value>, key: &str, value: Value) {
    let (base, rest) = match key.find('[') {
        Some(i) if key.ends_with(']') && i > 0 => (&key[..i], &key[i..]),
        _ => {
            match map.get_mut(key) {
                Some(Value::Array(a)) => a.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                }
                None => {
                    map.insert(key.to_string(), value);
                }
            }
            return;
        }
    };
    let segments: Vec<&str> = rest[1..rest.len() - 1].split("][").collect();
    let slot = map.entry(base.to_string()).or_insert(Value::Null);
    insert_nested(slot, &segments, value);
}

fn insert_nested(slot: &mut Value, segments: &[&str], value: Value) {
    let Some((first, rest)) = segments.split_first() else {
        *slot = value;
        return;
    };
    if first.is_empty() || first.parse::<usize>().is_ok() {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        let arr = slot.as_array_mut().unwrap();
        let index = first.parse::<usize>().ok().filter(|i| *i < arr.len());
        let target = match index {
            Some(i) => &mut arr[i],
            None => {
                arr.push(Value::Null);
                arr.last_mut().unwrap()
            }
        };
        insert_nested(target, rest, value);
    } else {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let obj = slot.as_object_mut().unwrap();
        insert_nested(obj.entry(first.to_string()).or_insert(Value::Null), rest, value);
    }
}

/// A JSON number from an i64, for building responses.
pub fn num(n: i64) -> Value {
    Value::Number(Number::from(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_query(q: &str) -> Map<String, Value> {
        let mut m = Map::new();
        insert_form(&mut m, q.as_bytes());
        m
    }

    #[test]
    fn php_style_arrays() {
        let m = parse_query("queries%5B0%5D=a&queries%5B1%5D=b&total=false");
        assert_eq!(m["queries"], serde_json::json!(["a", "b"]));
        assert_eq!(m["total"], "false");
        let m = parse_query("p[]=x&p[]=y&o[k]=v&r=1&r=2");
        assert_eq!(m["p"], serde_json::json!(["x", "y"]));
        assert_eq!(m["o"], serde_json::json!({"k": "v"}));
        assert_eq!(m["r"], serde_json::json!(["1", "2"]));
    }

    #[test]
    fn typed_accessors() {
        let p = Params::from_json(serde_json::from_str(r#"{"b":"true","n":"12","l":{"0":"a","1":"b"},"o":"{\"x\":1}","z":null}"#).unwrap());
        assert_eq!(p.bool_opt("b").unwrap(), Some(true));
        assert_eq!(p.int_opt("n").unwrap(), Some(12));
        assert_eq!(p.str_list_opt("l").unwrap().unwrap(), vec!["a", "b"]);
        assert_eq!(p.object_opt("o").unwrap().unwrap()["x"], 1);
        assert!(p.present("z") && p.get("z").is_none());
        assert_eq!(p.str("missing").unwrap_err().message, "Param \"missing\" is not optional.");
        assert!(p.range_opt("n", 0, 10).is_err());
        assert_eq!(
            p.range_opt("n", -1000, -1).unwrap_err().message,
            "Invalid `n` param: Value must be a valid range between -1,000 and -1"
        );
    }
}
