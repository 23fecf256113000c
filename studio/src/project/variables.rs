//! Variable resolution: shared → environment → function-specific, each value with its layer.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::model::value_text;
use super::paths;
use super::pointer::pointer;
use super::Project;

/// A layer of the hierarchy, in the order they apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Shared,
    Environment,
    Function,
}

impl Layer {
    /// The layer's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Shared => "shared",
            Layer::Environment => "environment",
            Layer::Function => "function",
        }
    }
}

/// One value written in one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub value: String,
    pub layer: Layer,
    pub file: String,
    pub pointer: String,
}

/// A variable as it resolves for one environment (and function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub name: String,
    /// Declared in `templates/shared-variables.json`.
    pub declared: bool,
    pub secret: bool,
    /// Every place that sets it, in the order the layers apply; the last one wins.
    pub chain: Vec<Setting>,
    /// The functions that list it in `required_variables`.
    pub required_by: Vec<String>,
}

impl Resolved {
    /// The winning setting, if any layer sets it.
    pub fn winner(&self) -> Option<&Setting> {
        self.chain.last()
    }

    /// Pairs (overridden, overriding) of consecutive settings whose values differ.
    pub fn conflicts(&self) -> Vec<(&Setting, &Setting)> {
        self.chain.windows(2).filter(|w| w[0].value != w[1].value).map(|w| (&w[0], &w[1])).collect()
    }
}

/// Every setting of the shared and environment layers for `env`, by name, in order.
fn environment_chain(project: &Project, env: &str) -> BTreeMap<String, Vec<Setting>> {
    let mut chains: BTreeMap<String, Vec<Setting>> = BTreeMap::new();
    for (name, var) in &project.shared.shared {
        if let Some(value) = &var.value {
            chains.entry(name.clone()).or_default().push(Setting {
                value: value_text(value),
                layer: Layer::Shared,
                file: paths::SHARED_VARIABLES.to_string(),
                pointer: pointer(&["shared", name, "value"]),
            });
        }
    }
    if let Some(values) = project.shared.environment_specific.get(env) {
        for (name, value) in values {
            chains.entry(name.clone()).or_default().push(Setting {
                value: value_text(value),
                layer: Layer::Environment,
                file: paths::SHARED_VARIABLES.to_string(),
                pointer: pointer(&["environment_specific", env, name]),
            });
        }
    }
    if let Some(environment) = project.environments.get(env) {
        for (name, value) in &environment.variables.variables {
            chains.entry(name.clone()).or_default().push(Setting {
                value: value_text(value),
                layer: Layer::Environment,
                file: paths::variables(env),
                pointer: pointer(&["variables", name]),
            });
        }
    }
    chains
}

/// Resolves the variables of `env`, and of `function` in it when given.
///
/// Without a function: every variable the catalogue or the environment layers name. With one:
/// those plus the function's own settings and the variables it requires.
pub fn resolve(project: &Project, env: &str, function: Option<&str>) -> Vec<Resolved> {
    let mut chains = environment_chain(project, env);
    let mut names: BTreeSet<String> = chains.keys().cloned().collect();
    names.extend(project.shared.shared.iter().filter(|(_, v)| v.secret).map(|(n, _)| n.clone()));

    if let Some(function) = function {
        if let Some((index, entry)) = project.environments.get(env).and_then(|e| e.function(function)) {
            for (i, var) in entry.vars.iter().enumerate() {
                chains.entry(var.key.clone()).or_default().push(Setting {
                    value: value_text(&var.value),
                    layer: Layer::Function,
                    file: paths::appwrite(env),
                    pointer: pointer(&["functions".to_string(), index.to_string(), "vars".into(), i.to_string(), "value".into()]),
                });
                names.insert(var.key.clone());
            }
        }
        if let Some(deps) = project.dependencies_of(function) {
            names.extend(deps.required_variables.iter().cloned());
        }
    }

    let registered: Vec<&str> = match function {
        Some(f) => vec![f],
        None => project.environments.get(env).map(|e| e.appwrite.functions.iter().map(|f| f.id.as_str()).collect()).unwrap_or_default(),
    };
    names
        .into_iter()
        .map(|name| {
            let declared = project.shared.shared.get(&name);
            let required_by = registered
                .iter()
                .filter(|f| project.dependencies_of(f).is_some_and(|d| d.required_variables.contains(&name)))
                .map(|f| f.to_string())
                .collect();
            Resolved {
                declared: declared.is_some(),
                secret: declared.is_some_and(|d| d.secret),
                chain: chains.remove(&name).unwrap_or_default(),
                required_by,
                name,
            }
        })
        .collect()
}

/// One line of `qw variables`: a resolved variable judged ✅ / ⚠️ / ❌, secrets masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub name: String,
    pub level: crate::finding::Level,
    /// The value to show: the winning value, the mask for a secret, or none.
    pub value: Option<String>,
    /// Where the winning value is written.
    pub from: Option<Setting>,
    pub secret: bool,
    /// Where a secret was found (`$VAR` or the keychain entry).
    pub secret_source: Option<String>,
    pub required_by: Vec<String>,
    /// What a reader should know, e.g. what was overridden or why it is missing.
    pub notes: Vec<String>,
}

/// Judges every resolved variable of `env` (and `function`), reading secrets from `store` now.
pub fn lines(project: &Project, env: &str, function: Option<&str>, store: &dyn super::secrets::SecretStore) -> Vec<Line> {
    use super::secrets::{lookup, secret_ref, SecretValue, MASK};
    use crate::finding::Level;
    resolve(project, env, function)
        .into_iter()
        .map(|r| {
            let mut line = Line {
                name: r.name.clone(),
                level: Level::Ok,
                value: r.winner().map(|w| w.value.clone()),
                from: r.winner().cloned(),
                secret: r.secret,
                secret_source: None,
                required_by: r.required_by.clone(),
                notes: Vec::new(),
            };
            if r.secret {
                line.value = Some(MASK.to_string());
                if let Some(w) = r.winner() {
                    line.level = Level::Error;
                    line.notes.push(format!("a secret must not be written in a tracked file, but {}#{} holds a value", w.file, w.pointer));
                    line.from = Some(Setting { value: MASK.to_string(), ..w.clone() });
                } else {
                    match lookup(&secret_ref(project, env, &r.name), store) {
                        SecretValue::Found { from, .. } => line.secret_source = Some(from),
                        SecretValue::Missing { reason } => {
                            line.value = None;
                            line.level = Level::Warning;
                            line.notes.push(format!("secret not available on this machine: {reason}"));
                        }
                    }
                }
                return line;
            }
            if r.winner().is_none() {
                if !r.required_by.is_empty() {
                    line.level = Level::Error;
                    line.notes.push(format!("missing: required by {} but set in no layer for {env}", r.required_by.join(", ")));
                }
                return line;
            }
            for (old, new) in r.conflicts() {
                line.level = Level::Warning;
                line.notes.push(format!("{} value {:?} ({}) overrides {} value {:?} ({})", new.layer.name(), new.value, new.file, old.layer.name(), old.value, old.file));
            }
            if !r.declared {
                line.level = line.level.max(Level::Warning);
                line.notes.push("not declared in templates/shared-variables.json".to_string());
            }
            line
        })
        .collect()
}
