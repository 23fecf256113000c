//! Buckets: create, get, list, update, delete (API keys only: the `buckets.*` scopes).

use serde_json::json;

use super::disk;
use super::store::{self, BucketRow};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::permissions;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{created, no_content, ok, Reply};

const COMPRESSIONS: &[&str] = &["none", "gzip", "zstd"];

/// The settable fields, read with Appwrite's defaults: `PUT` resets what it is not sent, like
/// create (only `permissions` is kept when absent).
struct Settings {
    name: String,
    description: String,
    permissions: Option<Vec<String>>,
    file_security: bool,
    enabled: bool,
    maximum_file_size: i64,
    allowed_file_extensions: Vec<String>,
    compression: String,
    encryption: bool,
    antivirus: bool,
    transformations: bool,
    strip_metadata: bool,
}

fn settings(ctx: &Ctx, p: &Params) -> ApiResult<Settings> {
    let name = p.text("name", 128)?;
    let permissions = match p.str_list_opt("permissions")? {
        Some(list) => Some(permissions::normalize("permissions", &list, permissions::RESOURCE_ACTIONS)?),
        None => None,
    };
    let file_security = p.bool_opt("fileSecurity")?.unwrap_or(false);
    let enabled = p.bool_opt("enabled")?.unwrap_or(true);
    let limit = ctx.state.config.storage_limit as i64;
    let maximum_file_size = p.range_opt("maximumFileSize", 1, limit)?.unwrap_or(limit);
    let extensions = p.bounded_list_opt("allowedFileExtensions", 100, 64)?.unwrap_or_default();
    if extensions.iter().any(String::is_empty) {
        return Err(ApiError::invalid_param(
            "allowedFileExtensions",
            "Value must a valid array no longer than 100 items and Value must be a valid string and at least 1 chars and no longer than 64 chars",
        ));
    }
    let compression = p.str_opt("compression")?.unwrap_or_else(|| "none".into());
    if !COMPRESSIONS.contains(&compression.as_str()) {
        return Err(ApiError::invalid_param("compression", &format!("Value must be one of ({})", COMPRESSIONS.join(", "))));
    }
    Ok(Settings {
        name,
        permissions,
        file_security,
        enabled,
        maximum_file_size,
        allowed_file_extensions: extensions,
        compression,
        encryption: p.bool_opt("encryption")?.unwrap_or(true),
        antivirus: p.bool_opt("antivirus")?.unwrap_or(true),
        transformations: p.bool_opt("transformations")?.unwrap_or(true),
        // Python 27 (Cloud 2.5) sends these two; Appwrite 1.9.6 has neither.
        description: p.text_opt("description", 8192)?.unwrap_or_default(),
        strip_metadata: p.bool_opt("stripMetadata")?.unwrap_or(false),
    })
}

impl Settings {
    fn apply(self, b: &mut BucketRow) {
        b.name = self.name;
        b.description = self.description;
        if let Some(perms) = self.permissions {
            b.permissions = perms;
        }
        b.file_security = self.file_security;
        b.enabled = self.enabled;
        b.maximum_file_size = self.maximum_file_size;
        b.allowed_file_extensions = self.allowed_file_extensions;
        b.compression = self.compression;
        b.encryption = self.encryption;
        b.antivirus = self.antivirus;
        b.transformations = self.transformations;
        b.strip_metadata = self.strip_metadata;
    }
}

fn publish(ctx: &Ctx, b: &BucketRow, action: &str) {
    crate::events::publish(ctx, &format!("buckets.[bucketId].{action}"), &[("bucketId", &b.id)], b.model(0));
}

pub async fn create(ctx: Ctx, p: Params) -> Reply {
    let id = ids::resolve_id("bucketId", &p.str("bucketId")?)?;
    let s = settings(&ctx, &p)?;
    let now = ctx.state.clock.now_iso();
    let mut row = BucketRow {
        seq: 0,
        id,
        name: String::new(),
        description: String::new(),
        permissions: Vec::new(),
        file_security: false,
        enabled: true,
        maximum_file_size: 0,
        allowed_file_extensions: Vec::new(),
        compression: "none".into(),
        encryption: true,
        antivirus: true,
        transformations: true,
        strip_metadata: false,
        created_at: now.clone(),
        updated_at: now,
    };
    s.apply(&mut row);
    let bucket = ctx
        .project()?
        .write(move |tx| {
            if store::get_bucket(tx, &row.id)?.is_some() {
                return Err(ApiError::of(types::STORAGE_BUCKET_ALREADY_EXISTS));
            }
            store::insert_bucket(tx, &row)
        })
        .await?;
    publish(&ctx, &bucket, "create");
    created(bucket.model(0))
}

pub async fn get(ctx: Ctx, p: Params) -> Reply {
    let (bucket, total) = ctx
        .project()?
        .read(move |tx| {
            let b = store::require_bucket(tx, p.path("bucketId"))?;
            let total = store::total_size(tx, b.seq)?;
            Ok((b, total))
        })
        .await?;
    ok(bucket.model(total))
}

pub async fn list(ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let search = p.text_opt("search", 256)?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            let schema = FixedSchema::new(
                "b.",
                &[
                    ("enabled", "enabled", Kind::Boolean),
                    ("name", "name", Kind::String),
                    ("fileSecurity", "file_security", Kind::Boolean),
                    ("maximumFileSize", "maximum_file_size", Kind::Integer),
                    ("encryption", "encryption", Kind::Boolean),
                    ("antivirus", "antivirus", Kind::Boolean),
                    ("transformations", "transformations", Kind::Boolean),
                ],
                "b.seq",
            );
            let spec = ListSpec {
                from: "buckets b".into(),
                select: store::BUCKET_COLS.into(),
                scope: Compiled::default(),
                visibility: Compiled::default(),
                schema: &schema,
                id_sql: "b.id",
                resource: "Bucket",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: (!search.is_empty()).then(|| (search.clone(), vec!["b.id", "b.name"])),
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, store::map_bucket)?;
            let items = page
                .items
                .into_iter()
                .map(|b| store::total_size(tx, b.seq).map(|t| b.model(t)))
                .collect::<ApiResult<Vec<_>>>()?;
            Ok((items, page.total))
        })
        .await?;
    ok(json!({"total": total, "buckets": items}))
}

pub async fn update(ctx: Ctx, p: Params) -> Reply {
    let s = settings(&ctx, &p)?;
    let now = ctx.state.clock.now_iso();
    let bucket = ctx
        .project()?
        .write(move |tx| {
            let mut b = store::require_bucket(tx, p.path("bucketId"))?;
            s.apply(&mut b);
            b.updated_at = now;
            store::update_bucket(tx, &b)?;
            Ok(b)
        })
        .await?;
    publish(&ctx, &bucket, "update");
    ok(bucket.model(0))
}

pub async fn delete(ctx: Ctx, p: Params) -> Reply {
    let project = ctx.project()?.clone();
    let bucket = project
        .write(move |tx| {
            let b = store::require_bucket(tx, p.path("bucketId"))?;
            tx.execute("DELETE FROM buckets WHERE seq = ?1", [b.seq])?;
            Ok(b)
        })
        .await?;
    let (dir, seq) = (project.dir.clone(), bucket.seq);
    tokio::task::spawn_blocking(move || disk::remove_bucket(&dir, seq)).await.map_err(ApiError::internal)??;
    publish(&ctx, &bucket, "delete");
    no_content()
}
