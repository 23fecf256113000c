//! `qw collection create`: a collection schema, added to each environment's database.

use serde_json::{json, Value};

use super::{json_text, read_json, FileWrite, Plan, PlanError};
use crate::project::paths;
use crate::project::tree::Tree;
use crate::project::Project;

/// The folder of migrations, whose numbers the new schema's `migration_version` follows.
pub const MIGRATIONS: &str = "migrations";

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub id: String,
    pub name: Option<String>,
}

/// Whether an ID is a valid collection ID here: lowercase snake case, at most 36.
pub fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase()) && id.len() <= 36 && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The migration that will create the collection: one past the newest migration or schema.
pub fn next_migration_version(project: &Project, tree: &dyn Tree) -> u32 {
    let from_files = tree.list(MIGRATIONS).into_iter().filter_map(|(n, _)| n.split('_').next()?.parse::<u32>().ok()).max().unwrap_or(0);
    let from_schemas = project.collections.values().map(|c| c.value.migration_version).max().unwrap_or(0);
    from_files.max(from_schemas) + 1
}

/// The files to write for the request, or why it cannot be done.
pub fn plan(project: &Project, tree: &dyn Tree, request: &Request) -> Result<Plan, PlanError> {
    let id = &request.id;
    if !valid_id(id) {
        return Err(PlanError::Usage(format!("{id:?} is not a valid collection ID: use lowercase letters, digits and underscores, at most 36, starting with a letter")));
    }
    let schema_path = paths::collection(id);
    if project.collections.contains_key(id) || tree.read(&schema_path).ok().flatten().is_some() {
        return Err(PlanError::Conflict(format!("collection {id} already exists")));
    }
    let name = request.name.clone().unwrap_or_else(|| id.split('_').map(|w| w.to_string()).collect::<Vec<_>>().join(" "));
    let version = next_migration_version(project, tree);
    let schema = json!({
        "$schema": "../json/collection.schema.json",
        "collectionId": id,
        "name": name,
        "documentSecurity": true,
        "permissions": [],
        "attributes": [],
        "indexes": [],
        "migration_version": version
    });
    let mut plan = Plan::default();
    plan.writes.push(FileWrite { path: schema_path.clone(), new: true, content: json_text(&schema) });
    for env in project.environments.keys() {
        let databases: Vec<_> = project.databases.values().filter(|d| d.value.environment == *env).collect();
        let [database] = databases.as_slice() else {
            return Err(PlanError::Usage(format!("{env} has {} databases in schemas/databases; cannot choose one for {id}", databases.len())));
        };
        if project.environments[env].appwrite.collections.iter().any(|c| c.id == *id) {
            return Err(PlanError::Conflict(format!("collection {id} is already in {}", paths::appwrite(env))));
        }
        let mut db = read_json(tree, &database.file)?;
        if let Some(list) = db.get_mut("collections").and_then(Value::as_array_mut) {
            list.push(json!(id));
        }
        plan.writes.push(FileWrite { path: database.file.clone(), new: false, content: json_text(&db) });

        let path = paths::appwrite(env);
        let mut app = read_json(tree, &path)?;
        let entry = json!({
            "$id": id,
            "$permissions": [],
            "databaseId": database.value.database_id,
            "name": name,
            "enabled": true,
            "documentSecurity": true,
            "attributes": [],
            "indexes": []
        });
        match app.get_mut("collections").and_then(Value::as_array_mut) {
            Some(list) => list.push(entry),
            None => app["collections"] = json!([entry]),
        }
        plan.writes.push(FileWrite { path, new: false, content: json_text(&app) });
    }
    // The migration that creates it, so schemas/ stay proven by migrations/ (qw migrate check).
    let migration = json!({
        "$schema": "../schemas/json/migration.schema.json",
        "description": format!("create {id}"),
        "up": [{"op": "create_collection", "collection": id, "name": name, "documentSecurity": true, "permissions": [], "attributes": [], "indexes": []}]
    });
    let migration_path = format!("{MIGRATIONS}/{version:03}_create_{id}.json");
    plan.writes.push(FileWrite { path: migration_path.clone(), new: true, content: json_text(&migration) });
    plan.notes.push(format!("add attributes and indexes with new migrations (qw migrate create), then qw schema generate writes {schema_path}; copy them to each environment"));
    Ok(plan)
}
