//! Ephemeral project keys (`POST /v1/project/keys/ephemeral`, alias `/v1/projects/{id}/jwts`):
//! short-lived API keys holding chosen scopes, signed like the ones functions receive.

use axum::routing::post;
use axum::Router;
use serde_json::json;

use crate::context::Ctx;
use crate::error::ApiError;
use crate::params::Params;
use crate::response::{created, Reply};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/project/keys/ephemeral", post(create))
        .route("/v1/projects/{projectId}/jwts", post(create))
}

async fn create(ctx: Ctx, p: Params) -> Reply {
    let project = ctx.project()?;
    let scopes = p.str_list_opt("scopes")?.ok_or_else(|| ApiError::missing_param("scopes"))?;
    if scopes.len() > 100 || scopes.iter().any(|s| !crate::scope::is_key_scope(s)) {
        return Err(ApiError::invalid_param("scopes", "Value must a valid array no longer than 100 items and Value must be one of the project scopes"));
    }
    let duration = p.range_opt("duration", 1, 3600)?.ok_or_else(|| ApiError::missing_param("duration"))?;
    let now = ctx.state.clock.now();
    let secret = crate::auth::issue_ephemeral_key(&ctx.state.secret, now.timestamp(), &project.id, &scopes, duration);
    let stamp = crate::clock::iso(now);
    created(json!({
        "$id": crate::ids::unique(),
        "$createdAt": stamp,
        "$updatedAt": stamp,
        "name": "",
        "expire": crate::clock::iso(now + chrono::Duration::seconds(duration)),
        "scopes": scopes,
        "secret": secret,
        // What older CLIs read from `/projects/{id}/jwts`.
        "jwt": secret,
        "accessedAt": "",
        "sdks": [],
    }))
}
