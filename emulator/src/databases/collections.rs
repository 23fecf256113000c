//! Collections (tables): create (with inline attributes and indexes), get, list, update, delete.

use rusqlite::{params, Transaction};
use serde_json::json;

use super::databases::require as require_database;
use super::schema::CollectionSchema;
use super::store::{self, CollectionRow};
use super::{attributes, ddl, indexes, model, Api};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::permissions;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{created, no_content, ok, Reply};

fn require(tx: &Transaction, api: Api, database_id: &str, id: &str) -> ApiResult<CollectionSchema> {
    let db = require_database(tx, database_id)?;
    let c = store::get_collection(tx, db.seq, id)?.ok_or_else(|| ApiError::with_arg(api.collection_not_found(), id))?;
    CollectionSchema::load(tx, db, c)
}

fn render(api: Api, s: &CollectionSchema) -> serde_json::Value {
    model::collection(api, &s.collection, &s.attributes, &s.indexes)
}

fn publish(ctx: &Ctx, s: &CollectionSchema, action: &str) {
    crate::events::publish_typed(
        ctx,
        &format!("databases.[databaseId].collections.[collectionId].{action}"),
        &[("databaseId", &s.database.id), ("collectionId", &s.collection.id)],
        model::collection(Api::Legacy, &s.collection, &s.attributes, &s.indexes),
        Some(&s.database.kind),
    );
}

pub async fn create(api: Api, ctx: Ctx, p: Params) -> Reply {
    let database_id = p.path("databaseId").to_string();
    let id = ids::resolve_id(api.collection_param(), &p.str(api.collection_param())?)?;
    let name = p.text("name", 128)?;
    let permissions = match p.str_list_opt("permissions")? {
        Some(list) => permissions::normalize("permissions", &list, permissions::RESOURCE_ACTIONS)?,
        None => Vec::new(),
    };
    let security = p.bool_opt(api.security_key())?.unwrap_or(false);
    let enabled = p.bool_opt("enabled")?.unwrap_or(true);
    let attribute_specs = p
        .object_list_opt(api.attributes_key())?
        .unwrap_or_default()
        .iter()
        .map(attributes::Spec::from_json)
        .collect::<ApiResult<Vec<_>>>()?;
    let index_specs = p
        .object_list_opt("indexes")?
        .unwrap_or_default()
        .iter()
        .map(|d| indexes::Spec::from_json(api, d))
        .collect::<ApiResult<Vec<_>>>()?;
    let now = ctx.state.clock.now_iso();
    let schema = ctx
        .project()?
        .write(move |tx| {
            let db = require_database(tx, &database_id)?;
            if store::get_collection(tx, db.seq, &id)?.is_some() {
                return Err(ApiError::with_arg(api.collection_exists(), &id));
            }
            tx.execute(
                "INSERT INTO collections (database_seq, id, name, enabled, document_security, permissions, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![db.seq, id, name, enabled, security, serde_json::to_string(&permissions).unwrap(), now],
            )?;
            let c = store::collection_by_seq(tx, tx.last_insert_rowid())?.expect("just inserted");
            ddl::create_collection(tx, &c)?;
            let mut schema = CollectionSchema::load(tx, db, c)?;
            for spec in &attribute_specs {
                let a = attributes::create_in(tx, api, &schema, spec, &now)?;
                schema.attributes.push(a);
            }
            for spec in &index_specs {
                let i = indexes::create_in(tx, api, &schema, spec, &now)?;
                schema.indexes.push(i);
            }
            Ok(schema)
        })
        .await?;
    publish(&ctx, &schema, "create");
    created(render(api, &schema))
}

pub async fn get(api: Api, ctx: Ctx, p: Params) -> Reply {
    let schema = ctx
        .project()?
        .read(move |tx| require(tx, api, p.path("databaseId"), p.path(api.collection_param())))
        .await?;
    ok(render(api, &schema))
}

pub async fn list(api: Api, ctx: Ctx, p: Params) -> Reply {
    let database_id = p.path("databaseId").to_string();
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let search = p.text_opt("search", 256)?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            let db = require_database(tx, &database_id)?;
            let fixed = FixedSchema::new(
                "c.",
                &[
                    ("name", "name", Kind::String),
                    ("enabled", "enabled", Kind::Boolean),
                    (if api.is_legacy() { "documentSecurity" } else { "rowSecurity" }, "document_security", Kind::Boolean),
                ],
                "c.seq",
            );
            let mut scope = Compiled::default();
            scope.push("c.database_seq = ?", [rusqlite::types::Value::Integer(db.seq)]);
            let spec = ListSpec {
                from: "collections c JOIN databases d ON d.seq = c.database_seq".into(),
                select: store::COLLECTION_COLS.into(),
                scope,
                visibility: Compiled::default(),
                schema: &fixed,
                id_sql: "c.id",
                resource: if api.is_legacy() { "Collection" } else { "Table" },
                order_words: (api.attribute_word(), api.documents_key()),
                errors: Errors::Param,
                search: (!search.is_empty()).then(|| (search.clone(), vec!["c.id", "c.name"])),
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, store::map_collection)?;
            let schemas = page
                .items
                .into_iter()
                .map(|c| CollectionSchema::load(tx, db.clone(), c))
                .collect::<ApiResult<Vec<_>>>()?;
            Ok((schemas, page.total))
        })
        .await?;
    ok(json!({"total": total, api.collections_key(): items.iter().map(|s| render(api, s)).collect::<Vec<_>>()}))
}

pub async fn update(api: Api, ctx: Ctx, p: Params) -> Reply {
    let name = p.text_opt("name", 128)?;
    let permissions = match p.str_list_opt("permissions")? {
        Some(list) => Some(permissions::normalize("permissions", &list, permissions::RESOURCE_ACTIONS)?),
        None => None,
    };
    let security = p.bool_opt(api.security_key())?;
    let enabled = p.bool_opt("enabled")?;
    let now = ctx.state.clock.now_iso();
    let schema = ctx
        .project()?
        .write(move |tx| {
            let mut s = require(tx, api, p.path("databaseId"), p.path(api.collection_param()))?;
            let c: &mut CollectionRow = &mut s.collection;
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                c.name = name;
            }
            if let Some(perms) = permissions {
                c.permissions = perms;
            }
            c.document_security = security.unwrap_or(false);
            c.enabled = enabled.unwrap_or(true);
            c.updated_at = now;
            tx.execute(
                "UPDATE collections SET name = ?2, permissions = ?3, document_security = ?4, enabled = ?5, updated_at = ?6 WHERE seq = ?1",
                params![c.seq, c.name, serde_json::to_string(&c.permissions).unwrap(), c.document_security, c.enabled, c.updated_at],
            )?;
            Ok(s)
        })
        .await?;
    publish(&ctx, &schema, "update");
    ok(render(api, &schema))
}

pub async fn delete(api: Api, ctx: Ctx, p: Params) -> Reply {
    let schema = ctx
        .project()?
        .write(move |tx| {
            let s = require(tx, api, p.path("databaseId"), p.path(api.collection_param()))?;
            super::relationships::detach_collection(tx, &s)?;
            ddl::drop_collection(tx, &s.collection, &s.indexes)?;
            tx.execute("DELETE FROM collections WHERE seq = ?1", [s.collection.seq])?;
            Ok(s)
        })
        .await?;
    publish(&ctx, &schema, "delete");
    no_content()
}
