//! Environment drift: what differs between environments, less the intended differences on the allow-list.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::schemas::{canonical, key_of};
use super::CheckInput;
use crate::finding::{Finding, Level};
use crate::project::model::AppwriteFile;
use crate::project::paths;
use crate::project::pointer::pointer;

/// The family name.
pub const FAMILY: &str = "drift";

/// One comparable fact of one environment: its value and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub value: Value,
    pub pointer: String,
}

/// Every comparable fact of an environment by drift path, e.g. `functions/transcribe/timeout`.
///
/// Database IDs differ per environment by design (main-dev, main-prod), so databases and the
/// collections' `databaseId` are compared by the schemas check instead.
pub fn facts(app: &AppwriteFile) -> BTreeMap<String, Fact> {
    let mut out = BTreeMap::new();
    let mut put = |path: String, value: Value, ptr: String| {
        out.insert(path, Fact { value, pointer: ptr });
    };
    for (i, f) in app.functions.iter().enumerate() {
        let base = format!("functions/{}", f.id);
        let at = |field: &str| pointer(&["functions".to_string(), i.to_string(), field.to_string()]);
        put(base.clone(), Value::Bool(true), pointer(&["functions".to_string(), i.to_string()]));
        let fields: [(&str, Value); 11] = [
            ("runtime", f.runtime.clone().into()),
            ("specification", f.specification.clone().map(Value::String).unwrap_or(Value::Null)),
            ("execute", f.execute.clone().into()),
            ("events", f.events.clone().into()),
            ("scopes", f.scopes.clone().into()),
            ("schedule", f.schedule.clone().into()),
            ("timeout", f.timeout.into()),
            ("enabled", f.enabled.into()),
            ("logging", f.logging.into()),
            ("entrypoint", f.entrypoint.clone().into()),
            ("commands", f.commands.clone().into()),
        ];
        for (field, value) in fields {
            put(format!("{base}/{field}"), value, at(field));
        }
    }
    for (i, c) in app.collections.iter().enumerate() {
        let base = format!("collections/{}", c.id);
        let at = |parts: &[String]| {
            let mut segs = vec!["collections".to_string(), i.to_string()];
            segs.extend(parts.iter().cloned());
            pointer(&segs)
        };
        put(base.clone(), Value::Bool(true), at(&[]));
        put(format!("{base}/name"), c.name.clone().into(), at(&["name".into()]));
        put(format!("{base}/enabled"), c.enabled.into(), at(&["enabled".into()]));
        put(format!("{base}/documentSecurity"), c.document_security.into(), at(&["documentSecurity".into()]));
        put(format!("{base}/permissions"), c.permissions.clone().into(), at(&["$permissions".into()]));
        for (field, items) in [("attributes", &c.attributes), ("indexes", &c.indexes)] {
            for (j, item) in items.iter().enumerate() {
                put(format!("{base}/{field}/{}", key_of(item)), canonical(item), at(&[field.into(), j.to_string()]));
            }
        }
    }
    for (i, b) in app.buckets.iter().enumerate() {
        let base = format!("buckets/{}", b.id);
        put(base.clone(), Value::Bool(true), pointer(&["buckets".to_string(), i.to_string()]));
        put(format!("{base}/name"), b.name.clone().into(), pointer(&["buckets".to_string(), i.to_string(), "name".into()]));
        for (k, v) in &b.settings {
            put(format!("{base}/{k}"), v.clone(), pointer(&["buckets".to_string(), i.to_string(), k.clone()]));
        }
    }
    out
}

/// Whether an allow-list pattern covers a drift path: segment by segment, `*` for any one
/// segment, and a pattern naming a resource covers everything under it.
pub fn allows(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    pattern.len() <= path.len() && pattern.iter().zip(&path).all(|(p, s)| *p == "*" || p == s)
}

