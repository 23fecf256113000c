//! `/functions`: create, get, list, update, delete; the runtimes and specifications lists.

use serde_json::{json, Value};

use super::store::{self, Doc, Table};
use super::{catalogue, model, validators};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{created, no_content, ok, Reply};

/// `_APP_FUNCTIONS_TIMEOUT`.
pub const MAX_TIMEOUT: i64 = 900;
/// `APP_COMPUTE_DEPLOYMENT_MAX_RETENTION` (100 years, in days).
const MAX_RETENTION: i64 = 36500;

/// Loads a function or answers `function_not_found`.
pub fn require(tx: &rusqlite::Transaction, id: &str) -> ApiResult<Doc> {
    store::get(tx, Table::Functions, id)?.ok_or_else(|| ApiError::of(types::FUNCTION_NOT_FOUND))
}

/// The function's own variables (the model's `vars`).
pub fn vars(tx: &rusqlite::Transaction, function_id: &str) -> ApiResult<Vec<Doc>> {
    let all = store::all_where(tx, Table::Variables, "resource_id", function_id)?;
    Ok(all.into_iter().filter(|v| store::str_of(v, "resourceType") == "function").collect())
}

/// Loads a function with its variables, for a response.
pub async fn load(ctx: &Ctx, id: &str) -> ApiResult<(Doc, Vec<Doc>)> {
    let id = id.to_string();
    ctx.project()?.read(move |tx| Ok((require(tx, &id)?, vars(tx, &id)?))).await
}

/// The Function model for this request's format.
pub fn respond(ctx: &Ctx, doc: &Doc, vars: &[Doc]) -> Value {
    model::function(doc, vars, ctx.format)
}

/// The specification params, with the 1.8 request filter (`specification` fills both).
fn specification_params(p: &Params) -> ApiResult<(Option<String>, Option<String>)> {
    let legacy = validators::specification(p, "specification")?;
    let build = validators::specification(p, "buildSpecification")?.or_else(|| legacy.clone());
    let runtime = validators::specification(p, "runtimeSpecification")?.or(legacy);
    Ok((build, runtime))
}

/// Checks the runtime is one this machine runs (Appwrite's `_APP_FUNCTIONS_RUNTIMES` rule).
pub fn check_installed(runtime: &str) -> ApiResult<()> {
    if catalogue::find(runtime).is_none() {
        let installed: Vec<&str> = catalogue::installed().keys().map(String::as_str).collect();
        return Err(ApiError::msg(
            types::FUNCTION_RUNTIME_UNSUPPORTED,
            format!("Runtime \"{runtime}\" is not supported (this emulator runs: {})", installed.join(", ")),
        ));
    }
    Ok(())
}

/// The VCS params: the emulator has no VCS installations.
fn check_vcs(p: &Params) -> ApiResult<()> {
    let installation = p.text_opt("installationId", 128)?.unwrap_or_default();
    let repository = p.text_opt("providerRepositoryId", 128)?.unwrap_or_default();
    let branch = p.text_opt("providerBranch", 128)?.unwrap_or_default();
    if !installation.is_empty() {
        return Err(ApiError::of(types::INSTALLATION_NOT_FOUND));
    }
    if !repository.is_empty() && (installation.is_empty() || branch.is_empty()) {
        return Err(ApiError::msg(
            types::GENERAL_ARGUMENT_INVALID,
            "When connecting to VCS (Version Control System), you need to provide \"installationId\" and \"providerBranch\".",
        ));
    }
    Ok(())
}

/// Fields create and update both take, with their defaults (PUT semantics: absent = default).
fn common(p: &Params, doc: &mut Doc) -> ApiResult<()> {
    doc.insert("execute".into(), json!(validators::execute_roles(p, "execute")?.unwrap_or_default()));
    doc.insert("events".into(), json!(validators::events(p, "events")?.unwrap_or_default()));
    doc.insert("schedule".into(), json!(validators::schedule(p, "schedule")?.unwrap_or_default()));
    doc.insert("timeout".into(), json!(p.range_opt("timeout", 1, MAX_TIMEOUT)?.unwrap_or(15)));
    doc.insert("enabled".into(), json!(p.bool_opt("enabled")?.unwrap_or(true)));
    doc.insert("logging".into(), json!(p.bool_opt("logging")?.unwrap_or(true)));
    doc.insert("commands".into(), json!(p.text_opt("commands", 8192)?.unwrap_or_default()));
    doc.insert("scopes".into(), json!(validators::scopes(p, "scopes")?.unwrap_or_default()));
    doc.insert("deploymentRetention".into(), json!(p.range_opt("deploymentRetention", 0, MAX_RETENTION)?.unwrap_or(0)));
    doc.insert("providerBranch".into(), json!(p.text_opt("providerBranch", 128)?.unwrap_or_default()));
    doc.insert("providerRootDirectory".into(), json!(p.text_opt("providerRootDirectory", 128)?.unwrap_or_default()));
    doc.insert("providerSilentMode".into(), json!(p.bool_opt("providerSilentMode")?.unwrap_or(false)));
    if let Some(d) = p.text_opt("description", 8192)? {
        doc.insert("description".into(), json!(d));
    }
    if let Some(e) = p.bool_opt("emailEnabled")? {
        doc.insert("emailEnabled".into(), json!(e));
    }
    Ok(())
}

