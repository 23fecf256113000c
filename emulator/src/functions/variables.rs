//! Function variables (`/functions/{id}/variables`) and project variables (`/project/variables`),
//! shared by every function of the project. Any change recycles the runtimes it reaches, since
//! variables are their environment.

use rusqlite::types::Value as Sql;
use serde_json::{json, Value};

use super::functions::require;
use super::store::{self, Doc, Table};
use super::model;
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{created, no_content, ok, Reply};

/// Whose variables: a function's, or the project's.
#[derive(Clone)]
enum Owner {
    Function(String),
    Project,
}

impl Owner {
    fn of(p: &Params, function: bool) -> Owner {
        if function {
            Owner::Function(p.path("functionId").to_string())
        } else {
            Owner::Project
        }
    }

    fn resource(&self, project_id: &str) -> (&'static str, String) {
        match self {
            Owner::Function(id) => ("function", id.clone()),
            Owner::Project => ("project", project_id.to_string()),
        }
    }

    /// Checks the owning function exists.
    fn check(&self, tx: &rusqlite::Transaction) -> ApiResult<()> {
        if let Owner::Function(id) = self {
            require(tx, id)?;
        }
        Ok(())
    }

    /// Stops the runtimes that read these variables (they start again with the new values).
    fn touched(&self, ctx: &Ctx) {
        let prefix = match self {
            Owner::Function(id) => format!("{}/{id}/", ctx.project_id()),
            Owner::Project => format!("{}/", ctx.project_id()),
        };
        ctx.state.functions.pool.recycle(&prefix);
    }
}

fn mark_not_live(tx: &rusqlite::Transaction, owner: &Owner) -> ApiResult<()> {
    if let Owner::Function(id) = owner {
        let mut f = require(tx, id)?;
        f.insert("live".into(), json!(false));
        store::put(tx, Table::Functions, &f)?;
    }
    Ok(())
}

fn require_variable(tx: &rusqlite::Transaction, owner: &Owner, project_id: &str, id: &str) -> ApiResult<Doc> {
    let (ty, rid) = owner.resource(project_id);
    store::get(tx, Table::Variables, id)?
        .filter(|v| store::str_of(v, "resourceType") == ty && store::str_of(v, "resourceId") == rid)
        .ok_or_else(|| ApiError::of(types::VARIABLE_NOT_FOUND))
}

async fn create(owner: Owner, ctx: Ctx, p: Params) -> Reply {
    // The 1.8 request filter fills a missing project `variableId` (CLI 12).
    let raw_id = match p.str_opt("variableId")? {
        Some(v) => v,
        None if ctx.format.before_1_9() => "unique()".into(),
        None => return Err(ApiError::missing_param("variableId")),
    };
    let id = ids::resolve_id("variableId", &raw_id)?;
    let key = p.text("key", 255)?;
    let value = p.text_opt("value", 8192)?.ok_or_else(|| ApiError::missing_param("value"))?;
    let secret = p.bool_opt("secret")?.unwrap_or(true);
    let (ty, rid) = owner.resource(ctx.project_id());
    let now = ctx.state.clock.now_iso();
    let mut doc = Doc::new();
    doc.insert("$id".into(), json!(id));
    doc.insert("$createdAt".into(), json!(now));
    doc.insert("$updatedAt".into(), json!(now));
    doc.insert("key".into(), json!(key));
    doc.insert("value".into(), json!(value));
    doc.insert("secret".into(), json!(secret));
    doc.insert("resourceType".into(), json!(ty));
    doc.insert("resourceId".into(), json!(rid));
    if let Some(d) = p.text_opt("description", 8192)? {
        doc.insert("description".into(), json!(d));
    }
    let o = owner.clone();
    let stored = doc.clone();
    ctx.project()?
        .write(move |tx| {
            o.check(tx)?;
            if !store::insert_variable(tx, &stored)? {
                return Err(ApiError::of(types::VARIABLE_ALREADY_EXISTS));
            }
            mark_not_live(tx, &o)
        })
        .await?;
    owner.touched(&ctx);
    created(model::variable(&doc))
}

async fn get(owner: Owner, ctx: Ctx, p: Params) -> Reply {
    let id = p.path("variableId").to_string();
    let pid = ctx.project_id().to_string();
    let doc = ctx
        .project()?
        .read(move |tx| {
            owner.check(tx)?;
            require_variable(tx, &owner, &pid, &id)
        })
        .await?;
    ok(model::variable(&doc))
}

