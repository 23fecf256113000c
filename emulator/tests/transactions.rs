//! Transaction scenarios that need what the SDK suites cannot reach: the settable clock (expiry),
//! the event channel (events fire on commit only), and signed-in users (who see only their own
//! transactions and may not stage bulk operations).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use emulator::auth::{Caller, UserIdentity};
use emulator::context::Ctx;
use emulator::databases::{transactions, Api};
use emulator::params::Params;
use emulator::{router, AppState, Config};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const KEY: &str = "standard_test";

fn state() -> AppState {
    AppState::new(Config { data_dir: None, projects: vec!["p".into()], api_keys: vec![KEY.into()], ..Default::default() }).unwrap()
}

async fn call(state: &AppState, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(format!("/v1{path}")).header("x-appwrite-project", "p").header("x-appwrite-key", KEY);
    let body = if body.is_null() {
        Body::empty()
    } else {
        req = req.header("content-type", "application/json");
        Body::from(body.to_string())
    };
    let req = req.body(body).unwrap();
    let res = router(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A database `db` with collection `c` (integer `n`) and document `d1` (n = 1).
async fn setup(state: &AppState) {
    assert_eq!(call(state, "POST", "/databases", json!({"databaseId": "db", "name": "db"})).await.0, StatusCode::CREATED);
    let c = json!({"collectionId": "c", "name": "c", "permissions": ["read(\"any\")", "create(\"users\")", "update(\"users\")"]});
    assert_eq!(call(state, "POST", "/databases/db/collections", c).await.0, StatusCode::CREATED);
    let a = json!({"key": "n", "required": false});
    assert_eq!(call(state, "POST", "/databases/db/collections/c/attributes/integer", a).await.0, StatusCode::ACCEPTED);
    let d = json!({"documentId": "d1", "data": {"n": 1}});
    assert_eq!(call(state, "POST", "/databases/db/collections/c/documents", d).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn expired_transactions_refuse_staging_and_settling() {
    let state = state();
    setup(&state).await;
    let (status, t) = call(&state, "POST", "/tablesdb/transactions", json!({"ttl": 60})).await;
    assert_eq!(status, StatusCode::CREATED);
    let tid = t["$id"].as_str().unwrap().to_string();
    let staged = call(&state, "PATCH", "/tablesdb/db/tables/c/rows/d1", json!({"data": {"n": 2}, "transactionId": tid})).await;
    assert_eq!(staged.0, StatusCode::OK);

    state.clock.advance(chrono::Duration::seconds(61));
    let (status, e) = call(&state, "PATCH", "/tablesdb/db/tables/c/rows/d1", json!({"data": {"n": 3}, "transactionId": tid})).await;
    assert_eq!((status.as_u16(), e["type"].as_str()), (410, Some("transaction_expired")));
    assert_eq!(e["message"], "The transaction has expired. Please create a new transaction and try again.");
    let (status, e) = call(&state, "POST", &format!("/tablesdb/transactions/{tid}/operations"), json!({"operations": [
        {"action": "delete", "databaseId": "db", "tableId": "c", "rowId": "d1"}
    ]}))
    .await;
    assert_eq!((status.as_u16(), e["type"].as_str()), (410, Some("transaction_expired")));
    for body in [json!({"commit": true}), json!({"rollback": true})] {
        let (status, e) = call(&state, "PATCH", &format!("/tablesdb/transactions/{tid}"), body).await;
        assert_eq!((status.as_u16(), e["type"].as_str()), (410, Some("transaction_expired")));
    }
    // bulk routes do not look at the expiry in 1.9.6
    let (status, _) = call(&state, "DELETE", "/tablesdb/db/tables/c/rows", json!({"queries": [], "transactionId": tid})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, t) = call(&state, "GET", &format!("/tablesdb/transactions/{tid}"), Value::Null).await;
    assert_eq!((t["status"].as_str(), t["operations"].as_i64()), (Some("pending"), Some(2)));
    let (_, d) = call(&state, "GET", "/tablesdb/db/tables/c/rows/d1", Value::Null).await;
    assert_eq!(d["n"], 1, "nothing was applied");
}

#[tokio::test]
async fn events_fire_on_commit_only() {
    let state = state();
    setup(&state).await;
    let mut events = state.events.subscribe();
    let (_, t) = call(&state, "POST", "/databases/transactions", Value::Null).await;
    let tid = t["$id"].as_str().unwrap().to_string();
    let create = json!({"documentId": "d2", "data": {"n": 5}, "transactionId": tid});
    assert_eq!(call(&state, "POST", "/databases/db/collections/c/documents", create).await.0, StatusCode::CREATED);
    let update = json!({"data": {"n": 9}, "transactionId": tid});
    assert_eq!(call(&state, "PATCH", "/databases/db/collections/c/documents/d1", update).await.0, StatusCode::OK);
    let delete = json!({"transactionId": tid});
    assert_eq!(call(&state, "DELETE", "/databases/db/collections/c/documents/d2", delete).await.0, StatusCode::NO_CONTENT);
    assert!(events.try_recv().is_err(), "staging publishes nothing");

    let (status, t) = call(&state, "PATCH", &format!("/databases/transactions/{tid}"), json!({"commit": true})).await;
    assert_eq!((status, t["status"].as_str()), (StatusCode::OK, Some("committed")));
    let mut seen = Vec::new();
    while let Ok(m) = events.try_recv() {
        seen.push((m.events[0].clone(), m.payload["$id"].as_str().unwrap_or_default().to_string()));
    }
    // As in 1.9.6, each event carries the document as the commit left it, so the create of a
    // document the same transaction deleted has nothing to announce.
    assert_eq!(
        seen,
        vec![
            ("databases.db.collections.c.documents.d1.update".to_string(), "d1".to_string()),
            ("databases.db.collections.c.documents.d2.delete".to_string(), "d2".to_string()),
        ]
    );
}

fn user_ctx(state: &AppState, id: &str) -> Ctx {
    let project = state.project("p").unwrap();
    Ctx::internal(state.clone(), project, Caller::User(UserIdentity { id: id.into(), ..Default::default() }))
}

fn params(body: Value, path: &[(&str, &str)]) -> Params {
    let mut p = Params::from_json(body.as_object().cloned().unwrap_or_default());
    for (k, v) in path {
        p.set_path(k, v);
    }
    p
}

async fn reply_json(reply: emulator::response::Reply) -> Result<Value, (u16, String)> {
    match reply {
        Ok(res) => {
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        }
        Err(e) => Err((e.status().as_u16(), e.ty.name.to_string())),
    }
}

#[tokio::test]
async fn users_see_their_own_transactions_and_cannot_stage_bulk() {
    let state = state();
    setup(&state).await;
    let (u1, u2) = (user_ctx(&state, "u1"), user_ctx(&state, "u2"));
    let t = reply_json(transactions::create(Api::Tables, u1.clone(), params(json!({}), &[])).await).await.unwrap();
    let tid = t["$id"].as_str().unwrap().to_string();

    let mine = reply_json(transactions::get(Api::Tables, u1.clone(), params(json!({}), &[("transactionId", &tid)])).await).await;
    assert_eq!(mine.unwrap()["status"], "pending");
    let theirs = reply_json(transactions::get(Api::Tables, u2.clone(), params(json!({}), &[("transactionId", &tid)])).await).await;
    assert_eq!(theirs.unwrap_err(), (404, "transaction_not_found".into()));
    let listed = reply_json(transactions::list(Api::Tables, u2.clone(), params(json!({}), &[])).await).await.unwrap();
    assert_eq!(listed["total"], 0);

    let bulk = json!({"operations": [{"action": "bulkCreate", "databaseId": "db", "tableId": "c", "data": [{"n": 1}]}]});
    let refused = reply_json(transactions::create_operations(Api::Tables, u1.clone(), params(bulk, &[("transactionId", &tid)])).await).await;
    assert_eq!(refused.unwrap_err(), (401, "user_unauthorized".into()));

    let single = json!({"operations": [{"action": "update", "databaseId": "db", "tableId": "c", "rowId": "d1", "data": {"n": 7}}]});
    let staged = reply_json(transactions::create_operations(Api::Tables, u1.clone(), params(single.clone(), &[("transactionId", &tid)])).await).await;
    assert_eq!(staged.unwrap()["operations"], 1);
    let other = reply_json(transactions::create_operations(Api::Tables, u2.clone(), params(single, &[("transactionId", &tid)])).await).await;
    assert_eq!(other.unwrap_err(), (404, "transaction_not_found".into()));

    let done = reply_json(transactions::update(Api::Tables, u1, params(json!({"commit": true}), &[("transactionId", &tid)])).await).await;
    assert_eq!(done.unwrap()["status"], "committed");
    let (_, d) = call(&state, "GET", "/tablesdb/db/tables/c/rows/d1", Value::Null).await;
    assert_eq!(d["n"], 7);
}
