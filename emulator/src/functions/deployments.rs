//! `/functions/{id}/deployments`: upload (one part or 5 MiB chunks, in any order, in parallel),
//! get, list, delete, download, cancel, and activation.
//!
//! Chunk assembly is self-contained here (Storage has its own); both follow Appwrite's protocol:
//! `Content-Range: bytes start-end/size`, `x-appwrite-id` on chunks after the first, chunk number
//! `start / 5 MiB + 1`, one lock per upload.

use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use rusqlite::types::Value as Sql;
use serde_json::{json, Value};

use super::functions::{self, require};
use super::store::{self, Doc, Table};
use super::{archive, build, deployment_dir, model};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{accepted, no_content, ok, Reply};

/// `APP_LIMIT_UPLOAD_CHUNK_SIZE`.
pub const CHUNK_SIZE: u64 = 5 * 1024 * 1024;
/// `_APP_COMPUTE_SIZE_LIMIT`.
pub const SIZE_LIMIT: u64 = 30_000_000;

/// Loads a deployment of `function_id` or answers `deployment_not_found`.
pub fn require_deployment(tx: &rusqlite::Transaction, function_id: &str, id: &str) -> ApiResult<Doc> {
    store::get(tx, Table::Deployments, id)?
        .filter(|d| store::str_of(d, "resourceId") == function_id)
        .ok_or_else(|| ApiError::of(types::DEPLOYMENT_NOT_FOUND))
}

/// Refreshes the function's `latestDeployment*` fields (Appwrite's `updateLatestDeployment`).
pub fn update_latest(tx: &rusqlite::Transaction, function_id: &str) -> ApiResult<()> {
    let Some(mut f) = store::get(tx, Table::Functions, function_id)? else { return Ok(()) };
    let latest = store::all_where(tx, Table::Deployments, "function_id", function_id)?.pop();
    let (id, at, status) = match &latest {
        Some(d) => (store::str_of(d, "$id"), store::str_of(d, "$createdAt"), store::str_of(d, "status")),
        None => Default::default(),
    };
    f.insert("latestDeploymentId".into(), json!(id));
    f.insert("latestDeploymentCreatedAt".into(), json!(at));
    f.insert("latestDeploymentStatus".into(), json!(status));
    store::put(tx, Table::Functions, &f)
}

/// `Content-Range: bytes start-end/size` (end inclusive).
fn content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes")?.trim();
    let (range, size) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, end.trim().parse().ok()?, size.trim().parse().ok()?))
}

fn chunk_path(dir: &std::path::Path, n: u64) -> PathBuf {
    dir.join("chunks").join(format!("part-{n:06}"))
}

