//! The JSON Schemas of `schemas/json/`, compiled into the binary, and validation against them.

use std::sync::OnceLock;

use jsonschema::{Retrieve, Uri, Validator};
use serde_json::Value;

/// The kinds of project file, each with its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Appwrite,
    EnvironmentVariables,
    SharedVariables,
    Dependencies,
    Function,
    Routes,
    Collection,
    Database,
    DriftAllow,
    Migration,
}

impl FileKind {
    /// Every kind, for building all validators.
    pub const ALL: [FileKind; 10] = [
        FileKind::Appwrite,
        FileKind::EnvironmentVariables,
        FileKind::SharedVariables,
        FileKind::Dependencies,
        FileKind::Function,
        FileKind::Routes,
        FileKind::Collection,
        FileKind::Database,
        FileKind::DriftAllow,
        FileKind::Migration,
    ];

    /// The schema's file name under `schemas/json/`.
    pub fn schema_file(self) -> &'static str {
        match self {
            FileKind::Appwrite => "appwrite.schema.json",
            FileKind::EnvironmentVariables => "variables.schema.json",
            FileKind::SharedVariables => "shared-variables.schema.json",
            FileKind::Dependencies => "dependencies.schema.json",
            FileKind::Function => "function.schema.json",
            FileKind::Routes => "routes.schema.json",
            FileKind::Collection => "collection.schema.json",
            FileKind::Database => "database.schema.json",
            FileKind::DriftAllow => "drift-allow.schema.json",
            FileKind::Migration => "migration.schema.json",
        }
    }

    /// The schema's text.
    pub fn schema_text(self) -> &'static str {
        match self {
            FileKind::Appwrite => include_str!("../../../schemas/json/appwrite.schema.json"),
            FileKind::EnvironmentVariables => include_str!("../../../schemas/json/variables.schema.json"),
            FileKind::SharedVariables => include_str!("../../../schemas/json/shared-variables.schema.json"),
            FileKind::Dependencies => include_str!("../../../schemas/json/dependencies.schema.json"),
            FileKind::Function => include_str!("../../../schemas/json/function.schema.json"),
            FileKind::Routes => include_str!("../../../schemas/json/routes.schema.json"),
            FileKind::Collection => include_str!("../../../schemas/json/collection.schema.json"),
            FileKind::Database => include_str!("../../../schemas/json/database.schema.json"),
            FileKind::DriftAllow => include_str!("../../../schemas/json/drift-allow.schema.json"),
            FileKind::Migration => include_str!("../../../schemas/json/migration.schema.json"),
        }
    }

    fn index(self) -> usize {
        FileKind::ALL.iter().position(|k| *k == self).expect("listed kind")
    }
}

const DEFINITIONS: &str = include_str!("../../../schemas/json/definitions.schema.json");

/// Serves `definitions.schema.json` to `$ref`s without touching the disk or the network.
struct Embedded;

impl Retrieve for Embedded {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.path().as_str().ends_with("/definitions.schema.json") {
            Ok(serde_json::from_str(DEFINITIONS)?)
        } else {
            Err(format!("unknown schema {uri}").into())
        }
    }
}

fn validators() -> &'static Vec<Validator> {
    static VALIDATORS: OnceLock<Vec<Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        FileKind::ALL
            .iter()
            .map(|kind| {
                let schema: Value = serde_json::from_str(kind.schema_text()).expect("embedded schema is JSON");
                jsonschema::options()
                    .with_retriever(Embedded)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("embedded schema {} is invalid: {e}", kind.schema_file()))
            })
            .collect()
    })
}

/// One place where a document breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

/// Every violation of the kind's schema in the document, in document order.
pub fn validate(kind: FileKind, document: &Value) -> Vec<Violation> {
    let mut out: Vec<Violation> = validators()[kind.index()]
        .iter_errors(document)
        .map(|e| Violation { pointer: e.instance_path().as_str().to_string(), message: e.to_string() })
        .collect();
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer).then(a.message.cmp(&b.message)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_embedded_schema_compiles() {
        assert_eq!(validators().len(), FileKind::ALL.len());
    }

    #[test]
    fn reports_the_pointer_of_a_violation() {
        let doc = json!({"depends_on": ["Bad Name"], "depended_by": [], "api_routes": [], "required_variables": []});
        let v = validate(FileKind::Dependencies, &doc);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].pointer, "/depends_on/0");
    }

    #[test]
    fn a_required_attribute_cannot_have_a_default() {
        let doc = json!({"collectionId": "c", "name": "C", "migration_version": 1, "indexes": [],
            "attributes": [{"key": "n", "type": "integer", "required": true, "default": 3}]});
        let v = validate(FileKind::Collection, &doc);
        assert!(v.iter().any(|v| v.pointer == "/attributes/0/default"), "{v:?}");
    }

    #[test]
    fn a_string_attribute_needs_a_size_unless_formatted() {
        let sized = json!({"collectionId": "c", "name": "C", "migration_version": 1, "indexes": [],
            "attributes": [{"key": "s", "type": "string", "required": true},
                           {"key": "e", "type": "string", "format": "email", "required": true}]});
        let v = validate(FileKind::Collection, &sized);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].pointer, "/attributes/0");
    }
}
