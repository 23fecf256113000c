//! The runtime catalogue (Appwrite's runtime IDs) and compute specifications, and which runtimes
//! this machine can actually run.
//!
//! Decision: `GET /functions/runtimes` lists only the runtimes whose interpreter is installed
//! here (as an Appwrite server lists only `_APP_FUNCTIONS_RUNTIMES`), every ID of the catalogue is
//! accepted by the `runtime` validator, and creating a function on a catalogue runtime that is not
//! installed answers `function_runtime_unsupported` exactly as Appwrite does for a runtime outside
//! its allow-list. So an `appwrite.json` written for production validates the same way, and a
//! developer learns at create time, not at the first execution, that this machine lacks Python 3.12.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{json, Value};

/// Every runtime ID Appwrite knows (1.9.6 plus the ones the Python 27 SDK's enum adds).
pub const RUNTIME_IDS: &[&str] = &[
    "node-14.5", "node-16.0", "node-18.0", "node-19.0", "node-20.0", "node-21.0", "node-22", "node-23", "node-24",
    "node-25", "node-26", "php-8.0", "php-8.1", "php-8.2", "php-8.3", "php-8.4", "ruby-3.0", "ruby-3.1", "ruby-3.2",
    "ruby-3.3", "ruby-3.4", "ruby-4.0", "python-3.8", "python-3.9", "python-3.10", "python-3.11", "python-3.12",
    "python-3.13", "python-3.14", "python-ml-3.11", "python-ml-3.12", "python-ml-3.13", "deno-1.40", "deno-1.46",
    "deno-2.0", "deno-2.5", "deno-2.6", "dart-2.15", "dart-2.16", "dart-2.17", "dart-2.18", "dart-2.19", "dart-3.0",
    "dart-3.1", "dart-3.3", "dart-3.5", "dart-3.8", "dart-3.9", "dart-3.10", "dart-3.11", "dart-3.12", "dart-3.13",
    "dotnet-6.0", "dotnet-7.0", "dotnet-8.0", "dotnet-10", "java-8.0", "java-11.0", "java-17.0", "java-18.0",
    "java-21.0", "java-22", "java-25", "swift-5.5", "swift-5.8", "swift-5.9", "swift-5.10", "swift-6.2", "kotlin-1.6",
    "kotlin-1.8", "kotlin-1.9", "kotlin-2.0", "kotlin-2.3", "cpp-17", "cpp-20", "bun-1.0", "bun-1.1", "bun-1.2",
    "bun-1.3", "bun-1.4", "go-1.23", "go-1.24", "go-1.25", "go-1.26", "rust-1.83", "static-1", "flutter-3.24",
    "flutter-3.27", "flutter-3.29", "flutter-3.32", "flutter-3.35", "flutter-3.38", "flutter-3.41", "flutter-3.44",
    "flutter-3.47",
];

/// Compute specifications: (slug, cpus, memory MB).
pub const SPECIFICATIONS: &[(&str, f64, i64)] = &[
    ("s-0.5vcpu-512mb", 0.5, 512),
    ("s-1vcpu-512mb", 1.0, 512),
    ("s-1vcpu-1gb", 1.0, 1024),
    ("s-2vcpu-2gb", 2.0, 2048),
    ("s-2vcpu-4gb", 2.0, 4096),
    ("s-4vcpu-4gb", 4.0, 4096),
    ("s-4vcpu-8gb", 4.0, 8192),
    ("s-8vcpu-4gb", 8.0, 4096),
    ("s-8vcpu-8gb", 8.0, 8192),
];

/// `APP_COMPUTE_SPECIFICATION_DEFAULT`.
pub const DEFAULT_SPECIFICATION: &str = "s-1vcpu-512mb";

/// The language family of a runtime, which decides the harness and the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    Node,
}

/// A runtime this machine can run: its ID and the interpreter that runs it.
#[derive(Debug, Clone)]
pub struct Installed {
    pub id: String,
    pub language: Language,
    pub interpreter: PathBuf,
}

/// `python`, `node`, … and the version part of a runtime ID (`python-ml-3.11` → `python-ml`, `3.11`).
pub fn split_id(id: &str) -> (&str, &str) {
    match id.rfind('-') {
        Some(i) => (&id[..i], &id[i + 1..]),
        None => (id, ""),
    }
}

