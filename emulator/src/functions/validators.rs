//! The validators of function parameters, with Appwrite's descriptions: execute roles, event
//! patterns (`FunctionEvent` over `app/config/events.php`), cron schedules, key scopes and
//! specifications.

use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::catalogue;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;

/// `APP_LIMIT_ARRAY_PARAMS_SIZE`.
pub const ARRAY_LIMIT: usize = 100;

/// Appwrite 1.9.6's event tree (`app/config/events.php`, keys only).
static EVENTS: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(include_str!("../../data/events-1.9.6.json")).expect("events table"));

/// The `execute` param (utopia `Roles` validator).
pub fn execute_roles(p: &Params, name: &str) -> ApiResult<Option<Vec<String>>> {
    let Some(list) = p.str_list_opt(name)? else { return Ok(None) };
    if list.len() > ARRAY_LIMIT {
        return Err(ApiError::invalid_param(name, &format!("You can only provide up to {ARRAY_LIMIT} roles.")));
    }
    for role in &list {
        if role == "*" {
            return Err(ApiError::invalid_param(name, "Wildcard role \"*\" has been replaced. Use \"any\" instead."));
        }
        if role.starts_with("role:") {
            return Err(ApiError::invalid_param(
                name,
                "Roles using the \"role:\" prefix have been removed. Use \"users\", \"guests\", or \"any\" instead.",
            ));
        }
        crate::permissions::validate_role(role).map_err(|m| ApiError::invalid_param(name, &m))?;
    }
    Ok(Some(list))
}

/// The `events` param (`ArrayList(FunctionEvent)`).
pub fn events(p: &Params, name: &str) -> ApiResult<Option<Vec<String>>> {
    let Some(list) = p.str_list_opt(name)? else { return Ok(None) };
    let too_long = || ApiError::invalid_param(name, &format!("Value must a valid array no longer than {ARRAY_LIMIT} items and Event is not valid."));
    if list.len() > ARRAY_LIMIT {
        return Err(too_long());
    }
    for e in &list {
        if e.starts_with("functions.") {
            return Err(ApiError::invalid_param(
                name,
                &format!("Value must a valid array no longer than {ARRAY_LIMIT} items and Triggering a function on a function event is not allowed."),
            ));
        }
        if !is_valid_event(e) {
            return Err(too_long());
        }
    }
    Ok(Some(list))
}

/// `Appwrite\Event\Validator\Event::isValid`.
pub fn is_valid_event(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    let count = parts.len();
    if !(2..=7).contains(&count) {
        return false;
    }
    let events = &*EVENTS;
    let ty = parts[0];
    let resource = parts[1];
    if ty.is_empty() || resource.is_empty() {
        return false;
    }
    let Some(type_node) = events.get(ty) else { return false };
    let is_resource = |v: Option<&Value>| v.and_then(|n| n.get("$resource")).is_some();
    let has_sub = count > 3 && is_resource(Some(type_node)) && is_resource(type_node.get(parts[2]));
    let has_sub_sub = count > 5 && has_sub && is_resource(type_node.get(parts[2]).and_then(|n| n.get(parts[4])));
    let mut attribute = None;
    if has_sub && !has_sub_sub && count == 6 {
        attribute = Some(parts[5]);
    }
    if !has_sub && count == 4 {
        attribute = Some(parts[3]);
    }
    let action = if !has_sub && count > 2 {
        Some(parts[2])
    } else if has_sub_sub {
        parts.get(6).copied()
    } else if has_sub && count > 4 {
        Some(parts[4])
    } else {
        None
    };
    let sub_type = has_sub.then(|| parts[2]);
    match sub_type {
        Some(st) => {
            let Some(sub_node) = type_node.get(st) else { return false };
            if let Some(a) = action {
                if sub_node.get(a).is_none() {
                    return false;
                }
            }
            if parts[3].is_empty() {
                return false;
            }
            if let (Some(attr), Some(a)) = (attribute, action) {
                if sub_node.get(a).and_then(|n| n.get(attr)).is_none() {
                    return false;
                }
            }
        }
        None => {
            if let Some(a) = action {
                if type_node.get(a).is_none() {
                    return false;
                }
            }
            if let (Some(attr), Some(a)) = (attribute, action) {
                if type_node.get(a).and_then(|n| n.get(attr)).is_none() {
                    return false;
                }
            }
        }
    }
    true
}

