//! `qw` end to end: named scenarios over copies of the repository's own project.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};

/// The folders that make up the QuixoticWhisper project.
const PROJECT_DIRS: [&str; 5] = ["environments", "templates", "functions", "schemas", "migrations"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "__pycache__" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// How many migrations the repository has; tests add theirs after them.
fn migration_count() -> u32 {
    std::fs::read_dir(repo().join("migrations"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".json"))
        .count() as u32
}

/// The file name of a new migration numbered after the repository's last one.
fn next_migration(name: &str) -> String {
    format!("{:03}_{name}.json", migration_count() + 1)
}

/// A scratch copy of the repository's project.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in PROJECT_DIRS {
        copy_dir(&repo().join(d), &dir.path().join(d));
    }
    dir
}

/// `qw` with no secrets, keychain or environment overrides leaking in from the caller.
fn qw() -> Command {
    let mut cmd = Command::cargo_bin("qw").unwrap();
    cmd.env("QW_NO_KEYCHAIN", "1").env_remove("QW_PROJECT_DIR");
    for env in ["DEV", "STAGING", "PROD"] {
        for v in ["ENDPOINT", "PROJECT", "API_KEY", "OPENAI_API_KEY"] {
            cmd.env_remove(format!("QW_{env}_{v}"));
        }
    }
    cmd
}

fn qw_in(dir: &Path) -> Command {
    let mut cmd = qw();
    cmd.arg("--project-dir").arg(dir);
    cmd
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap() + "\n").unwrap();
}

fn edit_json(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v = read_json(path);
    f(&mut v);
    write_json(path, &v);
}

fn stdout_json(cmd: &mut Command) -> (Value, i32) {
    let out = cmd.arg("--json").output().unwrap();
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (value, out.status.code().unwrap())
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["level"] != "ok").map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