pub async fn create(ctx: Ctx, mut p: Params) -> Reply {
    let fid = p.path("functionId").to_string();
    let entrypoint = p.text_opt("entrypoint", 1028)?.filter(|e| !e.is_empty());
    let commands = p.text_opt("commands", 8192)?;
    let activate = p.str("activate")?;
    let activate = activate == "true" || activate == "1";
    let file = match p.take_file("code") {
        Some(f) => Some(f),
        None => p.take_file("0"),
    };
    let project = ctx.project()?.clone();
    let function = {
        let fid = fid.clone();
        project.read(move |tx| require(tx, &fid)).await?
    };
    let entrypoint = entrypoint.unwrap_or_else(|| store::str_of(&function, "entrypoint"));
    let commands = commands.unwrap_or_else(|| store::str_of(&function, "commands"));
    if entrypoint.is_empty() {
        return Err(ApiError::of(types::FUNCTION_ENTRYPOINT_MISSING));
    }
    let Some(file) = file else {
        return Err(ApiError::msg(types::STORAGE_FILE_EMPTY, "No file sent"));
    };
    if !file.filename.to_ascii_lowercase().ends_with(".gz") {
        return Err(ApiError::of(types::STORAGE_FILE_TYPE_UNSUPPORTED));
    }
    let (deployment_id, chunk, chunks, size) = match ctx.header("content-range").filter(|v| !v.trim().is_empty()) {
        Some(range) => {
            let (start, end, size) = content_range(range).ok_or_else(|| ApiError::of(types::STORAGE_INVALID_CONTENT_RANGE))?;
            if end > size || start > end {
                return Err(ApiError::of(types::STORAGE_INVALID_CONTENT_RANGE));
            }
            let id = match ctx.header("x-appwrite-id").map(str::trim).filter(|v| !v.is_empty()) {
                Some("unique()") => return Err(ApiError::of(types::STORAGE_INVALID_APPWRITE_ID)),
                Some(id) => {
                    crate::ids::check_id("x-appwrite-id", id).map_err(|_| ApiError::of(types::STORAGE_INVALID_APPWRITE_ID))?;
                    id.to_string()
                }
                None => crate::ids::unique(),
            };
            (id, start / CHUNK_SIZE + 1, size.div_ceil(CHUNK_SIZE).max(1), size)
        }
        None => (crate::ids::unique(), 1, 1, file.data.len() as u64),
    };
    if size > SIZE_LIMIT {
        return Err(ApiError::of(types::STORAGE_INVALID_FILE_SIZE));
    }
    if file.data.is_empty() {
        return Err(ApiError::msg(types::STORAGE_FILE_EMPTY, "No file sent"));
    }
    let kind = if ctx.header("x-sdk-language") == Some("cli") { "cli" } else { "manual" };
    let dir = deployment_dir(&project, &fid, &deployment_id);
    let lock_key = format!("{}/{fid}/{deployment_id}", project.id);
    let lock = ctx.state.functions.upload_lock(&lock_key);
    let _guard = lock.lock().await;

    let existing = {
        let did = deployment_id.clone();
        project.read(move |tx| store::get(tx, Table::Deployments, &did)).await?
    };
    if existing.as_ref().is_some_and(|d| store::str_of(d, "resourceId") != fid) {
        // The ID names another function's deployment: never write over it.
        return Err(ApiError::of(types::STORAGE_INVALID_APPWRITE_ID));
    }
    if let Some(d) = &existing {
        if store::i64_of(d, "sourceChunksUploaded") >= store::i64_of(d, "sourceChunksTotal") {
            return accepted(model::deployment(d));
        }
    }
    let chunks = existing.as_ref().map(|d| store::i64_of(d, "sourceChunksTotal") as u64).unwrap_or(chunks);
    // Store the chunk, then count what has arrived.
    let part = chunk_path(&dir, chunk);
    let data = file.data.clone();
    let uploaded = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || -> std::io::Result<u64> {
            std::fs::create_dir_all(dir.join("chunks"))?;
            let tmp = part.with_extension("tmp");
            std::fs::write(&tmp, &data)?;
            std::fs::rename(&tmp, &part)?;
            Ok((1..=chunks).filter(|n| chunk_path(&dir, *n).is_file()).count() as u64)
        }
    })
    .await
    .map_err(ApiError::internal)??;

    let now = ctx.state.clock.now_iso();
    let mut doc = existing.unwrap_or_else(|| {
        let mut d = Doc::new();
        d.insert("$id".into(), json!(deployment_id));
        d.insert("$createdAt".into(), json!(now));
        d.insert("type".into(), json!(kind));
        d.insert("resourceId".into(), json!(fid));
        d.insert("resourceType".into(), json!("functions"));
        d.insert("entrypoint".into(), json!(entrypoint));
        d.insert("buildCommands".into(), json!(commands));
        d.insert("sourceSize".into(), json!(size));
        d.insert("buildSize".into(), json!(0));
        d.insert("totalSize".into(), json!(size));
        d.insert("buildId".into(), json!(""));
        d.insert("activate".into(), json!(activate));
        d.insert("status".into(), json!("waiting"));
        d.insert("buildLogs".into(), json!(""));
        d.insert("buildDuration".into(), json!(0));
        d.insert("sourceChunksTotal".into(), json!(chunks));
        d
    });
    doc.insert("$updatedAt".into(), json!(now));
    doc.insert("sourceChunksUploaded".into(), json!(uploaded));

    let complete = uploaded >= chunks;
    if complete {
        let assembled = dir.join("source.tar.gz");
        let checked = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || -> std::io::Result<Result<u64, archive::Refused>> {
                let mut out = std::fs::File::create(&assembled)?;
                for n in 1..=chunks {
                    let mut part = std::fs::File::open(chunk_path(&dir, n))?;
                    std::io::copy(&mut part, &mut out)?;
                }
                drop(out);
                let _ = std::fs::remove_dir_all(dir.join("chunks"));
                let size = std::fs::metadata(&assembled)?.len();
                Ok(archive::check(&assembled).map(|_| size))
            }
        })
        .await
        .map_err(ApiError::internal)??;
        let size = match checked {
            Ok(size) => size,
            Err(refused) => {
                // A refused archive leaves nothing behind: no deployment, no files.
                let did = deployment_id.clone();
                let f = fid.clone();
                project
                    .write(move |tx| {
                        store::delete(tx, Table::Deployments, &did)?;
                        update_latest(tx, &f)
                    })
                    .await?;
                let _ = tokio::fs::remove_dir_all(&dir).await;
                ctx.state.functions.upload_done(&lock_key);
                return Err(ApiError::invalid_param("code", &format!("Deployment archive refused: {}", refused.0)));
            }
        };
        doc.insert("sourceSize".into(), json!(size));
        doc.insert("totalSize".into(), json!(size));
    }
    let stored = doc.clone();
    let f = fid.clone();
    project
        .write(move |tx| {
            require(tx, &f)?;
            if complete && store::bool_of(&stored, "activate") {
                for mut other in store::all_where(tx, Table::Deployments, "function_id", &f)? {
                    if store::bool_of(&other, "activate") && store::str_of(&other, "$id") != store::str_of(&stored, "$id") {
                        other.insert("activate".into(), json!(false));
                        store::put(tx, Table::Deployments, &other)?;
                    }
                }
            }
            if !store::insert_child(tx, Table::Deployments, &f, &stored)? {
                store::put(tx, Table::Deployments, &stored)?;
            }
            update_latest(tx, &f)
        })
        .await?;
    if complete {
        ctx.state.functions.upload_done(&lock_key);
        build::start(ctx.state.clone(), project.clone(), fid.clone(), deployment_id.clone());
        let body = model::deployment(&doc);
        crate::events::publish(
            &ctx,
            "functions.[functionId].deployments.[deploymentId].create",
            &[("functionId", &fid), ("deploymentId", &deployment_id)],
            body,
        );
    }
    accepted(model::deployment(&doc))
}

