//! `/v1/health*`: what the CLI probes before it stores an endpoint.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::format::SERVER_VERSION;
use crate::response::{ok, Reply};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/health/version", get(version))
        .route("/v1/health/db", get(pass))
        .route("/v1/health/storage", get(pass))
        .route("/v1/health/storage/local", get(pass))
        .route("/v1/health/time", get(time))
}

async fn health() -> Reply {
    ok(json!({"name": "http", "status": "pass", "ping": 0}))
}

async fn version() -> Reply {
    ok(json!({"version": SERVER_VERSION}))
}

async fn pass() -> Reply {
    ok(json!({"statuses": [{"name": "sqlite", "status": "pass", "ping": 0}], "total": 1}))
}

/// The server's time on the emulator's clock: both readings, as a clock-synchronised server
/// answers, so code that asks Appwrite for "now" sees a time the tests moved.
async fn time(State(state): State<AppState>) -> Reply {
    let now = state.clock.now().timestamp();
    ok(json!({"remoteTime": now, "localTime": now, "diff": 0}))
}
