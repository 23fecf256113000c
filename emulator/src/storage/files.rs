//! Files: get, list, update (name, permissions) and delete, under bucket and file permissions.
//! Creation is in `chunked_upload`; contents are served by `download` and `preview`.

use rusqlite::types::Value as Sql;
use serde_json::json;

use super::access::{self, Access, ReadGate};
use super::disk;
use super::store::{self, FileRow};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::permissions;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{no_content, ok, Reply};

fn publish(ctx: &Ctx, f: &FileRow, action: &str) {
    crate::events::publish(
        ctx,
        &format!("buckets.[bucketId].files.[fileId].{action}"),
        &[("bucketId", &f.bucket_id), ("fileId", &f.id)],
        f.model(),
    );
}

pub async fn get(ctx: Ctx, p: Params) -> Reply {
    let access = Access::of(&ctx);
    let (_, file) = ctx.project()?.read(move |tx| readable(tx, &access, p.path("bucketId"), p.path("fileId"))).await?;
    ok(file.model())
}

pub async fn list(ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let search = p.text_opt("search", 256)?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let access = Access::of(&ctx);
    let (files, total) = ctx
        .project()?
        .read(move |tx| {
            let b = access.bucket(tx, p.path("bucketId"))?;
            let gate = access.read_gate(&b)?;
            let schema = FixedSchema::new(
                "f.",
                &[
                    ("name", "name", Kind::String),
                    ("signature", "signature", Kind::String),
                    ("mimeType", "mime_type", Kind::String),
                    ("sizeOriginal", "size_original", Kind::Integer),
                    ("chunksTotal", "chunks_total", Kind::Integer),
                    ("chunksUploaded", "chunks_uploaded", Kind::Integer),
                ],
                "f.seq",
            );
            let mut scope = Compiled::default();
            scope.push("f.bucket_seq = ?", [Sql::Integer(b.seq)]);
            let mut visibility = Compiled::default();
            if gate == ReadGate::PerFile {
                let granted: Vec<Sql> = access.roles.iter().map(|r| Sql::Text(format!("read(\"{r}\")"))).collect();
                let marks = vec!["?"; granted.len()].join(", ");
                visibility.push(&format!("EXISTS (SELECT 1 FROM json_each(f.permissions) WHERE value IN ({marks}))"), granted);
            }
            let spec = ListSpec {
                from: store::FILE_FROM.into(),
                select: store::FILE_COLS.into(),
                scope,
                visibility,
                schema: &schema,
                id_sql: "f.id",
                resource: "File",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: (!search.is_empty()).then(|| (search.clone(), vec!["f.id", "f.name"])),
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, store::map_file)?;
            Ok((page.items, page.total))
        })
        .await?;
    ok(json!({"total": total, "files": files.iter().map(FileRow::model).collect::<Vec<_>>()}))
}

pub async fn update(ctx: Ctx, p: Params) -> Reply {
    let name = p.text_opt("name", 128)?;
    if name.as_deref() == Some("") {
        return Err(ApiError::invalid_param("name", "Value must be a valid string and at least 1 chars and no longer than 128 chars"));
    }
    let perms = access::file_permissions_param(p.str_list_opt("permissions")?)?;
    let access = Access::of(&ctx);
    let now = ctx.state.clock.now_iso();
    let file = ctx
        .project()?
        .write(move |tx| {
            let b = access.bucket(tx, p.path("bucketId"))?;
            let bucket_grants = access.bucket_allows(&b, permissions::UPDATE);
            if let (false, Err(e)) = (b.file_security, &bucket_grants) {
                return Err(e.clone());
            }
            let mut f = store::get_file(tx, b.seq, p.path("fileId"))?.ok_or_else(|| ApiError::of(types::STORAGE_FILE_NOT_FOUND))?;
            if let Some(perms) = &perms {
                access.grantable(perms)?;
            }
            let new_name = name.unwrap_or_else(|| f.name.clone());
            let new_perms = perms.unwrap_or_else(|| f.permissions.clone());
            let changed = new_name != f.name || new_perms != f.permissions;
            if bucket_grants.is_err() {
                // utopia: a real change needs update permission, a no-op only read.
                access.file_allows(&b, &f, if changed { permissions::UPDATE } else { permissions::READ })?;
            }
            if changed {
                f.name = new_name;
                f.permissions = new_perms;
                f.updated_at = now;
                store::update_file(tx, &f)?;
            }
            Ok(f)
        })
        .await?;
    publish(&ctx, &file, "update");
    ok(file.model())
}

pub async fn delete(ctx: Ctx, p: Params) -> Reply {
    let access = Access::of(&ctx);
    let project = ctx.project()?.clone();
    let (bucket_id, file_id) = (p.path("bucketId").to_string(), p.path("fileId").to_string());
    let who = access.clone();
    let id = bucket_id.clone();
    let bucket = project.read(move |tx| who.bucket(tx, &id)).await?;
    // An upload finishing concurrently must not resurrect the file's contents.
    let lock = super::chunked_upload::upload_lock(&project, bucket.seq, &file_id);
    let _guard = lock.lock().await;
    let file = project
        .write(move |tx| {
            let b = access.bucket(tx, &bucket_id)?;
            let bucket_grants = access.bucket_allows(&b, permissions::DELETE);
            if let (false, Err(e)) = (b.file_security, &bucket_grants) {
                return Err(e.clone());
            }
            let f = store::get_file(tx, b.seq, &file_id)?.ok_or_else(|| ApiError::of(types::STORAGE_FILE_NOT_FOUND))?;
            if bucket_grants.is_err() {
                // Only the file's own delete permission can help now.
                permissions::authorize(&f.permissions, permissions::DELETE, &access.roles)?;
            }
            store::delete_file(tx, f.seq)?;
            Ok(f)
        })
        .await?;
    let dir = project.dir.clone();
    let (seq, id) = (file.bucket_seq, file.id.clone());
    super::signature::forget(&disk::part_path(&dir, seq, &id));
    tokio::task::spawn_blocking(move || disk::remove(&dir, seq, &id)).await.map_err(ApiError::internal)??;
    publish(&ctx, &file, "delete");
    no_content()
}

/// Shared by the content routes: the bucket and a file the caller may read.
pub fn readable(tx: &rusqlite::Transaction, access: &Access, bucket_id: &str, file_id: &str) -> ApiResult<(store::BucketRow, FileRow)> {
    let b = access.bucket(tx, bucket_id)?;
    let gate = access.read_gate(&b)?;
    let f = access.readable_file(tx, &b, gate, file_id)?;
    Ok((b, f))
}
