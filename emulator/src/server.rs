//! The HTTP server: `router(state)` builds every route (tests drive it without a socket) and
//! `serve` runs it on a listener until shutdown.

use std::future::Future;

use axum::middleware;
use axum::response::IntoResponse;
use axum::Router;
use tokio::net::TcpListener;

use crate::error::{types, ApiError};
use crate::state::AppState;

/// Every route of the emulator.
pub fn router(state: AppState) -> Router {
    let appwrite = Router::new()
        .merge(crate::health::routes())
        .merge(crate::databases::routes())
        .merge(crate::keys::routes())
        .merge(crate::functions::routes())
        .merge(crate::storage::routes())
        .merge(crate::users::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), crate::context::appwrite));
    Router::new()
        .merge(appwrite)
        // OpenAI's transcription endpoint is no Appwrite route: no project, no scope, OpenAI's shapes.
        .merge(crate::transcription::routes(&state.config))
        .merge(crate::functions::raw_routes())
        .fallback(route_not_found)
        .method_not_allowed_fallback(route_not_found)
        .with_state(state)
}

async fn route_not_found() -> axum::response::Response {
    ApiError::of(types::GENERAL_ROUTE_NOT_FOUND).into_response()
}

/// Serves `router(state)` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    crate::functions::start(&state);
    let app = router(state.clone());
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    crate::functions::shutdown(&state);
    result
}
