//! Executions: `POST /functions/{id}/executions` (synchronous 201 or asynchronous 202, optionally
//! `scheduledAt`), get, list, delete; and the one path every trigger (http, event, schedule,
//! function domain) takes to run a function on its warm runtime and record the result.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rusqlite::types::Value as Sql;
use serde_json::{json, Value};

use super::catalogue::{self, Language};
use super::functions::require;
use super::store::{self, Doc, Table};
use super::{deployment_dir, function_dir, harness_dir, model, runtime};
use crate::auth::Caller;
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{accepted, created, no_content, ok, Reply};
use crate::state::{AppState, Project};

/// `APP_FUNCTION_LOG_LENGTH_LIMIT` / `APP_FUNCTION_ERROR_LENGTH_LIMIT`.
const LOG_LIMIT: usize = 1_000_000;
/// How long a synchronous API execution may take (`requestTimeout: 30`).
const SYNC_LIMIT: Duration = Duration::from_secs(30);
/// Request headers kept on the stored execution (`FUNCTION_ALLOWLIST_HEADERS_REQUEST`).
const REQUEST_ALLOWLIST: &[&str] = &["content-type", "agent", "content-length", "host", "x-appwrite-client-ip"];
/// Response headers kept on the stored execution (`FUNCTION_ALLOWLIST_HEADERS_RESPONSE`).
const RESPONSE_ALLOWLIST: &[&str] = &["content-type", "content-length"];
/// Hop-by-hop headers that never reach a function or come back from one.
const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "content-length"];

/// What started an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Http,
    Event,
    Schedule,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Http => "http",
            Trigger::Event => "event",
            Trigger::Schedule => "schedule",
        }
    }
}

/// One request for a function, whatever triggered it.
#[derive(Clone)]
pub struct Call {
    pub trigger: Trigger,
    pub method: String,
    /// Path with its query string.
    pub path: String,
    /// The caller's headers (lower-case names).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub user_id: String,
    pub user_jwt: String,
    /// The most specific event string, for event triggers.
    pub event: String,
    pub client_ip: String,
}

/// The headers the runtime gets: the caller's, then Appwrite's own (which win). Like 1.9.6
/// (`array_merge` of the request headers and the platform's), the caller's other `x-appwrite-*`
/// headers (an `X-Appwrite-JWT` the function verifies itself) reach the function.
fn runtime_headers(state: &AppState, project_id: &str, function: &Doc, execution_id: &str, call: &Call) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = call
        .headers
        .iter()
        .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()) && !k.starts_with("x-open-runtimes-"))
        .cloned()
        .collect();
    let timeout = store::i64_of(function, "timeout").max(1);
    let now = state.clock.now().timestamp();
    let key = crate::auth::issue_ephemeral_key(&state.secret, now, project_id, &store::list_of(function, "scopes"), timeout + 60);
    let mut ours = vec![
        ("x-appwrite-execution-id", execution_id.to_string()),
        ("x-appwrite-key", key),
        ("x-appwrite-trigger", call.trigger.as_str().to_string()),
        ("x-appwrite-user-id", call.user_id.clone()),
        ("x-appwrite-user-jwt", call.user_jwt.clone()),
        ("x-appwrite-country-code", String::new()),
        ("x-appwrite-continent-code", String::new()),
        ("x-appwrite-continent-eu", "false".to_string()),
        ("x-appwrite-client-ip", call.client_ip.clone()),
    ];
    if call.trigger == Trigger::Event {
        ours.push(("x-appwrite-event", call.event.clone()));
    }
    for (k, v) in ours {
        headers.retain(|(h, _)| h != k);
        headers.push((k.to_string(), v));
    }
    headers
}