/// Every file under the project, with its bytes, to prove a command changed nothing.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), out);
            } else {
                out.insert(entry.path(), std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

fn python_available() -> bool {
    std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn repository_validates_with_no_error() {
    qw_in(&repo()).arg("validate").assert().success().stdout(predicate::str::contains("❌").not()).stdout(predicate::str::contains("0 error(s)"));
    for env in ["dev", "staging", "prod"] {
        let (report, code) = stdout_json(qw_in(&repo()).args(["validate", env]));
        assert_eq!(code, 0, "{report:#}");
        assert_eq!(report["summary"]["errors"], 0, "{env}: {report:#}");
        assert_eq!(report["environment"], env);
    }
}

#[test]
fn repository_schema_references_resolve() {
    let root = repo();
    let mut checked = 0;
    for dir in PROJECT_DIRS {
        for (path, bytes) in snapshot(&root.join(dir)) {
            if path.extension().is_some_and(|e| e == "json") && !path.starts_with(root.join("schemas/json")) {
                let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let reference = v["$schema"].as_str().unwrap_or_else(|| panic!("{} has no $schema", path.display()));
                assert!(path.parent().unwrap().join(reference).is_file(), "{} → {reference}", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 27, "only {checked} files checked");
}

#[test]
fn validate_finds_the_project_from_a_subfolder() {
    qw().current_dir(repo().join("functions/transcribe/src")).arg("validate").assert().success();
    let empty = tempfile::tempdir().unwrap();
    qw().current_dir(empty.path()).arg("validate").assert().code(2).stderr(predicate::str::contains("no QuixoticWhisper project"));
    qw_in(empty.path()).arg("validate").assert().code(2).stderr(predicate::str::contains("has no environments/ folder"));
}

#[test]
fn validate_reports_a_broken_route_with_its_place() {
    let p = project();
    edit_json(&p.path().join("functions/api-gateway/routes.json"), |r| r["routes"]["/v1/upload"]["function"] = json!("upload-v1"));
    let (report, code) = stdout_json(qw_in(p.path()).arg("validate"));
    assert_eq!(code, 1);
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "route-unknown-function").expect("route finding");
    assert_eq!(finding["file"], "functions/api-gateway/routes.json");
    assert_eq!(finding["pointer"], "/routes/~1v1~1upload/function");
    assert_eq!(finding["level"], "error");
    assert!(finding["hint"].as_str().unwrap().contains("qw function create upload-v1"));
    qw_in(p.path()).arg("routes").assert().code(1).stdout(predicate::str::contains("❌ POST /v1/upload → upload-v1, which is not a function folder"));
}

#[test]
fn unreadable_configuration_exits_2_with_the_place() {
    let p = project();
    std::fs::write(p.path().join("environments/staging/variables.json"), "{ nope").unwrap();
    let (report, code) = stdout_json(qw_in(p.path()).arg("validate"));
    assert_eq!(code, 2);
    assert_eq!(codes(&report), ["invalid-json"]);
    assert_eq!(report["findings"][0]["file"], "environments/staging/variables.json");

    let p = project();
    edit_json(&p.path().join("environments/prod/appwrite.json"), |a| a["functions"][0]["timeout"] = json!(5000));
    qw_in(p.path()).arg("validate").assert().code(2).stdout(predicate::str::contains("environments/prod/appwrite.json#/functions/0/timeout"));
}

#[test]
fn bad_usage_exits_2() {
    qw_in(&repo()).args(["validate", "qa"]).assert().code(2).stderr(predicate::str::contains("unknown environment \"qa\"; the project has: dev, prod, staging"));
    qw_in(&repo()).args(["variables", "dev", "nope"]).assert().code(2);
    qw_in(&repo()).args(["deploy-order"]).assert().code(2);
    qw().args(["frobnicate"]).assert().code(2);
}

#[test]
fn drift_fails_unless_allowed() {
    let p = project();
    edit_json(&p.path().join("environments/prod/appwrite.json"), |a| a["functions"][3]["timeout"] = json!(900));
    let (report, code) = stdout_json(qw_in(p.path()).arg("validate"));
    assert_eq!(code, 1);
    assert_eq!(codes(&report), ["drift"]);
    let drift = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "drift").unwrap();
    assert_eq!(drift["message"], "functions/transcribe/timeout differs between environments: dev 600, prod 900, staging 600");
    assert_eq!(drift["file"], "environments/prod/appwrite.json");
    assert_eq!(drift["pointer"], "/functions/3/timeout");

    edit_json(&p.path().join("environments/drift-allow.json"), |d| d["allow"].as_array_mut().unwrap().push(json!({"path": "functions/transcribe/timeout", "reason": "long recordings in prod"})));
    qw_in(p.path()).arg("validate").assert().success().stdout(predicate::str::contains("functions/transcribe/timeout differs on purpose (long recordings in prod)"));
}

#[test]
fn python_that_does_not_compile_fails_validation() {
    if !python_available() {
        return;
    }
    let p = project();
    std::fs::write(p.path().join("functions/transcribe/src/main.py"), "def main(context)\n    return None\n").unwrap();
    let (report, code) = stdout_json(qw_in(p.path()).arg("validate"));
    assert_eq!(code, 1);
    let f = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "python-syntax").expect("syntax finding");
    assert_eq!(f["file"], "functions/transcribe/src/main.py");
    assert!(f["message"].as_str().unwrap().contains("line 1"), "{f}");
    assert!(!p.path().join("functions/transcribe/src/__pycache__").exists(), "checking must not write bytecode");
}

#[test]
fn variables_show_layers_and_mask_secrets() {
    let secret = "sk-very-secret-value";
    let out = qw_in(&repo()).args(["variables", "dev", "transcribe"]).env("QW_DEV_OPENAI_API_KEY", secret).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(!text.contains(secret), "{text}");
    assert!(text.contains("✅ OPENAI_API_KEY = ********  secret, from $QW_DEV_OPENAI_API_KEY"), "{text}");
    assert!(text.contains("✅ COST_PER_MINUTE = 0.006  shared (templates/shared-variables.json)"), "{text}");
    assert!(text.contains("✅ MAX_FILE_SIZE_MB = 10  environment (templates/shared-variables.json)"), "{text}");
    assert!(text.contains("✅ WHISPER_MODEL = whisper-1  function (environments/dev/appwrite.json)"), "{text}");
    assert!(!text.contains("\u{1b}["), "no colour codes when not on a terminal");
    qw_in(&repo())
        .args(["variables", "dev"])
        .env("QW_DEV_ENDPOINT", "localhost:8095")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the endpoint \"localhost:8095\" (from $QW_DEV_ENDPOINT) is not an Appwrite API root"));

    let (report, code) = stdout_json(qw_in(&repo()).args(["variables", "prod", "upload-audio-v1"]).env("QW_PROD_OPENAI_API_KEY", secret));
    assert_eq!(code, 0);
    assert!(!report.to_string().contains(secret));
    let by_name = |n: &str| report["variables"].as_array().unwrap().iter().find(|v| v["name"] == n).cloned().unwrap();
    assert_eq!(by_name("MAX_FILE_SIZE_MB")["value"], "25");
    assert_eq!(by_name("DEFAULT_USER_CREDITS")["value"], "10.0");
    assert_eq!(by_name("DEFAULT_USER_CREDITS")["from"]["layer"], "environment");
    assert_eq!(by_name("COST_PER_MINUTE")["from"]["layer"], "shared");
    assert_eq!(by_name("OPENAI_API_KEY")["value"], "********");
}

#[test]
fn a_secret_missing_on_this_machine_is_a_warning_with_the_reason() {
    qw_in(&repo()).args(["variables", "staging", "transcribe"]).assert().success().stdout(predicate::str::contains(
        "secret not available on this machine: $QW_STAGING_OPENAI_API_KEY is not set; keychain unavailable (disabled by QW_NO_KEYCHAIN)",
    ));
}

#[test]
fn variables_conflicts_missing_and_literal_secrets() {
    let p = project();
    edit_json(&p.path().join("environments/prod/variables.json"), |v| v["variables"]["COST_PER_MINUTE"] = json!("0.01"));
    edit_json(&p.path().join("templates/shared-variables.json"), |v| {
        v["environment_specific"]["prod"].as_object_mut().unwrap().remove("DATABASE_ID");
    });
    let out = qw_in(p.path()).args(["variables", "prod", "transcribe"]).assert().code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("⚠️ COST_PER_MINUTE = 0.01  environment (environments/prod/variables.json)"), "{text}");
    assert!(text.contains("environment value \"0.01\" (environments/prod/variables.json) overrides shared value \"0.006\" (templates/shared-variables.json)"), "{text}");
    assert!(text.contains("❌ DATABASE_ID"), "{text}");
    assert!(text.contains("missing: required by transcribe but set in no layer for prod"), "{text}");

    edit_json(&p.path().join("environments/dev/variables.json"), |v| v["variables"]["OPENAI_API_KEY"] = json!("sk-leaked"));
    let (report, code) = stdout_json(qw_in(p.path()).args(["validate", "dev"]));
    assert_eq!(code, 1);
    assert_eq!(codes(&report), ["secret-literal"]);
    let out = qw_in(p.path()).args(["variables", "dev"]).assert().code(1);
    assert!(!String::from_utf8_lossy(&out.get_output().stdout).contains("sk-leaked"));
}