pub async fn create(ctx: Ctx, p: Params) -> Reply {
    let id = ids::resolve_id("functionId", &p.str("functionId")?)?;
    let name = p.text("name", 128)?;
    let runtime = validators::runtime(&p, "runtime")?.ok_or_else(|| ApiError::missing_param("runtime"))?;
    let now = ctx.state.clock.now_iso();
    let mut doc = Doc::new();
    doc.insert("$id".into(), json!(id));
    doc.insert("$createdAt".into(), json!(now));
    doc.insert("$updatedAt".into(), json!(now));
    doc.insert("name".into(), json!(name));
    doc.insert("description".into(), json!(""));
    doc.insert("runtime".into(), json!(runtime));
    doc.insert("live".into(), json!(true));
    common(&p, &mut doc)?;
    doc.insert("entrypoint".into(), json!(p.text_opt("entrypoint", 1028)?.unwrap_or_default()));
    let (build_spec, runtime_spec) = specification_params(&p)?;
    doc.insert("buildSpecification".into(), json!(build_spec.unwrap_or_else(|| catalogue::DEFAULT_SPECIFICATION.into())));
    doc.insert("runtimeSpecification".into(), json!(runtime_spec.unwrap_or_else(|| catalogue::DEFAULT_SPECIFICATION.into())));
    doc.insert("providerBranches".into(), json!(validators::text_list(&p, "providerBranches", 128)?.unwrap_or_default()));
    doc.insert("providerPaths".into(), json!(validators::text_list(&p, "providerPaths", 128)?.unwrap_or_default()));
    for k in ["deploymentId", "deploymentCreatedAt", "latestDeploymentId", "latestDeploymentCreatedAt", "latestDeploymentStatus", "installationId", "providerRepositoryId"] {
        doc.insert(k.into(), json!(""));
    }
    doc.insert("version".into(), json!("v5"));
    doc.entry("emailEnabled").or_insert(json!(false));
    for k in ["templateRepository", "templateOwner", "templateRootDirectory", "templateVersion"] {
        p.text_opt(k, 128)?;
    }
    check_installed(&runtime)?;
    check_vcs(&p)?;
    let stored = doc.clone();
    ctx.project()?
        .write(move |tx| {
            if !store::insert_function(tx, &stored)? {
                return Err(ApiError::of(types::FUNCTION_ALREADY_EXISTS));
            }
            Ok(())
        })
        .await?;
    ctx.state.functions.wake.notify_one();
    let body = respond(&ctx, &doc, &[]);
    crate::events::publish(&ctx, "functions.[functionId].create", &[("functionId", &id)], body.clone());
    created(body)
}

pub async fn get(ctx: Ctx, p: Params) -> Reply {
    let (doc, vars) = load(&ctx, p.path("functionId")).await?;
    ok(respond(&ctx, &doc, &vars))
}

pub async fn list(ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let search = p.text_opt("search", 256)?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            let schema = FixedSchema::new(
                "",
                &[
                    ("name", "name", Kind::String),
                    ("enabled", "enabled", Kind::Boolean),
                    ("runtime", "runtime", Kind::String),
                    ("deploymentId", "deployment_id", Kind::String),
                    ("schedule", "schedule", Kind::String),
                    ("scheduleNext", "schedule_next", Kind::Datetime),
                    ("schedulePrevious", "schedule_previous", Kind::Datetime),
                    ("timeout", "timeout", Kind::Integer),
                    ("entrypoint", "entrypoint", Kind::String),
                    ("commands", "commands", Kind::String),
                    ("installationId", "installation_id", Kind::String),
                ],
                "seq",
            );
            let spec = ListSpec {
                from: "functions".into(),
                select: "doc".into(),
                scope: Compiled::default(),
                visibility: Compiled::default(),
                schema: &schema,
                id_sql: "id",
                resource: "Function",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: (!search.is_empty()).then(|| (search.clone(), vec!["id", "name", "runtime"])),
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, |r| r.get::<_, String>(0))?;
            let mut items = Vec::new();
            for text in page.items {
                let doc = store::parse_doc(&text);
                let v = vars(tx, &store::str_of(&doc, "$id"))?;
                items.push((doc, v));
            }
            Ok((items, page.total))
        })
        .await?;
    let functions: Vec<Value> = items.iter().map(|(d, v)| respond(&ctx, d, v)).collect();
    ok(json!({"total": total, "functions": functions}))
}

