//! `qw schema generate`: writes `schemas/collections` and the collection lists of
//! `schemas/databases` from a replay of the migrations.

use serde_json::{json, Map, Value};

use super::check::Replay;
use super::format::{Migration, Op};
use super::snapshot::file_attribute;
use crate::project::paths;
use crate::project::tree::Tree;
use crate::project::Project;
use crate::scaffold::{json_text, FileWrite, Plan};

/// The files to write (and delete) so that `schemas/` describes the replays.
pub fn plan(project: &Project, tree: &dyn Tree, replays: &[Replay], migrations: &[Migration]) -> (Plan, Vec<String>) {
    let mut plan = Plan::default();
    let mut produced = Vec::new();
    let mut written = std::collections::BTreeSet::new();
    for replay in replays {
        let Some(db) = replay.schema.databases.get(&replay.database.id) else { continue };
        for (id, c) in &db.collections {
            produced.push(id.clone());
            if !written.insert(id.clone()) {
                continue;
            }
            let existing = project.collections.get(id);
            let description = existing.and_then(|e| existing_description(tree, &e.file)).or_else(|| created_description(migrations, id));
            let mut doc = Map::new();
            doc.insert("$schema".into(), json!("../json/collection.schema.json"));
            doc.insert("collectionId".into(), json!(id));
            doc.insert("name".into(), json!(c.name));
            if let Some(d) = description {
                doc.insert("description".into(), json!(d));
            }
            doc.insert("documentSecurity".into(), json!(c.document_security));
            doc.insert("permissions".into(), json!(c.permissions));
            doc.insert("attributes".into(), Value::Array(c.attributes.iter().map(file_attribute).collect()));
            doc.insert("indexes".into(), Value::Array(c.indexes.clone()));
            doc.insert("migration_version".into(), json!(replay.versions.get(&(replay.database.id.clone(), id.clone())).copied().unwrap_or(0)));
            let path = existing.map(|e| e.file.clone()).unwrap_or_else(|| paths::collection(id));
            plan.writes.push(FileWrite { path, new: false, content: json_text(&Value::Object(doc)) });
        }
        let schema_file = project.databases.get(&replay.database.id).map(|d| d.file.clone()).unwrap_or_else(|| paths::database(&replay.database.id));
        let mut doc = project
            .databases
            .get(&replay.database.id)
            .and_then(|d| serde_json::to_value(&d.value).ok())
            .unwrap_or_else(|| json!({"databaseId": replay.database.id, "name": db.name, "environment": replay.environment}));
        let mut out = Map::new();
        out.insert("$schema".into(), json!("../json/database.schema.json"));
        if let Value::Object(m) = &mut doc {
            m.insert("collections".into(), json!(db.collections.keys().collect::<Vec<_>>()));
            out.extend(m.clone());
        }
        plan.writes.push(FileWrite { path: schema_file, new: false, content: json_text(&Value::Object(out)) });
    }
    let stale: Vec<String> = project.collections.iter().filter(|(id, _)| !produced.contains(id)).map(|(_, s)| s.file.clone()).collect();
    for s in &stale {
        plan.notes.push(format!("{s} describes a collection no migration creates: it is removed"));
    }
    (plan, stale)
}

/// The `description` of a schema file, which the server does not keep and so must be carried over.
fn existing_description(tree: &dyn Tree, file: &str) -> Option<String> {
    let text = tree.read(file).ok()??;
    serde_json::from_str::<Value>(&text).ok()?.get("description")?.as_str().map(str::to_string)
}

fn created_description(migrations: &[Migration], id: &str) -> Option<String> {
    migrations.iter().flat_map(|m| m.up_steps()).find_map(|s| match &s.op {
        Op::CreateCollection { collection, .. } if collection == id => s.description.clone(),
        _ => None,
    })
}
