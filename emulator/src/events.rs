//! Appwrite events: every write publishes the fan-out of its event pattern (concrete IDs, `*`
//! wildcards, parent prefixes, collection/table mirrors) exactly as `Event::generateEvents` does.
//! Subscribers (function triggers) receive them from a broadcast channel.

use serde_json::Value;

use crate::context::Ctx;

/// One published event.
#[derive(Debug, Clone)]
pub struct EventMessage {
    pub project_id: String,
    /// Every event string the action matches, most specific first.
    pub events: Vec<String>,
    pub payload: Value,
    /// The user who caused it, if any.
    pub user_id: Option<String>,
}

/// Publishes `pattern` (e.g. `databases.[databaseId].collections.[collectionId].documents.[documentId].create`)
/// with its parameters. `database_type` switches database events to the `tablesdb.` names for
/// TablesDB databases.
pub fn publish(ctx: &Ctx, pattern: &str, params: &[(&str, &str)], payload: Value) {
    publish_typed(ctx, pattern, params, payload, None)
}

/// [`publish`] for database events, naming the database type.
pub fn publish_typed(ctx: &Ctx, pattern: &str, params: &[(&str, &str)], payload: Value, database_type: Option<&str>) {
    // The fan-out is dozens of strings per write: skip it when nobody listens.
    if ctx.state.events.receiver_count() == 0 {
        return;
    }
    let events = generate(pattern, params, database_type);
    if events.is_empty() {
        return;
    }
    let message = EventMessage {
        project_id: ctx.project_id().to_string(),
        events,
        payload,
        user_id: ctx.caller.user().map(|u| u.id.clone()),
    };
    // No subscriber is not an error.
    let _ = ctx.state.events.send(message);
}

struct Parsed {
    parts: Vec<String>,
    resource: Option<String>,
    sub_resource: Option<String>,
    sub_sub_resource: Option<String>,
    action: Option<String>,
    attribute: Option<String>,
    sub_type: Option<String>,
    sub_sub_type: Option<String>,
}

/// The pattern parsed, with a TablesDB action's names (`tablesdb`, `tables`, `rows`, `columns`)
/// in place of the legacy ones it is written with.
fn parse_for(pattern: &str, database_type: Option<&str>) -> Parsed {
    let mut p = parse(pattern);
    if pattern.contains("databases.") && database_type == Some("tablesdb") {
        let tablesdb = |name: &str| match name {
            "databases" => "tablesdb",
            "documents" => "rows",
            "collections" => "tables",
            "attributes" => "columns",
            other => other,
        }
        .to_string();
        p.parts[0] = tablesdb(&p.parts[0]);
        p.sub_type = p.sub_type.as_deref().map(tablesdb);
        p.sub_sub_type = p.sub_sub_type.as_deref().map(tablesdb);
    }
    p
}

fn parse(pattern: &str) -> Parsed {
    let parts: Vec<String> = pattern.split('.').map(String::from).collect();
    let count = parts.len();
    let get = |i: usize| parts.get(i).cloned();
    let has_sub = count > 3 && parts[3].starts_with('[');
    let has_sub_sub = count > 5 && parts[5].starts_with('[') && has_sub;
    let mut attribute = None;
    if has_sub_sub && count == 8 {
        attribute = get(7);
    }
    if has_sub && !has_sub_sub && count == 6 {
        attribute = get(5);
    }
    if !has_sub && count == 4 {
        attribute = get(3);
    }
    let action = if !has_sub && count > 2 {
        get(2)
    } else if has_sub_sub {
        get(6)
    } else if has_sub && count > 4 {
        get(4)
    } else {
        None
    };
    Parsed {
        resource: get(1),
        sub_type: if has_sub { get(2) } else { None },
        sub_resource: if has_sub { get(3) } else { None },
        sub_sub_type: if has_sub_sub { get(4) } else { None },
        sub_sub_resource: if has_sub_sub { get(5) } else { None },
        action,
        attribute,
        parts,
    }
}

