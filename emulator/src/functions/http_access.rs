//! Function HTTP access: `/fn/{functionId}/{path}` on the emulator's port hands the raw request
//! (method, path, query, headers, body) to the function and returns its response unchanged, the
//! way a function domain does, and records an execution.
//!
//! Access: Appwrite 1.9.6 serves a function domain only when `execute` holds `any` or `guests`
//! (else `function_execute_permission_missing`) and never identifies the user. The emulator also
//! lets through API keys and signed-in users (session or JWT headers) whose roles are in
//! `execute`, and passes their ID in `x-appwrite-user-id`: the `api-gateway` function is reached
//! here by the app's own users during offline development.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::executions::{self, Call, Trigger};
use super::store::{self, Doc};
use crate::auth::Caller;
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::state::{AppState, Project};

/// The largest request body a function accepts (the runtimes' 20 MB limit).
const MAX_BODY: usize = 20 * 1024 * 1024;

pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    match serve(state, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// The project holding `function_id`: the one named by `X-Appwrite-Project`, else the first
/// project that has such a function.
async fn find_project(state: &AppState, header: Option<&str>, function_id: &str) -> ApiResult<Arc<Project>> {
    if let Some(pid) = header.filter(|p| !p.is_empty()) {
        return state.project(pid).ok_or_else(|| ApiError::of(types::PROJECT_NOT_FOUND));
    }
    for pid in state.project_ids() {
        let Some(project) = state.project(&pid) else { continue };
        let fid = function_id.to_string();
        if project.read(move |tx| store::get(tx, store::Table::Functions, &fid)).await?.is_some() {
            return Ok(project);
        }
    }
    Err(ApiError::of(types::FUNCTION_NOT_FOUND))
}

fn allowed(ctx: &Ctx, function: &Doc) -> ApiResult<()> {
    let execute = store::list_of(function, "execute");
    if execute.iter().any(|r| r == "any" || r == "guests") || ctx.is_key() {
        return Ok(());
    }
    if ctx.caller.user().is_none() {
        return Err(ApiError::of(types::FUNCTION_EXECUTE_PERMISSION_MISSING));
    }
    executions::authorize(ctx, function)
}

async fn serve(state: AppState, req: Request) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    let rest = parts.uri.path().strip_prefix("/fn/").unwrap_or("");
    let (function_id, sub_path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let function_id = percent_encoding::percent_decode_str(function_id).decode_utf8_lossy().into_owned();
    let mut path = sub_path.to_string();
    if let Some(q) = parts.uri.query() {
        path.push('?');
        path.push_str(q);
    }
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let project = find_project(&state, header("x-appwrite-project"), &function_id).await?;
    let key = header("x-appwrite-key").unwrap_or("");
    let now = state.clock.now().timestamp();
    let caller = if key.is_empty() {
        // A function domain never rejects credentials: an expired or foreign JWT is the
        // function's to judge (it receives the header), so such a caller is a guest here.
        crate::users::authenticate(&state, &project, &parts.headers).await.unwrap_or(Caller::Guest)
    } else if state.is_admin_key(key) {
        Caller::admin_key()
    } else {
        crate::auth::decode_ephemeral_key(&state.secret, now, key, &project.id).unwrap_or(Caller::Guest)
    };
    let ctx = Ctx::internal(state.clone(), project.clone(), caller);
    let (function, deployment) = executions::runnable(&ctx, &function_id).await?;
    allowed(&ctx, &function)?;
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::msg(types::GENERAL_BAD_REQUEST, "Request body is larger than the 20 MB a function accepts."))?;
    let (user_id, user_jwt) = executions::user_of(&ctx, &function);
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let client_ip = header("x-forwarded-for").and_then(|v| v.split(',').next()).unwrap_or("127.0.0.1").trim().to_string();
    let call = Call {
        trigger: Trigger::Http,
        method: parts.method.as_str().to_string(),
        path,
        headers,
        body,
        user_id: user_id.clone(),
        user_jwt,
        event: String::new(),
        client_ip,
    };
    let permissions = if user_id.is_empty() { Vec::new() } else { vec![format!("read(\"user:{user_id}\")")] };
    let execution = executions::new_execution(&state, &function, &deployment, &call, "processing", permissions);
    let ran = executions::run(&state, &project, &function, &deployment, execution, &call, Some(std::time::Duration::from_secs(30))).await;
    executions::save(&state, &project, &ran.execution, true).await?;
    let status = StatusCode::from_u16(ran.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = Response::new(Body::from(ran.body));
    *res.status_mut() = status;
    for (k, v) in &ran.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            res.headers_mut().append(name, value);
        }
    }
    Ok(res)
}