/// `POST /functions/{id}/deployments/duplicate`: builds a copy of a deployment's source with the
/// function's current entrypoint and commands.
pub async fn duplicate(ctx: Ctx, p: Params) -> Reply {
    let fid = p.path("functionId").to_string();
    let source_id = match p.path("deploymentId") {
        "" => p.str("deploymentId")?,
        d => d.to_string(),
    };
    p.str_opt("buildId")?;
    let project = ctx.project()?.clone();
    let (function, source) = {
        let (fid, sid) = (fid.clone(), source_id.clone());
        project.read(move |tx| Ok((require(tx, &fid)?, require_deployment(tx, &fid, &sid)?))).await?
    };
    let from = deployment_dir(&project, &fid, &source_id).join("source.tar.gz");
    if !from.is_file() {
        return Err(ApiError::of(types::DEPLOYMENT_NOT_FOUND));
    }
    let new_id = crate::ids::unique();
    let dir = deployment_dir(&project, &fid, &new_id);
    tokio::fs::create_dir_all(&dir).await?;
    tokio::fs::copy(&from, dir.join("source.tar.gz")).await?;
    let now = ctx.state.clock.now_iso();
    let mut doc = source.clone();
    doc.insert("$id".into(), json!(new_id));
    doc.insert("$createdAt".into(), json!(now));
    doc.insert("$updatedAt".into(), json!(now));
    doc.insert("entrypoint".into(), json!(store::str_of(&function, "entrypoint")));
    doc.insert("buildCommands".into(), json!(store::str_of(&function, "commands")));
    doc.insert("totalSize".into(), json!(store::i64_of(&source, "sourceSize")));
    doc.insert("buildSize".into(), json!(0));
    doc.insert("buildDuration".into(), json!(0));
    doc.insert("buildLogs".into(), json!(""));
    doc.insert("status".into(), json!("waiting"));
    let stored = doc.clone();
    let f = fid.clone();
    project
        .write(move |tx| {
            store::insert_child(tx, Table::Deployments, &f, &stored)?;
            update_latest(tx, &f)
        })
        .await?;
    build::start(ctx.state.clone(), project.clone(), fid.clone(), new_id.clone());
    let body = model::deployment(&doc);
    crate::events::publish(
        &ctx,
        "functions.[functionId].deployments.[deploymentId].create",
        &[("functionId", &fid), ("deploymentId", &new_id)],
        body.clone(),
    );
    accepted(body)
}

pub async fn get(ctx: Ctx, p: Params) -> Reply {
    let (fid, did) = (p.path("functionId").to_string(), p.path("deploymentId").to_string());
    let doc = ctx
        .project()?
        .read(move |tx| {
            require(tx, &fid)?;
            require_deployment(tx, &fid, &did)
        })
        .await?;
    ok(model::deployment(&doc))
}

