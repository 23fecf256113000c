//! Running `NNN_name.js` migrations: Node with node-appwrite's `Databases` bound to the target,
//! through the runner script in `studio/js`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::appwrite::Connection;

/// Where the runner lives: `$QW_JS_RUNNER_DIR`, else `studio/js` of the source tree `qw` was
/// built from (its `node_modules` come from `scripts/setup.sh`).
pub fn runner_dir() -> PathBuf {
    std::env::var_os("QW_JS_RUNNER_DIR").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("js"))
}

#[derive(Deserialize)]
struct Report {
    ok: bool,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

/// Runs `direction` (`up` or `down`) of the migration at `file` against `conn` and `database`.
pub fn run(file: &Path, direction: &str, conn: &Connection, database: &str) -> Result<(), String> {
    let dir = runner_dir();
    let script = dir.join("run-migration.mjs");
    if !dir.join("node_modules/node-appwrite").is_dir() {
        return Err(format!("the JS migration runner in {} has no node_modules/node-appwrite: run scripts/setup.sh (npm ci there)", dir.display()));
    }
    let output = Command::new(std::env::var("QW_NODE").unwrap_or_else(|_| "node".into()))
        .arg(&script)
        .arg(file)
        .arg(direction)
        .env("QW_ENDPOINT", &conn.endpoint)
        .env("QW_PROJECT", &conn.project)
        .env("QW_API_KEY", &conn.api_key)
        .env("QW_DATABASE_ID", database)
        .output()
        .map_err(|e| format!("cannot start node (needed for JS migrations): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = stdout.lines().rev().find_map(|l| serde_json::from_str::<Report>(l).ok());
    match report {
        Some(r) if r.ok && output.status.success() => Ok(()),
        Some(r) => {
            let mut m = r.message.unwrap_or_else(|| "failed".into());
            if let Some(t) = r.kind.filter(|t| !t.is_empty()) {
                m = format!("{m} ({} {t})", r.code.map(|c| c.to_string()).unwrap_or_default());
            }
            Err(m)
        }
        None => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(format!("node exited with {} and no report: {}", output.status, stderr.trim().lines().last().unwrap_or_default()))
        }
    }
}