/// A parsed cron schedule (5 fields, or an `@daily`-style macro, as dragonmantank/cron-expression).
pub struct Schedule(croner::Cron);

impl Schedule {
    pub fn parse(expr: &str) -> Option<Schedule> {
        let expr = expr.trim();
        let fields = expr.split_whitespace().count();
        if !(fields == 5 || (fields == 1 && expr.starts_with('@'))) {
            return None;
        }
        croner::Cron::from_str(expr).ok().map(Schedule)
    }

    /// The first time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.find_next_occurrence(&t, false).ok()
    }
}

/// The `schedule` param (`Cron` validator; "" means none).
pub fn schedule(p: &Params, name: &str) -> ApiResult<Option<String>> {
    let Some(s) = p.str_opt(name)? else { return Ok(None) };
    if !s.is_empty() && Schedule::parse(&s).and_then(|c| c.next_after(Utc::now())).is_none() {
        return Err(ApiError::invalid_param(name, "String must be a valid cron expression"));
    }
    Ok(Some(s))
}

/// The `scopes` param (`ArrayList(WhiteList(projectScopes))`).
pub fn scopes(p: &Params, name: &str) -> ApiResult<Option<Vec<String>>> {
    let Some(list) = p.str_list_opt(name)? else { return Ok(None) };
    let valid = list.len() <= ARRAY_LIMIT && list.iter().all(|s| crate::scope::is_key_scope(s));
    if !valid {
        let allowed: Vec<&str> = crate::scope::ALL_KEY_SCOPES.iter().copied().filter(|s| crate::scope::is_key_scope(s)).collect();
        return Err(ApiError::invalid_param(
            name,
            &format!("Value must a valid array no longer than {ARRAY_LIMIT} items and Value must be one of ({})", allowed.join(", ")),
        ));
    }
    Ok(Some(list))
}

/// A specification param (`Compute\Validator\Specification`).
pub fn specification(p: &Params, name: &str) -> ApiResult<Option<String>> {
    let Some(s) = p.str_opt(name)? else { return Ok(None) };
    if !catalogue::SPECIFICATIONS.iter().any(|(slug, _, _)| *slug == s) {
        let all: Vec<&str> = catalogue::SPECIFICATIONS.iter().map(|(slug, _, _)| *slug).collect();
        return Err(ApiError::invalid_param(name, &format!("Specification must be one of: {}", all.join(", "))));
    }
    Ok(Some(s))
}

/// The `runtime` param (`WhiteList` of the catalogue).
pub fn runtime(p: &Params, name: &str) -> ApiResult<Option<String>> {
    let Some(s) = p.str_opt(name)? else { return Ok(None) };
    if s.is_empty() {
        return Ok(None);
    }
    if !catalogue::RUNTIME_IDS.contains(&s.as_str()) {
        return Err(ApiError::invalid_param(name, &format!("Value must be one of ({})", catalogue::RUNTIME_IDS.join(", "))));
    }
    Ok(Some(s))
}

/// A list of texts of at most `max` chars each (`ArrayList(Text(max))`).
pub fn text_list(p: &Params, name: &str, max: usize) -> ApiResult<Option<Vec<String>>> {
    p.bounded_list_opt(name, ARRAY_LIMIT, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_patterns() {
        for ok in [
            "databases.*.collections.*.documents.*.create",
            "databases.db.tables.t.rows.r.update",
            "buckets.*.files.*.create",
            "buckets.*.files.*",
            "users.*.create",
            "users.u1.update.email",
            "users.*.sessions.*.create",
            "databases.*",
        ] {
            assert!(is_valid_event(ok), "{ok}");
        }
        for bad in ["nothing", "databases.*.collections.*.documents.*.explode", "users.*.update.shoe", "x.y.z"] {
            assert!(!is_valid_event(bad), "{bad}");
        }
    }

    #[test]
    fn cron_expressions() {
        let s = Schedule::parse("*/5 * * * *").unwrap();
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 10, 2, 30).unwrap();
        assert_eq!(s.next_after(t).unwrap().to_rfc3339(), "2026-01-01T10:05:00+00:00");
        assert!(Schedule::parse("* * * *").is_none());
        assert!(Schedule::parse("61 * * * *").is_none());
        assert!(Schedule::parse("@hourly").is_some());
    }
}
