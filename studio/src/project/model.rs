//! The typed shapes of the project's files; each mirrors a JSON Schema in `schemas/json/`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `environments/ENV/appwrite.json`: the Appwrite CLI project file plus the endpoint.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct AppwriteFile {
    #[serde(rename = "projectId")]
    pub project_id: String,
    #[serde(rename = "projectName", default)]
    pub project_name: Option<String>,
    pub endpoint: String,
    #[serde(default)]
    pub databases: Vec<Database>,
    #[serde(default)]
    pub collections: Vec<Collection>,
    #[serde(default)]
    pub buckets: Vec<Bucket>,
    #[serde(default)]
    pub functions: Vec<FunctionEntry>,
}

/// A database entry of `appwrite.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Database {
    #[serde(rename = "$id")]
    pub id: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// A collection entry of `appwrite.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Collection {
    #[serde(rename = "$id")]
    pub id: String,
    #[serde(rename = "$permissions", default)]
    pub permissions: Vec<String>,
    #[serde(rename = "databaseId")]
    pub database_id: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(rename = "documentSecurity", default)]
    pub document_security: bool,
    pub attributes: Vec<Value>,
    pub indexes: Vec<Value>,
}

/// A bucket entry of `appwrite.json`, kept as raw settings so drift compares every field.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Bucket {
    #[serde(rename = "$id")]
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub settings: BTreeMap<String, Value>,
}

/// A function entry of `appwrite.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct FunctionEntry {
    #[serde(rename = "$id")]
    pub id: String,
    pub name: String,
    pub runtime: String,
    #[serde(default)]
    pub specification: Option<String>,
    #[serde(default)]
    pub execute: Vec<String>,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub schedule: String,
    #[serde(default = "default_timeout")]
    pub timeout: u32,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "yes")]
    pub logging: bool,
    pub entrypoint: String,
    pub commands: String,
    pub path: String,
    #[serde(default)]
    pub vars: Vec<FunctionVar>,
}

/// One function-specific variable of `appwrite.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct FunctionVar {
    pub key: String,
    pub value: Value,
}

/// `environments/ENV/variables.json`: the environment layer and its secret sources.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct EnvironmentVariables {
    #[serde(default)]
    pub variables: BTreeMap<String, Value>,
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretSource>,
}

/// Where one secret is read from; unset fields take the defaults.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct SecretSource {
    #[serde(default)]
    pub env: Option<String>,
    #[serde(default)]
    pub keychain: Option<String>,
}

/// `templates/shared-variables.json`: the variable catalogue.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct SharedVariables {
    pub shared: BTreeMap<String, SharedVariable>,
    pub environment_specific: BTreeMap<String, BTreeMap<String, Value>>,
}

/// One declared variable.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct SharedVariable {
    #[serde(default)]
    pub value: Option<Value>,
    pub secret: bool,
    pub description: String,
}

/// `functions/NAME/function.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct FunctionManifest {
    pub id: String,
    pub name: String,
    pub description: String,
    pub runtime: String,
    pub entrypoint: String,
    pub commands: String,
    #[serde(default)]
    pub requirements: Option<String>,
    #[serde(default)]
    pub timeout: Option<u32>,
    #[serde(default)]
    pub specification: Option<String>,
    #[serde(default)]
    pub execute: Option<Vec<String>>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub schedule: Option<String>,
}

/// `functions/NAME/dependencies.json`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Dependencies {
    pub depends_on: Vec<String>,
    pub depended_by: Vec<String>,
    pub api_routes: Vec<String>,
    pub required_variables: Vec<String>,
}

/// `functions/api-gateway/routes.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Routes {
    pub default_version: String,
    /// The deprecation policy the versions' dates follow.
    #[serde(default)]
    pub policy: Option<VersionPolicy>,
    #[serde(default)]
    pub versions: BTreeMap<String, Value>,
    /// Where users' scopes come from (`default_scopes`, `label_scopes`).
    #[serde(default)]
    pub access: Option<Access>,
    pub routes: BTreeMap<String, Route>,
}

/// `policy` of `routes.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct VersionPolicy {
    pub deprecation_notice_months: u32,
    pub support_months: u32,
}

/// `access` of `routes.json`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Access {
    #[serde(default)]
    pub default_scopes: Vec<String>,
    #[serde(default)]
    pub label_scopes: BTreeMap<String, Vec<String>>,
}

/// One route of `routes.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Route {
    pub function: String,
    pub method: String,
    pub required_scopes: Vec<String>,
    #[serde(default)]
    pub operation: Option<String>,
}

/// `schemas/collections/NAME.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct CollectionSchema {
    #[serde(rename = "collectionId")]
    pub collection_id: String,
    pub name: String,
    #[serde(rename = "documentSecurity", default)]
    pub document_security: bool,
    #[serde(default)]
    pub permissions: Vec<String>,
    pub attributes: Vec<Value>,
    pub indexes: Vec<Value>,
    pub migration_version: u32,
}

/// `schemas/databases/ID.json`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct DatabaseSchema {
    #[serde(rename = "databaseId")]
    pub database_id: String,
    pub name: String,
    pub environment: String,
    pub collections: Vec<String>,
}

/// `environments/drift-allow.json`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct DriftAllow {
    pub allow: Vec<AllowedDrift>,
}

/// One intended difference between environments.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct AllowedDrift {
    pub path: String,
    pub reason: String,
}

fn yes() -> bool {
    true
}

fn default_timeout() -> u32 {
    15
}

/// A variable value as Appwrite stores it: text.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