async fn list(owner: Owner, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (ty, rid) = owner.resource(ctx.project_id());
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            owner.check(tx)?;
            let schema = FixedSchema::new(
                "",
                &[
                    ("key", "key", Kind::String),
                    ("resourceType", "resource_type", Kind::String),
                    ("resourceId", "resource_id", Kind::String),
                    ("secret", "secret", Kind::Boolean),
                ],
                "seq",
            );
            let mut scope = Compiled::default();
            scope.push("resource_type = ? AND resource_id = ?", [Sql::Text(ty.into()), Sql::Text(rid)]);
            let spec = ListSpec {
                from: "variables".into(),
                select: "doc".into(),
                scope,
                visibility: Compiled::default(),
                schema: &schema,
                id_sql: "id",
                resource: "Variable",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: None,
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, |r| r.get::<_, String>(0))?;
            Ok((page.items, page.total))
        })
        .await?;
    let variables: Vec<Value> = items.iter().map(|t| model::variable(&store::parse_doc(t))).collect();
    ok(json!({"total": total, "variables": variables}))
}

async fn update(owner: Owner, ctx: Ctx, p: Params) -> Reply {
    let id = p.path("variableId").to_string();
    let key = p.text_opt("key", 255)?;
    if key.as_deref() == Some("") {
        return Err(ApiError::invalid_param("key", "Value must be a valid string and at least 1 chars and no longer than 255 chars"));
    }
    let value = p.text_opt("value", 8192)?;
    let secret = p.bool_opt("secret")?;
    p.text_opt("description", 8192)?;
    let pid = ctx.project_id().to_string();
    let now = ctx.state.clock.now_iso();
    let o = owner.clone();
    let doc = ctx
        .project()?
        .write(move |tx| {
            o.check(tx)?;
            let mut doc = require_variable(tx, &o, &pid, &id)?;
            if store::bool_of(&doc, "secret") && secret == Some(false) {
                return Err(ApiError::of(types::VARIABLE_CANNOT_UNSET_SECRET));
            }
            if key.is_none() && value.is_none() && secret.is_none() {
                return Err(ApiError::of(types::GENERAL_ARGUMENT_INVALID));
            }
            if let Some(k) = key {
                doc.insert("key".into(), json!(k));
            }
            if let Some(v) = value {
                doc.insert("value".into(), json!(v));
            }
            if let Some(s) = secret {
                doc.insert("secret".into(), json!(s));
            }
            doc.insert("$updatedAt".into(), json!(now));
            if !store::update_variable(tx, &doc)? {
                return Err(ApiError::of(types::VARIABLE_ALREADY_EXISTS));
            }
            mark_not_live(tx, &o)?;
            Ok(doc)
        })
        .await?;
    owner.touched(&ctx);
    ok(model::variable(&doc))
}

async fn delete(owner: Owner, ctx: Ctx, p: Params) -> Reply {
    let id = p.path("variableId").to_string();
    let pid = ctx.project_id().to_string();
    let o = owner.clone();
    ctx.project()?
        .write(move |tx| {
            o.check(tx)?;
            require_variable(tx, &o, &pid, &id)?;
            store::delete(tx, Table::Variables, &id)?;
            mark_not_live(tx, &o)
        })
        .await?;
    owner.touched(&ctx);
    no_content()
}

/// The environment a runtime of `function_id` gets from variables: project ones, then the
/// function's own (which win).
pub fn environment(tx: &rusqlite::Transaction, project_id: &str, function_id: &str) -> ApiResult<Vec<(String, String)>> {
    let mut env = Vec::new();
    for v in store::all_where(tx, Table::Variables, "resource_id", project_id)? {
        if store::str_of(&v, "resourceType") == "project" {
            env.push((store::str_of(&v, "key"), store::str_of(&v, "value")));
        }
    }
    for v in super::functions::vars(tx, function_id)? {
        env.push((store::str_of(&v, "key"), store::str_of(&v, "value")));
    }
    Ok(env)
}

pub async fn list_function(ctx: Ctx, p: Params) -> Reply {
    list(Owner::of(&p, true), ctx, p).await
}
pub async fn create_function(ctx: Ctx, p: Params) -> Reply {
    create(Owner::of(&p, true), ctx, p).await
}
pub async fn get_function(ctx: Ctx, p: Params) -> Reply {
    get(Owner::of(&p, true), ctx, p).await
}
pub async fn update_function(ctx: Ctx, p: Params) -> Reply {
    update(Owner::of(&p, true), ctx, p).await
}
pub async fn delete_function(ctx: Ctx, p: Params) -> Reply {
    delete(Owner::of(&p, true), ctx, p).await
}
pub async fn list_project(ctx: Ctx, p: Params) -> Reply {
    list(Owner::Project, ctx, p).await
}
pub async fn create_project(ctx: Ctx, p: Params) -> Reply {
    create(Owner::Project, ctx, p).await
}
pub async fn get_project(ctx: Ctx, p: Params) -> Reply {
    get(Owner::Project, ctx, p).await
}
pub async fn update_project(ctx: Ctx, p: Params) -> Reply {
    update(Owner::Project, ctx, p).await
}
pub async fn delete_project(ctx: Ctx, p: Params) -> Reply {
    delete(Owner::Project, ctx, p).await
}