#[test]
fn environment_overrides_from_the_process() {
    let (report, _) = stdout_json(qw_in(&repo()).args(["variables", "staging"]).env("QW_STAGING_ENDPOINT", "http://127.0.0.1:4000/v1").env("QW_STAGING_PROJECT", "ci"));
    assert_eq!(report["target"]["endpoint"], json!({"value": "http://127.0.0.1:4000/v1", "from": "$QW_STAGING_ENDPOINT"}));
    assert_eq!(report["target"]["project"], json!({"value": "ci", "from": "$QW_STAGING_PROJECT"}));
    assert_eq!(report["target"]["api_key"]["env_var"], "QW_STAGING_API_KEY");
    let (report, _) = stdout_json(qw_in(&repo()).args(["variables", "dev"]));
    assert_eq!(report["target"]["endpoint"], json!({"value": "http://127.0.0.1:8095/v1", "from": "environments/dev/appwrite.json"}));
}

#[test]
fn deploy_order_is_numbered_with_reasons() {
    qw_in(&repo()).args(["deploy-order", "prod"]).assert().success().stdout(predicate::str::contains(
        "  1. cleanup-cron  — depends on nothing\n  2. transcribe  — depends on nothing; needed by upload-audio-v1, upload-audio-v2\n  3. upload-audio-v1  — after transcribe (#2), which it depends on; needed by api-gateway\n  4. upload-audio-v2  — after transcribe (#2), which it depends on; needed by api-gateway\n  5. api-gateway  — after upload-audio-v1 (#3), upload-audio-v2 (#4), which it depends on\n",
    ));
    let (report, code) = stdout_json(qw_in(&repo()).args(["deploy-order", "dev"]));
    assert_eq!(code, 0);
    let order: Vec<&str> = report["order"].as_array().unwrap().iter().map(|s| s["function"].as_str().unwrap()).collect();
    assert_eq!(order, ["cleanup-cron", "transcribe", "upload-audio-v1", "upload-audio-v2", "api-gateway"]);
}