pub async fn list(ctx: Ctx, p: Params) -> Reply {
    let fid = p.path("functionId").to_string();
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let search = p.text_opt("search", 256)?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            require(tx, &fid)?;
            let schema = FixedSchema::new(
                "",
                &[
                    ("buildSize", "build_size", Kind::Integer),
                    ("sourceSize", "source_size", Kind::Integer),
                    ("totalSize", "total_size", Kind::Integer),
                    ("buildDuration", "build_duration", Kind::Integer),
                    ("status", "status", Kind::String),
                    ("activate", "activate", Kind::Boolean),
                    ("type", "type", Kind::String),
                ],
                "seq",
            );
            let mut scope = Compiled::default();
            scope.push("function_id = ?", [Sql::Text(fid.clone())]);
            let spec = ListSpec {
                from: "deployments".into(),
                select: "doc".into(),
                scope,
                visibility: Compiled::default(),
                schema: &schema,
                id_sql: "id",
                resource: "Deployment",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: (!search.is_empty()).then(|| (search.clone(), vec!["id", "status", "type", "entrypoint"])),
                allow_select: true,
            };
            let page = list::list(tx, &spec, &queries, with_total, |r| r.get::<_, String>(0))?;
            Ok((page.items, page.total))
        })
        .await?;
    let deployments: Vec<Value> = items.iter().map(|t| model::deployment(&store::parse_doc(t))).collect();
    ok(json!({"total": total, "deployments": deployments}))
}

pub async fn delete(ctx: Ctx, p: Params) -> Reply {
    let (fid, did) = (p.path("functionId").to_string(), p.path("deploymentId").to_string());
    let project = ctx.project()?.clone();
    let doc = {
        let (fid, did) = (fid.clone(), did.clone());
        project
            .write(move |tx| {
                let mut f = require(tx, &fid)?;
                let doc = require_deployment(tx, &fid, &did)?;
                store::delete(tx, Table::Deployments, &did)?;
                if store::str_of(&f, "deploymentId") == did {
                    f.insert("deploymentId".into(), json!(""));
                    f.insert("deploymentCreatedAt".into(), json!(""));
                    store::put(tx, Table::Functions, &f)?;
                }
                update_latest(tx, &fid)?;
                Ok(doc)
            })
            .await?
    };
    kill_build(&ctx, &did);
    ctx.state.functions.pool.recycle(&super::runtime::key(&project.id, &fid, &did));
    let dir = deployment_dir(&project, &fid, &did);
    let _ = tokio::fs::remove_dir_all(dir).await;
    crate::events::publish(
        &ctx,
        "functions.[functionId].deployments.[deploymentId].delete",
        &[("functionId", &fid), ("deploymentId", &did)],
        model::deployment(&doc),
    );
    no_content()
}

pub async fn download(ctx: Ctx, p: Params) -> Reply {
    let (fid, did) = (p.path("functionId").to_string(), p.path("deploymentId").to_string());
    let kind = p.str_opt("type")?.unwrap_or_else(|| "source".into());
    if kind != "source" && kind != "output" {
        return Err(ApiError::invalid_param("type", "Value must be one of (source, output)"));
    }
    let project = ctx.project()?.clone();
    let doc = {
        let (fid, did) = (fid.clone(), did.clone());
        project
            .read(move |tx| {
                require(tx, &fid)?;
                require_deployment(tx, &fid, &did)
            })
            .await?
    };
    let dir = deployment_dir(&project, &fid, &did);
    let path = if kind == "source" {
        dir.join("source.tar.gz")
    } else {
        if store::str_of(&doc, "status") != "ready" {
            return Err(ApiError::of(types::DEPLOYMENT_NOT_FOUND));
        }
        let out = dir.join("output.tar.gz");
        if !out.is_file() {
            let built = dir.join("function");
            let target = out.clone();
            tokio::task::spawn_blocking(move || archive::pack(&built, &target)).await.map_err(ApiError::internal)??;
        }
        out
    };
    let bytes = tokio::fs::read(&path).await.map_err(|_| ApiError::of(types::DEPLOYMENT_NOT_FOUND))?;
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/gzip"));
    h.insert("cache-control", HeaderValue::from_static("private, max-age=3888000"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{did}-{kind}.tar.gz\"")) {
        h.insert("content-disposition", v);
    }
    Ok(res)
}

