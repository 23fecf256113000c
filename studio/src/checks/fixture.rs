//! A small valid project in memory, and edits that break it one way at a time.

use serde_json::{json, Value};

use crate::project::tree::MemoryTree;

fn appwrite(env: &str, endpoint: &str) -> Value {
    json!({
        "projectId": "p",
        "endpoint": endpoint,
        "databases": [{"$id": format!("main-{env}"), "name": "Main"}],
        "collections": [{
            "$id": "jobs", "databaseId": format!("main-{env}"), "name": "Jobs", "documentSecurity": true, "$permissions": [],
            "attributes": [{"key": "user_id", "type": "string", "size": 36, "required": true}],
            "indexes": [{"key": "idx_user", "type": "key", "attributes": ["user_id"], "orders": ["ASC"]}]
        }],
        "buckets": [{"$id": "audio", "name": "Audio", "maximumFileSize": 1000}],
        "functions": [
            {"$id": "api-gateway", "name": "Gateway", "runtime": "python-3.12", "entrypoint": "src/main.py", "commands": "pip install -r requirements.txt", "path": "../../functions/api-gateway", "timeout": 15, "vars": []},
            {"$id": "work-v1", "name": "Work", "runtime": "python-3.12", "entrypoint": "src/main.py", "commands": "pip install -r requirements.txt", "path": "../../functions/work-v1", "timeout": 60, "vars": [{"key": "MODE", "value": "fast"}]}
        ]
    })
}

fn function(tree: &mut MemoryTree, name: &str, deps: Value) {
    put(tree, &format!("functions/{name}/function.json"), json!({"id": name, "name": name, "description": "d", "runtime": "python-3.12", "entrypoint": "src/main.py", "commands": "pip install -r requirements.txt"}));
    put(tree, &format!("functions/{name}/dependencies.json"), deps);
    tree.insert(&format!("functions/{name}/requirements.txt"), "");
    tree.insert(&format!("functions/{name}/src/main.py"), "def main(context):\n    return context.res.json({})\n");
}

/// Writes a JSON file into the tree.
pub fn put(tree: &mut MemoryTree, path: &str, value: Value) {
    tree.insert(path, serde_json::to_string_pretty(&value).expect("json"));
}

/// The valid project: environments dev and prod, functions api-gateway → work-v1, one collection.
pub fn valid() -> MemoryTree {
    let mut t = MemoryTree::default();
    put(&mut t, "environments/dev/appwrite.json", appwrite("dev", "http://127.0.0.1:8095/v1"));
    put(&mut t, "environments/prod/appwrite.json", appwrite("prod", "https://appwrite.example.com/v1"));
    put(&mut t, "environments/dev/variables.json", json!({"variables": {}}));
    put(
        &mut t,
        "templates/shared-variables.json",
        json!({
            "shared": {
                "RATE": {"value": "1", "secret": false, "description": "r"},
                "SIZE": {"secret": false, "description": "s"},
                "MODE": {"secret": false, "description": "m"},
                "TOKEN": {"secret": true, "description": "t"}
            },
            "environment_specific": {"dev": {"SIZE": "10"}, "prod": {"SIZE": "25"}}
        }),
    );
    function(&mut t, "api-gateway", json!({"depends_on": ["work-v1"], "depended_by": [], "api_routes": ["/v1/jobs/{id}"], "required_variables": ["RATE"]}));
    function(&mut t, "work-v1", json!({"depends_on": [], "depended_by": ["api-gateway"], "api_routes": ["/v1/work"], "required_variables": ["SIZE", "TOKEN"]}));
    put(
        &mut t,
        "functions/api-gateway/routes.json",
        json!({"default_version": "v1", "routes": {
            "/v1/jobs/{id}": {"function": "api-gateway", "method": "GET", "required_scopes": []},
            "/v1/work": {"function": "work-v1", "method": "POST", "required_scopes": ["work"], "operation": "work"}
        }}),
    );
    put(
        &mut t,
        "schemas/collections/jobs.json",
        json!({"collectionId": "jobs", "name": "Jobs", "documentSecurity": true, "permissions": [], "migration_version": 1,
            "attributes": [{"key": "user_id", "type": "string", "size": 36, "required": true, "array": false}],
            "indexes": [{"key": "idx_user", "type": "key", "attributes": ["user_id"], "orders": ["asc"]}]}),
    );
    for env in ["dev", "prod"] {
        put(&mut t, &format!("schemas/databases/main-{env}.json"), json!({"databaseId": format!("main-{env}"), "name": "Main", "environment": env, "collections": ["jobs"]}));
    }
    t
}

/// Changes the JSON file `path` with `edit`.
pub fn edit(tree: &mut MemoryTree, path: &str, edit: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_str(&tree.files[path]).expect("fixture file is JSON");
    edit(&mut value);
    put(tree, path, value);
}

/// Sets the value at a JSON pointer of the file `path`, creating object members as needed.
pub fn set(tree: &mut MemoryTree, path: &str, ptr: &str, new: Value) {
    edit(tree, path, |v| {
        let (parent, last) = ptr.rsplit_once('/').expect("pointer with a parent");
        let last = last.replace("~1", "/").replace("~0", "~");
        match v.pointer_mut(parent).expect("parent exists") {
            Value::Object(m) => {
                m.insert(last, new);
            }
            Value::Array(a) => {
                let i: usize = last.parse().expect("index");
                if i == a.len() {
                    a.push(new)
                } else {
                    a[i] = new
                }
            }
            _ => panic!("cannot set {ptr}"),
        }
    });
}

/// Removes the value at a JSON pointer of the file `path`.
pub fn remove(tree: &mut MemoryTree, path: &str, ptr: &str) {
    edit(tree, path, |v| {
        let (parent, last) = ptr.rsplit_once('/').expect("pointer with a parent");
        let last = last.replace("~1", "/").replace("~0", "~");
        match v.pointer_mut(parent).expect("parent exists") {
            Value::Object(m) => {
                m.remove(&last);
            }
            Value::Array(a) => {
                a.remove(last.parse::<usize>().expect("index"));
            }
            _ => panic!("cannot remove {ptr}"),
        }
    });
}
