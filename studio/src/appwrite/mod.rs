//! A small typed client of Appwrite's public REST API (databases, collections, attributes,
//! indexes, documents, buckets), used against the emulator and real servers alike.

mod databases;
pub mod query;
mod storage;

use std::time::Duration;

use reqwest::blocking::{Client as Http, RequestBuilder};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use databases::{Attribute, Collection, Database, DocumentList, Index};
pub use storage::Bucket;

/// The response format the client asks for: Appwrite 1.9's models.
pub const RESPONSE_FORMAT: &str = "1.9.5";

/// Where a client talks to and as whom.
#[derive(Debug, Clone)]
pub struct Connection {
    /// `https://HOST/v1`.
    pub endpoint: String,
    pub project: String,
    pub api_key: String,
}

/// What went wrong with a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Error {
    /// Appwrite answered with an error body `{message, code, type}`.
    Api { code: u16, #[serde(rename = "type")] kind: String, message: String },
    /// The server could not be reached or the exchange broke off.
    Transport { message: String },
    /// The server answered something that is not the expected JSON.
    Decode { message: String },
}

impl Error {
    /// The Appwrite error type, when the server gave one.
    pub fn api_type(&self) -> Option<&str> {
        match self {
            Error::Api { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// The HTTP status of an Appwrite error.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True for a 404 saying the resource asked for does not exist — not one saying the route or
    /// the project does not (a wrong endpoint or project ID must not look like an empty project).
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404) && !matches!(self.api_type(), Some("general_route_not_found" | "project_not_found"))
    }

    /// True for a 409 (the resource already exists).
    pub fn is_conflict(&self) -> bool {
        self.code() == Some(409)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Api { code, kind, message } => write!(f, "{message} ({code} {kind})"),
            Error::Transport { message } => write!(f, "cannot reach Appwrite: {message}"),
            Error::Decode { message } => write!(f, "unexpected answer from Appwrite: {message}"),
        }
    }
}

impl std::error::Error for Error {}

/// The result of a call.
pub type Result<T> = std::result::Result<T, Error>;

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
    #[serde(default)]
    code: Option<u16>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

/// An Appwrite project reached over REST with an API key.
#[derive(Debug, Clone)]
pub struct Client {
    http: Http,
    conn: Connection,
}

impl Client {
    /// A client of `conn`; requests time out after `timeout`.
    pub fn new(conn: Connection, timeout: Duration) -> Result<Client> {
        let http = Http::builder()
            .timeout(timeout)
            .user_agent(concat!("qw/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Transport { message: e.to_string() })?;
        Ok(Client { http, conn: Connection { endpoint: conn.endpoint.trim_end_matches('/').to_string(), ..conn } })
    }

    /// Where this client talks to.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.conn.endpoint))
            .header("X-Appwrite-Project", &self.conn.project)
            .header("X-Appwrite-Key", &self.conn.api_key)
            .header("X-Appwrite-Response-Format", RESPONSE_FORMAT)
            .header("Accept", "application/json")
    }

    fn send<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T> {
        let response = builder.send().map_err(|e| Error::Transport { message: transport_message(&e) })?;
        let status = response.status();
        let text = response.text().map_err(|e| Error::Transport { message: e.to_string() })?;
        if !status.is_success() {
            return Err(match serde_json::from_str::<ErrorBody>(&text) {
                Ok(body) => Error::Api { code: body.code.unwrap_or(status.as_u16()), kind: body.kind.unwrap_or_default(), message: body.message },
                Err(_) => Error::Api { code: status.as_u16(), kind: String::new(), message: format!("HTTP {status}: {}", text.chars().take(200).collect::<String>()) },
            });
        }
        // A 204 has no body; callers that expect one get `null` decoded.
        let text = if text.trim().is_empty() { "null" } else { &text };
        serde_json::from_str(text).map_err(|e| Error::Decode { message: format!("{e}: {}", text.chars().take(200).collect::<String>()) })
    }

    /// GET with query parameters (`queries[0]=…` style for lists).
    pub fn get<T: DeserializeOwned>(&self, path: &str, params: &[(String, String)]) -> Result<T> {
        self.send(self.request(Method::GET, path).query(params))
    }

    /// A request with a JSON body.
    pub fn call<T: DeserializeOwned>(&self, method: Method, path: &str, body: &Value) -> Result<T> {
        self.send(self.request(method, path).json(body))
    }

    /// POST a JSON body.
    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        self.call(Method::POST, path, body)
    }

    /// PUT a JSON body.
    pub fn put<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        self.call(Method::PUT, path, body)
    }

    /// PATCH a JSON body.
    pub fn patch<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        self.call(Method::PATCH, path, body)
    }

    /// DELETE (Appwrite's clients send an empty JSON body).
    pub fn delete(&self, path: &str) -> Result<()> {
        self.call::<Value>(Method::DELETE, path, &json!({})).map(|_| ())
    }

    /// `GET /health/version`: the server's version, to tell that the endpoint is an Appwrite.
    pub fn version(&self) -> Result<String> {
        let v: Value = self.get("/health/version", &[])?;
        v.get("version").and_then(Value::as_str).map(str::to_string).ok_or_else(|| Error::Decode { message: "no version in /health/version".into() })
    }
}

fn transport_message(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    message
}

/// Percent-encodes one path segment (IDs are plain, but keys and IDs come from files).
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The query-string form of a list of queries: `queries[0]=…`.
pub fn query_params(queries: &[String]) -> Vec<(String, String)> {
    queries.iter().enumerate().map(|(i, q)| (format!("queries[{i}]"), q.clone())).collect()
}
