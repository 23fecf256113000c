//! Storage: buckets, files (whole and chunked uploads), downloads, views and previews, with
//! bucket- and file-level permissions. Contents live on disk under the project's folder.

mod access;
pub mod allocator;
mod buckets;
pub mod chunked_upload;
mod disk;
mod download;
mod files;
mod preview;
mod signature;
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use crate::state::{AppState, Config};

    fn state() -> AppState {
        AppState::new(Config { projects: vec!["p".into()], api_keys: vec!["k".into()], ..Config::default() }).unwrap()
    }

    async fn send(state: &AppState, req: Request<Body>) -> (u16, serde_json::Value) {
        let res = crate::router(state.clone()).oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    fn upload(file_id: &str, data: &[u8], range: Option<String>) -> Request<Body> {
        let mut body = Vec::new();
        body.extend_from_slice(format!("--X\r\nContent-Disposition: form-data; name=\"fileId\"\r\n\r\n{file_id}\r\n").as_bytes());
        body.extend_from_slice(b"--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n--X--\r\n");
        let mut req = Request::post("/v1/storage/buckets/b/files")
            .header("x-appwrite-project", "p")
            .header("x-appwrite-key", "k")
            .header("content-type", "multipart/form-data; boundary=X");
        if let Some(r) = range {
            req = req.header("content-range", r).header("x-appwrite-id", file_id);
        }
        req.body(Body::from(body)).unwrap()
    }

    /// `buckets.*.files.*.create` fires once per file: for a whole upload, and for a chunked one
    /// only when its last chunk lands.
    #[tokio::test]
    async fn file_create_events_fire_once_per_completed_file() {
        let state = state();
        let mut events = state.events.subscribe();
        let bucket = Request::post("/v1/storage/buckets")
            .header("x-appwrite-project", "p")
            .header("x-appwrite-key", "k")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"bucketId":"b","name":"B"}"#))
            .unwrap();
        assert_eq!(send(&state, bucket).await.0, 201);
        assert_eq!(events.recv().await.unwrap().events[0], "buckets.b.create");

        let (status, body) = send(&state, upload("whole", b"abc", None)).await;
        assert_eq!(status, 201, "{body}");
        let e = events.recv().await.unwrap();
        assert_eq!(e.events[0], "buckets.b.files.whole.create");
        assert_eq!(e.payload["signature"], "900150983cd24fb0d6963f7d28e17f72");

        let chunk = super::chunked_upload::CHUNK_SIZE as usize;
        let data = vec![7u8; chunk + 10];
        let size = data.len();
        let (status, first) = send(&state, upload("big", &data[chunk..], Some(format!("bytes {chunk}-{}/{size}", size - 1)))).await;
        assert_eq!((status, first["chunksUploaded"].as_i64()), (201, Some(1)));
        assert!(events.try_recv().is_err(), "no event for an unfinished upload");
        let (status, last) = send(&state, upload("big", &data[..chunk], Some(format!("bytes 0-{}/{size}", chunk - 1)))).await;
        assert_eq!((status, last["chunksUploaded"].as_i64()), (201, Some(2)));
        let e = events.recv().await.unwrap();
        assert_eq!(e.events[0], "buckets.b.files.big.create");
        let (status, _) = send(&state, upload("big", &data[..chunk], Some(format!("bytes 0-{}/{size}", chunk - 1)))).await;
        assert_eq!(status, 200, "a chunk re-sent after completion changes nothing");
        assert!(events.try_recv().is_err());
    }
}