/// Every drift finding; drift compares all environments, so the environment does not narrow it.
pub fn check(input: &CheckInput) -> Vec<Finding> {
    let project = input.project;
    let envs: Vec<(&String, BTreeMap<String, Fact>)> = project.environments.iter().map(|(n, e)| (n, facts(&e.appwrite))).collect();
    if envs.len() < 2 {
        return Vec::new();
    }
    let allow = project.drift_allow.as_ref().map(|a| a.allow.clone()).unwrap_or_default();
    let mut used = vec![false; allow.len()];
    let all_paths: BTreeSet<&String> = envs.iter().flat_map(|(_, f)| f.keys()).collect();
    let mut differing_parents: Vec<String> = Vec::new();
    let mut findings = Vec::new();
    for path in all_paths {
        let values: Vec<Option<&Fact>> = envs.iter().map(|(_, f)| f.get(path)).collect();
        if values.iter().all(|v| v.map(|f| &f.value) == values[0].map(|f| &f.value)) {
            continue;
        }
        // A resource missing somewhere is one finding, not one per field.
        if differing_parents.iter().any(|p| path.starts_with(&format!("{p}/"))) {
            continue;
        }
        if values.iter().any(Option::is_none) {
            differing_parents.push(path.clone());
        }
        let summary: Vec<String> = envs.iter().zip(&values).map(|((n, _), v)| format!("{n} {}", v.map(|f| show(&f.value)).unwrap_or_else(|| "absent".into()))).collect();
        if let Some(i) = allow.iter().position(|a| allows(&a.path, path)) {
            used[i] = true;
            findings.push(Finding::new(Level::Ok, FAMILY, "drift-allowed", paths::DRIFT_ALLOW, pointer(&["allow".to_string(), i.to_string()]), format!("{path} differs on purpose ({}): {}", allow[i].reason, summary.join(", "))));
            continue;
        }
        let (env, fact) = odd_one_out(&envs, &values);
        let ptr = fact.map(|f| f.pointer.clone()).unwrap_or_else(|| parent_pointer(path));
        let what = if values.iter().any(Option::is_none) { "is not in every environment" } else { "differs between environments" };
        findings.push(
            Finding::new(Level::Error, FAMILY, "drift", paths::appwrite(env), ptr, format!("{path} {what}: {}", summary.join(", ")))
                .hint(format!("make the environments agree, or add {{\"path\": \"{path}\", \"reason\": \"…\"}} to {}", paths::DRIFT_ALLOW))
                .env(env.as_str()),
        );
    }
    for (i, entry) in allow.iter().enumerate() {
        if !used[i] {
            findings.push(Finding::new(Level::Warning, FAMILY, "drift-allow-unused", paths::DRIFT_ALLOW, pointer(&["allow".to_string(), i.to_string(), "path".into()]), format!("{} is allowed to differ but is the same everywhere", entry.path)).hint("remove the entry"));
        }
    }
    if !findings.iter().any(|f| f.level != Level::Ok) {
        findings.push(Finding::new(Level::Ok, FAMILY, "no-drift", paths::ENVIRONMENTS, "", format!("{} environments agree apart from the allowed differences", envs.len())));
    }
    findings
}

/// The environment whose value is the rarest (the first such, in name order), and its fact.
fn odd_one_out<'a>(envs: &'a [(&'a String, BTreeMap<String, Fact>)], values: &[Option<&'a Fact>]) -> (&'a String, Option<&'a Fact>) {
    let count = |v: &Option<&Fact>| values.iter().filter(|w| w.map(|f| &f.value) == v.map(|f| &f.value)).count();
    let i = (0..values.len()).min_by_key(|i| (count(&values[*i]), values[*i].is_some(), *i)).expect("at least two environments");
    (envs[i].0, values[i])
}

fn parent_pointer(path: &str) -> String {
    format!("/{}", path.split('/').next().unwrap_or_default())
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::allows;

    #[test]
    fn allow_patterns_match_segments_and_prefixes() {
        let cases = [
            ("buckets/audio/maximumFileSize", "buckets/audio/maximumFileSize", true),
            ("buckets/*/maximumFileSize", "buckets/audio/maximumFileSize", true),
            ("functions/debug", "functions/debug/timeout", true),
            ("functions/debug", "functions/debugger", false),
            ("functions/*/timeout", "functions/a/runtime", false),
            ("functions/a/timeout/extra", "functions/a/timeout", false),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(allows(pattern, path), expected, "{pattern} vs {path}");
        }
    }
}
