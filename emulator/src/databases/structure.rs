//! Document validation against a collection's attributes, with the messages of utopia's
//! `Structure` validator ("Invalid document structure: …") and the validators it composes.

use serde_json::{Map, Value};

use super::schema::CollectionSchema;
use super::store::AttributeRow;
use super::Api;
use crate::error::{ApiError, ApiResult};
pub use crate::php::{number_format_f, number_format_i};

/// Keys every document may carry besides its attributes.
const INTERNAL: &[&str] = &["$id", "$permissions", "$createdAt", "$updatedAt", "$sequence", "$collection", "$tenant"];

pub const MAX_TEXT_BYTES: i64 = 65_535;
pub const MAX_MEDIUMTEXT_BYTES: i64 = 16_777_215;
pub const MAX_LONGTEXT_BYTES: i64 = 4_294_967_295;

/// Fills defaults (for missing or null values, as utopia's `encode` does) and validates the whole
/// document. Returns the value of every attribute, `null` where unset.
pub fn validate(schema: &CollectionSchema, api: Api, data: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let fail = |m: String| ApiError::msg(api.invalid_structure(), format!("Invalid document structure: {m}"));
    let mut doc = data.clone();
    for a in &schema.attributes {
        if a.is_relationship() {
            continue;
        }
        let missing = doc.get(&a.key).is_none_or(Value::is_null);
        if missing && !a.default.is_null() {
            doc.insert(a.key.clone(), a.default.clone());
        }
    }
    for a in &schema.attributes {
        if a.required && doc.get(&a.key).is_none_or(Value::is_null) {
            return Err(fail(format!("Missing required attribute \"{}\"", a.key)));
        }
    }
    for key in doc.keys() {
        if !INTERNAL.contains(&key.as_str()) && schema.attribute(key).is_none() {
            return Err(fail(format!("Unknown attribute: \"{key}\"")));
        }
    }
    for (key, value) in &doc {
        let Some(a) = schema.attribute(key) else { continue };
        if a.is_relationship() || (!a.required && value.is_null()) {
            continue;
        }
        check_value(a, value).map_err(fail)?;
    }
    let mut out = Map::new();
    for a in &schema.attributes {
        out.insert(a.key.clone(), doc.get(&a.key).cloned().unwrap_or(Value::Null));
    }
    Ok(out)
}

/// Validates one attribute value (an array or a scalar).
pub fn check_value(a: &AttributeRow, value: &Value) -> Result<(), String> {
    let label = if a.format.is_empty() && !matches!(a.kind.as_str(), "integer" | "bigint" | "double" | "datetime") {
        "type"
    } else {
        "format"
    };
    if a.array {
        if !a.required && (value.is_null() || value.as_array().is_some_and(Vec::is_empty)) {
            return Ok(());
        }
        let Some(items) = value.as_array() else {
            return Err(format!("Attribute \"{}\" must be an array", a.key));
        };
        for (i, item) in items.iter().enumerate() {
            if !a.required && item.is_null() {
                continue;
            }
            if let Err(d) = check_scalar(a, item) {
                return Err(format!("Attribute \"{}['{i}']\" has invalid {label}. {d}", a.key));
            }
        }
        return Ok(());
    }
    check_scalar(a, value).map_err(|d| format!("Attribute \"{}\" has invalid {label}. {d}", a.key))
}

