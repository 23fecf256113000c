//! `POST /v1/audio/transcriptions`: OpenAI's transcription endpoint on the emulator's own port, so
//! a function's `OPENAI_BASE_URL` is simply the emulator's endpoint. Not an Appwrite route: it is
//! mounted outside the Appwrite middleware (no project, no scope) and speaks OpenAI's shapes.

mod engine;
mod forward;
mod languages;
pub mod openai_format;
mod request;
mod worker;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};

pub use engine::{default_python, Engine};
pub use forward::ApiKey;
use openai_format::OpenAiError;
use request::TranscriptionRequest;
use worker::{Job, JobError};

use crate::state::{AppState, Config};

/// The transcription route, with the engine `config` selects (started lazily, owned by the router).
pub fn routes(config: &Config) -> Router<AppState> {
    let engine = Arc::new(Engine::from_config(config));
    Router::new().route("/v1/audio/transcriptions", post(create_transcription)).layer(Extension(engine))
}

async fn create_transcription(Extension(engine): Extension<Arc<Engine>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let result = async {
        // The whole body is read before any answer, so even a refused client sees the answer
        // instead of a connection reset while it is still sending.
        let body = request::read_body(body).await?;
        request::check_bearer(&headers)?;
        let req = request::parse(&headers, body).await?;
        transcribe(&engine, &req).await
    }
    .await;
    let mut res = result.unwrap_or_else(|e| {
        if e.status.is_server_error() {
            tracing::warn!("transcription failed: {e}");
        }
        e.into_response()
    });
    if let Ok(v) = HeaderValue::from_str(&started.elapsed().as_millis().to_string()) {
        res.headers_mut().insert("openai-processing-ms", v);
    }
    res
}

/// Runs `req` on the engine. The response names what ran in `x-qw-engine` and `x-qw-model`
/// (the local engine runs its one model whatever `model` asked for).
async fn transcribe(engine: &Engine, req: &TranscriptionRequest) -> Result<Response, OpenAiError> {
    match engine {
        Engine::Unavailable(reason) => Err(Engine::unavailable(reason)),
        Engine::OpenAi(forwarder) => {
            let mut res = forwarder.forward(req).await?;
            res.headers_mut().insert("x-qw-engine", HeaderValue::from_static("openai"));
            if let Ok(v) = HeaderValue::from_str(&req.model) {
                res.headers_mut().insert("x-qw-model", v);
            }
            Ok(res)
        }
        Engine::Local(local) => {
            if req.stream {
                return Err(OpenAiError::invalid_value("stream", "Streaming is not supported by the local Whisper engine."));
            }
            let job = Job {
                language: req.language.clone(),
                prompt: req.prompt.clone(),
                temperature: req.temperature,
                word_timestamps: req.granularities.word,
            };
            let transcript = local.transcribe(req.file.data.clone(), &req.file.filename, job).await.map_err(job_error)?;
            if req.language.as_deref().is_some_and(|l| l != transcript.language) {
                tracing::warn!(
                    "language '{}' was asked but the model at {} decoded '{}' (an English-only model?)",
                    req.language.as_deref().unwrap_or(""),
                    local.model().display(),
                    transcript.language
                );
            }
            let mut res = openai_format::render(req.response_format, &transcript, req.granularities);
            res.headers_mut().insert("x-qw-engine", HeaderValue::from_static("faster-whisper"));
            if let Ok(v) = HeaderValue::from_str(&local.model().display().to_string()) {
                res.headers_mut().insert("x-qw-model", v);
            }
            Ok(res)
        }
    }
}

fn job_error(e: JobError) -> OpenAiError {
    match e {
        JobError::InvalidAudio(detail) => {
            tracing::info!("undecodable upload: {detail}");
            OpenAiError::bad_request(
                "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
                Some("file"),
                Some("invalid_value"),
            )
        }
        JobError::TooShort(detail) => OpenAiError::bad_request(
            format!("Audio file is too short. Minimum audio length is 0.1 seconds ({detail})."),
            Some("file"),
            Some("audio_too_short"),
        ),
        JobError::Unavailable(m) => OpenAiError::server(StatusCode::SERVICE_UNAVAILABLE, m, "engine_unavailable"),
        JobError::Engine(m) => OpenAiError::server(StatusCode::INTERNAL_SERVER_ERROR, m, "engine_error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use tower::ServiceExt;

    fn app(config: Config) -> Router {
        crate::router(AppState::new(config).unwrap())
    }

    fn multipart(fields: &[(&str, &str)]) -> Body {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
        }
        body.push_str("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF\r\n--B--\r\n");
        Body::from(body)
    }

    async fn call(app: Router, auth: Option<&str>, body: Body) -> (StatusCode, serde_json::Value) {
        let mut req = Request::post("/v1/audio/transcriptions").header("content-type", "multipart/form-data; boundary=B");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = app.oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status();
        assert!(res.headers().contains_key("openai-processing-ms"));
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn without_an_engine_the_error_names_the_setting() {
        let (status, body) = call(app(Config::default()), Some("Bearer x"), multipart(&[("model", "whisper-1")])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["type"], "server_error");
        assert!(body["error"]["message"].as_str().unwrap().contains("--whisper-model"));
    }

    #[tokio::test]
    async fn no_bearer_is_401_and_bad_input_400_before_any_engine() {
        let (status, body) = call(app(Config::default()), None, multipart(&[("model", "whisper-1")])).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["type"], "invalid_request_error");
        let (status, body) = call(app(Config::default()), Some("Bearer x"), multipart(&[])).await;
        assert_eq!((status, body["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("model")));
    }

    #[tokio::test]
    async fn the_route_is_outside_the_appwrite_middleware() {
        // No X-Appwrite-Project and no key: an Appwrite route would answer with Appwrite's error shape.
        let (status, body) = call(app(Config::default()), Some("Bearer x"), multipart(&[("model", "whisper-1")])).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.get("error").is_some() && body.get("type").is_none());
    }

    #[test]
    fn job_errors_map_to_openai_statuses() {
        assert_eq!(job_error(JobError::InvalidAudio("x".into())).status, StatusCode::BAD_REQUEST);
        assert_eq!(job_error(JobError::TooShort("x".into())).code, Some("audio_too_short"));
        assert_eq!(job_error(JobError::Unavailable("x".into())).status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(job_error(JobError::Engine("x".into())).status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
