//! The two migration formats in `migrations/`: `NNN_name.json` (declarative steps) and
//! `NNN_name.js` (an ES module run with node-appwrite), read, validated and checksummed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::finding::{Finding, Level};
use crate::project::file_schemas::{validate, FileKind};
use crate::project::tree::Tree;

/// The folder of migrations, relative to the project root.
pub const FOLDER: &str = "migrations";
/// The finding family of migration problems (shared with `qw validate`'s slot).
pub const FAMILY: &str = crate::checks::migrations::FAMILY;

/// One migration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// The number in front of the name.
    pub version: u32,
    /// The part after the number, without extension.
    pub name: String,
    /// `migrations/NNN_name.ext`.
    pub file: String,
    /// SHA-256 of the file with line endings normalised, hex.
    pub checksum: String,
    pub body: Body,
}

/// What a migration does.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Declarative steps.
    Steps(StepsFile),
    /// A JavaScript module `export default { up, down }`; its source.
    Script(String),
}

impl Migration {
    /// `json` or `js`.
    pub fn kind(&self) -> &'static str {
        match self.body {
            Body::Steps(_) => "json",
            Body::Script(_) => "js",
        }
    }

    /// `NNN_name`.
    pub fn label(&self) -> String {
        format!("{:03}_{}", self.version, self.name)
    }

    /// The declarative steps of `up`, empty for a script.
    pub fn up_steps(&self) -> &[Step] {
        match &self.body {
            Body::Steps(f) => &f.up,
            Body::Script(_) => &[],
        }
    }
}

/// The content of `NNN_name.json`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct StepsFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub up: Vec<Step>,
    /// Written by hand; `None` means derived from `up`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<Vec<Step>>,
}

/// One step of a declarative migration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub op: Op,
}

/// The settings a step changes or records, as Appwrite names them.
pub type Settings = Map<String, Value>;

/// What a step does. Table/column/row spellings are accepted for every collection step.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateDatabase {
        database: String,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enabled: Option<bool>,
    },
    UpdateDatabase {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        set: Settings,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Settings>,
    },
    DeleteDatabase {
        database: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        definition: Option<Settings>,
    },
    #[serde(alias = "create_table")]
    CreateCollection {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        #[serde(flatten)]
        definition: Settings,
    },
    #[serde(alias = "update_table")]
    UpdateCollection {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        set: Settings,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Settings>,
    },
    #[serde(alias = "delete_table")]
    DeleteCollection {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        definition: Option<Settings>,
    },
    #[serde(alias = "create_column")]
    CreateAttribute {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        #[serde(alias = "column")]
        attribute: Settings,
    },
    #[serde(alias = "update_column")]
    UpdateAttribute {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        key: String,
        set: Settings,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Settings>,
    },
    #[serde(alias = "delete_column")]
    DeleteAttribute {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        definition: Option<Settings>,
    },
    CreateIndex {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        index: Settings,
    },
    DeleteIndex {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        definition: Option<Settings>,
    },
    CreateBucket {
        bucket: String,
        #[serde(flatten)]
        settings: Settings,
    },
    UpdateBucket {
        bucket: String,
        set: Settings,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Settings>,
    },
    DeleteBucket {
        bucket: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        definition: Option<Settings>,
    },
    #[serde(alias = "update_rows")]
    UpdateDocuments {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        #[serde(default)]
        queries: Vec<Value>,
        patch: Settings,
    },
    #[serde(alias = "delete_rows")]
    DeleteDocuments {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        #[serde(default)]
        queries: Vec<Value>,
    },
    #[serde(alias = "copy_column")]
    CopyAttribute {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        from: String,
        to: String,
        #[serde(default)]
        queries: Vec<Value>,
    },
    #[serde(alias = "transform_column")]
    TransformAttribute {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(alias = "table")]
        collection: String,
        from: String,
        to: String,
        #[serde(default)]
        queries: Vec<Value>,
        transform: Settings,
    },
}