/// The event strings one action emits (`Event::generateEvents`): for each pattern (the full one,
/// the one without the action, the parent prefixes), every combination of its IDs replaced by
/// `*` — Appwrite's nested loops amount to exactly that — most specific first, then the
/// collection/table mirrors.
pub fn generate(pattern: &str, params: &[(&str, &str)], database_type: Option<&str>) -> Vec<String> {
    let keys: Vec<String> = params.iter().map(|(k, _)| format!("[{k}]")).collect();
    let p = parse_for(pattern, database_type);
    for r in [&p.resource, &p.sub_resource, &p.sub_sub_resource].into_iter().flatten() {
        if !keys.contains(r) {
            return Vec::new();
        }
    }
    let ty = Some(p.parts[0].clone());
    let mut patterns: Vec<Vec<&Option<String>>> = Vec::new();
    if p.action.is_some() {
        if p.sub_sub_resource.is_some() {
            if p.attribute.is_some() {
                patterns.push(vec![&ty, &p.resource, &p.sub_type, &p.sub_resource, &p.sub_sub_type, &p.sub_sub_resource, &p.action, &p.attribute]);
            }
            patterns.push(vec![&ty, &p.resource, &p.sub_type, &p.sub_resource, &p.sub_sub_type, &p.sub_sub_resource, &p.action]);
            patterns.push(vec![&ty, &p.resource, &p.sub_type, &p.sub_resource, &p.sub_sub_type, &p.sub_sub_resource]);
        } else if p.sub_resource.is_some() {
            if p.attribute.is_some() {
                patterns.push(vec![&ty, &p.resource, &p.sub_type, &p.sub_resource, &p.action, &p.attribute]);
            }
            patterns.push(vec![&ty, &p.resource, &p.sub_type, &p.sub_resource, &p.action]);
            patterns.push(vec![&ty, &p.resource, &p.sub_type, &p.sub_resource]);
        } else {
            patterns.push(vec![&ty, &p.resource, &p.action]);
        }
        if p.attribute.is_some() {
            patterns.push(vec![&ty, &p.resource, &p.action, &p.attribute]);
        }
    }
    if p.sub_sub_resource.is_some() {
        patterns.push(vec![&ty, &p.resource, &p.sub_type, &p.sub_resource, &p.sub_sub_type, &p.sub_sub_resource]);
    }
    if p.sub_resource.is_some() {
        patterns.push(vec![&ty, &p.resource, &p.sub_type, &p.sub_resource]);
    }
    patterns.push(vec![&ty, &p.resource]);
    patterns.dedup();

    let mut events = Vec::new();
    for segments in &patterns {
        let segments: Vec<&str> = segments.iter().map(|s| s.as_deref().unwrap_or("")).collect();
        // which placeholders this pattern holds, by position
        let slots: Vec<(usize, usize)> =
            segments.iter().enumerate().filter_map(|(i, s)| keys.iter().position(|k| k == s).map(|k| (i, k))).collect();
        let all = (1usize << slots.len()) - 1;
        // all values first, then all stars, then the mixed combinations
        for mask in std::iter::once(0).chain(std::iter::once(all)).chain(1..all) {
            let mut out: Vec<&str> = segments.clone();
            for (bit, (pos, key)) in slots.iter().enumerate() {
                out[*pos] = if mask & (1 << bit) != 0 { "*" } else { params[*key].1 };
            }
            events.push(out.join("."));
        }
    }
    let mut events: Vec<String> = events.into_iter().map(|e| e.replace(['[', ']'], "")).collect();
    dedup(&mut events);
    mirror(pattern, events)
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|e| seen.insert(e.clone()));
}

fn replace_segments(event: &str, map: &[(&str, &str)]) -> String {
    event
        .split('.')
        .map(|part| map.iter().find(|(k, _)| *k == part).map(|(_, v)| *v).unwrap_or(part))
        .collect::<Vec<_>>()
        .join(".")
}