/// The environment of a deployment's runtime (`Executions/Create.php`'s `$vars`).
async fn runtime_env(state: &AppState, project: &Arc<Project>, function: &Doc, deployment: &Doc) -> ApiResult<Vec<(String, String)>> {
    let fid = store::str_of(function, "$id");
    let pid = project.id.clone();
    let vars = {
        let fid = fid.clone();
        project.read(move |tx| super::variables::environment(tx, &pid, &fid)).await?
    };
    let runtime_id = store::str_of(function, "runtime");
    let (_, version) = catalogue::split_id(&runtime_id);
    let (cpus, memory) = catalogue::specification(&store::str_of(function, "runtimeSpecification"));
    let mut env = vars;
    let appwrite = [
        ("APPWRITE_FUNCTION_API_ENDPOINT", state.endpoint()),
        ("APPWRITE_FUNCTION_ID", fid),
        ("APPWRITE_FUNCTION_NAME", store::str_of(function, "name")),
        ("APPWRITE_FUNCTION_DEPLOYMENT", store::str_of(deployment, "$id")),
        ("APPWRITE_FUNCTION_PROJECT_ID", project.id.clone()),
        ("APPWRITE_FUNCTION_RUNTIME_NAME", catalogue::runtime_model(&runtime_id)["name"].as_str().unwrap_or("").to_string()),
        ("APPWRITE_FUNCTION_RUNTIME_VERSION", version.to_string()),
        ("APPWRITE_FUNCTION_CPUS", cpus.to_string()),
        ("APPWRITE_FUNCTION_MEMORY", memory.to_string()),
        ("APPWRITE_VERSION", crate::format::SERVER_VERSION.to_string()),
        ("APPWRITE_REGION", "default".to_string()),
        ("APPWRITE_DEPLOYMENT_TYPE", store::str_of(deployment, "type")),
        ("APPWRITE_VCS_REPOSITORY_ID", String::new()),
        ("APPWRITE_VCS_REPOSITORY_NAME", String::new()),
        ("APPWRITE_VCS_REPOSITORY_OWNER", String::new()),
        ("APPWRITE_VCS_REPOSITORY_URL", String::new()),
        ("APPWRITE_VCS_REPOSITORY_BRANCH", String::new()),
        ("APPWRITE_VCS_REPOSITORY_BRANCH_URL", String::new()),
        ("APPWRITE_VCS_COMMIT_HASH", String::new()),
        ("APPWRITE_VCS_COMMIT_MESSAGE", String::new()),
        ("APPWRITE_VCS_COMMIT_URL", String::new()),
        ("APPWRITE_VCS_COMMIT_AUTHOR_NAME", String::new()),
        ("APPWRITE_VCS_COMMIT_AUTHOR_URL", String::new()),
        ("APPWRITE_VCS_ROOT_DIRECTORY", String::new()),
        ("OPEN_RUNTIMES_ENTRYPOINT", store::str_of(deployment, "entrypoint")),
        ("OPEN_RUNTIMES_HOSTNAME", "127.0.0.1".to_string()),
        ("OPEN_RUNTIMES_CPUS", cpus.to_string()),
        ("OPEN_RUNTIMES_MEMORY", memory.to_string()),
        ("CI", "true".to_string()),
    ];
    for (k, v) in appwrite {
        env.retain(|(e, _)| e != k);
        env.push((k.to_string(), v));
    }
    Ok(env)
}

/// What to start for the deployment's runtime.
async fn runtime_spec(state: &AppState, project: &Arc<Project>, function: &Doc, deployment: &Doc) -> ApiResult<runtime::Spec> {
    let runtime_id = store::str_of(function, "runtime");
    let installed = catalogue::find(&runtime_id).ok_or_else(|| {
        ApiError::msg(types::FUNCTION_RUNTIME_UNSUPPORTED, format!("Runtime \"{runtime_id}\" is not supported"))
    })?;
    let fid = store::str_of(function, "$id");
    let code_root = deployment_dir(project, &fid, &store::str_of(deployment, "$id"));
    let harness = harness_dir(state)?;
    let (interpreter, args, harness) = match installed.language {
        Language::Python => {
            let venv_python = code_root.join("function/runtime-env/bin/python");
            if venv_python.exists() {
                (venv_python, Vec::new(), harness.join("python/server.py"))
            } else {
                // No venv (nothing was installed): run without the machine's site-packages, as
                // the clean official image would, which also skips their `.pth` start-up hooks.
                (installed.interpreter.clone(), vec!["-S".to_string()], harness.join("python/server.py"))
            }
        }
        Language::Node => (installed.interpreter.clone(), Vec::new(), harness.join("node/server.mjs")),
    };
    let mut env = runtime_env(state, project, function, deployment).await?;
    let venv = code_root.join("function/runtime-env");
    if venv.is_dir() {
        let path = std::env::var("PATH").unwrap_or_default();
        env.push(("PATH".into(), format!("{}:{path}", venv.join("bin").display())));
        env.push(("VIRTUAL_ENV".into(), venv.display().to_string()));
    }
    Ok(runtime::Spec { interpreter, args, harness, code_root, env, logs_dir: function_dir(project, &fid).join(".logs") })
}

