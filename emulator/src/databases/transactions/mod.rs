//! Transactions (`/databases/transactions`, `/tablesdb/transactions`): operations are staged
//! through `transactionId` on the write routes or `…/operations`, reads with `transactionId` see
//! them, and a commit applies them all in one SQLite transaction, refusing documents written by
//! someone else since they were staged (`transaction_conflict`). Events fire on commit only.

mod operations;
mod replay;
mod stage;
mod staged_writes;
pub mod store;

use chrono::Duration;
use rusqlite::types::Value as Sql;
use serde_json::{json, Map, Value};

use super::documents::{self, Access};
use super::relationships::{check_uid, populated};
use super::schema::CollectionSchema;
use super::Api;
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::permissions;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Grouped, Kind};
use crate::response::{created, no_content, ok, Reply};
use replay::{commit_error, savepoint, scratch, Replay};
use store::{OpRow, TxnRow};

pub use operations::create as create_operations;
pub use staged_writes::stage_route;
pub use store::MIGRATIONS;

const TTL_DEFAULT: i64 = 300;
const TTL_MIN: i64 = 60;
const TTL_MAX: i64 = 3600;

pub(crate) fn path_id(p: &Params) -> ApiResult<String> {
    let id = p.path("transactionId").to_string();
    check_uid("transactionId", &id)?;
    Ok(id)
}

/// A transaction the caller can see, or `transaction_not_found`.
fn require(tx: &rusqlite::Transaction, access: &Access, id: &str) -> ApiResult<TxnRow> {
    store::get(tx, id)?
        .filter(|t| stage::visible(t, access))
        .ok_or_else(|| ApiError::with_arg(types::TRANSACTION_NOT_FOUND, id))
}

/// `POST …/transactions`: `ttl` seconds (60–3600, default 300).
pub async fn create(_api: Api, ctx: Ctx, p: Params) -> Reply {
    let ttl = match p.get("ttl").map(|v| (v, crate::params::as_i64(v))) {
        None => TTL_DEFAULT,
        Some((_, Some(n))) if (TTL_MIN..=TTL_MAX).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid_param("ttl", "Value must be a valid range between 60 and 3,600")),
    };
    let access = Access::of(&ctx)?;
    let expires = crate::clock::iso(ctx.state.clock.now() + Duration::seconds(ttl));
    let perms = match &access.user_id {
        Some(u) if !access.is_key => permissions::default_for_user(u),
        _ => Vec::new(),
    };
    let id = crate::ids::unique();
    let t = ctx.project()?.write(move |tx| store::insert(tx, &id, &expires, &perms, &access.now)).await?;
    created(t.model())
}

pub async fn get(_api: Api, ctx: Ctx, p: Params) -> Reply {
    let id = path_id(&p)?;
    let access = Access::of(&ctx)?;
    let t = ctx.project()?.read(move |tx| require(tx, &access, &id)).await?;
    ok(t.model())
}

/// `GET …/transactions`: queries on `status` and `expiresAt`.
pub async fn list(_api: Api, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let access = Access::of(&ctx)?;
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            let fixed = FixedSchema::new("", &[("status", "status", Kind::String), ("expiresAt", "expires_at", Kind::Datetime)], "seq");
            let mut visibility = Compiled::default();
            if !access.is_key {
                let wanted: Vec<Sql> = access.roles.iter().map(|r| Sql::Text(format!("read(\"{r}\")"))).collect();
                let marks = vec!["?"; wanted.len()].join(", ");
                visibility.push(&format!("EXISTS (SELECT 1 FROM json_each(permissions) WHERE value IN ({marks}))"), wanted);
            }
            let spec = ListSpec {
                from: "transactions".into(),
                select: store::TXN_COLS.into(),
                scope: Compiled::default(),
                visibility,
                schema: &fixed,
                id_sql: "id",
                resource: "Transaction",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: None,
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, true, store::map_txn)?;
            Ok((page.items, page.total))
        })
        .await?;
    ok(json!({"total": total, "transactions": items.iter().map(TxnRow::model).collect::<Vec<_>>()}))
}

pub async fn delete(_api: Api, ctx: Ctx, p: Params) -> Reply {
    let id = path_id(&p)?;
    let access = Access::of(&ctx)?;
    ctx.project()?
        .write(move |tx| {
            let t = require(tx, &access, &id)?;
            store::delete(tx, &t)
        })
        .await?;
    no_content()
}