impl Op {
    /// The step's name as written in files.
    pub fn name(&self) -> &'static str {
        match self {
            Op::CreateDatabase { .. } => "create_database",
            Op::UpdateDatabase { .. } => "update_database",
            Op::DeleteDatabase { .. } => "delete_database",
            Op::CreateCollection { .. } => "create_collection",
            Op::UpdateCollection { .. } => "update_collection",
            Op::DeleteCollection { .. } => "delete_collection",
            Op::CreateAttribute { .. } => "create_attribute",
            Op::UpdateAttribute { .. } => "update_attribute",
            Op::DeleteAttribute { .. } => "delete_attribute",
            Op::CreateIndex { .. } => "create_index",
            Op::DeleteIndex { .. } => "delete_index",
            Op::CreateBucket { .. } => "create_bucket",
            Op::UpdateBucket { .. } => "update_bucket",
            Op::DeleteBucket { .. } => "delete_bucket",
            Op::UpdateDocuments { .. } => "update_documents",
            Op::DeleteDocuments { .. } => "delete_documents",
            Op::CopyAttribute { .. } => "copy_attribute",
            Op::TransformAttribute { .. } => "transform_attribute",
        }
    }

    /// The collection the step acts on, if any.
    pub fn collection(&self) -> Option<&str> {
        match self {
            Op::CreateCollection { collection, .. }
            | Op::UpdateCollection { collection, .. }
            | Op::DeleteCollection { collection, .. }
            | Op::CreateAttribute { collection, .. }
            | Op::UpdateAttribute { collection, .. }
            | Op::DeleteAttribute { collection, .. }
            | Op::CreateIndex { collection, .. }
            | Op::DeleteIndex { collection, .. }
            | Op::UpdateDocuments { collection, .. }
            | Op::DeleteDocuments { collection, .. }
            | Op::CopyAttribute { collection, .. }
            | Op::TransformAttribute { collection, .. } => Some(collection),
            _ => None,
        }
    }

    /// The database the step names explicitly (`None`: the environment's).
    pub fn database(&self) -> Option<&str> {
        match self {
            Op::CreateDatabase { database, .. } | Op::DeleteDatabase { database, .. } => Some(database),
            Op::UpdateDatabase { database, .. }
            | Op::CreateCollection { database, .. }
            | Op::UpdateCollection { database, .. }
            | Op::DeleteCollection { database, .. }
            | Op::CreateAttribute { database, .. }
            | Op::UpdateAttribute { database, .. }
            | Op::DeleteAttribute { database, .. }
            | Op::CreateIndex { database, .. }
            | Op::DeleteIndex { database, .. }
            | Op::UpdateDocuments { database, .. }
            | Op::DeleteDocuments { database, .. }
            | Op::CopyAttribute { database, .. }
            | Op::TransformAttribute { database, .. } => database.as_deref(),
            _ => None,
        }
    }

    /// One line saying what the step does, for plans and progress.
    pub fn summary(&self) -> String {
        let db = |d: &Option<String>| d.as_ref().map(|d| format!(" in database {d}")).unwrap_or_default();
        let key_of = |m: &Settings| m.get("key").and_then(Value::as_str).unwrap_or("?").to_string();
        match self {
            Op::CreateDatabase { database, .. } => format!("create database {database}"),
            Op::UpdateDatabase { database, set, .. } => format!("update database{} ({})", database.as_ref().map(|d| format!(" {d}")).unwrap_or_default(), keys(set)),
            Op::DeleteDatabase { database, .. } => format!("delete database {database}"),
            Op::CreateCollection { database, collection, .. } => format!("create collection {collection}{}", db(database)),
            Op::UpdateCollection { database, collection, set, .. } => format!("update collection {collection}{} ({})", db(database), keys(set)),
            Op::DeleteCollection { database, collection, .. } => format!("delete collection {collection}{}", db(database)),
            Op::CreateAttribute { collection, attribute, .. } => format!("create attribute {collection}.{}", key_of(attribute)),
            Op::UpdateAttribute { collection, key, set, .. } => format!("update attribute {collection}.{key} ({})", keys(set)),
            Op::DeleteAttribute { collection, key, .. } => format!("delete attribute {collection}.{key}"),
            Op::CreateIndex { collection, index, .. } => format!("create index {collection}.{}", key_of(index)),
            Op::DeleteIndex { collection, key, .. } => format!("delete index {collection}.{key}"),
            Op::CreateBucket { bucket, .. } => format!("create bucket {bucket}"),
            Op::UpdateBucket { bucket, set, .. } => format!("update bucket {bucket} ({})", keys(set)),
            Op::DeleteBucket { bucket, .. } => format!("delete bucket {bucket}"),
            Op::UpdateDocuments { collection, queries, patch, .. } => format!("update documents of {collection}{} ({})", matching(queries), keys(patch)),
            Op::DeleteDocuments { collection, queries, .. } => format!("delete documents of {collection}{}", matching(queries)),
            Op::CopyAttribute { collection, from, to, queries, .. } => format!("copy {collection}.{from} into {to}{}", matching(queries)),
            Op::TransformAttribute { collection, from, to, queries, .. } => format!("transform {collection}.{from} into {to}{}", matching(queries)),
        }
    }
}