fn truncate(text: String, what: &str) -> String {
    if text.len() <= LOG_LIMIT {
        return text;
    }
    let warning = format!("[WARNING] {what} truncated. The output exceeded {LOG_LIMIT} characters.\n");
    let keep = LOG_LIMIT - warning.len();
    let mut start = text.len() - keep;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("{warning}{}", &text[start..])
}

/// The result of running a call: the stored execution and, for synchronous callers, the full
/// response (body and every header).
pub struct Ran {
    pub execution: Doc,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub killed_on_deadline: bool,
}

/// Runs `call` on the function's active deployment and fills `execution` with the result.
pub async fn run(state: &AppState, project: &Arc<Project>, function: &Doc, deployment: &Doc, mut execution: Doc, call: &Call, cap: Option<Duration>) -> Ran {
    let fid = store::str_of(function, "$id");
    let did = store::str_of(deployment, "$id");
    let eid = store::str_of(&execution, "$id");
    let timeout = Duration::from_secs(store::i64_of(function, "timeout").max(1) as u64);
    let mut deadline = timeout + Duration::from_secs(1);
    if let Some(cap) = cap {
        deadline = deadline.min(cap);
    }
    let headers = runtime_headers(state, &project.id, function, &eid, call);
    let logging = store::bool_of(function, "logging");
    let inv = runtime::Invocation {
        method: call.method.clone(),
        path: call.path.clone(),
        headers,
        body: call.body.clone(),
        timeout,
        deadline,
        logging,
    };
    let spec = async { runtime_spec(state, project, function, deployment).await.map_err(|e| e.message) };
    let outcome = state.functions.pool.invoke(&runtime::key(&project.id, &fid, &did), spec, inv).await;
    let status = if outcome.status >= 500 { "failed" } else { "completed" };
    let kept: Vec<Value> = outcome
        .headers
        .iter()
        .filter(|(k, _)| RESPONSE_ALLOWLIST.contains(&k.as_str()))
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    execution.insert("status".into(), json!(status));
    execution.insert("responseStatusCode".into(), json!(outcome.status));
    execution.insert("responseHeaders".into(), Value::Array(kept));
    execution.insert("logs".into(), json!(if logging { truncate(outcome.logs, "Logs") } else { String::new() }));
    execution.insert("errors".into(), json!(if logging { truncate(outcome.errors, "Errors") } else { String::new() }));
    execution.insert("duration".into(), json!(outcome.duration));
    execution.insert("$updatedAt".into(), json!(state.clock.now_iso()));
    let headers = outcome.headers.into_iter().filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str())).collect();
    Ran { execution, status: outcome.status, headers, body: outcome.body, killed_on_deadline: outcome.killed_on_deadline }
}

