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
        .merge(crate::storage::routes())
        .merge(crate::users::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), crate::context::appwrite));
    Router::new()
        .merge(appwrite)
        .fallback(route_not_found)
        .method_not_allowed_fallback(route_not_found)
        .with_state(state)
}

async fn route_not_found() -> axum::response::Response {
    ApiError::of(types::GENERAL_ROUTE_NOT_FOUND).into_response()
}

/// Serves `router(state)` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