fn keys(m: &Settings) -> String {
    m.keys().cloned().collect::<Vec<_>>().join(", ")
}

fn matching(queries: &[Value]) -> String {
    if queries.is_empty() {
        String::new()
    } else {
        format!(" matching {} quer{}", queries.len(), if queries.len() == 1 { "y" } else { "ies" })
    }
}

/// The checksum of a migration file: SHA-256 of its text with CRLF turned into LF, so a checkout
/// on another system does not look like an edit.
pub fn checksum(text: &str) -> String {
    hex::encode(Sha256::digest(text.replace("\r\n", "\n").as_bytes()))
}

/// `(version, name, extension)` of a file name `NNN_name.ext`, or `None` when it is not one.
pub fn parse_file_name(file: &str) -> Option<(u32, String, &str)> {
    let (stem, ext) = file.rsplit_once('.')?;
    if ext != "json" && ext != "js" {
        return None;
    }
    let (number, name) = stem.split_once('_')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return None;
    }
    Some((number.parse().ok()?, name.to_string(), ext))
}

/// Every migration of the project, ordered by version, or the problems that stop them being read.
pub fn load(tree: &dyn Tree) -> Result<Vec<Migration>, Vec<Finding>> {
    let mut problems = Vec::new();
    let mut out: Vec<Migration> = Vec::new();
    for (file, is_dir) in tree.list(FOLDER) {
        if is_dir || file.starts_with('.') {
            continue;
        }
        let path = format!("{FOLDER}/{file}");
        let Some((version, name, ext)) = parse_file_name(&file) else {
            if file.ends_with(".json") || file.ends_with(".js") {
                problems.push(problem("migration-file-name", &path, "", format!("{file} is not named NNN_name.json or NNN_name.js (a number, an underscore, lowercase snake_case)"), "rename it, e.g. 004_add_api_keys.json"));
            }
            continue;
        };
        let text = match tree.read(&path) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                problems.push(problem("unreadable-file", &path, "", format!("cannot read {path}: {e}"), "make it a readable UTF-8 file"));
                continue;
            }
        };
        if let Some(other) = out.iter().find(|m| m.version == version) {
            problems.push(problem("migration-version-duplicate", &path, "", format!("{file} has the same number {version} as {}", other.file), "give each migration its own number"));
            continue;
        }
        let body = if ext == "js" {
            if !text.contains("export default") {
                problems.push(problem("migration-js-shape", &path, "", format!("{file} has no `export default {{ up, down }}`"), "export default { up: async (databases) => {…}, down: async (databases) => {…} }"));
                continue;
            }
            Body::Script(text.clone())
        } else {
            match parse_steps(&text) {
                Ok(f) => Body::Steps(f),
                Err(found) => {
                    problems.extend(found.into_iter().map(|(pointer, message)| problem("migration-invalid", &path, &pointer, message, "make it match schemas/json/migration.schema.json")));
                    continue;
                }
            }
        };
        out.push(Migration { version, name, file: path, checksum: checksum(&text), body });
    }
    out.sort_by_key(|m| m.version);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Parses and validates the text of a `.json` migration: `(JSON pointer, message)` per problem.
pub fn parse_steps(text: &str) -> Result<StepsFile, Vec<(String, String)>> {
    let value: Value = serde_json::from_str(text).map_err(|e| vec![(String::new(), format!("not valid JSON: {e}"))])?;
    let violations = validate(FileKind::Migration, &value);
    if !violations.is_empty() {
        return Err(violations.into_iter().map(|v| (v.pointer, v.message)).collect());
    }
    serde_json::from_value(value).map_err(|e| vec![(String::new(), format!("does not fit the migration format: {e}"))])
}

