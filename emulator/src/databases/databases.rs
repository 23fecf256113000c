//! `/databases` and `/tablesdb`: create, get, list, update, delete.

use rusqlite::params;
use serde_json::json;

use super::store::{self, DatabaseRow};
use super::{ddl, model, Api};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{created, no_content, ok, Reply};

pub async fn list_legacy(ctx: Ctx, p: Params) -> Reply {
    list(Api::Legacy, ctx, p).await
}
pub async fn list_tables(ctx: Ctx, p: Params) -> Reply {
    list(Api::Tables, ctx, p).await
}
pub async fn create_legacy(ctx: Ctx, p: Params) -> Reply {
    create(Api::Legacy, ctx, p).await
}
pub async fn create_tables(ctx: Ctx, p: Params) -> Reply {
    create(Api::Tables, ctx, p).await
}
pub async fn get_legacy(ctx: Ctx, p: Params) -> Reply {
    get(ctx, p).await
}
pub async fn get_tables(ctx: Ctx, p: Params) -> Reply {
    get(ctx, p).await
}
pub async fn update_legacy(ctx: Ctx, p: Params) -> Reply {
    update(ctx, p).await
}
pub async fn update_tables(ctx: Ctx, p: Params) -> Reply {
    update(ctx, p).await
}
pub async fn delete_legacy(ctx: Ctx, p: Params) -> Reply {
    delete(ctx, p).await
}
pub async fn delete_tables(ctx: Ctx, p: Params) -> Reply {
    delete(ctx, p).await
}

/// Loads a database by ID or answers `database_not_found`.
pub fn require(tx: &rusqlite::Transaction, id: &str) -> ApiResult<DatabaseRow> {
    store::get_database(tx, id)?.ok_or_else(|| ApiError::with_arg(types::DATABASE_NOT_FOUND, id))
}

async fn create(api: Api, ctx: Ctx, p: Params) -> Reply {
    let id = ids::resolve_id("databaseId", &p.str("databaseId")?)?;
    let name = p.text("name", 128)?;
    let enabled = p.bool_opt("enabled")?.unwrap_or(true);
    let kind = if api.is_legacy() { "legacy" } else { "tablesdb" };
    let now = ctx.state.clock.now_iso();
    let db = ctx
        .project()?
        .write(move |tx| {
            if store::get_database(tx, &id)?.is_some() {
                return Err(ApiError::with_arg(types::DATABASE_ALREADY_EXISTS, &id));
            }
            store::insert_database(tx, &id, &name, enabled, kind, &now)
        })
        .await?;
    crate::events::publish(&ctx, "databases.[databaseId].create", &[("databaseId", &db.id)], model::database(&db));
    created(model::database(&db))
}

async fn get(ctx: Ctx, p: Params) -> Reply {
    let id = p.path("databaseId").to_string();
    let db = ctx.project()?.read(move |tx| require(tx, &id)).await?;
    ok(model::database(&db))
}

async fn list(api: Api, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let search = p.text_opt("search", 256)?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let page = ctx
        .project()?
        .read(move |tx| {
            let schema = FixedSchema::new("", &[("name", "name", Kind::String)], "seq");
            let spec = ListSpec {
                from: "databases".into(),
                select: store_cols(),
                scope: Compiled::default(),
                visibility: Compiled::default(),
                schema: &schema,
                id_sql: "id",
                resource: "Database",
                order_words: ("column", "rows"),
                errors: Errors::Param,
                search: (!search.is_empty()).then(|| (search.clone(), vec!["id", "name"])),
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, store::map_database)?;
            Ok((page.items, page.total))
        })
        .await?;
    let _ = api;
    ok(json!({"total": page.1, "databases": page.0.iter().map(model::database).collect::<Vec<_>>()}))
}

fn store_cols() -> String {
    "seq, id, name, enabled, type, created_at, updated_at".into()
}

async fn update(ctx: Ctx, p: Params) -> Reply {
    let id = p.path("databaseId").to_string();
    let name = p.text_opt("name", 128)?;
    let enabled = p.bool_opt("enabled")?;
    let now = ctx.state.clock.now_iso();
    let db = ctx
        .project()?
        .write(move |tx| {
            let mut db = require(tx, &id)?;
            if let Some(name) = name {
                if name.is_empty() {
                    return Err(ApiError::invalid_param("name", "Value must be a valid string and at least 1 chars and no longer than 128 chars"));
                }
                db.name = name;
            }
            db.enabled = enabled.unwrap_or(true);
            db.updated_at = now;
            tx.execute(
                "UPDATE databases SET name = ?2, enabled = ?3, updated_at = ?4 WHERE seq = ?1",
                params![db.seq, db.name, db.enabled, db.updated_at],
            )?;
            Ok(db)
        })
        .await?;
    crate::events::publish(&ctx, "databases.[databaseId].update", &[("databaseId", &db.id)], model::database(&db));
    ok(model::database(&db))
}

async fn delete(ctx: Ctx, p: Params) -> Reply {
    let id = p.path("databaseId").to_string();
    let db = ctx
        .project()?
        .write(move |tx| {
            let db = require(tx, &id)?;
            super::relationships::detach_database(tx, db.seq)?;
            for c in store::collections_of(tx, db.seq)? {
                let indexes = store::indexes_of(tx, c.seq)?;
                ddl::drop_collection(tx, &c, &indexes)?;
            }
            tx.execute("DELETE FROM databases WHERE seq = ?1", [db.seq])?;
            Ok(db)
        })
        .await?;
    crate::events::publish(&ctx, "databases.[databaseId].delete", &[("databaseId", &db.id)], model::database(&db));
    no_content()
}