/// A new execution document (not yet stored).
pub fn new_execution(state: &AppState, function: &Doc, deployment: &Doc, call: &Call, status: &str, permissions: Vec<String>) -> Doc {
    let now = state.clock.now_iso();
    let request_headers: Vec<Value> = call
        .headers
        .iter()
        .chain([("x-appwrite-client-ip".to_string(), call.client_ip.clone())].iter())
        .filter(|(k, _)| REQUEST_ALLOWLIST.contains(&k.as_str()))
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let mut d = Doc::new();
    d.insert("$id".into(), json!(crate::ids::unique()));
    d.insert("$createdAt".into(), json!(now));
    d.insert("$updatedAt".into(), json!(now));
    d.insert("$permissions".into(), json!(permissions));
    d.insert("functionId".into(), function["$id"].clone());
    d.insert("deploymentId".into(), deployment["$id"].clone());
    d.insert("trigger".into(), json!(call.trigger.as_str()));
    d.insert("status".into(), json!(status));
    d.insert("requestMethod".into(), json!(call.method));
    d.insert("requestPath".into(), json!(call.path));
    d.insert("requestHeaders".into(), Value::Array(request_headers));
    d.insert("responseStatusCode".into(), json!(0));
    d.insert("responseBody".into(), json!(""));
    d.insert("responseHeaders".into(), json!([]));
    d.insert("logs".into(), json!(""));
    d.insert("errors".into(), json!(""));
    d.insert("duration".into(), json!(0.0));
    d.insert("scheduledAt".into(), Value::Null);
    d
}

/// Stores a new or updated execution and publishes its event.
pub async fn save(state: &AppState, project: &Arc<Project>, execution: &Doc, is_new: bool) -> ApiResult<()> {
    let fid = store::str_of(execution, "functionId");
    let stored = execution.clone();
    let f = fid.clone();
    project
        .write(move |tx| {
            if is_new {
                store::insert_child(tx, Table::Executions, &f, &stored)?;
            } else {
                store::put(tx, Table::Executions, &stored)?;
            }
            Ok(())
        })
        .await?;
    let ctx = Ctx::internal(state.clone(), project.clone(), Caller::admin_key());
    let eid = store::str_of(execution, "$id");
    let action = if is_new { "create" } else { "update" };
    crate::events::publish(
        &ctx,
        &format!("functions.[functionId].executions.[executionId].{action}"),
        &[("functionId", &fid), ("executionId", &eid)],
        model::execution(execution, true),
    );
    Ok(())
}

/// Runs a stored (waiting or scheduled) execution in the background.
pub fn run_in_background(state: AppState, project: Arc<Project>, function: Doc, deployment: Doc, mut execution: Doc, call: Call) {
    tokio::spawn(async move {
        execution.insert("status".into(), json!("processing"));
        execution.insert("$updatedAt".into(), json!(state.clock.now_iso()));
        let _ = save(&state, &project, &execution, false).await;
        let ran = run(&state, &project, &function, &deployment, execution, &call, None).await;
        if let Err(e) = save(&state, &project, &ran.execution, false).await {
            tracing::warn!("execution could not be recorded: {e}");
        }
    });
}

/// Runs `function` for an event or a schedule (asynchronously, as Appwrite's worker does).
pub async fn run_trigger(state: &AppState, project: &Arc<Project>, function_id: &str, call: Call) -> ApiResult<()> {
    let fid = function_id.to_string();
    let found = project
        .read(move |tx| {
            let Some(f) = store::get(tx, Table::Functions, &fid)? else { return Ok(None) };
            let did = store::str_of(&f, "deploymentId");
            let d = store::get(tx, Table::Deployments, &did)?;
            Ok(d.map(|d| (f, d)))
        })
        .await?;
    let Some((function, deployment)) = found else { return Ok(()) };
    if !store::bool_of(&function, "enabled") || store::str_of(&deployment, "status") != "ready" {
        return Ok(());
    }
    let execution = new_execution(state, &function, &deployment, &call, "waiting", Vec::new());
    save(state, project, &execution, true).await?;
    run_in_background(state.clone(), project.clone(), function, deployment, execution, call);
    Ok(())
}