fn problem(code: &str, file: &str, pointer: &str, message: impl Into<String>, hint: &str) -> Finding {
    Finding::new(Level::Error, FAMILY, code, file, pointer, message).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::tree::MemoryTree;

    #[test]
    fn file_names() {
        let cases: &[(&str, Option<(u32, &str, &str)>)] = &[
            ("001_initial_schema.json", Some((1, "initial_schema", "json"))),
            ("12_add_x.js", Some((12, "add_x", "js"))),
            ("001_Initial.json", None),
            ("001-initial.json", None),
            ("_initial.json", None),
            ("001_.json", None),
            ("001_x.yaml", None),
            ("README.md", None),
        ];
        for (file, expected) in cases {
            let got = parse_file_name(file).map(|(v, n, e)| (v, n, e.to_string()));
            assert_eq!(got, expected.map(|(v, n, e)| (v, n.to_string(), e.to_string())), "{file}");
        }
    }

    #[test]
    fn checksum_ignores_line_endings_only() {
        assert_eq!(checksum("a\r\nb\n"), checksum("a\nb\n"));
        assert_ne!(checksum("a\nb\n"), checksum("a\nb \n"));
        assert_eq!(checksum("").len(), 64);
    }

    #[test]
    fn table_and_column_spellings_read_as_collection_and_attribute() {
        let f = parse_steps(r#"{"up": [{"op": "create_table", "table": "t", "name": "T"},
            {"op": "create_column", "table": "t", "column": {"key": "n", "type": "integer", "required": false}},
            {"op": "delete_rows", "table": "t", "queries": [{"method": "isNull", "attribute": "n"}]}]}"#)
        .unwrap();
        assert!(matches!(&f.up[0].op, Op::CreateCollection { collection, .. } if collection == "t"));
        assert!(matches!(&f.up[1].op, Op::CreateAttribute { attribute, .. } if attribute["key"] == "n"));
        assert!(matches!(&f.up[2].op, Op::DeleteDocuments { queries, .. } if queries.len() == 1));
    }

    #[test]
    fn invalid_steps_are_reported_with_their_pointer() {
        let cases: &[(&str, &str)] = &[
            (r#"{"up": [{"op": "create_attribute", "collection": "c"}]}"#, "/up/0"),
            (r#"{"up": [{"op": "create_collection", "collection": "c"}]}"#, "/up/0"),
            (r#"{"up": [{"op": "drop_everything"}]}"#, "/up/0/op"),
            (r#"{"up": [{"op": "update_attribute", "collection": "c", "key": "k", "set": {"size": 0}}]}"#, "/up/0/set/size"),
            (r#"{"up": [{"op": "transform_attribute", "collection": "c", "from": "a", "to": "b", "transform": {"multiply": 2, "add": 1}}]}"#, "/up/0/transform"),
            (r#"{"up": [{"op": "create_bucket", "bucket": "b", "name": "B", "colour": "red"}]}"#, "/up/0"),
            (r#"{"up": [], "sideways": []}"#, ""),
        ];
        for (text, pointer) in cases {
            let problems = parse_steps(text).expect_err(text);
            assert!(problems.iter().any(|(p, _)| p == pointer), "{text}: {problems:?}");
        }
    }

    #[test]
    fn load_orders_by_number_and_reports_bad_files() {
        let mut tree = MemoryTree::default();
        tree.insert("migrations/010_b.json", r#"{"up": []}"#);
        tree.insert("migrations/002_a.js", "export default { up: async () => {}, down: async () => {} }");
        tree.insert("migrations/README.md", "notes");
        let found = load(&tree).unwrap();
        assert_eq!(found.iter().map(|m| (m.version, m.kind())).collect::<Vec<_>>(), [(2, "js"), (10, "json")]);

        tree.insert("migrations/010_c.json", r#"{"up": []}"#);
        tree.insert("migrations/Bad.json", "{}");
        tree.insert("migrations/003_d.js", "module.exports = {}");
        let codes: Vec<String> = load(&tree).unwrap_err().into_iter().map(|f| f.code).collect();
        assert_eq!(codes, ["migration-js-shape", "migration-version-duplicate", "migration-file-name"]);
    }
}
