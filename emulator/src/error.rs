//! Appwrite errors: one table of types (generated from `data/errors-1.9.6.tsv`) and the
//! `{message, code, version, type}` body every failure is answered with.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::format::SERVER_VERSION;

/// One row of Appwrite's error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorType {
    pub name: &'static str,
    pub code: u16,
    pub message: &'static str,
}

/// Every Appwrite 1.9.6 error type as a constant, e.g. `types::DOCUMENT_NOT_FOUND`.
pub mod types {
    use super::ErrorType;
    include!(concat!(env!("OUT_DIR"), "/error_types.rs"));
}

/// An error answered to the client. `message` is final text.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub ty: ErrorType,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// The type's default message, with no placeholder filled.
    pub fn of(ty: ErrorType) -> Self {
        ApiError { ty, message: ty.message.to_string() }
    }

    /// The default message with its `%s` placeholder filled by `arg` (as Appwrite's sprintf does).
    pub fn with_arg(ty: ErrorType, arg: &str) -> Self {
        ApiError { ty, message: ty.message.replacen("%s", arg, 1) }
    }

    /// A custom message.
    pub fn msg(ty: ErrorType, message: impl Into<String>) -> Self {
        ApiError { ty, message: message.into() }
    }

    /// `general_argument_invalid` for a parameter that failed its validator.
    pub fn invalid_param(name: &str, description: &str) -> Self {
        Self::msg(types::GENERAL_ARGUMENT_INVALID, format!("Invalid `{name}` param: {description}"))
    }

    /// `general_argument_invalid` for a required parameter that is absent.
    pub fn missing_param(name: &str) -> Self {
        Self::msg(types::GENERAL_ARGUMENT_INVALID, format!("Param \"{name}\" is not optional."))
    }

    /// `general_query_invalid` with Appwrite's `Invalid query: ` prefix.
    pub fn query(description: impl AsRef<str>) -> Self {
        Self::msg(types::GENERAL_QUERY_INVALID, format!("Invalid query: {}", description.as_ref()))
    }

    /// A bug or an I/O failure: logged, answered as a 500.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {detail}");
        Self::msg(types::GENERAL_SERVER_ERROR, format!("Server Error: {detail}"))
    }

    /// The HTTP status, with Appwrite's rule that only listed codes pass through.
    pub fn status(&self) -> StatusCode {
        const PUBLIC: [u16; 16] = [400, 401, 402, 403, 404, 405, 408, 409, 410, 412, 416, 422, 429, 451, 501, 503];
        let code = if PUBLIC.contains(&self.ty.code) { self.ty.code } else { 500 };
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.ty.name, self.ty.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(format!("database: {e}"))
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::internal(format!("io: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({
            "message": self.message,
            "code": status.as_u16(),
            "version": SERVER_VERSION,
            "type": self.ty.name,
        });
        let mut res = (status, body.to_string()).into_response();
        let headers = res.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json; charset=UTF-8"));
        headers.insert("cache-control", HeaderValue::from_static("no-cache, no-store, must-revalidate"));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_codes_and_placeholders() {
        assert_eq!(types::DOCUMENT_NOT_FOUND.code, 404);
        let e = ApiError::with_arg(types::DOCUMENT_NOT_FOUND, "abc");
        assert_eq!(e.message, "Document with the requested ID 'abc' could not be found.");
        assert_eq!(types::TRANSACTION_EXPIRED.code, 410);
        assert_eq!(ApiError::of(types::TRANSACTION_EXPIRED).status().as_u16(), 410);
    }

    #[test]
    fn private_codes_become_500() {
        assert_eq!(ApiError::of(types::GENERAL_PROTOCOL_UNSUPPORTED).status().as_u16(), 500);
    }
}
