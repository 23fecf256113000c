//! One small broken project per kind of finding, each asserting exactly what is found.

use serde_json::json;

use super::fixture::{edit, put, remove, set, valid};
use super::{CheckInput, Registry};
use crate::finding::{Finding, Level};
use crate::project::python::SyntaxReport;
use crate::project::tree::MemoryTree;

type Expected = (Level, &'static str, &'static str, &'static str, &'static str);

/// Every finding but the ✅ ones and the empty migrations slot.
fn problems(tree: &MemoryTree, env: Option<&str>, python: &SyntaxReport) -> Vec<Finding> {
    let findings = match crate::project::load(tree) {
        Ok(project) => Registry::standard().run(&CheckInput { project: &project, tree, environment: env, python }),
        Err(failure) => failure.findings,
    };
    findings.into_iter().filter(|f| f.level != Level::Ok && f.check != "migrations").collect()
}

fn mismatch(name: &str, tree: &MemoryTree, env: Option<&str>, python: &SyntaxReport, expected: &[Expected]) -> Option<String> {
    let got: Vec<Expected> = problems(tree, env, python)
        .iter()
        .map(|f| (f.level, leak(&f.code), leak(&f.file), leak(&f.pointer), leak(&f.message)))
        .collect();
    (got != expected).then(|| format!("case {name}\n  found:    {got:?}\n  expected: {expected:?}"))
}