/// The function and its runnable deployment, with Appwrite's checks for executing callers.
pub async fn runnable(ctx: &Ctx, function_id: &str) -> ApiResult<(Doc, Doc)> {
    let fid = function_id.to_string();
    let (function, deployment) = ctx
        .project()?
        .read(move |tx| {
            let f = store::get(tx, Table::Functions, &fid)?;
            let d = match &f {
                Some(f) => store::get(tx, Table::Deployments, &store::str_of(f, "deploymentId"))?,
                None => None,
            };
            Ok((f, d))
        })
        .await?;
    let Some(function) = function.filter(|f| store::bool_of(f, "enabled") || ctx.is_key()) else {
        return Err(ApiError::of(types::FUNCTION_NOT_FOUND));
    };
    let runtime_id = store::str_of(&function, "runtime");
    if catalogue::find(&runtime_id).is_none() {
        return Err(ApiError::msg(types::FUNCTION_RUNTIME_UNSUPPORTED, format!("Runtime \"{runtime_id}\" is not supported")));
    }
    let Some(deployment) = deployment.filter(|d| store::str_of(d, "resourceId") == store::str_of(&function, "$id")) else {
        return Err(ApiError::msg(
            types::DEPLOYMENT_NOT_FOUND,
            "Deployment not found. Create a deployment before trying to execute a function",
        ));
    };
    if store::str_of(&deployment, "status") != "ready" {
        return Err(ApiError::of(types::BUILD_NOT_READY));
    }
    Ok((function, deployment))
}

/// The caller's user ID and a fresh user JWT (valid timeout + 60 s) when they have a session.
pub fn user_of(ctx: &Ctx, function: &Doc) -> (String, String) {
    match ctx.caller.user() {
        Some(u) => {
            let jwt = match &u.session_id {
                Some(sid) => crate::auth::issue_user_jwt(
                    &ctx.state.secret,
                    ctx.state.clock.now().timestamp(),
                    ctx.project_id(),
                    &u.id,
                    sid,
                    store::i64_of(function, "timeout") + 60,
                ),
                None => String::new(),
            };
            (u.id.clone(), jwt)
        }
        None => (String::new(), String::new()),
    }
}

/// Checks the caller may execute `function` (its `execute` roles; keys bypass).
pub fn authorize(ctx: &Ctx, function: &Doc) -> ApiResult<()> {
    if ctx.is_key() {
        return Ok(());
    }
    // utopia's Authorization over the `execute` role list, with its messages.
    let execute = store::list_of(function, "execute");
    let roles = ctx.roles();
    if execute.is_empty() {
        return Err(ApiError::msg(types::USER_UNAUTHORIZED, "No permissions provided for action 'execute'"));
    }
    if execute.iter().any(|r| roles.contains(r)) {
        return Ok(());
    }
    Err(ApiError::msg(
        types::USER_UNAUTHORIZED,
        format!(
            "Missing \"execute\" permission for role \"{}\". Only \"{}\" scopes are allowed and \"{}\" was given.",
            execute.last().map(String::as_str).unwrap_or_default(),
            serde_json::to_string(&roles).unwrap_or_default(),
            serde_json::to_string(&execute).unwrap_or_default()
        ),
    ))
}

fn client_ip(ctx: &Ctx) -> String {
    ctx.header("x-forwarded-for").and_then(|v| v.split(',').next()).map(|s| s.trim().to_string()).unwrap_or_else(|| "127.0.0.1".into())
}

