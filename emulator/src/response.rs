//! Success responses: JSON with Appwrite's content type, and the 204 that must not claim JSON.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiResult;

/// What handlers return.
pub type Reply = ApiResult<Response>;

pub fn json(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert("content-type", HeaderValue::from_static("application/json; charset=UTF-8"));
    res
}

pub fn ok(body: Value) -> Reply {
    Ok(json(StatusCode::OK, &body))
}

pub fn created(body: Value) -> Reply {
    Ok(json(StatusCode::CREATED, &body))
}

pub fn accepted(body: Value) -> Reply {
    Ok(json(StatusCode::ACCEPTED, &body))
}

/// 204 with an empty body and `text/html`: the Python SDK reads `Content-Type` unconditionally and
/// would try to decode an empty JSON body.
pub fn no_content() -> Reply {
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert("content-type", HeaderValue::from_static("text/html; charset=UTF-8"));
    Ok(res)
}
