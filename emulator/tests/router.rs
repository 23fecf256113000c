//! The router driven without a socket (`router(state)` + `oneshot`): named scenarios, each on a
//! fresh in-memory emulator, each a table of requests and the answers Appwrite gives.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use emulator::{router, AppState, Config};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const KEY: &str = "standard_test";

struct Harness {
    state: AppState,
}

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Who {
    Key,
    Guest,
    NoProject,
}

impl Harness {
    fn new() -> Harness {
        let state = AppState::new(Config { data_dir: None, projects: vec!["p".into()], api_keys: vec![KEY.into()], ..Default::default() }).unwrap();
        Harness { state }
    }

    async fn call(&self, who: Who, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value, String) {
        let mut req = Request::builder().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(format!("/v1{path}"));
        match who {
            Who::Key => req = req.header("x-appwrite-project", "p").header("x-appwrite-key", KEY),
            Who::Guest => req = req.header("x-appwrite-project", "p"),
            Who::NoProject => req = req.header("x-appwrite-key", KEY),
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let res = router(self.state.clone()).oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status();
        let ctype = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        (status, json, ctype)
    }

    /// Runs a table of steps: (who, method, path, body, expected status, expected `type` or a
    /// JSON pointer that must equal a value).
    async fn run(&self, steps: &[Step]) {
        for (i, s) in steps.iter().enumerate() {
            let (status, body, ctype) = self.call(s.who, s.method, s.path, s.body.clone()).await;
            assert_eq!(status.as_u16(), s.status, "step {i}: {} {} → {body}", s.method, s.path);
            match &s.expect {
                Expect::Nothing => {}
                Expect::Type(t) => {
                    assert_eq!(body["type"], *t, "step {i}: {body}");
                    assert_eq!(body["code"], s.status, "step {i}: code equals status");
                    assert_eq!(body.as_object().unwrap().len(), 4, "step {i}: exactly message, code, type, version");
                }
                Expect::At(pointer, value) => assert_eq!(body.pointer(pointer), Some(value), "step {i}: {pointer} in {body}"),
                Expect::Empty => {
                    assert!(body.is_null(), "step {i}: empty body");
                    assert!(ctype.starts_with("text/html"), "step {i}: 204 is not JSON ({ctype})");
                }
            }
        }
    }
}

enum Expect {
    Nothing,
    Type(&'static str),
    At(&'static str, Value),
    Empty,
}

struct Step {
    who: Who,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    status: u16,
    expect: Expect,
}

fn step(method: &'static str, path: &'static str, body: Option<Value>, status: u16, expect: Expect) -> Step {
    Step { who: Who::Key, method, path, body, status, expect }
}

fn as_(who: Who, mut s: Step) -> Step {
    s.who = who;
    s
}

#[tokio::test]
async fn database_lifecycle() {
    Harness::new()
        .run(&[
            step("POST", "/databases", Some(json!({"databaseId": "main", "name": "Main"})), 201, Expect::At("/type", json!("legacy"))),
            step("POST", "/databases", Some(json!({"databaseId": "main", "name": "Again"})), 409, Expect::Type("database_already_exists")),
            step("GET", "/databases/main", None, 200, Expect::At("/name", json!("Main"))),
            step("GET", "/tablesdb/main", None, 200, Expect::At("/$id", json!("main"))),
            step("PUT", "/databases/main", Some(json!({"name": "Renamed"})), 200, Expect::At("/name", json!("Renamed"))),
            step("GET", "/databases", None, 200, Expect::At("/total", json!(1))),
            step("DELETE", "/databases/main", None, 204, Expect::Empty),
            step("GET", "/databases/main", None, 404, Expect::Type("database_not_found")),
        ])
        .await;
}

#[tokio::test]
async fn documents_through_both_views() {
    Harness::new()
        .run(&[
            step("POST", "/tablesdb", Some(json!({"databaseId": "db", "name": "DB"})), 201, Expect::At("/type", json!("tablesdb"))),
            step("POST", "/tablesdb/db/tables", Some(json!({"tableId": "t", "name": "T"})), 201, Expect::At("/rowSecurity", json!(false))),
            step("POST", "/databases/db/collections/t/attributes/string", Some(json!({"key": "s", "size": 8, "required": true})), 202, Expect::At("/status", json!("processing"))),
            step("GET", "/tablesdb/db/tables/t/columns/s", None, 200, Expect::At("/status", json!("available"))),
            step("POST", "/tablesdb/db/tables/t/rows", Some(json!({"rowId": "r1", "data": {"s": "hello"}})), 201, Expect::At("/$tableId", json!("t"))),
            step("GET", "/databases/db/collections/t/documents/r1", None, 200, Expect::At("/$collectionId", json!("t"))),
            step("POST", "/tablesdb/db/tables/t/rows", Some(json!({"rowId": "r2", "data": {"s": "much too long"}})), 400, Expect::Type("row_invalid_structure")),
            step("POST", "/databases/db/collections/t/documents", Some(json!({"documentId": "r2", "data": {"s": "much too long"}})), 400, Expect::Type("document_invalid_structure")),
            step("GET", "/tablesdb/db/tables/t/rows", None, 200, Expect::At("/total", json!(1))),
            step("DELETE", "/tablesdb/db/tables/t/rows/r1", None, 204, Expect::Empty),
            step("GET", "/tablesdb/db/tables/t/rows/r1", None, 404, Expect::Type("row_not_found")),
        ])
        .await;
}

#[tokio::test]
async fn auth_and_scopes() {
    Harness::new()
        .run(&[
            as_(Who::Guest, step("GET", "/databases", None, 401, Expect::Type("general_unauthorized_scope"))),
            as_(Who::NoProject, step("GET", "/databases", None, 401, Expect::Type("general_access_forbidden"))),
            as_(Who::NoProject, step("POST", "/project/keys/ephemeral", Some(json!({"scopes": [], "duration": 5})), 403, Expect::Type("project_id_missing"))),
            as_(Who::Guest, step("GET", "/health/version", None, 200, Expect::At("/version", json!("1.9.6")))),
            step("GET", "/health", None, 200, Expect::At("/status", json!("pass"))),
            step("GET", "/nowhere", None, 404, Expect::Type("general_route_not_found")),
        ])
        .await;
}

#[tokio::test]
async fn queries_and_errors() {
    let h = Harness::new();
    h.run(&[
        step("POST", "/databases", Some(json!({"databaseId": "d", "name": "D"})), 201, Expect::Nothing),
        step("POST", "/databases/d/collections", Some(json!({"collectionId": "c", "name": "C"})), 201, Expect::Nothing),
        step("POST", "/databases/d/collections/c/attributes/integer", Some(json!({"key": "n", "required": false})), 202, Expect::Nothing),
        step("POST", "/databases/d/collections/c/documents", Some(json!({"documents": [{"n": 1}, {"n": 2}, {"n": 3}]})), 201, Expect::At("/total", json!(3))),
    ])
    .await;
    let q = |text: &str| format!("/databases/d/collections/c/documents?queries%5B0%5D={}", urlencode(text));
    let gt = q(r#"{"method":"greaterThan","attribute":"n","values":[1]}"#);
    let unknown = q(r#"{"method":"equal","attribute":"zz","values":[1]}"#);
    let bad_method = q(r#"{"method":"regex","attribute":"n","values":["x"]}"#);
    let (status, body, _) = h.call(Who::Key, "GET", &gt, None).await;
    assert_eq!((status.as_u16(), body["total"].clone()), (200, json!(2)));
    let (status, body, _) = h.call(Who::Key, "GET", &unknown, None).await;
    assert_eq!((status.as_u16(), body["message"].as_str().unwrap()), (400, "Invalid query: Attribute not found in schema: zz"));
    let (status, body, _) = h.call(Who::Key, "GET", &bad_method, None).await;
    assert_eq!((status.as_u16(), body["message"].as_str().unwrap()), (400, "Invalid query method: regex"));
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn bad_bodies_change_nothing() {
    let h = Harness::new();
    h.run(&[step("POST", "/databases", Some(json!({"databaseId": "d", "name": "D"})), 201, Expect::Nothing)]).await;
    for body in [json!({"databaseId": "bad id", "name": "x"}), json!({"databaseId": "x".repeat(37), "name": "x"}), json!({"name": "no id"}), json!({"databaseId": "ok", "name": ""})] {
        let (status, json, _) = h.call(Who::Key, "POST", "/databases", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert_eq!(json["type"], "general_argument_invalid");
    }
    let (_, list, _) = h.call(Who::Key, "GET", "/databases", None).await;
    assert_eq!(list["total"], 1);
}