/// `PATCH …/transactions/{id}`: exactly one of `commit` or `rollback`.
pub async fn update(api: Api, ctx: Ctx, p: Params) -> Reply {
    let id = path_id(&p)?;
    let commit = p.bool_opt("commit")?.unwrap_or(false);
    let rollback = p.bool_opt("rollback")?.unwrap_or(false);
    if !commit && !rollback {
        return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, "Either commit or rollback must be true"));
    }
    if commit && rollback {
        return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, "Cannot commit and rollback at the same time"));
    }
    let access = Access::of(&ctx)?;
    let project = ctx.project()?.clone();
    // First settle the status, so a second commit or a late staging sees it is no longer pending.
    let a = access.clone();
    let (t, ops) = project
        .write(move |tx| {
            let t = require(tx, &a, &id)?;
            if t.status != "pending" {
                return Err(ApiError::of(types::TRANSACTION_NOT_READY));
            }
            if stage::expired(&t, &a) {
                return Err(ApiError::of(types::TRANSACTION_EXPIRED));
            }
            let ops = store::operations_of(tx, &t)?;
            let next = if rollback {
                "failed"
            } else if ops.is_empty() {
                "committed"
            } else {
                "committing"
            };
            let t = store::set_status(tx, &t, next, &a.now)?;
            if next != "committing" {
                store::clear_operations(tx, &t)?;
            }
            Ok((t, ops))
        })
        .await?;
    if t.status != "committing" {
        return ok(t.model());
    }
    let (t, outcome) = project
        .write(move |tx| {
            let applied = savepoint(tx, "qw_commit", || {
                let mut r = Replay::new(tx, api, &access, true);
                r.run(&ops).map_err(|e| commit_error(e, r.current_id.as_deref()))?;
                fired(tx, api, &access, &mut r)
            });
            let status = if applied.is_ok() { "committed" } else { "failed" };
            let t = store::set_status(tx, &t, status, &access.now)?;
            store::clear_operations(tx, &t)?;
            Ok((t, applied))
        })
        .await?;
    for (s, doc, action) in outcome? {
        documents::publish(&ctx, &s, api, &doc, action);
    }
    ok(t.model())
}

/// A document event to publish: its collection, payload and action.
type Event = (CollectionSchema, Map<String, Value>, &'static str);

/// The events of a commit: each document as it ends up (a deleted one as it was).
fn fired(tx: &rusqlite::Transaction, api: Api, access: &Access, r: &mut Replay) -> ApiResult<Vec<Event>> {
    let mut out = Vec::new();
    for f in r.fired.clone() {
        let s = r.schema(f.collection_seq)?;
        let doc = match f.deleted {
            Some(d) => Some(d),
            None => super::records::fetch(tx, &s, api, access.format, &f.id)?.map(|d| d.doc),
        };
        if let Some(doc) = doc {
            out.push((s, doc, f.action));
        }
    }
    Ok(out)
}

/// The staged operations a read with `transactionId` must see: none unless the transaction is
/// pending (1.9.6 reads committed data for an unknown or settled transaction).
fn staged_for_read(tx: &rusqlite::Transaction, tid: &str) -> ApiResult<Vec<OpRow>> {
    match store::get(tx, tid)? {
        Some(t) if t.status == "pending" => store::operations_of(tx, &t),
        _ => Ok(Vec::new()),
    }
}

/// `GET …/documents/{id}?transactionId=`: the document with the staged operations applied.
pub async fn read_one(ctx: &Ctx, api: Api, p: &Params, tid: &str, grouped: Grouped) -> Reply {
    let access = Access::of(ctx)?;
    let (database_id, collection_id) = (p.path("databaseId").to_string(), p.path(api.collection_param()).to_string());
    let id = p.path(api.document_param()).to_string();
    let tid = tid.to_string();
    let doc = ctx
        .project()?
        .write(move |tx| {
            let s = CollectionSchema::require(tx, api, &database_id, &collection_id, access.is_key)?;
            let ops = staged_for_read(tx, &tid)?;
            scratch(tx, || {
                Replay::new(tx, api, &access, false).run(&ops)?;
                let doc = documents::get_in(tx, &s, api, &access, &id, &grouped)?;
                match grouped.selection() {
                    Some(_) => Ok(doc),
                    None => populated(tx, &s, api, &access, doc),
                }
            })
        })
        .await?;
    ok(Value::Object(doc))
}

/// `GET …/documents?transactionId=`: the list with the staged operations applied.
pub async fn read_list(ctx: &Ctx, api: Api, p: &Params, tid: &str, queries: Vec<String>, with_total: bool) -> Reply {
    let access = Access::of(ctx)?;
    let (database_id, collection_id) = (p.path("databaseId").to_string(), p.path(api.collection_param()).to_string());
    let tid = tid.to_string();
    let (docs, total) = ctx
        .project()?
        .write(move |tx| {
            let s = CollectionSchema::require(tx, api, &database_id, &collection_id, access.is_key)?;
            let ops = staged_for_read(tx, &tid)?;
            scratch(tx, || {
                Replay::new(tx, api, &access, false).run(&ops)?;
                let selecting = crate::query::parse_all(&queries)?.selection().is_some();
                let (docs, total) = documents::list_in(tx, &s, api, &access, &queries, with_total)?;
                if selecting {
                    return Ok((docs, total));
                }
                let docs = docs.into_iter().map(|d| populated(tx, &s, api, &access, d)).collect::<ApiResult<Vec<_>>>()?;
                Ok((docs, total))
            })
        })
        .await?;
    ok(json!({"total": total, api.documents_key(): docs}))
}
