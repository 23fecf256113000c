//! Response models: Function, Deployment, Execution, Variable, Rule — from stored documents,
//! shaped for the client's response format.

use serde_json::{json, Map, Value};

use super::store::{bool_of, i64_of, str_of, Doc};
use crate::format::Format;

fn pick(doc: &Doc, key: &str, default: Value) -> Value {
    doc.get(key).cloned().filter(|v| !v.is_null()).unwrap_or(default)
}

/// The Function model. 1.8 clients (the CLI) get one `specification`; newer ones the two
/// specification fields. `description` and `emailEnabled` are the Python 27 (Cloud) extras.
pub fn function(doc: &Doc, vars: &[Doc], format: Format) -> Value {
    let mut m = Map::new();
    for (k, d) in [("$id", json!("")), ("$createdAt", json!("")), ("$updatedAt", json!("")), ("execute", json!([]))] {
        m.insert(k.into(), pick(doc, k, d));
    }
    m.insert("name".into(), pick(doc, "name", json!("")));
    m.insert("description".into(), pick(doc, "description", json!("")));
    m.insert("enabled".into(), json!(bool_of(doc, "enabled")));
    m.insert("live".into(), json!(bool_of(doc, "live")));
    m.insert("logging".into(), json!(bool_of(doc, "logging")));
    m.insert("runtime".into(), pick(doc, "runtime", json!("")));
    m.insert("deploymentRetention".into(), json!(i64_of(doc, "deploymentRetention")));
    for k in ["deploymentId", "deploymentCreatedAt", "latestDeploymentId", "latestDeploymentCreatedAt", "latestDeploymentStatus"] {
        m.insert(k.into(), pick(doc, k, json!("")));
    }
    m.insert("scopes".into(), pick(doc, "scopes", json!([])));
    m.insert("vars".into(), Value::Array(vars.iter().map(variable).collect()));
    m.insert("events".into(), pick(doc, "events", json!([])));
    m.insert("schedule".into(), pick(doc, "schedule", json!("")));
    m.insert("timeout".into(), json!(i64_of(doc, "timeout")));
    m.insert("entrypoint".into(), pick(doc, "entrypoint", json!("")));
    m.insert("commands".into(), pick(doc, "commands", json!("")));
    m.insert("version".into(), pick(doc, "version", json!("v5")));
    for k in ["installationId", "providerRepositoryId", "providerBranch", "providerRootDirectory"] {
        m.insert(k.into(), pick(doc, k, json!("")));
    }
    m.insert("providerSilentMode".into(), json!(bool_of(doc, "providerSilentMode")));
    m.insert("providerBranches".into(), pick(doc, "providerBranches", json!([])));
    m.insert("providerPaths".into(), pick(doc, "providerPaths", json!([])));
    if format.before_1_9() {
        m.insert("specification".into(), pick(doc, "buildSpecification", json!(super::catalogue::DEFAULT_SPECIFICATION)));
    } else {
        m.insert("buildSpecification".into(), pick(doc, "buildSpecification", json!(super::catalogue::DEFAULT_SPECIFICATION)));
        m.insert("runtimeSpecification".into(), pick(doc, "runtimeSpecification", json!(super::catalogue::DEFAULT_SPECIFICATION)));
    }
    m.insert("emailEnabled".into(), json!(bool_of(doc, "emailEnabled")));
    Value::Object(m)
}

/// The Variable model; a secret's value is `""` (1.9.6 sends null, which Python 27 rejects).
pub fn variable(doc: &Doc) -> Value {
    let secret = bool_of(doc, "secret");
    json!({
        "$id": str_of(doc, "$id"),
        "$createdAt": str_of(doc, "$createdAt"),
        "$updatedAt": str_of(doc, "$updatedAt"),
        "key": str_of(doc, "key"),
        "value": if secret { String::new() } else { str_of(doc, "value") },
        "secret": secret,
        "resourceType": str_of(doc, "resourceType"),
        "resourceId": str_of(doc, "resourceId"),
        "description": str_of(doc, "description"),
    })
}