/// Appwrite's display name of a runtime family.
fn display_name(key: &str) -> &'static str {
    match key {
        "node" => "Node.js",
        "python" => "Python",
        "python-ml" => "Python (ML)",
        "deno" => "Deno",
        "bun" => "Bun",
        "php" => "PHP",
        "ruby" => "Ruby",
        "dart" => "Dart",
        "dotnet" => ".NET",
        "java" => "Java",
        "swift" => "Swift",
        "kotlin" => "Kotlin",
        "cpp" => "C++",
        "go" => "Go",
        "rust" => "Rust",
        "flutter" => "Flutter",
        "static" => "Static",
        _ => "Unknown",
    }
}

/// The runtime model (`Response\Model\Runtime`).
pub fn runtime_model(id: &str) -> Value {
    let (key, version) = split_id(id);
    json!({
        "$id": id,
        "key": key,
        "name": display_name(key),
        "version": version,
        "base": format!("openruntimes/{key}:v5-{version}"),
        "image": format!("openruntimes/{key}:v5-{version}"),
        "logo": format!("{key}.png"),
        "supports": ["amd64", "arm64"],
    })
}

/// The runtimes installed here, probed once (interpreters found on PATH).
pub fn installed() -> &'static BTreeMap<String, Installed> {
    static INSTALLED: OnceLock<BTreeMap<String, Installed>> = OnceLock::new();
    INSTALLED.get_or_init(probe)
}

/// The installed runtime `id`, if any.
pub fn find(id: &str) -> Option<&'static Installed> {
    installed().get(id)
}

fn probe() -> BTreeMap<String, Installed> {
    let mut found = BTreeMap::new();
    let mut candidates: Vec<String> = RUNTIME_IDS
        .iter()
        .filter_map(|id| id.strip_prefix("python-").filter(|v| v.starts_with('3')).map(|v| format!("python{v}")))
        .collect();
    candidates.push("python3".into());
    for bin in candidates {
        // The interpreter reports its own version and real path (pyenv shims resolve to the
        // binary), and must have `venv`, which builds use.
        let out = std::process::Command::new(&bin)
            .args(["-c", "import sys, venv; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output();
        let Ok(out) = out else { continue };
        if !out.status.success() {
            continue;
        }
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        let (Some(version), Some(exe)) = (lines.next(), lines.next()) else { continue };
        let id = format!("python-{}", version.trim());
        if RUNTIME_IDS.contains(&id.as_str()) && !found.contains_key(&id) {
            found.insert(id.clone(), Installed { id, language: Language::Python, interpreter: PathBuf::from(exe.trim()) });
        }
    }
    if let Ok(out) = std::process::Command::new("node")
        .args(["-e", "process.stdout.write(process.versions.node.split('.')[0] + '\\n' + process.execPath)"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        if let (true, Some(major), Some(exe)) = (out.status.success(), lines.next(), lines.next()) {
            let id = [format!("node-{major}.0"), format!("node-{major}")]
                .into_iter()
                .find(|id| RUNTIME_IDS.contains(&id.as_str()));
            if let Some(id) = id {
                found.insert(id.clone(), Installed { id, language: Language::Node, interpreter: PathBuf::from(exe.trim()) });
            }
        }
    }
    found
}

/// The (cpus, memory) of a specification slug.
pub fn specification(slug: &str) -> (f64, i64) {
    SPECIFICATIONS
        .iter()
        .find(|(s, _, _)| *s == slug)
        .map(|(_, c, m)| (*c, *m))
        .unwrap_or((1.0, 512))
}

/// The specification model list.
pub fn specifications_model() -> Value {
    let specs: Vec<Value> = SPECIFICATIONS
        .iter()
        .map(|(slug, cpus, memory)| json!({"memory": memory, "cpus": cpus, "enabled": true, "slug": slug}))
        .collect();
    json!({"total": specs.len(), "specifications": specs})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_runtime_ids() {
        assert_eq!(split_id("python-3.11"), ("python", "3.11"));
        assert_eq!(split_id("python-ml-3.12"), ("python-ml", "3.12"));
        assert_eq!(split_id("node-22"), ("node", "22"));
        let m = runtime_model("node-20.0");
        assert_eq!(m["name"], "Node.js");
        assert_eq!(m["image"], "openruntimes/node:v5-20.0");
    }
}
