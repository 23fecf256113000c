//! The value transforms of `transform_attribute`: pure functions of one value.

use serde_json::{json, Map, Value};

/// The value `transform` makes of `value`, or why it cannot.
pub fn apply(transform: &Map<String, Value>, value: &Value) -> Result<Value, String> {
    if let Some(map) = transform.get("map").and_then(Value::as_object) {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Ok(map.get(&text).cloned().or_else(|| transform.get("default").cloned()).unwrap_or_else(|| value.clone()));
    }
    if value.is_null() {
        return Ok(Value::Null);
    }
    let number = || value.as_f64().ok_or_else(|| format!("{value} is not a number"));
    let text = || value.as_str().map(str::to_string).ok_or_else(|| format!("{value} is not text"));
    if let Some(k) = transform.get("multiply").and_then(Value::as_f64) {
        return Ok(number_value(number()? * k, value));
    }
    if let Some(k) = transform.get("add").and_then(Value::as_f64) {
        return Ok(number_value(number()? + k, value));
    }
    match transform.get("case").and_then(Value::as_str) {
        Some("lower") => return Ok(json!(text()?.to_lowercase())),
        Some("upper") => return Ok(json!(text()?.to_uppercase())),
        _ => {}
    }
    if transform.contains_key("trim") {
        return Ok(json!(text()?.trim()));
    }
    if let Some(t) = transform.get("template").and_then(Value::as_str) {
        let v = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Ok(json!(t.replace("{value}", &v)));
    }
    match transform.get("to").and_then(Value::as_str) {
        Some("string") => Ok(json!(match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })),
        Some("integer") => match value {
            Value::Number(n) => n.as_i64().map(Value::from).or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| json!(f as i64))).ok_or_else(|| format!("{value} is not a whole number")),
            Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| format!("{value} is not a whole number")),
            Value::Bool(b) => Ok(json!(*b as i64)),
            _ => Err(format!("{value} cannot become an integer")),
        },
        Some("double") => match value {
            Value::Number(n) => Ok(json!(n.as_f64().unwrap_or_default())),
            Value::String(s) => s.trim().parse::<f64>().map(|f| json!(f)).map_err(|_| format!("{value} is not a number")),
            _ => Err(format!("{value} cannot become a double")),
        },
        Some("boolean") => match value {
            Value::Bool(b) => Ok(json!(b)),
            Value::Number(n) => Ok(json!(n.as_f64() != Some(0.0))),
            Value::String(s) if matches!(s.as_str(), "true" | "1") => Ok(json!(true)),
            Value::String(s) if matches!(s.as_str(), "false" | "0" | "") => Ok(json!(false)),
            _ => Err(format!("{value} cannot become a boolean")),
        },
        _ => Err(format!("unknown transform {}", Value::Object(transform.clone()))),
    }
}

/// A result keeps integers integral when the input was an integer and the result is whole.
fn number_value(f: f64, input: &Value) -> Value {
    if input.is_i64() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        json!(f as i64)
    } else {
        json!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms() {
        let cases: Vec<(Value, Value, Result<Value, &str>)> = vec![
            (json!({"multiply": 60}), json!(2), Ok(json!(120))),
            (json!({"multiply": 0.5}), json!(3), Ok(json!(1.5))),
            (json!({"multiply": 60}), json!(1.5), Ok(json!(90.0))),
            (json!({"add": -1}), json!(10), Ok(json!(9))),
            (json!({"add": 1}), json!("x"), Err("\"x\" is not a number")),
            (json!({"multiply": 2}), Value::Null, Ok(Value::Null)),
            (json!({"case": "lower"}), json!("MiXed"), Ok(json!("mixed"))),
            (json!({"case": "upper"}), json!("abc"), Ok(json!("ABC"))),
            (json!({"trim": true}), json!("  a b "), Ok(json!("a b"))),
            (json!({"template": "job-{value}"}), json!(7), Ok(json!("job-7"))),
            (json!({"map": {"new": "uploaded", "done": "completed"}}), json!("done"), Ok(json!("completed"))),
            (json!({"map": {"new": "uploaded"}}), json!("other"), Ok(json!("other"))),
            (json!({"map": {"new": "uploaded"}, "default": "failed"}), json!("other"), Ok(json!("failed"))),
            (json!({"map": {"true": 1, "false": 0}}), json!(true), Ok(json!(1))),
            (json!({"map": {"null": "unknown"}}), Value::Null, Ok(json!("unknown"))),
            (json!({"to": "string"}), json!(12.5), Ok(json!("12.5"))),
            (json!({"to": "integer"}), json!("42"), Ok(json!(42))),
            (json!({"to": "integer"}), json!(4.0), Ok(json!(4))),
            (json!({"to": "integer"}), json!(4.5), Err("4.5 is not a whole number")),
            (json!({"to": "double"}), json!("2.5"), Ok(json!(2.5))),
            (json!({"to": "boolean"}), json!("1"), Ok(json!(true))),
            (json!({"to": "boolean"}), json!(0), Ok(json!(false))),
            (json!({"to": "boolean"}), json!("maybe"), Err("\"maybe\" cannot become a boolean")),
        ];
        for (t, input, expected) in cases {
            let got = apply(t.as_object().unwrap(), &input);
            assert_eq!(got.as_ref().map_err(String::as_str), expected.as_ref().map_err(|e| *e), "{t} on {input}");
        }
    }
}
