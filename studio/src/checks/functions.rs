//! Function structure: manifest, dependencies, entrypoint, requirements, Python that compiles,
//! template fields filled, and folders that match each environment's registration.

use std::path::{Component, Path};

use super::CheckInput;
use crate::finding::{Finding, Level};
use crate::project::paths;
use crate::project::pointer::pointer;
use crate::project::FunctionDir;

/// The family name.
pub const FAMILY: &str = "functions";

/// The dependency file of a Python function when the manifest names none.
pub const DEFAULT_REQUIREMENTS: &str = "requirements.txt";

/// Every structure finding.
pub fn check(input: &CheckInput) -> Vec<Finding> {
    let project = input.project;
    let mut findings = Vec::new();
    if let Some(why) = &input.python.unavailable {
        findings.push(Finding::new(Level::Warning, FAMILY, "python-unavailable", paths::FUNCTIONS, "", format!("Python sources were not compiled: {why}")).hint("install python3 or set QW_PYTHON"));
    }
    for (name, dir) in &project.functions {
        let before = findings.len();
        findings.extend(folder_findings(name, dir));
        for (file, error) in input.python.errors.iter().filter(|(f, _)| f.starts_with(&format!("functions/{name}/"))) {
            findings.push(Finding::new(Level::Error, FAMILY, "python-syntax", file, "", format!("{file} does not compile: {error}")).hint("fix the syntax error"));
        }
        let registered_somewhere = project.environments.values().any(|e| e.function(name).is_some());
        if !registered_somewhere {
            findings.push(
                Finding::new(Level::Warning, FAMILY, "function-unregistered", paths::function_manifest(name), "", format!("{name} is not registered in any environment"))
                    .hint("add it to the functions of each environments/ENV/appwrite.json (qw function create does this)"),
            );
        }
        if findings.len() == before {
            findings.push(Finding::new(Level::Ok, FAMILY, "function-ok", paths::function_manifest(name), "", format!("{name}: manifest, dependencies, entrypoint and sources in place")));
        }
    }
    for env in input.environments() {
        let Some(environment) = project.environments.get(env) else { continue };
        for (i, entry) in environment.appwrite.functions.iter().enumerate() {
            let file = paths::appwrite(env);
            let Some(dir) = project.functions.get(&entry.id) else {
                findings.push(
                    Finding::new(Level::Error, FAMILY, "function-folder-missing", &file, pointer(&["functions".to_string(), i.to_string(), "$id".into()]), format!("{} is registered in {env} but functions/{} does not exist", entry.id, entry.id))
                        .hint(format!("create it with qw function create {}, or remove the entry", entry.id))
                        .env(env),
                );
                continue;
            };
            let expected = format!("../../functions/{}", entry.id);
            if normalize(&entry.path) != normalize(&expected) {
                findings.push(
                    Finding::new(Level::Error, FAMILY, "function-path-mismatch", &file, pointer(&["functions".to_string(), i.to_string(), "path".into()]), format!("{} has path {}, not its folder {expected}", entry.id, entry.path))
                        .hint(format!("set path to {expected}"))
                        .env(env),
                );
            }
            if !dir.files.contains_key(&entry.entrypoint) {
                findings.push(
                    Finding::new(Level::Error, FAMILY, "entrypoint-missing", &file, pointer(&["functions".to_string(), i.to_string(), "entrypoint".into()]), format!("{} in {env} starts {}, which is not in functions/{}", entry.id, entry.entrypoint, entry.id))
                        .hint("create the file or correct the entrypoint")
                        .env(env),
                );
            }
        }
    }
    findings
}

fn folder_findings(name: &str, dir: &FunctionDir) -> Vec<Finding> {
    let mut findings = Vec::new();
    match &dir.manifest {
        None => findings.push(
            Finding::new(Level::Error, FAMILY, "manifest-missing", paths::function_manifest(name), "", format!("{name} has no function.json"))
                .hint("copy templates/function-template/function.json and fill it in"),
        ),
        Some(manifest) => {
            if manifest.id != name {
                findings.push(
                    Finding::new(Level::Error, FAMILY, "function-id-mismatch", paths::function_manifest(name), "/id", format!("function.json says id {}, but the folder is {name}", manifest.id))
                        .hint(format!("set id to {name}")),
                );
            }
            if !dir.files.contains_key(&manifest.entrypoint) {
                findings.push(
                    Finding::new(Level::Error, FAMILY, "entrypoint-missing", paths::function_manifest(name), "/entrypoint", format!("{name} starts {}, which does not exist", manifest.entrypoint))
                        .hint(format!("create functions/{name}/{}", manifest.entrypoint)),
                );
            }
            if manifest.runtime.starts_with("python") {
                let requirements = manifest.requirements.as_deref().unwrap_or(DEFAULT_REQUIREMENTS);
                if !dir.files.contains_key(requirements) {
                    findings.push(
                        Finding::new(Level::Error, FAMILY, "requirements-missing", paths::function_manifest(name), "/runtime", format!("{name} is a Python function without {requirements}"))
                            .hint(format!("create functions/{name}/{requirements} (it may be empty)")),
                    );
                }
            }
        }
    }
    if dir.dependencies.is_none() {
        findings.push(
            Finding::new(Level::Error, FAMILY, "dependencies-missing", paths::dependencies(name), "", format!("{name} has no dependencies.json"))
                .hint("copy templates/function-template/dependencies.json and fill it in"),
        );
    }
    for (file, text) in &dir.files {
        let Some(text) = text else { continue };
        if let Some((line, field)) = first_placeholder(text) {
            findings.push(
                Finding::new(Level::Error, FAMILY, "template-placeholder", paths::function_file(name, file), "", format!("line {line} still holds the template field {field}"))
                    .hint("replace it with the function's real value"),
            );
        }
    }
    findings
}

/// The first `{{FIELD}}` left from the template, with its line number.
pub fn first_placeholder(text: &str) -> Option<(usize, String)> {
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            if let Some(end) = after.find("}}") {
                let inner = &after[..end];
                if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                    return Some((n + 1, format!("{{{{{inner}}}}}")));
                }
            }
            rest = after;
        }
    }
    None
}

fn normalize(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.last().is_some_and(|l| l != "..") => {
                out.pop();
            }
            other => out.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::first_placeholder;

    #[test]
    fn finds_template_fields_but_not_other_braces() {
        assert_eq!(first_placeholder("a\n  \"name\": \"{{FUNCTION_NAME}}\"\n"), Some((2, "{{FUNCTION_NAME}}".into())));
        assert_eq!(first_placeholder("f\"{{x}}\" and {{ lower }}"), None);
        assert_eq!(first_placeholder("nothing"), None);
    }
}