#[test]
fn deploy_order_refuses_a_cycle() {
    let p = project();
    edit_json(&p.path().join("functions/transcribe/dependencies.json"), |d| d["depends_on"] = json!(["api-gateway"]));
    edit_json(&p.path().join("functions/api-gateway/dependencies.json"), |d| d["depended_by"] = json!(["transcribe"]));
    qw_in(p.path()).args(["deploy-order", "dev"]).assert().code(1).stdout(predicate::str::contains("dependency cycle: api-gateway → upload-audio-v1 → transcribe → api-gateway"));
}

#[test]
fn function_create_registers_everywhere_and_validates() {
    let p = project();
    qw_in(p.path())
        .args(["function", "create", "summarize-v1", "--description", "Summarises a finished transcript.", "--depends-on", "transcribe", "--depended-by", "api-gateway"])
        .assert()
        .success()
        .stdout(predicate::str::contains("created functions/summarize-v1/src/main.py"));
    let root = p.path();
    assert_eq!(read_json(&root.join("functions/summarize-v1/function.json"))["description"], "Summarises a finished transcript.");
    assert_eq!(read_json(&root.join("functions/summarize-v1/dependencies.json"))["depends_on"], json!(["transcribe"]));
    assert!(read_json(&root.join("functions/transcribe/dependencies.json"))["depended_by"].as_array().unwrap().contains(&json!("summarize-v1")));
    assert!(read_json(&root.join("functions/api-gateway/dependencies.json"))["depends_on"].as_array().unwrap().contains(&json!("summarize-v1")));
    for env in ["dev", "staging", "prod"] {
        let app = read_json(&root.join(format!("environments/{env}/appwrite.json")));
        let entry = app["functions"].as_array().unwrap().iter().find(|f| f["$id"] == "summarize-v1").cloned().expect("registered");
        assert_eq!(entry["path"], "../../functions/summarize-v1");
        assert_eq!(entry["runtime"], "python-3.12");
    }
    qw_in(root).arg("validate").assert().success().stdout(predicate::str::contains("❌").not());
    qw_in(root).args(["deploy-order", "dev"]).assert().success().stdout(predicate::str::contains("summarize-v1  — after transcribe (#2), which it depends on; needed by api-gateway"));
}

#[test]
fn a_function_left_with_template_fields_fails_validation() {
    let p = project();
    qw_in(p.path()).args(["function", "create", "notes-v1"]).assert().success().stdout(predicate::str::contains("fill in {{DESCRIPTION}}"));
    let (report, code) = stdout_json(qw_in(p.path()).arg("validate"));
    assert_eq!(code, 1);
    assert!(codes(&report).iter().all(|c| c == "template-placeholder"), "{report:#}");
    assert!(codes(&report).contains(&"template-placeholder".to_string()));
}

#[test]
fn function_create_rejects_bad_input_and_changes_nothing() {
    let p = project();
    let before = snapshot(p.path());
    qw_in(p.path()).args(["function", "create", "Bad_Name"]).assert().code(2).stderr(predicate::str::contains("not a valid function name"));
    qw_in(p.path()).args(["function", "create", "ok-name", "--depends-on", "ghost"]).assert().code(2).stderr(predicate::str::contains("ghost is not a function"));
    let (report, code) = stdout_json(qw_in(p.path()).args(["function", "create", "transcribe"]));
    assert_eq!(code, 1);
    assert_eq!(report, json!({"ok": false, "error": "functions/transcribe already exists"}));
    assert_eq!(snapshot(p.path()), before, "a refused command must not change the project");
}

#[test]
fn function_create_refuses_dependencies_that_make_a_cycle() {
    let p = project();
    let before = snapshot(p.path());
    // api-gateway depends on upload-audio-v1, which depends on transcribe.
    for (args, message) in [
        (vec!["--depends-on", "api-gateway", "--depended-by", "api-gateway"], "api-gateway cannot be both a dependency of notes-v1 and depend on it"),
        (vec!["--depends-on", "api-gateway", "--depended-by", "transcribe"], "these dependencies would make a cycle: "),
    ] {
        let mut cmd = qw_in(p.path());
        cmd.args(["function", "create", "notes-v1"]).args(&args);
        cmd.assert().code(2).stderr(predicate::str::contains(message));
    }
    assert_eq!(snapshot(p.path()), before, "a refused command must not change the project");

    // A function named twice is one dependency.
    qw_in(p.path()).args(["function", "create", "notes-v1", "--depends-on", "transcribe", "--depends-on", "transcribe", "--description", "Notes."]).assert().success();
    assert_eq!(read_json(&p.path().join("functions/notes-v1/dependencies.json"))["depends_on"], json!(["transcribe"]));
    let mirrored = read_json(&p.path().join("functions/transcribe/dependencies.json"))["depended_by"].clone();
    assert_eq!(mirrored.as_array().unwrap().iter().filter(|f| *f == "notes-v1").count(), 1);
    qw_in(p.path()).args(["deploy-order", "dev"]).assert().success();
}