/// Adds the collections ↔ tables (and tablesdb → databases) twin of every database event.
fn mirror(pattern: &str, events: Vec<String>) -> Vec<String> {
    const TO_TABLES: &[(&str, &str)] = &[("documents", "rows"), ("collections", "tables"), ("attributes", "columns")];
    const TO_COLLECTIONS: &[(&str, &str)] = &[("rows", "documents"), ("tables", "collections"), ("columns", "attributes")];
    const TO_DATABASES: &[(&str, &str)] =
        &[("tablesdb", "databases"), ("tables", "collections"), ("rows", "documents"), ("columns", "attributes")];
    let Some(first) = events.first() else { return events };
    let applies = (pattern.contains("databases.") && (first.contains("collections") || first.contains("tables")))
        || first.contains("tablesdb.");
    if !applies {
        return events;
    }
    let mut paired = Vec::new();
    for e in &events {
        paired.push(e.clone());
        if e.contains("tablesdb") {
            let databases_side = replace_segments(e, TO_DATABASES);
            paired.push(databases_side.clone());
            paired.push(replace_segments(&databases_side, TO_TABLES));
        } else if e.contains("collections") {
            paired.push(replace_segments(e, TO_TABLES));
        } else if e.contains("tables") {
            paired.push(replace_segments(e, TO_COLLECTIONS));
        }
    }
    dedup(&mut paired);
    paired
}