/// Runs the validators of the attribute's type, then of its format; the first failure's
/// description is returned.
pub fn check_scalar(a: &AttributeRow, v: &Value) -> Result<(), String> {
    match a.kind.as_str() {
        "string" | "varchar" => text(v, a.size)?,
        "text" => byte_length(v, MAX_TEXT_BYTES)?,
        "mediumtext" => byte_length(v, MAX_MEDIUMTEXT_BYTES)?,
        "longtext" => byte_length(v, MAX_LONGTEXT_BYTES)?,
        "integer" => {
            let bits = if a.size >= 8 { 64 } else { 32 };
            integer(v, bits)?;
            let max = if bits == 64 { i64::MAX } else { i32::MAX as i64 };
            range_i(v, -max, max)?;
        }
        "bigint" => {
            let ok = v.as_i64().is_some() || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok());
            if !ok {
                return Err("Value must be a valid big integer".into());
            }
        }
        "double" => {
            if !v.is_number() {
                return Err("Value must be a valid float".into());
            }
            range_f(v, -f64::MAX, f64::MAX)?;
        }
        "boolean" => {
            if !v.is_boolean() {
                return Err("Value must be a valid boolean".into());
            }
        }
        "datetime" => datetime(v)?,
        _ => {}
    }
    match a.format.as_str() {
        "email" if !v.as_str().is_some_and(is_email) => Err("Value must be a valid email address".into()),
        "url" if !v.as_str().is_some_and(is_url) => Err("Value must be a valid URL".into()),
        "ip" if !v.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()) => {
            Err("Value must be a valid IP address".into())
        }
        "enum" => {
            let elements: Vec<String> = a
                .options
                .get("elements")
                .and_then(Value::as_array)
                .map(|e| e.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default();
            if v.as_str().is_some_and(|s| elements.iter().any(|e| e == s)) {
                Ok(())
            } else {
                Err(format!("Value must be one of ({})", elements.join(", ")))
            }
        }
        _ => {
            if matches!(a.kind.as_str(), "integer" | "bigint") {
                let min = a.options.get("min").and_then(Value::as_i64).unwrap_or(i64::MIN);
                let max = a.options.get("max").and_then(Value::as_i64).unwrap_or(i64::MAX);
                range_i(v, min, max)?;
            }
            if a.kind == "double" {
                let min = a.options.get("min").and_then(Value::as_f64).unwrap_or(-f64::MAX);
                let max = a.options.get("max").and_then(Value::as_f64).unwrap_or(f64::MAX);
                range_f(v, min, max)?;
            }
            Ok(())
        }
    }
}

fn text(v: &Value, size: i64) -> Result<(), String> {
    match v.as_str() {
        Some(s) if s.chars().count() as i64 <= size => Ok(()),
        _ => Err(format!("Value must be a valid string and no longer than {size} chars")),
    }
}

fn byte_length(v: &Value, max: i64) -> Result<(), String> {
    match v.as_str() {
        Some(s) if s.len() as i64 <= max => Ok(()),
        _ => Err(format!("Value must be a valid string no longer than {max} bytes")),
    }
}

fn integer(v: &Value, bits: u32) -> Result<(), String> {
    let (min, max) = if bits == 64 { (i64::MIN, i64::MAX) } else { (i32::MIN as i64, i32::MAX as i64) };
    match v.as_i64() {
        Some(n) if n >= min && n <= max && !v.is_f64() => Ok(()),
        _ => Err(format!(
            "Value must be a valid signed {bits}-bit integer between {} and {}",
            number_format_i(min),
            number_format_i(max)
        )),
    }
}

fn range_i(v: &Value, min: i64, max: i64) -> Result<(), String> {
    let n = v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    match n {
        Some(n) if n >= min && n <= max => Ok(()),
        _ => Err(format!("Value must be a valid range between {} and {}", number_format_i(min), number_format_i(max))),
    }
}

fn range_f(v: &Value, min: f64, max: f64) -> Result<(), String> {
    match v.as_f64() {
        Some(n) if n >= min && n <= max => Ok(()),
        _ => Err(format!("Value must be a valid range between {} and {}", number_format_f(min), number_format_f(max))),
    }
}

fn datetime(v: &Value) -> Result<(), String> {
    let ok = v.as_str().filter(|s| !s.is_empty()).and_then(crate::clock::parse_datetime).is_some_and(|t| {
        use chrono::Datelike;
        (0..=9999).contains(&t.year())
    });
    if ok {
        Ok(())
    } else {
        Err("Value must be valid date between 0000-01-01 00:00:00 and 9999-12-31 00:00:00.".into())
    }
}

/// An address `local@domain.tld` as PHP's `FILTER_VALIDATE_EMAIL` broadly accepts it.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    if local.is_empty() || local.len() > 64 || domain.len() > 255 || s.len() > 320 {
        return false;
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !l.starts_with('-') && !l.ends_with('-')
        });
    local_ok && domain_ok
}

/// A URL with a scheme and a host, as PHP's `FILTER_VALIDATE_URL` requires.
pub fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else { return false };
    let scheme_ok = !scheme.is_empty()
        && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if matches!(scheme.to_ascii_lowercase().as_str(), "mailto" | "news" | "file") {
        return !rest.is_empty();
    }
    let Some(after) = rest.strip_prefix("//") else { return false };
    let authority = after.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = if host.starts_with('[') { host } else { host.split(':').next().unwrap_or("") };
    !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-.[]:_".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_email("walter.obrien@example.com"));
        for bad in ["no-at", "a@b", "@x.com", "a@.com", "a b@x.com", "a@x..com"] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_url("https://appwrite.io/docs?x=1#y"));
        assert!(is_url("http://localhost:8080"));
        for bad in ["appwrite.io", "https://", "http//x.com", "ht tp://x.com"] {
            assert!(!is_url(bad), "{bad}");
        }
    }
}
