//! Forwarding to the real OpenAI API: the form is resent as it came (every field, the file with
//! its name and type) with the configured key, and OpenAI's answer is returned unchanged.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::openai_format::OpenAiError;
use super::request::{FormPart, TranscriptionRequest};

/// OpenAI's public endpoint, used when no base URL is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Headers of OpenAI's answer worth passing on to the client.
const PASSED_HEADERS: [&str; 4] = ["content-type", "openai-processing-ms", "openai-version", "x-request-id"];

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the Authorization header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// The forwarding engine.
pub struct OpenAiForwarder {
    client: reqwest::Client,
    base_url: String,
    key: ApiKey,
}

impl OpenAiForwarder {
    /// Forwards to `base_url` (e.g. `https://api.openai.com/v1`) with `key`.
    pub fn new(base_url: &str, key: ApiKey) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            // A 25 MB upload of long audio can take OpenAI minutes to transcribe.
            .timeout(Duration::from_secs(600))
            .user_agent(concat!("qw-emulator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(OpenAiForwarder { client, base_url: base_url.trim_end_matches('/').to_string(), key })
    }

    /// `{base}/audio/transcriptions`.
    pub fn url(&self) -> String {
        format!("{}/audio/transcriptions", self.base_url)
    }

    /// Sends `req` to OpenAI and returns its answer as it is, status and body.
    pub async fn forward(&self, req: &TranscriptionRequest) -> Result<Response, OpenAiError> {
        let mut form = reqwest::multipart::Form::new();
        for part in &req.parts {
            form = match part {
                FormPart::Text(name, value) => form.text(name.clone(), value.clone()),
                FormPart::File => {
                    let mut file = reqwest::multipart::Part::bytes(req.file.data.to_vec()).file_name(req.file.filename.clone());
                    if let Some(ct) = &req.file.content_type {
                        file = file.mime_str(ct).map_err(|_| {
                            OpenAiError::bad_request(format!("Invalid content type for the file: {ct}"), Some("file"), None)
                        })?;
                    }
                    form.part("file", file)
                }
            };
        }
        let url = self.url();
        let upstream = self
            .client
            .post(&url)
            .bearer_auth(self.key.expose())
            .multipart(form)
            .send()
            .await
            .map_err(|e| {
                OpenAiError::server(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("Cannot reach the OpenAI API at {url}: {}", error_chain(&e)),
                    "upstream_unreachable",
                )
            })?;
        let status = StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut headers = Vec::new();
        for name in PASSED_HEADERS {
            if let Some(v) = upstream.headers().get(name).and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
                headers.push((HeaderName::from_static(name), v));
            }
        }
        let body = upstream.bytes().await.map_err(|e| {
            OpenAiError::server(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("The OpenAI API at {url} broke off its answer: {}", error_chain(&e)),
                "upstream_unreachable",
            )
        })?;
        let mut res = (status, body).into_response();
        for (name, value) in headers {
            res.headers_mut().insert(name, value);
        }
        Ok(res)
    }
}

/// reqwest's top-level message is vague ("error sending request"); the causes say what happened.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print() {
        let key = ApiKey::new("sk-secret");
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
        assert_eq!(key.expose(), "sk-secret");
    }

    #[test]
    fn the_url_joins_the_base() {
        let f = OpenAiForwarder::new("http://127.0.0.1:9/v1/", ApiKey::new("k")).unwrap();
        assert_eq!(f.url(), "http://127.0.0.1:9/v1/audio/transcriptions");
    }
}