#[test]
fn collection_create_adds_the_schema_everywhere() {
    let p = project();
    let (report, code) = stdout_json(qw_in(p.path()).args(["collection", "create", "api_keys", "--display-name", "API keys"]));
    assert_eq!(code, 0, "{report:#}");
    let root = p.path();
    let schema = read_json(&root.join("schemas/collections/api_keys.json"));
    assert_eq!(schema["migration_version"], migration_count() + 1);
    assert_eq!(schema["name"], "API keys");
    for env in ["dev", "staging", "prod"] {
        let app = read_json(&root.join(format!("environments/{env}/appwrite.json")));
        let c = app["collections"].as_array().unwrap().iter().find(|c| c["$id"] == "api_keys").cloned().expect("added");
        assert_eq!(c["databaseId"], format!("main-{env}"));
        assert!(read_json(&root.join(format!("schemas/databases/main-{env}.json")))["collections"].as_array().unwrap().contains(&json!("api_keys")));
    }
    qw_in(root).arg("validate").assert().success();
    let before = snapshot(root);
    qw_in(root).args(["collection", "create", "api_keys"]).assert().code(1).stdout(predicate::str::contains("collection api_keys already exists"));
    qw_in(root).args(["collection", "create", "Bad-Id"]).assert().code(2);
    assert_eq!(snapshot(root), before);
}

#[test]
fn migrate_check_proves_the_repository() {
    let (report, code) = stdout_json(qw_in(&repo()).args(["migrate", "check"]));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["summary"]["warnings"], 0);
    let ok: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(ok, ["downs-proven", "schemas-proven", "schemas-proven", "schemas-proven"]);
    let n = migration_count();
    qw_in(&repo()).arg("validate").assert().success().stdout(predicate::str::contains(format!("✅ dev: the down of {n} of {n} migrations restores the schema before it exactly")));
}

#[test]
fn migrate_check_names_each_difference_with_a_schema() {
    let p = project();
    edit_json(&p.path().join("schemas/collections/usage_logs.json"), |s| {
        s["attributes"][7]["size"] = json!(16);
        s["indexes"].as_array_mut().unwrap().pop();
        s["migration_version"] = json!(3);
    });
    let (report, code) = stdout_json(qw_in(p.path()).args(["migrate", "check"]));
    assert_eq!(code, 1);
    let dev: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "error" && f["environment"] == "dev")
        .map(|f| (f["code"].as_str().unwrap().into(), f["pointer"].as_str().unwrap().into(), f["message"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        dev,
        [
            ("schema-mismatch".to_string(), "/attributes/7/size".to_string(), "dev: schemas/ and migrations disagree: database main-dev, collection usage_logs, attribute api_version, size: expected 16, actual 8".to_string()),
            (
                "schema-mismatch".into(),
                "/indexes".into(),
                "dev: schemas/ and migrations disagree: database main-dev, collection usage_logs, index idx_created: expected absent, actual {\"key\":\"idx_created\",\"type\":\"key\",\"attributes\":[\"created_at\"],\"orders\":[\"ASC\"]}".into()
            ),
            ("migration-version-mismatch".into(), "/migration_version".into(), "dev: collection usage_logs, migration_version: expected 3, actual 2 (last changed by 002_add_usage_logs)".into()),
        ]
    );
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["level"] != "error" || f["file"] == "schemas/collections/usage_logs.json"));
    qw_in(p.path()).arg("validate").assert().code(1).stdout(predicate::str::contains("attribute api_version, size: expected 16, actual 8"));

    // `qw schema generate` writes schemas/ back from the migrations: the repository's files exactly.
    qw_in(p.path()).args(["schema", "generate"]).assert().success().stdout(predicate::str::contains("updated schemas/collections/usage_logs.json"));
    let text = |dir: &Path| snapshot(dir).into_values().map(|b| String::from_utf8(b).unwrap()).collect::<Vec<_>>();
    assert_eq!(text(&p.path().join("schemas")), text(&repo().join("schemas")));
    qw_in(p.path()).args(["schema", "generate"]).assert().success().stdout(predicate::str::contains("nothing changed"));
    qw_in(p.path()).args(["migrate", "check"]).assert().success();
}

