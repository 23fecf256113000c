//! Reading a project: every file parsed and validated against its schema before it is typed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::file_schemas::{validate, FileKind};
use super::paths;
use super::tree::{DiskTree, Tree};
use super::{Environment, FunctionDir, Located, Project};
use crate::finding::{Finding, Level};

/// Folders inside a function that are build output or caches, never source.
const SKIPPED_DIRS: [&str; 4] = ["__pycache__", ".venv", "node_modules", ".appwrite"];
/// Larger files are listed but their text is not kept.
const MAX_TEXT: usize = 1 << 20;

/// Why a project could not be loaded: its files are unreadable or break their schemas.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    pub findings: Vec<Finding>,
}

/// Loads the project at `root` from disk.
pub fn load_dir(root: &Path) -> Result<Project, LoadFailure> {
    load(&DiskTree::new(root))
}

/// Loads a project, or lists every file problem when any file is unreadable or invalid.
pub fn load(tree: &dyn Tree) -> Result<Project, LoadFailure> {
    let mut reader = Reader { tree, findings: Vec::new() };
    let mut project = Project::default();

    let env_names: Vec<String> = tree.list(paths::ENVIRONMENTS).into_iter().filter(|(_, d)| *d).map(|(n, _)| n).collect();
    if env_names.is_empty() {
        reader.problem("missing-environments", paths::ENVIRONMENTS, "", "no environment folders (dev, staging, prod) under environments/", "create environments/ENV/appwrite.json for each environment");
    }
    for name in env_names {
        let appwrite_path = paths::appwrite(&name);
        let appwrite = reader.required(FileKind::Appwrite, &appwrite_path);
        let variables = reader.optional(FileKind::EnvironmentVariables, &paths::variables(&name)).unwrap_or_default();
        if let Some(appwrite) = appwrite {
            project.environments.insert(name.clone(), Environment { name, appwrite, variables });
        }
    }
    project.shared = reader.required(FileKind::SharedVariables, paths::SHARED_VARIABLES).unwrap_or_default();
    project.drift_allow = reader.optional(FileKind::DriftAllow, paths::DRIFT_ALLOW);
    project.routes = reader.optional(FileKind::Routes, paths::ROUTES);

    for (name, is_dir) in tree.list(paths::FUNCTIONS) {
        if !is_dir || name == paths::SHARED_CODE || name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_str()) {
            continue;
        }
        let manifest = reader.optional(FileKind::Function, &paths::function_manifest(&name));
        let dependencies = reader.optional(FileKind::Dependencies, &paths::dependencies(&name));
        let mut files = BTreeMap::new();
        collect_files(tree, &format!("{}/{name}", paths::FUNCTIONS), "", &mut files);
        project.functions.insert(name.clone(), FunctionDir { name, manifest, dependencies, files });
    }

    for (file, is_dir) in tree.list(paths::COLLECTIONS) {
        if is_dir || !file.ends_with(".json") {
            continue;
        }
        let path = format!("{}/{file}", paths::COLLECTIONS);
        if let Some(schema) = reader.optional::<super::model::CollectionSchema>(FileKind::Collection, &path) {
            let id = schema.collection_id.clone();
            if let Some(previous) = project.collections.get(&id) {
                reader.problem("duplicate-collection", &path, "/collectionId", format!("collection {id} is also defined in {}", previous.file), "keep one schema file per collection");
            } else {
                project.collections.insert(id, Located { file: path, value: schema });
            }
        }
    }
    for (file, is_dir) in tree.list(paths::DATABASES) {
        if is_dir || !file.ends_with(".json") {
            continue;
        }
        let path = format!("{}/{file}", paths::DATABASES);
        if let Some(schema) = reader.optional::<super::model::DatabaseSchema>(FileKind::Database, &path) {
            project.databases.insert(schema.database_id.clone(), Located { file: path, value: schema });
        }
    }

    if reader.findings.is_empty() {
        Ok(project)
    } else {
        Err(LoadFailure { findings: reader.findings })
    }
}

fn collect_files(tree: &dyn Tree, base: &str, rel: &str, out: &mut BTreeMap<String, Option<String>>) {
    let dir = if rel.is_empty() { base.to_string() } else { format!("{base}/{rel}") };
    for (name, is_dir) in tree.list(&dir) {
        let child = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        if is_dir {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                collect_files(tree, base, &child, out);
            }
        } else {
            let text = tree.read(&format!("{base}/{child}")).ok().flatten().filter(|t| t.len() <= MAX_TEXT);
            out.insert(child, text);
        }
    }
}

struct Reader<'a> {
    tree: &'a dyn Tree,
    findings: Vec<Finding>,
}

impl Reader<'_> {
    fn problem(&mut self, code: &str, file: &str, pointer: &str, message: impl Into<String>, hint: &str) {
        self.findings.push(Finding::new(Level::Error, "files", code, file, pointer, message).hint(hint));
    }

    fn required<T: DeserializeOwned>(&mut self, kind: FileKind, path: &str) -> Option<T> {
        match self.tree.read(path) {
            Ok(None) => {
                self.problem("missing-file", path, "", format!("{path} is missing"), "create it (see schemas/json/ for its format)");
                None
            }
            _ => self.optional(kind, path),
        }
    }

    fn optional<T: DeserializeOwned>(&mut self, kind: FileKind, path: &str) -> Option<T> {
        let text = match self.tree.read(path) {
            Ok(Some(text)) => text,
            Ok(None) => return None,
            Err(e) => {
                self.problem("unreadable-file", path, "", format!("cannot read {path}: {e}"), "make it a readable UTF-8 file");
                return None;
            }
        };
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                self.problem("invalid-json", path, "", format!("{path} is not valid JSON: {e}"), "fix the JSON syntax at that line and column");
                return None;
            }
        };
        let violations = validate(kind, &value);
        if !violations.is_empty() {
            let schema = format!("schemas/json/{}", kind.schema_file());
            for v in violations {
                self.problem("schema-violation", path, &v.pointer, v.message, &format!("make the value match {schema}"));
            }
            return None;
        }
        match serde_json::from_value(value) {
            Ok(typed) => Some(typed),
            Err(e) => {
                self.problem("schema-violation", path, "", format!("{path} does not fit its format: {e}"), "compare it with its JSON Schema");
                None
            }
        }
    }
}
