//! Variables: conflicts between layers, required variables missing, secrets written down, unknown names.

use std::collections::BTreeSet;

use super::CheckInput;
use crate::finding::{Finding, Level};
use crate::project::model::value_text;
use crate::project::paths;
use crate::project::pointer::pointer;
use crate::project::variables::{resolve, Resolved, Setting};
use crate::project::Project;

/// The family name.
pub const FAMILY: &str = "variables";

/// Every variable finding for the environments in scope.
pub fn check(input: &CheckInput) -> Vec<Finding> {
    let project = input.project;
    let mut findings = literal_secrets(project, input);
    findings.extend(unknown_names(project, input));
    for env in input.environments() {
        findings.extend(environment_findings(project, env));
    }
    findings
}

/// Conflicts and missing required variables of one environment and its functions.
pub fn environment_findings(project: &Project, env: &str) -> Vec<Finding> {
    let Some(environment) = project.environments.get(env) else { return Vec::new() };
    let mut findings = Vec::new();
    let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
    let mut push_conflicts = |resolved: &Resolved, findings: &mut Vec<Finding>| {
        if resolved.secret {
            return; // a secret's literal value is already an error of its own
        }
        for (old, new) in resolved.conflicts() {
            if reported.insert((new.file.clone(), new.pointer.clone())) {
                findings.push(conflict(env, &resolved.name, old, new));
            }
        }
    };
    for resolved in resolve(project, env, None) {
        push_conflicts(&resolved, &mut findings);
    }
    let mut missing = 0;
    for entry in &environment.appwrite.functions {
        for resolved in resolve(project, env, Some(&entry.id)) {
            push_conflicts(&resolved, &mut findings);
            if resolved.winner().is_none() && !resolved.secret && !resolved.required_by.is_empty() {
                missing += 1;
                findings.push(missing_required(project, env, &entry.id, &resolved.name));
            }
        }
    }
    if missing == 0 {
        let n = environment.appwrite.functions.len();
        findings.push(Finding::new(Level::Ok, FAMILY, "variables-resolved", paths::variables(env), "", format!("{env}: every required variable of its {n} functions resolves")).env(env));
    }
    findings
}

fn conflict(env: &str, name: &str, old: &Setting, new: &Setting) -> Finding {
    Finding::new(
        Level::Warning,
        FAMILY,
        "variable-conflict",
        &new.file,
        &new.pointer,
        format!("{name}: {} value {:?} ({}) overrides {} value {:?} ({})", new.layer.name(), new.value, new.file, old.layer.name(), old.value, old.file),
    )
    .hint("drop one of the two values if they should agree, or keep the override on purpose")
    .env(env)
}

fn missing_required(project: &Project, env: &str, function: &str, name: &str) -> Finding {
    let index = project.dependencies_of(function).and_then(|d| d.required_variables.iter().position(|v| v == name)).unwrap_or(0);
    Finding::new(
        Level::Error,
        FAMILY,
        "variable-missing",
        paths::dependencies(function),
        pointer(&["required_variables".to_string(), index.to_string()]),
        format!("{name} is required by {function} but has no value in {env}"),
    )
    .hint(format!("set it in templates/shared-variables.json (shared or environment_specific.{env}) or in environments/{env}/variables.json"))
    .env(env)
}

/// Secrets with a value written in a tracked file.
fn literal_secrets(project: &Project, input: &CheckInput) -> Vec<Finding> {
    let secret = |name: &str| project.shared.shared.get(name).is_some_and(|v| v.secret);
    let mut findings = Vec::new();
    let mut push = |file: String, ptr: String, name: &str, env: Option<&str>| {
        let mut f = Finding::new(Level::Error, FAMILY, "secret-literal", file, ptr, format!("{name} is a secret but has a value written in a tracked file"))
            .hint(format!("remove the value; set ${} or the OS keychain entry instead", crate::project::secrets::env_var_name(env.unwrap_or("ENV"), name)));
        if let Some(env) = env {
            f = f.env(env);
        }
        findings.push(f);
    };
    for (name, var) in &project.shared.shared {
        if var.secret && var.value.as_ref().is_some_and(|v| !value_text(v).is_empty()) {
            push(paths::SHARED_VARIABLES.into(), pointer(&["shared", name, "value"]), name, None);
        }
    }
    for env in input.environments() {
        if let Some(values) = project.shared.environment_specific.get(env) {
            for name in values.keys().filter(|n| secret(n)) {
                push(paths::SHARED_VARIABLES.into(), pointer(&["environment_specific", env, name]), name, Some(env));
            }
        }
        let Some(environment) = project.environments.get(env) else { continue };
        for name in environment.variables.variables.keys().filter(|n| secret(n)) {
            push(paths::variables(env), pointer(&["variables", name]), name, Some(env));
        }
        for (i, entry) in environment.appwrite.functions.iter().enumerate() {
            for (j, var) in entry.vars.iter().enumerate().filter(|(_, v)| secret(&v.key)) {
                push(paths::appwrite(env), pointer(&["functions".to_string(), i.to_string(), "vars".into(), j.to_string(), "value".into()]), &var.key, Some(env));
            }
        }
    }
    findings
}

/// Names used somewhere but not declared in the catalogue, and environments that do not exist.
fn unknown_names(project: &Project, input: &CheckInput) -> Vec<Finding> {
    let known = |name: &str| project.shared.shared.contains_key(name);
    let mut findings = Vec::new();
    for (env, values) in &project.shared.environment_specific {
        if !project.environments.contains_key(env) {
            findings.push(
                Finding::new(Level::Warning, FAMILY, "environment-unknown", paths::SHARED_VARIABLES, pointer(&["environment_specific", env]), format!("environment_specific names {env}, which has no folder under environments/"))
                    .hint("remove it or create the environment"),
            );
            continue;
        }
        if input.environment.is_some_and(|e| e != env) {
            continue;
        }
        for name in values.keys().filter(|n| !known(n)) {
            findings.push(unknown(paths::SHARED_VARIABLES.into(), pointer(&["environment_specific", env, name]), name, Some(env)));
        }
    }
    for env in input.environments() {
        let Some(environment) = project.environments.get(env) else { continue };
        for name in environment.variables.variables.keys().chain(environment.variables.secrets.keys()).filter(|n| !known(n)) {
            let section = if environment.variables.variables.contains_key(name) { "variables" } else { "secrets" };
            findings.push(unknown(paths::variables(env), pointer(&[section, name]), name, Some(env)));
        }
        for (i, entry) in environment.appwrite.functions.iter().enumerate() {
            for (j, var) in entry.vars.iter().enumerate().filter(|(_, v)| !known(&v.key)) {
                findings.push(unknown(paths::appwrite(env), pointer(&["functions".to_string(), i.to_string(), "vars".into(), j.to_string(), "key".into()]), &var.key, Some(env)));
            }
        }
    }
    for (function, dir) in &project.functions {
        if let Some(deps) = &dir.dependencies {
            for (i, name) in deps.required_variables.iter().enumerate().filter(|(_, n)| !known(n)) {
                findings.push(unknown(paths::dependencies(function), pointer(&["required_variables".to_string(), i.to_string()]), name, None));
            }
        }
    }
    findings
}

fn unknown(file: String, ptr: String, name: &str, env: Option<&str>) -> Finding {
    let f = Finding::new(Level::Warning, FAMILY, "variable-unknown", file, ptr, format!("{name} is not declared in templates/shared-variables.json"))
        .hint(format!("declare it under shared.{name} with secret and description, or remove it"));
    match env {
        Some(env) => f.env(env),
        None => f,
    }
}