pub async fn update(ctx: Ctx, p: Params) -> Reply {
    let id = p.path("functionId").to_string();
    let name = p.text("name", 128)?;
    let runtime = validators::runtime(&p, "runtime")?;
    let mut changes = Doc::new();
    common(&p, &mut changes)?;
    let entrypoint = p.text_opt("entrypoint", 1028)?.unwrap_or_default();
    let (build_spec, runtime_spec) = specification_params(&p)?;
    let branches = validators::text_list(&p, "providerBranches", 128)?;
    let paths = validators::text_list(&p, "providerPaths", 128)?;
    if let Some(r) = &runtime {
        check_installed(r)?;
    }
    check_vcs(&p)?;
    let now = ctx.state.clock.now_iso();
    let (doc, vars) = ctx
        .project()?
        .write(move |tx| {
            let mut doc = require(tx, &id)?;
            let runtime = runtime.unwrap_or_else(|| store::str_of(&doc, "runtime"));
            let entrypoint = if entrypoint.is_empty() { store::str_of(&doc, "entrypoint") } else { entrypoint };
            let live = store::str_of(&doc, "name") == name
                && store::str_of(&doc, "entrypoint") == entrypoint
                && store::str_of(&doc, "commands") == store::str_of(&changes, "commands")
                && store::str_of(&doc, "runtime") == runtime;
            doc.extend(changes);
            doc.insert("name".into(), json!(name));
            doc.insert("runtime".into(), json!(runtime));
            doc.insert("entrypoint".into(), json!(entrypoint));
            doc.insert("live".into(), json!(live));
            doc.insert("buildSpecification".into(), json!(build_spec.unwrap_or_else(|| catalogue::DEFAULT_SPECIFICATION.into())));
            doc.insert("runtimeSpecification".into(), json!(runtime_spec.unwrap_or_else(|| catalogue::DEFAULT_SPECIFICATION.into())));
            if let Some(b) = branches {
                doc.insert("providerBranches".into(), json!(b));
            }
            if let Some(p) = paths {
                doc.insert("providerPaths".into(), json!(p));
            }
            doc.insert("$updatedAt".into(), json!(now));
            store::put(tx, Table::Functions, &doc)?;
            Ok((doc.clone(), vars(tx, &id)?))
        })
        .await?;
    let fid = store::str_of(&doc, "$id");
    // Timeout, name and specification reach the runtime through its environment: start afresh.
    ctx.state.functions.pool.recycle(&format!("{}/{fid}/", ctx.project_id()));
    ctx.state.functions.wake.notify_one();
    let body = respond(&ctx, &doc, &vars);
    crate::events::publish(&ctx, "functions.[functionId].update", &[("functionId", &fid)], body.clone());
    ok(body)
}

pub async fn delete(ctx: Ctx, p: Params) -> Reply {
    let id = p.path("functionId").to_string();
    let fid = id.clone();
    let (doc, vars) = ctx
        .project()?
        .write(move |tx| {
            let doc = require(tx, &fid)?;
            let v = vars(tx, &fid)?;
            store::delete(tx, Table::Functions, &fid)?;
            store::delete_where(tx, Table::Deployments, "function_id", &fid)?;
            store::delete_where(tx, Table::Executions, "function_id", &fid)?;
            tx.execute("DELETE FROM variables WHERE resource_type = 'function' AND resource_id = ?1", [&fid])?;
            tx.execute("DELETE FROM rules WHERE deployment_resource_type = 'function' AND deployment_resource_id = ?1", [&fid])?;
            Ok((doc, v))
        })
        .await?;
    ctx.state.functions.pool.recycle(&format!("{}/{id}/", ctx.project_id()));
    ctx.state.functions.wake.notify_one();
    let dir = super::function_dir(ctx.project()?, &id);
    tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir));
    let body = respond(&ctx, &doc, &vars);
    crate::events::publish(&ctx, "functions.[functionId].delete", &[("functionId", &id)], body);
    no_content()
}

pub async fn runtimes(_ctx: Ctx, _p: Params) -> Reply {
    let installed = tokio::task::spawn_blocking(|| catalogue::installed().keys().cloned().collect::<Vec<_>>())
        .await
        .map_err(ApiError::internal)?;
    let list: Vec<Value> = installed.iter().map(|id| catalogue::runtime_model(id)).collect();
    ok(json!({"total": list.len(), "runtimes": list}))
}

pub async fn specifications(_ctx: Ctx, _p: Params) -> Reply {
    ok(catalogue::specifications_model())
}