fn assert_case(name: &str, tree: &MemoryTree, env: Option<&str>, python: &SyntaxReport, expected: &[Expected]) {
    if let Some(m) = mismatch(name, tree, env, python, expected) {
        panic!("{m}");
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

#[test]
fn the_valid_fixture_has_no_problem() {
    let tree = valid();
    assert_case("valid", &tree, None, &SyntaxReport::default(), &[]);
    let project = crate::project::load(&tree).unwrap();
    let all = Registry::standard().run(&CheckInput { project: &project, tree: &tree, environment: None, python: &SyntaxReport::default() });
    assert!(all.iter().any(|f| f.level == Level::Ok && f.check == "drift"));
    assert_eq!(all.iter().filter(|f| f.check == "migrations").map(|f| f.code.as_str()).collect::<Vec<_>>(), ["migrations-none"]);
}

const E: Level = Level::Error;
const W: Level = Level::Warning;
const DEV: &str = "environments/dev/appwrite.json";
const PROD: &str = "environments/prod/appwrite.json";
const SHARED: &str = "templates/shared-variables.json";
const ROUTES: &str = "functions/api-gateway/routes.json";

struct Case {
    name: &'static str,
    env: Option<&'static str>,
    python: SyntaxReport,
    edit: fn(&mut MemoryTree),
    expected: Vec<Expected>,
}

fn case(name: &'static str, edit: fn(&mut MemoryTree), expected: Vec<Expected>) -> Case {
    Case { name, env: None, python: SyntaxReport::default(), edit, expected }
}

#[test]
fn each_broken_project_yields_exactly_its_finding() {
    let cases = vec![
        // files
        case("invalid json", |t| t.insert("environments/dev/variables.json", "{\"variables\": "), vec![(E, "invalid-json", "environments/dev/variables.json", "", "environments/dev/variables.json is not valid JSON: EOF while parsing a value at line 1 column 14")]),
        case("schema violation", |t| set(t, DEV, "/functions/0/timeout", json!(0)), vec![(E, "schema-violation", DEV, "/functions/0/timeout", "0 is less than the minimum of 1")]),
        case("missing catalogue", |t| { t.files.remove(SHARED); }, vec![(E, "missing-file", SHARED, "", "templates/shared-variables.json is missing")]),
        // variables
        case("conflict between layers", |t| set(t, "environments/dev/variables.json", "/variables/RATE", json!("2")), vec![
            (W, "variable-conflict", "environments/dev/variables.json", "/variables/RATE", "RATE: environment value \"2\" (environments/dev/variables.json) overrides shared value \"1\" (templates/shared-variables.json)"),
        ]),
        case("required variable missing", |t| remove(t, SHARED, "/environment_specific/prod/SIZE"), vec![
            (E, "variable-missing", "functions/work-v1/dependencies.json", "/required_variables/0", "SIZE is required by work-v1 but has no value in prod"),
        ]),
        case("secret written down", |t| set(t, DEV, "/functions/1/vars/1", json!({"key": "TOKEN", "value": "sk-123"})), vec![
            (E, "secret-literal", DEV, "/functions/1/vars/1/value", "TOKEN is a secret but has a value written in a tracked file"),
        ]),
        case("unknown variable", |t| set(t, "environments/dev/variables.json", "/variables/COLOUR", json!("red")), vec![
            (W, "variable-unknown", "environments/dev/variables.json", "/variables/COLOUR", "COLOUR is not declared in templates/shared-variables.json"),
        ]),
        case("unknown environment", |t| set(t, SHARED, "/environment_specific/qa", json!({})), vec![
            (W, "environment-unknown", SHARED, "/environment_specific/qa", "environment_specific names qa, which has no folder under environments/"),
        ]),
        // routes
        case("route to a missing function", |t| set(t, ROUTES, "/routes/~1v1~1jobs~1{id}/function", json!("jobs-v1")), vec![
            (E, "route-unknown-function", ROUTES, "/routes/~1v1~1jobs~1{id}/function", "GET /v1/jobs/{id} → jobs-v1, which is not a function folder"),
            (E, "api-route-mismatch", "functions/api-gateway/dependencies.json", "/api_routes/0", "api-gateway lists /v1/jobs/{id}, but functions/api-gateway/routes.json sends it to jobs-v1"),
        ]),
        case("route not in api_routes", |t| set(t, "functions/work-v1/dependencies.json", "/api_routes", json!([])), vec![
            (W, "route-not-listed", ROUTES, "/routes/~1v1~1work/function", "/v1/work → work-v1, but functions/work-v1/dependencies.json does not list it in api_routes"),
        ]),
        case("api_routes entry not in routes.json", |t| set(t, "functions/work-v1/dependencies.json", "/api_routes/1", json!("/v1/other")), vec![
            (E, "api-route-missing", "functions/work-v1/dependencies.json", "/api_routes/1", "work-v1 lists /v1/other, which is not in functions/api-gateway/routes.json"),
        ]),
        case("versioned name", |t| set(t, ROUTES, "/routes/~1v1~1work/operation", json!("labour")), vec![
            (E, "route-naming", ROUTES, "/routes/~1v1~1work/function", "/v1/work says operation labour, so its function must be labour-v1, not work-v1"),
        ]),
        case("default version without routes", |t| set(t, ROUTES, "/default_version", json!("v2")), vec![
            (E, "default-version-unused", ROUTES, "/default_version", "default_version v2 has no route"),
        ]),
        case("deprecated version without dates", |t| set(t, ROUTES, "/versions", json!({"v1": {"status": "deprecated"}})), vec![
            (E, "version-dates-missing", ROUTES, "/versions/v1", "v1 is deprecated without deprecated_at and sunset_at"),
        ]),
        case("deprecated version without a policy", |t| set(t, ROUTES, "/versions", json!({"v1": {"status": "deprecated", "deprecated_at": "2026-01-01", "sunset_at": "2027-01-01"}})), vec![
            (W, "version-policy-missing", ROUTES, "/policy", "v1 is deprecated but routes.json states no deprecation policy"),
        ]),
        case("sunset before the notice period ends", |t| {
            set(t, ROUTES, "/policy", json!({"deprecation_notice_months": 6, "support_months": 12}));
            set(t, ROUTES, "/versions", json!({"v1": {"status": "deprecated", "deprecated_at": "2026-01-31", "sunset_at": "2026-07-30"}}));
        }, vec![
            (E, "version-notice-short", ROUTES, "/versions/v1/sunset_at", "v1: sunset 2026-07-30 is less than 6 months after its deprecation on 2026-01-31"),
        ]),
        case("sunset before the successor's support period ends", |t| {
            set(t, ROUTES, "/policy", json!({"deprecation_notice_months": 6, "support_months": 12}));
            set(t, ROUTES, "/versions", json!({
                "v1": {"status": "deprecated", "deprecated_at": "2026-01-01", "sunset_at": "2026-12-31"},
                "v2": {"status": "current", "released_at": "2026-01-01"}
            }));
        }, vec![
            (E, "version-support-short", ROUTES, "/versions/v1/sunset_at", "v1: sunset 2026-12-31 is less than 12 months after v2 was released on 2026-01-01"),
        ]),
        case("a version date that is not a date", |t| set(t, ROUTES, "/versions", json!({"v1": {"status": "current", "released_at": "June 2025"}})), vec![
            (E, "version-date-invalid", ROUTES, "/versions/v1/released_at", "v1 released_at \"June 2025\" is not a date"),
        ]),
        case("a scope no user can hold", |t| set(t, ROUTES, "/access", json!({"default_scopes": ["jobs.read"], "label_scopes": {"readonly": []}})), vec![
            (W, "scope-ungrantable", ROUTES, "/routes/~1v1~1work/required_scopes", "/v1/work needs work, which no user can hold"),
        ]),
        case("no route table", |t| { t.files.remove(ROUTES); }, vec![
            (E, "routes-missing", ROUTES, "", "api-gateway lists api_routes but there is no functions/api-gateway/routes.json"),
            (E, "routes-missing", ROUTES, "", "work-v1 lists api_routes but there is no functions/api-gateway/routes.json"),
        ]),
        // dependencies
        case("unknown dependency", |t| set(t, "functions/work-v1/dependencies.json", "/depends_on", json!(["ghost"])), vec![
            (E, "dependency-unknown", "functions/work-v1/dependencies.json", "/depends_on/0", "work-v1 depends_on ghost, which is not a function folder"),
        ]),
        case("disagreement", |t| set(t, "functions/work-v1/dependencies.json", "/depended_by", json!([])), vec![
            (E, "dependency-disagreement", "functions/api-gateway/dependencies.json", "/depends_on/0", "api-gateway depends_on work-v1, but functions/work-v1/dependencies.json does not list api-gateway in depended_by"),
        ]),
        case("cycle", |t| {
            set(t, "functions/work-v1/dependencies.json", "/depends_on", json!(["api-gateway"]));
            set(t, "functions/api-gateway/dependencies.json", "/depended_by", json!(["work-v1"]));
        }, vec![
            (E, "dependency-cycle", "functions/api-gateway/dependencies.json", "/depends_on/0", "dependency cycle: api-gateway → work-v1 → api-gateway"),
        ]),
        // functions
        case("no manifest", |t| { t.files.remove("functions/work-v1/function.json"); }, vec![(E, "manifest-missing", "functions/work-v1/function.json", "", "work-v1 has no function.json")]),
        case("no dependencies file", |t| { t.files.remove("functions/work-v1/dependencies.json"); }, vec![
            (W, "route-not-listed", ROUTES, "/routes/~1v1~1work/function", "/v1/work → work-v1, but functions/work-v1/dependencies.json does not list it in api_routes"),
            (E, "dependency-disagreement", "functions/api-gateway/dependencies.json", "/depends_on/0", "api-gateway depends_on work-v1, but functions/work-v1/dependencies.json does not list api-gateway in depended_by"),
            (E, "dependencies-missing", "functions/work-v1/dependencies.json", "", "work-v1 has no dependencies.json"),
        ]),
        case("manifest id", |t| set(t, "functions/work-v1/function.json", "/id", json!("work-v2")), vec![(E, "function-id-mismatch", "functions/work-v1/function.json", "/id", "function.json says id work-v2, but the folder is work-v1")]),
        case("entrypoint missing", |t| { t.files.remove("functions/work-v1/src/main.py"); }, vec![
            (E, "entrypoint-missing", "functions/work-v1/function.json", "/entrypoint", "work-v1 starts src/main.py, which does not exist"),
            (E, "entrypoint-missing", DEV, "/functions/1/entrypoint", "work-v1 in dev starts src/main.py, which is not in functions/work-v1"),
            (E, "entrypoint-missing", PROD, "/functions/1/entrypoint", "work-v1 in prod starts src/main.py, which is not in functions/work-v1"),
        ]),
        case("requirements missing", |t| { t.files.remove("functions/work-v1/requirements.txt"); }, vec![(E, "requirements-missing", "functions/work-v1/function.json", "/runtime", "work-v1 is a Python function without requirements.txt")]),
        case("template field left", |t| t.insert("functions/work-v1/README.md", "# work\n\n{{DESCRIPTION}}\n"), vec![(E, "template-placeholder", "functions/work-v1/README.md", "", "line 3 still holds the template field {{DESCRIPTION}}")]),
        case("folder registered nowhere", |t| {
            put(t, "functions/spare/function.json", json!({"id": "spare", "name": "spare", "description": "d", "runtime": "python-3.12", "entrypoint": "src/main.py", "commands": ""}));
            put(t, "functions/spare/dependencies.json", json!({"depends_on": [], "depended_by": [], "api_routes": [], "required_variables": []}));
            t.insert("functions/spare/requirements.txt", "");
            t.insert("functions/spare/src/main.py", "def main(context):\n    return context.res.empty()\n");
        }, vec![(W, "function-unregistered", "functions/spare/function.json", "", "spare is not registered in any environment")]),
        case("registered without folder", |t| {
            for env in [DEV, PROD] {
                set(t, env, "/functions/2", json!({"$id": "ghost", "name": "Ghost", "runtime": "python-3.12", "entrypoint": "src/main.py", "commands": "", "path": "../../functions/ghost"}));
            }
        }, vec![
            (E, "function-folder-missing", DEV, "/functions/2/$id", "ghost is registered in dev but functions/ghost does not exist"),
            (E, "function-folder-missing", PROD, "/functions/2/$id", "ghost is registered in prod but functions/ghost does not exist"),
        ]),
        case("wrong path", |t| {
            for env in [DEV, PROD] {
                set(t, env, "/functions/1/path", json!("../../functions/api-gateway"));
            }
        }, vec![
            (E, "function-path-mismatch", DEV, "/functions/1/path", "work-v1 has path ../../functions/api-gateway, not its folder ../../functions/work-v1"),
            (E, "function-path-mismatch", PROD, "/functions/1/path", "work-v1 has path ../../functions/api-gateway, not its folder ../../functions/work-v1"),
        ]),
        // schemas
        case("duplicate attribute", |t| set(t, "schemas/collections/jobs.json", "/attributes/1", json!({"key": "user_id", "type": "string", "size": 36, "required": true})), vec![
            (E, "attribute-duplicate", "schemas/collections/jobs.json", "/attributes/1/key", "attribute user_id is defined twice"),
        ]),
        case("index on a missing attribute", |t| {
            for f in ["schemas/collections/jobs.json", DEV, PROD] {
                let at = if f.starts_with("schemas") { "/indexes/0/attributes/0" } else { "/collections/0/indexes/0/attributes/0" };
                set(t, f, at, json!("owner"));
            }
        }, vec![(E, "index-unknown-attribute", "schemas/collections/jobs.json", "/indexes/0/attributes/0", "index idx_user uses owner, which is not an attribute of jobs")]),
        case("environment differs from schema", |t| set(t, DEV, "/collections/0/attributes/0/size", json!(64)), vec![
            (E, "collection-schema-mismatch", DEV, "/collections/0/attributes/0", "collection jobs in dev: attribute user_id is {\"key\":\"user_id\",\"type\":\"string\",\"size\":64,\"required\":true} but the schema says {\"key\":\"user_id\",\"type\":\"string\",\"size\":36,\"required\":true}"),
            (E, "drift", DEV, "/collections/0/attributes/0", "collections/jobs/attributes/user_id differs between environments: dev {\"key\":\"user_id\",\"type\":\"string\",\"size\":64,\"required\":true}, prod {\"key\":\"user_id\",\"type\":\"string\",\"size\":36,\"required\":true}"),
        ]),
        case("collection without schema", |t| {
            t.files.remove("schemas/collections/jobs.json");
        }, vec![
            (E, "collection-schema-missing", "schemas/databases/main-dev.json", "/collections/0", "main-dev lists collection jobs, which has no schemas/collections file"),
            (E, "collection-schema-missing", "schemas/databases/main-prod.json", "/collections/0", "main-prod lists collection jobs, which has no schemas/collections file"),
            (E, "collection-schema-missing", DEV, "/collections/0/$id", "collection jobs has no file in schemas/collections"),
            (E, "collection-schema-missing", PROD, "/collections/0/$id", "collection jobs has no file in schemas/collections"),
        ]),
        case("collection missing in an environment", |t| set(t, PROD, "/collections", json!([])), vec![
            (E, "collection-missing", PROD, "/collections", "collection jobs of main-prod is not in prod"),
            (E, "drift", PROD, "/collections", "collections/jobs is not in every environment: dev true, prod absent"),
        ]),
        case("collection in the wrong database", |t| set(t, PROD, "/collections/0/databaseId", json!("main-dev")), vec![
            (E, "collection-database-unknown", PROD, "/collections/0/databaseId", "collection jobs is in database main-dev, which is not prod's database"),
            (E, "collection-missing", PROD, "/collections", "collection jobs of main-prod is not in prod"),
        ]),
        case("database without schema", |t| set(t, PROD, "/databases/0/$id", json!("main")), vec![
            (E, "database-unexpected", PROD, "/databases/0/$id", "database main has no schema for prod in schemas/databases"),
            (E, "database-missing", PROD, "/databases", "database main-prod (schemas/databases/main-prod.json) is not in prod"),
        ]),
        case("more orders than attributes", |t| {
            for f in ["schemas/collections/jobs.json", DEV, PROD] {
                let at = if f.starts_with("schemas") { "/indexes/0/orders/1" } else { "/collections/0/indexes/0/orders/1" };
                set(t, f, at, json!("DESC"));
            }
        }, vec![(E, "index-orders", "schemas/collections/jobs.json", "/indexes/0/orders", "index idx_user has 2 orders for 1 attributes")]),
        case("collection not listed by its database", |t| set(t, "schemas/databases/main-prod.json", "/collections", json!([])), vec![
            (E, "collection-not-in-database", PROD, "/collections/0/$id", "collection jobs is not listed in schemas/databases/main-prod.json"),
        ]),
        case("database of an unknown environment", |t| put(t, "schemas/databases/main-qa.json", json!({"databaseId": "main-qa", "name": "QA", "environment": "qa", "collections": []})), vec![
            (W, "database-environment-unknown", "schemas/databases/main-qa.json", "/environment", "main-qa belongs to environment qa, which has no folder"),
        ]),
        case("two schema files for one collection", |t| {
            let text = t.files["schemas/collections/jobs.json"].clone();
            t.insert("schemas/collections/jobs-copy.json", text);
        }, vec![(E, "duplicate-collection", "schemas/collections/jobs.json", "/collectionId", "collection jobs is also defined in schemas/collections/jobs-copy.json")]),
        case("no environments", |t| t.files.retain(|k, _| !k.starts_with("environments/")), vec![
            (E, "missing-environments", "environments", "", "no environment folders (dev, staging, prod) under environments/"),
        ]),
        // drift
        case("unintended drift", |t| set(t, PROD, "/functions/1/timeout", json!(120)), vec![
            // With two environments neither value is the odd one out: the first environment is named.
            (E, "drift", DEV, "/functions/1/timeout", "functions/work-v1/timeout differs between environments: dev 60, prod 120"),
        ]),
        case("intended drift", |t| {
            set(t, PROD, "/buckets/0/maximumFileSize", json!(2000));
            put(t, "environments/drift-allow.json", json!({"allow": [{"path": "buckets/audio/maximumFileSize", "reason": "bigger uploads in prod"}]}));
        }, vec![]),
        case("stale allow-list entry", |t| put(t, "environments/drift-allow.json", json!({"allow": [{"path": "functions/*/timeout", "reason": "slower prod"}]})), vec![
            (W, "drift-allow-unused", "environments/drift-allow.json", "/allow/0/path", "functions/*/timeout is allowed to differ but is the same everywhere"),
        ]),
        case("function missing in prod", |t| remove(t, PROD, "/functions/1"), vec![
            (E, "route-function-unregistered", ROUTES, "/routes/~1v1~1work/function", "/v1/work → work-v1, which is not registered in environments/prod/appwrite.json"),
            (E, "drift", PROD, "/functions", "functions/work-v1 is not in every environment: dev true, prod absent"),
        ]),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let mut tree = valid();
            (c.edit)(&mut tree);
            mismatch(c.name, &tree, c.env, &c.python, &c.expected)
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn environment_scoped_and_python_findings() {
    let mut tree = valid();
    remove(&mut tree, PROD, "/functions/1");
    assert_case("route to a function absent from prod", &tree, Some("prod"), &SyntaxReport::default(), &[
        (E, "route-function-unregistered", ROUTES, "/routes/~1v1~1work/function", "/v1/work → work-v1, which is not registered in environments/prod/appwrite.json"),
        (E, "drift", PROD, "/functions", "functions/work-v1 is not in every environment: dev true, prod absent"),
    ]);

    let syntax = SyntaxReport { unavailable: None, errors: [("functions/work-v1/src/main.py".to_string(), "line 1: expected ':'".to_string())].into() };
    assert_case("syntax error", &valid(), None, &syntax, &[(E, "python-syntax", "functions/work-v1/src/main.py", "", "functions/work-v1/src/main.py does not compile: line 1: expected ':'")]);

    let none = SyntaxReport { unavailable: Some("cannot run python3".into()), errors: Default::default() };
    assert_case("no interpreter", &valid(), None, &none, &[(W, "python-unavailable", "functions", "", "Python sources were not compiled: cannot run python3")]);
}

#[test]
fn the_migrations_slot_takes_a_registered_check() {
    struct Proven;
    impl super::Check for Proven {
        fn family(&self) -> &'static str {
            super::migrations::FAMILY
        }
        fn run(&self, _: &CheckInput) -> Vec<Finding> {
            vec![Finding::new(Level::Ok, "migrations", "schemas-proven", "migrations", "", "proven")]
        }
    }
    let registry = Registry::standard().with(Box::new(Proven));
    assert_eq!(registry.families(), ["variables", "routes", "dependencies", "functions", "schemas", "drift", "migrations"]);
    let tree = valid();
    let project = crate::project::load(&tree).unwrap();
    let found = registry.run(&CheckInput { project: &project, tree: &tree, environment: None, python: &SyntaxReport::default() });
    assert_eq!(found.iter().filter(|f| f.check == "migrations").map(|f| f.code.as_str()).collect::<Vec<_>>(), ["schemas-proven"]);
}

#[test]
fn edits_keep_the_fixture_loadable() {
    let mut tree = valid();
    edit(&mut tree, DEV, |v| v["projectName"] = json!("Dev"));
    assert!(crate::project::load(&tree).is_ok());
}
