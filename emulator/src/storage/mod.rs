//! Storage: buckets, files (whole and chunked uploads), downloads, views and previews, with
//! bucket- and file-level permissions. Contents live on disk under the project's folder.

mod access;
mod buckets;
pub mod chunked_upload;
mod disk;
mod download;
mod files;
mod preview;
pub mod store;
mod transform;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// Every Storage route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/storage/buckets", get(buckets::list).post(buckets::create))
        .route(
            "/v1/storage/buckets/{bucketId}",
            get(buckets::get).put(buckets::update).delete(buckets::delete),
        )
        .route("/v1/storage/buckets/{bucketId}/files", get(files::list).post(chunked_upload::create))
        .route(
            "/v1/storage/buckets/{bucketId}/files/{fileId}",
            get(files::get).put(files::update).delete(files::delete),
        )
        .route("/v1/storage/buckets/{bucketId}/files/{fileId}/download", get(download::download))
        .route("/v1/storage/buckets/{bucketId}/files/{fileId}/view", get(download::view))
        .route("/v1/storage/buckets/{bucketId}/files/{fileId}/preview", get(preview::preview))
}
