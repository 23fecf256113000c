//! `qw function create`: a function folder from the template, registered in every environment and
//! in the dependency files of the functions it names.

use serde_json::{json, Value};

use super::{json_text, read_json, FileWrite, Plan, PlanError};
use crate::project::graph::DependencyGraph;
use crate::project::model::FunctionManifest;
use crate::project::paths;
use crate::project::tree::Tree;
use crate::project::Project;

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub name: String,
    pub description: Option<String>,
    /// Functions the new one needs, deployed before it.
    pub depends_on: Vec<String>,
    /// Functions that will need the new one.
    pub depended_by: Vec<String>,
}

/// Whether a name is a valid function ID: lowercase letters, digits and hyphens, at most 36.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 36
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `my-function` → `My Function`.
pub fn display_name(name: &str) -> String {
    name.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn fill(text: &str, request: &Request) -> String {
    let mut out = text.replace("{{FUNCTION_ID}}", &request.name).replace("{{FUNCTION_NAME}}", &display_name(&request.name));
    if let Some(d) = &request.description {
        out = out.replace("{{DESCRIPTION}}", &d.replace('\\', "\\\\").replace('"', "\\\""));
    }
    out
}

fn template_files(tree: &dyn Tree, dir: &str, rel: &str, out: &mut Vec<(String, String)>) -> Result<(), PlanError> {
    let here = if rel.is_empty() { dir.to_string() } else { format!("{dir}/{rel}") };
    for (name, is_dir) in tree.list(&here) {
        let child = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        if is_dir {
            if name != "__pycache__" {
                template_files(tree, dir, &child, out)?;
            }
        } else {
            let text = tree.read(&format!("{dir}/{child}")).map_err(|e| PlanError::Usage(format!("cannot read {dir}/{child}: {e}")))?.unwrap_or_default();
            out.push((child, text));
        }
    }
    Ok(())
}

/// The names in their first order, each once.
fn unique(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

fn append_unique(list: &mut Value, item: &str) {
    if let Some(a) = list.as_array_mut() {
        if !a.iter().any(|v| v == item) {
            a.push(Value::String(item.to_string()));
        }
    }
}

/// The files to write for the request, or why it cannot be done.
pub fn plan(project: &Project, tree: &dyn Tree, request: &Request) -> Result<Plan, PlanError> {
    let name = &request.name;
    if !valid_name(name) {
        return Err(PlanError::Usage(format!("{name:?} is not a valid function name: use lowercase letters, digits and hyphens, at most 36, starting with a letter or digit")));
    }
    if name == paths::SHARED_CODE {
        return Err(PlanError::Usage("functions/shared holds shared code; choose another name".into()));
    }
    if project.functions.contains_key(name) || tree.is_dir(&format!("{}/{name}", paths::FUNCTIONS)) {
        return Err(PlanError::Conflict(format!("functions/{name} already exists")));
    }
    if let Some(env) = project.environments.values().find(|e| e.function(name).is_some()) {
        return Err(PlanError::Conflict(format!("{name} is already registered in {}", paths::appwrite(&env.name))));
    }
    for other in request.depends_on.iter().chain(&request.depended_by) {
        if !project.functions.contains_key(other) {
            return Err(PlanError::Usage(format!("{other} is not a function (no functions/{other})")));
        }
        if other == name {
            return Err(PlanError::Usage(format!("{name} cannot depend on itself")));
        }
    }
    let request = &Request { depends_on: unique(&request.depends_on), depended_by: unique(&request.depended_by), ..request.clone() };
    if let Some(both) = request.depends_on.iter().find(|d| request.depended_by.contains(d)) {
        return Err(PlanError::Usage(format!("{both} cannot be both a dependency of {name} and depend on it: that is a cycle")));
    }
    let cycles = DependencyGraph::of(project).with_function(name, &request.depends_on, &request.depended_by).cycles();
    if let Some(cycle) = cycles.iter().find(|c| c.contains(name)) {
        return Err(PlanError::Usage(format!("these dependencies would make a cycle: {}", cycle.join(" → "))));
    }
    let mut files = Vec::new();
    template_files(tree, paths::FUNCTION_TEMPLATE, "", &mut files)?;
    if files.is_empty() {
        return Err(PlanError::Usage(format!("{} is missing or empty", paths::FUNCTION_TEMPLATE)));
    }

    let mut plan = Plan::default();
    let mut manifest: Option<FunctionManifest> = None;
    for (rel, text) in files {
        let mut content = fill(&text, request);
        if rel == "function.json" {
            let m: FunctionManifest = serde_json::from_str(&content).map_err(|e| PlanError::Usage(format!("{}/function.json does not fit its format: {e}", paths::FUNCTION_TEMPLATE)))?;
            manifest = Some(m);
        }
        if rel == "dependencies.json" {
            let mut deps = serde_json::from_str::<Value>(&content).map_err(|e| PlanError::Usage(format!("{}/dependencies.json is not JSON: {e}", paths::FUNCTION_TEMPLATE)))?;
            deps["depends_on"] = json!(request.depends_on);
            deps["depended_by"] = json!(request.depended_by);
            content = json_text(&deps);
        }
        plan.writes.push(FileWrite { path: paths::function_file(name, &rel), new: true, content });
    }
    let manifest = manifest.ok_or_else(|| PlanError::Usage(format!("{} has no function.json", paths::FUNCTION_TEMPLATE)))?;

    // Each named function gets the mirror entry, so depends_on and depended_by keep agreeing.
    for (others, mirror) in [(&request.depends_on, "depended_by"), (&request.depended_by, "depends_on")] {
        for other in others {
            let path = paths::dependencies(other);
            let mut deps = read_json(tree, &path)?;
            append_unique(&mut deps[mirror], name);
            plan.writes.push(FileWrite { path, new: false, content: json_text(&deps) });
        }
    }

    let entry = registration(&manifest);
    for env in project.environments.keys() {
        let path = paths::appwrite(env);
        let mut app = read_json(tree, &path)?;
        match app.get_mut("functions").and_then(Value::as_array_mut) {
            Some(list) => list.push(entry.clone()),
            None => app["functions"] = json!([entry.clone()]),
        }
        plan.writes.push(FileWrite { path, new: false, content: json_text(&app) });
    }
    if request.description.is_none() {
        plan.notes.push(format!("fill in {{{{DESCRIPTION}}}} in functions/{name}/ (qw validate reports it until then)"));
    }
    plan.notes.push(format!("list the variables {name} reads in functions/{name}/dependencies.json required_variables"));
    Ok(plan)
}

/// The function's entry in an environment's `appwrite.json`, from its manifest.
pub fn registration(m: &FunctionManifest) -> Value {
    json!({
        "$id": m.id,
        "name": m.name,
        "runtime": m.runtime,
        "specification": m.specification.clone().unwrap_or_else(|| "s-1vcpu-512mb".into()),
        "execute": m.execute.clone().unwrap_or_default(),
        "events": m.events.clone().unwrap_or_default(),
        "scopes": m.scopes.clone().unwrap_or_default(),
        "schedule": m.schedule.clone().unwrap_or_default(),
        "timeout": m.timeout.unwrap_or(15),
        "enabled": true,
        "logging": true,
        "entrypoint": m.entrypoint,
        "commands": m.commands,
        "path": format!("../../functions/{}", m.id),
        "ignore": ["__pycache__", ".venv", "tests"],
        "vars": []
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (name, ok) in [("transcribe", true), ("upload-audio-v3", true), ("9lives", true), ("Upload", false), ("-x", false), ("a_b", false), ("", false)] {
            assert_eq!(valid_name(name), ok, "{name}");
        }
        assert_eq!(display_name("upload-audio-v3"), "Upload Audio V3");
    }
}