#[test]
fn migrate_check_catches_a_down_that_does_not_reverse() {
    let p = project();
    let file = next_migration("add_plan");
    let name = file.trim_end_matches(".json");
    write_json(
        &p.path().join("migrations").join(&file),
        &json!({"$schema": "../schemas/json/migration.schema.json", "up": [
            {"op": "create_attribute", "collection": "user_credits", "attribute": {"key": "plan", "type": "string", "size": 20, "required": false}},
            {"op": "update_attribute", "collection": "user_credits", "key": "credits", "set": {"required": false, "default": 0}, "from": {"required": true, "default": null}}
        ], "down": [
            {"op": "update_attribute", "collection": "user_credits", "key": "credits", "set": {"required": true, "default": null}, "from": {"required": false, "default": 0}}
        ]}),
    );
    let (report, code) = stdout_json(qw_in(p.path()).args(["migrate", "check"]));
    assert_eq!(code, 1);
    let messages: Vec<&str> = report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "migration-down-differs").map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(messages, [format!("dev: down of {name} does not restore the schema before it: database main-dev, collection user_credits, attribute plan: expected absent, actual {{\"key\":\"plan\",\"type\":\"string\",\"size\":20,\"required\":false}}")]);
    let down = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "migration-down-differs").unwrap();
    assert_eq!(down["file"], format!("migrations/{file}"));
    // The schema files do not have the migration's changes either: named too.
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["code"] == "schema-mismatch" && f["message"].as_str().unwrap().contains("collection user_credits, attribute credits, default: expected absent, actual 0.0")), "{report:#}");

    // Without a written down the inverse is derived, and exact.
    edit_json(&p.path().join("migrations").join(&file), |m| {
        m.as_object_mut().unwrap().remove("down");
    });
    let (report, _) = stdout_json(qw_in(p.path()).args(["migrate", "check"]));
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["code"] != "migration-down-differs"), "{report:#}");
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["code"] == "downs-proven" && f["message"].as_str().unwrap().contains(&format!("{n} of {n}", n = migration_count() + 1))));
}

#[test]
fn migrate_check_flags_irreversible_and_destructive_steps() {
    let p = project();
    write_json(
        &p.path().join("migrations").join(next_migration("drop_prompt")),
        &json!({"$schema": "../schemas/json/migration.schema.json", "up": [{"op": "delete_attribute", "collection": "transcription_jobs", "key": "prompt"}]}),
    );
    let (report, code) = stdout_json(qw_in(p.path()).args(["migrate", "check"]));
    assert_eq!(code, 1, "the schema file still has prompt");
    let find = |c: &str| report["findings"].as_array().unwrap().iter().find(|f| f["code"] == c).cloned().unwrap_or_else(|| panic!("{c}: {report:#}"));
    let irreversible = find("migration-irreversible");
    assert_eq!(irreversible["level"], "warning");
    assert!(irreversible["message"].as_str().unwrap().contains("step 1 (delete attribute transcription_jobs.prompt): delete_attribute has no `definition`"), "{irreversible}");
    let destructive = find("destructive-step");
    assert_eq!(destructive["pointer"], "/up/0");
    assert!(destructive["message"].as_str().unwrap().contains("deletes attribute transcription_jobs.prompt and its values, and down recreates the schema but not the data"));
    let mismatch = find("schema-mismatch");
    assert_eq!(mismatch["file"], "schemas/collections/transcription_jobs.json");
    assert_eq!(mismatch["pointer"], "/attributes/11");
}

#[test]
fn bad_migration_files_are_unreadable_configuration() {
    let p = project();
    std::fs::write(p.path().join("migrations").join(next_migration("oops")), r#"{"up": [{"op": "create_index", "collection": "usage_logs"}]}"#).unwrap();
    let (report, code) = stdout_json(qw_in(p.path()).args(["migrate", "check"]));
    assert_eq!(code, 2);
    assert_eq!(report["findings"][0]["code"], "migration-invalid");
    assert_eq!(report["findings"][0]["pointer"], "/up/0");
    let (report, code) = stdout_json(qw_in(p.path()).arg("validate"));
    assert_eq!(code, 1);
    assert_eq!(codes(&report), ["migration-invalid"]);
}