/// The Deployment model.
pub fn deployment(doc: &Doc) -> Value {
    let mut m = Map::new();
    for k in ["$id", "$createdAt", "$updatedAt", "type", "resourceId", "resourceType", "entrypoint"] {
        m.insert(k.into(), pick(doc, k, json!("")));
    }
    for k in ["sourceSize", "buildSize", "totalSize"] {
        m.insert(k.into(), json!(i64_of(doc, k)));
    }
    m.insert("buildId".into(), pick(doc, "buildId", json!("")));
    m.insert("activate".into(), json!(bool_of(doc, "activate")));
    for k in ["screenshotLight", "screenshotDark", "status", "buildLogs"] {
        m.insert(k.into(), pick(doc, k, json!("")));
    }
    m.insert("buildDuration".into(), json!(i64_of(doc, "buildDuration")));
    for k in [
        "providerRepositoryName",
        "providerRepositoryOwner",
        "providerRepositoryUrl",
        "providerCommitHash",
        "providerCommitAuthorUrl",
        "providerCommitAuthor",
        "providerCommitMessage",
        "providerCommitUrl",
        "providerBranch",
        "providerBranchUrl",
    ] {
        m.insert(k.into(), pick(doc, k, json!("")));
    }
    // Upload progress, for SDKs that watch chunked uploads (not part of Appwrite's model).
    m.insert("chunksTotal".into(), json!(i64_of(doc, "sourceChunksTotal").max(1)));
    m.insert("chunksUploaded".into(), json!(i64_of(doc, "sourceChunksUploaded")));
    Value::Object(m)
}

/// The Execution model. `logs` and `errors` are sensitive: only keys see them. Both
/// `functionId` (1.9 clients) and `resourceId`/`resourceType` (Python 27) are sent.
pub fn execution(doc: &Doc, sensitive: bool) -> Value {
    let function_id = str_of(doc, "functionId");
    json!({
        "$id": str_of(doc, "$id"),
        "$createdAt": str_of(doc, "$createdAt"),
        "$updatedAt": str_of(doc, "$updatedAt"),
        "$permissions": pick(doc, "$permissions", json!([])),
        "functionId": function_id,
        "resourceId": function_id,
        "resourceType": "functions",
        "deploymentId": str_of(doc, "deploymentId"),
        "trigger": str_of(doc, "trigger"),
        "status": str_of(doc, "status"),
        "requestMethod": str_of(doc, "requestMethod"),
        "requestPath": str_of(doc, "requestPath"),
        "requestHeaders": pick(doc, "requestHeaders", json!([])),
        "responseStatusCode": i64_of(doc, "responseStatusCode"),
        "responseBody": str_of(doc, "responseBody"),
        "responseHeaders": pick(doc, "responseHeaders", json!([])),
        "logs": if sensitive { str_of(doc, "logs") } else { String::new() },
        "errors": if sensitive { str_of(doc, "errors") } else { String::new() },
        "duration": doc.get("duration").and_then(Value::as_f64).unwrap_or(0.0),
        "scheduledAt": pick(doc, "scheduledAt", Value::Null),
    })
}

/// The proxy Rule model.
pub fn rule(doc: &Doc) -> Value {
    let mut m = Map::new();
    for k in [
        "$id",
        "$createdAt",
        "$updatedAt",
        "domain",
        "type",
        "trigger",
        "redirectUrl",
        "deploymentId",
        "deploymentResourceType",
        "deploymentResourceId",
        "deploymentVcsProviderBranch",
        "status",
        "logs",
        "renewAt",
    ] {
        m.insert(k.into(), pick(doc, k, json!("")));
    }
    m.insert("redirectStatusCode".into(), json!(i64_of(doc, "redirectStatusCode")));
    Value::Object(m)
}