pub async fn create(ctx: Ctx, p: Params) -> Reply {
    let fid = p.path("functionId").to_string();
    let body = p.text_opt("body", 10_485_760)?.unwrap_or_default();
    let is_async = match p.get("async") {
        None => false,
        Some(v) => crate::params::as_bool(v).ok_or_else(|| ApiError::invalid_param("async", "Value must be a valid boolean"))?,
    };
    let path = match p.str_opt("path")? {
        None => "/".to_string(),
        Some(s) if s.is_empty() || s.chars().count() > 2048 => {
            return Err(ApiError::invalid_param("path", "Value must be a valid string and at least 1 chars and no longer than 2048 chars"))
        }
        Some(s) => s,
    };
    let method = p.str_opt("method")?.unwrap_or_else(|| "POST".into());
    const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
    if !METHODS.contains(&method.as_str()) {
        return Err(ApiError::invalid_param("method", &format!("Value must be one of ({})", METHODS.join(", "))));
    }
    let headers = match p.get("headers") {
        None => serde_json::Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(Value::Array(a)) if a.is_empty() => serde_json::Map::new(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            Ok(Value::Array(a)) if a.is_empty() => serde_json::Map::new(),
            _ => return Err(ApiError::invalid_param("headers", "Value must be a valid object.")),
        },
        Some(_) => return Err(ApiError::invalid_param("headers", "Value must be a valid object.")),
    };
    let scheduled_at = p.text_opt("scheduledAt", 100)?;
    if !is_async && scheduled_at.is_some() {
        return Err(ApiError::msg(
            types::GENERAL_BAD_REQUEST,
            "Scheduled executions must run asynchronously. Set scheduledAt to a future date, or set async to true.",
        ));
    }
    let scheduled_at = match scheduled_at {
        None => None,
        Some(s) => {
            let at = crate::clock::parse_datetime(&s)
                .filter(|t| *t >= ctx.state.clock.now() + chrono::Duration::seconds(60))
                .ok_or_else(|| ApiError::msg(types::GENERAL_BAD_REQUEST, "Execution schedule must be a valid date, and at least 1 minute from now"))?;
            Some(crate::clock::iso(at))
        }
    };
    let (function, deployment) = runnable(&ctx, &fid).await?;
    authorize(&ctx, &function)?;
    let (user_id, user_jwt) = user_of(&ctx, &function);
    let mut call_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().map(String::from).unwrap_or_else(|| v.to_string())))
        .collect();
    call_headers.retain(|(k, _)| !k.is_empty());
    let call = Call {
        trigger: if scheduled_at.is_some() { Trigger::Schedule } else { Trigger::Http },
        method,
        path,
        headers: call_headers,
        body: Bytes::from(body),
        user_id: user_id.clone(),
        user_jwt,
        event: String::new(),
        client_ip: client_ip(&ctx),
    };
    let permissions = if user_id.is_empty() { Vec::new() } else { vec![format!("read(\"user:{user_id}\")")] };
    let project = ctx.project()?.clone();
    if is_async {
        let status = if scheduled_at.is_some() { "scheduled" } else { "waiting" };
        let mut execution = new_execution(&ctx.state, &function, &deployment, &call, status, permissions);
        if let Some(at) = &scheduled_at {
            execution.insert("scheduledAt".into(), json!(at));
            // The scheduler replays the call from the stored request.
            execution.insert("scheduledCall".into(), json!({
                "method": call.method, "path": call.path, "body": String::from_utf8_lossy(&call.body),
                "headers": call.headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                "userId": call.user_id,
            }));
        }
        save(&ctx.state, &project, &execution, true).await?;
        if scheduled_at.is_none() {
            run_in_background(ctx.state.clone(), project, function, deployment, execution.clone(), call);
        } else {
            ctx.state.functions.wake.notify_one();
        }
        return accepted(model::execution(&execution, ctx.is_key()));
    }
    let execution = new_execution(&ctx.state, &function, &deployment, &call, "processing", permissions);
    let ran = run(&ctx.state, &project, &function, &deployment, execution, &call, Some(SYNC_LIMIT)).await;
    save(&ctx.state, &project, &ran.execution, true).await?;
    if ran.killed_on_deadline && store::i64_of(&function, "timeout") as u64 >= SYNC_LIMIT.as_secs() {
        return Err(ApiError::of(types::FUNCTION_SYNCHRONOUS_TIMEOUT));
    }
    let mut out = model::execution(&ran.execution, ctx.is_key());
    let mut headers: Vec<Value> = ran.headers.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
    headers.push(json!({"name": "x-appwrite-execution-id", "value": store::str_of(&ran.execution, "$id")}));
    out["responseHeaders"] = Value::Array(headers);
    out["responseBody"] = json!(String::from_utf8_lossy(&ran.body));
    created(out)
}

fn load_execution(tx: &rusqlite::Transaction, fid: &str, eid: &str) -> ApiResult<Doc> {
    require(tx, fid)?;
    store::get(tx, Table::Executions, eid)?
        .filter(|e| store::str_of(e, "functionId") == fid)
        .ok_or_else(|| ApiError::of(types::EXECUTION_NOT_FOUND))
}

