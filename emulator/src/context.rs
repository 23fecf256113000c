//! The request context every Appwrite route gets: parameters, project, caller and response
//! format, resolved by one middleware in the order Appwrite resolves them, with the route's scope
//! checked before the handler runs.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::error::{types, ApiError, ApiResult};
use crate::format::Format;
use crate::params::Params;
use crate::state::{AppState, Project};

/// Everything a handler knows about the request besides its parameters.
#[derive(Clone)]
pub struct Ctx {
    pub state: AppState,
    project: Option<Arc<Project>>,
    pub caller: Arc<Caller>,
    pub format: Format,
    pub headers: HeaderMap,
}

impl Ctx {
    /// The project the request targets; the console (no project header) has no project data.
    pub fn project(&self) -> ApiResult<&Arc<Project>> {
        self.project.as_ref().ok_or_else(|| ApiError::of(types::PROJECT_NOT_FOUND))
    }

    pub fn project_id(&self) -> &str {
        self.project.as_ref().map(|p| p.id.as_str()).unwrap_or("console")
    }

    /// True for API keys, which bypass permissions.
    pub fn is_key(&self) -> bool {
        self.caller.is_key()
    }

    /// The caller's roles, matched against permissions.
    pub fn roles(&self) -> Vec<String> {
        self.caller.roles()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A context for calls the emulator makes on its own behalf (events, schedules, tests).
    pub fn internal(state: AppState, project: Arc<Project>, caller: Caller) -> Ctx {
        Ctx { state, project: Some(project), caller: Arc::new(caller), format: Format::SERVER, headers: HeaderMap::new() }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| ApiError::internal("route is missing the Appwrite middleware"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.remove::<Params>().ok_or_else(|| ApiError::internal("route is missing the Appwrite middleware"))
    }
}

/// The middleware in front of every Appwrite route (installed with `route_layer`).
pub async fn appwrite(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match prepare(state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn prepare(state: AppState, req: Request) -> ApiResult<Request> {
    let (mut parts, body) = req.into_parts();
    let path_params = RawPathParams::from_request_parts(&mut parts, &state)
        .await
        .map_err(|e| ApiError::msg(types::GENERAL_ARGUMENT_INVALID, e.body_text()))?;
    let mut params = Params::parse(parts.uri.query(), &parts.headers, body).await?;
    for (name, value) in &path_params {
        params.set_path(name, value);
    }
    let headers = parts.headers.clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or("");

    // 1. project: header, else the `project` param; empty or "console" is the console.
    let project_header = header("x-appwrite-project");
    let project_id = if project_header.is_empty() {
        params.str_opt("project").ok().flatten().unwrap_or_default()
    } else {
        project_header.to_string()
    };
    let project = match project_id.as_str() {
        "" | "console" => None,
        id => Some(state.project(id).ok_or_else(|| ApiError::of(types::PROJECT_NOT_FOUND))?),
    };
    let pid = project.as_ref().map(|p| p.id.clone()).unwrap_or_else(|| "console".into());
    let path = parts.uri.path();
    // Appwrite's `database`/`functions` route groups refuse the console before looking at keys.
    if project.is_none() && is_project_only_route(path) {
        return Err(ApiError::msg(
            types::GENERAL_ACCESS_FORBIDDEN,
            if project_header.is_empty() {
                "No Appwrite project was specified. Please specify your project ID when initializing your Appwrite SDK."
            } else {
                "This endpoint is not available for the console project. The Appwrite Console is a reserved project ID and cannot be used with the Appwrite SDKs and APIs. Please check if your project ID is correct."
            },
        ));
    }

    // 2. caller: API key, else session/JWT, else guest.
    let now = state.clock.now().timestamp();
    let key = header("x-appwrite-key");
    let caller = if !key.is_empty() {
        if project_header.is_empty() || project.is_none() {
            return Err(ApiError::of(types::PROJECT_ID_MISSING));
        }
        if state.is_admin_key(key) {
            state.admin_caller.clone()
        } else if key.starts_with("ephemeral_") || key.starts_with("dynamic_") {
            Arc::new(crate::auth::decode_ephemeral_key(&state.secret, now, key, &pid).unwrap_or(Caller::Guest))
        } else {
            return Err(ApiError::of(types::USER_UNAUTHORIZED));
        }
    } else {
        Arc::new(match &project {
            Some(p) => crate::users::authenticate(&state, p, &headers).await?,
            None => Caller::Guest,
        })
    };

    // 3. the route's scope.
    // axum answers HEAD with the GET route; its scope is the GET route's.
    let method = if parts.method == axum::http::Method::HEAD { "GET" } else { parts.method.as_str() };
    let allowed = crate::scope::lookup(method, path)
        .ok_or_else(|| ApiError::internal(format!("no scope is known for {method} {path}")))?;
    if !allowed.iter().any(|s| caller.has_scope(s)) {
        let host = header("host").split(':').next().unwrap_or("localhost").to_string();
        let list = serde_json::to_string(allowed).unwrap_or_default();
        return Err(ApiError::msg(
            types::GENERAL_UNAUTHORIZED_SCOPE,
            format!("{} missing scopes ({list})", caller.describe(&pid, &host)),
        ));
    }

    let ctx = Ctx {
        state,
        project,
        caller,
        format: Format::parse(headers.get("x-appwrite-response-format").and_then(|v| v.to_str().ok())),
        headers,
    };
    parts.extensions.insert(ctx);
    parts.extensions.insert(params);
    Ok(Request::from_parts(parts, axum::body::Body::empty()))
}

/// Routes of Appwrite's `database`, `functions`, `sites` and `messaging` groups.
fn is_project_only_route(path: &str) -> bool {
    ["/v1/databases", "/v1/tablesdb", "/v1/functions", "/v1/sites", "/v1/messaging"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}