/// True when a function subscribed to `subscriptions` should run for `events`.
pub fn matches(subscriptions: &[String], events: &[String]) -> bool {
    subscriptions.iter().any(|s| events.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line-by-line port of `Event::generateEvents`, to prove the combinatorial version equal.
    fn replace_all(s: &str, keys: &[String], values: &[String]) -> String {
        let mut out = s.to_string();
        for (k, v) in keys.iter().zip(values) {
            out = out.replace(k.as_str(), v);
        }
        out
    }
    
    fn reference(pattern: &str, params: &[(&str, &str)], database_type: Option<&str>) -> Vec<String> {
        let keys: Vec<String> = params.iter().map(|(k, _)| format!("[{k}]")).collect();
        let values: Vec<String> = params.iter().map(|(_, v)| v.to_string()).collect();
        let p = parse_for(pattern, database_type);
        let ty = p.parts[0].clone();
        let join = |items: &[&Option<String>]| -> String {
            let mut v = vec![ty.clone()];
            v.extend(items.iter().map(|i| (*i).clone().unwrap_or_default()));
            v.join(".")
        };
        for r in [&p.resource, &p.sub_resource, &p.sub_sub_resource].into_iter().flatten() {
            if !keys.contains(r) {
                return Vec::new();
            }
        }
        let mut patterns: Vec<String> = Vec::new();
        if p.action.is_some() {
            if p.sub_sub_resource.is_some() {
                if p.attribute.is_some() {
                    patterns.push(join(&[&p.resource, &p.sub_type, &p.sub_resource, &p.sub_sub_type, &p.sub_sub_resource, &p.action, &p.attribute]));
                }
                patterns.push(join(&[&p.resource, &p.sub_type, &p.sub_resource, &p.sub_sub_type, &p.sub_sub_resource, &p.action]));
                patterns.push(join(&[&p.resource, &p.sub_type, &p.sub_resource, &p.sub_sub_type, &p.sub_sub_resource]));
            } else if p.sub_resource.is_some() {
                if p.attribute.is_some() {
                    patterns.push(join(&[&p.resource, &p.sub_type, &p.sub_resource, &p.action, &p.attribute]));
                }
                patterns.push(join(&[&p.resource, &p.sub_type, &p.sub_resource, &p.action]));
                patterns.push(join(&[&p.resource, &p.sub_type, &p.sub_resource]));
            } else {
                patterns.push(join(&[&p.resource, &p.action]));
            }
            if p.attribute.is_some() {
                patterns.push(join(&[&p.resource, &p.action, &p.attribute]));
            }
        }
        if p.sub_sub_resource.is_some() {
            patterns.push(join(&[&p.resource, &p.sub_type, &p.sub_resource, &p.sub_sub_type, &p.sub_sub_resource]));
        }
        if p.sub_resource.is_some() {
            patterns.push(join(&[&p.resource, &p.sub_type, &p.sub_resource]));
        }
        patterns.push(join(&[&p.resource]));
        dedup(&mut patterns);
    
        let stars: Vec<String> = keys.iter().map(|_| "*".to_string()).collect();
        let mut events = Vec::new();
        for ep in &patterns {
            events.push(replace_all(ep, &keys, &values));
            events.push(replace_all(ep, &keys, &stars));
            for key in &keys {
                for current in &keys {
                    if p.sub_sub_resource.is_some() {
                        for sub_current in &keys {
                            if sub_current == current || sub_current == key {
                                continue;
                            }
                            let one = ep.replace(sub_current.as_str(), "*");
                            events.push(replace_all(&one, &keys, &values));
                            let two = one.replace(current.as_str(), "*");
                            events.push(replace_all(&two, &keys, &values));
                            let three = ep.replace(current.as_str(), "*");
                            events.push(replace_all(&three, &keys, &values));
                        }
                    } else {
                        if current == key {
                            continue;
                        }
                        let one = ep.replace(current.as_str(), "*");
                        events.push(replace_all(&one, &keys, &values));
                    }
                }
            }
        }
        let mut events: Vec<String> = events.into_iter().map(|e| e.replace(['[', ']'], "")).collect();
        dedup(&mut events);
        mirror(pattern, events)
    }

    #[test]
    fn same_events_as_appwrite_loops() {
        let cases: &[(&str, &[(&str, &str)], Option<&str>)] = &[
            ("databases.[databaseId].collections.[collectionId].documents.[documentId].create", &[("databaseId", "db"), ("collectionId", "c"), ("documentId", "d")], Some("legacy")),
            ("databases.[databaseId].collections.[collectionId].documents.[documentId].update", &[("databaseId", "db"), ("collectionId", "c"), ("documentId", "d")], Some("tablesdb")),
            ("databases.[databaseId].collections.[collectionId].attributes.[attributeId].create", &[("databaseId", "db"), ("collectionId", "c"), ("attributeId", "a")], None),
            ("databases.[databaseId].collections.[collectionId].create", &[("databaseId", "db"), ("collectionId", "c")], None),
            ("databases.[databaseId].create", &[("databaseId", "db")], None),
            ("buckets.[bucketId].files.[fileId].create", &[("bucketId", "b"), ("fileId", "f")], None),
            ("users.[userId].update.email", &[("userId", "u")], None),
            ("users.[userId].sessions.[sessionId].create", &[("userId", "u"), ("sessionId", "s")], None),
            ("functions.[functionId].executions.[executionId].update", &[("functionId", "fn"), ("executionId", "e")], None),
        ];
        for (pattern, params, ty) in cases {
            let mut fast = generate(pattern, params, *ty);
            let mut slow = reference(pattern, params, *ty);
            assert_eq!(fast[0], slow[0], "{pattern}: most specific first");
            fast.sort();
            slow.sort();
            assert_eq!(fast, slow, "{pattern}");
        }
    }

    #[test]
    fn document_create_fans_out() {
        let e = generate(
            "databases.[databaseId].collections.[collectionId].documents.[documentId].create",
            &[("databaseId", "db"), ("collectionId", "c"), ("documentId", "d")],
            Some("legacy"),
        );
        assert_eq!(e[0], "databases.db.collections.c.documents.d.create");
        for expected in [
            "databases.*.collections.*.documents.*.create",
            "databases.db.collections.c.documents.d",
            "databases.db.collections.c",
            "databases.db",
            "databases.*",
            "databases.db.tables.c.rows.d.create",
            "databases.*.tables.*.rows.*.create",
        ] {
            assert!(e.contains(&expected.to_string()), "missing {expected}");
        }
    }

    #[test]
    fn tablesdb_database_events_are_renamed_and_mirrored() {
        let e = generate(
            "databases.[databaseId].collections.[collectionId].documents.[documentId].create",
            &[("databaseId", "db"), ("collectionId", "t"), ("documentId", "r")],
            Some("tablesdb"),
        );
        assert_eq!(e[0], "tablesdb.db.tables.t.rows.r.create");
        assert!(e.contains(&"databases.db.collections.t.documents.r.create".to_string()));
        assert!(e.contains(&"databases.*.tables.*.rows.*.create".to_string()));
    }

    #[test]
    fn file_and_user_events() {
        let e = generate("buckets.[bucketId].files.[fileId].create", &[("bucketId", "b"), ("fileId", "f")], None);
        assert_eq!(e[0], "buckets.b.files.f.create");
        assert!(e.contains(&"buckets.*.files.*.create".to_string()));
        assert!(e.contains(&"buckets.*.files.*".to_string()) || e.contains(&"buckets.b.files.f".to_string()));
        let e = generate("users.[userId].update.email", &[("userId", "u")], None);
        assert!(e.contains(&"users.u.update.email".to_string()));
        assert!(e.contains(&"users.*.update".to_string()));
        assert!(matches(&["users.*.update".to_string()], &e));
    }
}