/// Users see the executions they started; keys see all.
fn visible(ctx: &Ctx, e: &Doc) -> bool {
    ctx.is_key() || ctx.caller.user().is_some_and(|u| store::list_of(e, "$permissions").contains(&format!("read(\"user:{}\")", u.id)))
}

pub async fn get(ctx: Ctx, p: Params) -> Reply {
    let (fid, eid) = (p.path("functionId").to_string(), p.path("executionId").to_string());
    let doc = ctx.project()?.read(move |tx| load_execution(tx, &fid, &eid)).await?;
    if !visible(&ctx, &doc) {
        return Err(ApiError::of(types::EXECUTION_NOT_FOUND));
    }
    ok(model::execution(&doc, ctx.is_key()))
}

pub async fn list(ctx: Ctx, p: Params) -> Reply {
    let fid = p.path("functionId").to_string();
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let user = if ctx.is_key() { None } else { Some(ctx.caller.user().map(|u| u.id.clone()).unwrap_or_default()) };
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            require(tx, &fid)?;
            let schema = FixedSchema::new(
                "",
                &[
                    ("trigger", "trigger", Kind::String),
                    ("status", "status", Kind::String),
                    ("responseStatusCode", "response_status_code", Kind::Integer),
                    ("duration", "duration", Kind::Float),
                    ("requestMethod", "request_method", Kind::String),
                    ("requestPath", "request_path", Kind::String),
                    ("deploymentId", "deployment_id", Kind::String),
                ],
                "seq",
            );
            let mut scope = Compiled::default();
            scope.push("function_id = ?", [Sql::Text(fid.clone())]);
            let mut visibility = Compiled::default();
            if let Some(uid) = user {
                visibility.push("instr(json_extract(doc, '$.\"$permissions\"'), ?) > 0", [Sql::Text(format!("read(\\\"user:{uid}\\\")"))]);
            }
            let spec = ListSpec {
                from: "executions".into(),
                select: "doc".into(),
                scope,
                visibility,
                schema: &schema,
                id_sql: "id",
                resource: "Execution",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: None,
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, |r| r.get::<_, String>(0))?;
            Ok((page.items, page.total))
        })
        .await?;
    let executions: Vec<Value> = items.iter().map(|t| model::execution(&store::parse_doc(t), ctx.is_key())).collect();
    ok(json!({"total": total, "executions": executions}))
}

pub async fn delete(ctx: Ctx, p: Params) -> Reply {
    let (fid, eid) = (p.path("functionId").to_string(), p.path("executionId").to_string());
    let doc = ctx
        .project()?
        .write(move |tx| {
            let doc = load_execution(tx, &fid, &eid)?;
            if !matches!(store::str_of(&doc, "status").as_str(), "completed" | "failed" | "scheduled") {
                return Err(ApiError::of(types::EXECUTION_IN_PROGRESS));
            }
            store::delete(tx, Table::Executions, &eid)?;
            Ok(doc)
        })
        .await?;
    let (fid, eid) = (store::str_of(&doc, "functionId"), store::str_of(&doc, "$id"));
    crate::events::publish(
        &ctx,
        "functions.[functionId].executions.[executionId].delete",
        &[("functionId", &fid), ("executionId", &eid)],
        model::execution(&doc, true),
    );
    no_content()
}

/// Marks executions a previous run left waiting or processing as failed.
pub fn fail_interrupted(tx: &rusqlite::Transaction) -> ApiResult<()> {
    for mut e in store::all(tx, Table::Executions)? {
        if matches!(store::str_of(&e, "status").as_str(), "waiting" | "processing") {
            e.insert("status".into(), json!("failed"));
            e.insert("errors".into(), json!("The emulator stopped before this execution finished.\n"));
            store::put(tx, Table::Executions, &e)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_logs_keep_their_end_behind_a_warning() {
        let text = "x".repeat(LOG_LIMIT + 10);
        let out = truncate(text, "Logs");
        assert_eq!(out.len(), LOG_LIMIT);
        assert!(out.starts_with("[WARNING] Logs truncated. The output exceeded 1000000 characters.\n"));
        assert_eq!(truncate("short".into(), "Logs"), "short");
    }
}