fn kill_build(ctx: &Ctx, deployment_id: &str) {
    if let Some(pgid) = ctx.state.functions.building.lock().unwrap().remove(deployment_id) {
        // SAFETY: kill(2) on the build's own process group.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// `PATCH …/deployments/{id}/status`: cancels a build.
pub async fn cancel(ctx: Ctx, p: Params) -> Reply {
    let (fid, did) = (p.path("functionId").to_string(), p.path("deploymentId").to_string());
    let now = ctx.state.clock.now_iso();
    let doc = {
        let (fid, did) = (fid.clone(), did.clone());
        ctx.project()?
            .write(move |tx| {
                require(tx, &fid)?;
                let mut doc = require_deployment(tx, &fid, &did)?;
                if matches!(store::str_of(&doc, "status").as_str(), "ready" | "failed") {
                    return Err(ApiError::of(types::BUILD_ALREADY_COMPLETED));
                }
                doc.insert("status".into(), json!("canceled"));
                doc.insert("$updatedAt".into(), json!(now));
                store::put(tx, Table::Deployments, &doc)?;
                update_latest(tx, &fid)?;
                Ok(doc)
            })
            .await?
    };
    kill_build(&ctx, &did);
    crate::events::publish(
        &ctx,
        "functions.[functionId].deployments.[deploymentId].update",
        &[("functionId", &fid), ("deploymentId", &did)],
        model::deployment(&doc),
    );
    ok(model::deployment(&doc))
}

/// `PATCH /functions/{id}/deployment` (or `…/deployments/{deploymentId}`): makes a ready
/// deployment the active one.
pub async fn activate(ctx: Ctx, p: Params) -> Reply {
    let fid = p.path("functionId").to_string();
    let did = match p.path("deploymentId") {
        "" => p.str("deploymentId")?,
        d => d.to_string(),
    };
    let now = ctx.state.clock.now_iso();
    let (doc, vars, previous) = {
        let fid = fid.clone();
        ctx.project()?
            .write(move |tx| {
                let mut f = require(tx, &fid)?;
                let d = require_deployment(tx, &fid, &did)?;
                if store::str_of(&d, "status") != "ready" {
                    return Err(ApiError::of(types::BUILD_NOT_READY));
                }
                let previous = store::str_of(&f, "deploymentId");
                f.insert("deploymentId".into(), json!(did));
                f.insert("deploymentCreatedAt".into(), d.get("$createdAt").cloned().unwrap_or(json!("")));
                f.insert("live".into(), json!(true));
                f.insert("$updatedAt".into(), json!(now));
                store::put(tx, Table::Functions, &f)?;
                Ok((f, functions::vars(tx, &fid)?, previous))
            })
            .await?
    };
    if !previous.is_empty() && previous != store::str_of(&doc, "deploymentId") {
        ctx.state.functions.pool.recycle(&super::runtime::key(ctx.project_id(), &fid, &previous));
    }
    ctx.state.functions.wake.notify_one();
    let body = functions::respond(&ctx, &doc, &vars);
    crate::events::publish(&ctx, "functions.[functionId].update", &[("functionId", &fid)], body.clone());
    ok(body)
}

/// Marks builds a previous run left unfinished as failed (their process is gone).
pub fn fail_interrupted_builds(tx: &rusqlite::Transaction) -> ApiResult<()> {
    for mut d in store::all(tx, Table::Deployments)? {
        let status = store::str_of(&d, "status");
        let uploaded = store::i64_of(&d, "sourceChunksUploaded") >= store::i64_of(&d, "sourceChunksTotal");
        if uploaded && matches!(status.as_str(), "processing" | "building" | "waiting") {
            let mut logs = store::str_of(&d, "buildLogs");
            logs.push_str("[appwrite] Build interrupted: the emulator stopped before it finished.\n");
            d.insert("buildLogs".into(), json!(logs));
            d.insert("status".into(), json!("failed"));
            store::put(tx, Table::Deployments, &d)?;
            update_latest(tx, &store::str_of(&d, "resourceId"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_range_like_appwrite() {
        assert_eq!(content_range("bytes 0-5242879/10485770"), Some((0, 5242879, 10485770)));
        assert_eq!(content_range("bytes 10485760-10485769/10485770"), Some((10485760, 10485769, 10485770)));
        assert_eq!(content_range("bytes */100"), None);
        assert_eq!(content_range("0-1/2"), None);
        // Chunk numbering: start / 5 MiB + 1.
        assert_eq!(5242880 / CHUNK_SIZE + 1, 2);
        assert_eq!(10485770u64.div_ceil(CHUNK_SIZE), 3);
    }
}
