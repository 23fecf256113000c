//! Transactions (`/databases/transactions`, `/tablesdb/transactions`): operations are staged
//! through `transactionId` on the write routes or `…/operations`, reads with `transactionId` see
//! them, and a commit applies them all in one SQLite transaction, refusing documents written by
//! someone else since they were staged (`transaction_conflict`). Events fire on commit only.

mod replay;
mod stage;
pub mod store;

use chrono::Duration;
use rusqlite::types::Value as Sql;
use serde_json::{json, Map, Value};

use super::documents::{self, Access};
use super::relationships::check_uid;
use super::schema::CollectionSchema;
use super::Api;
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::permissions;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Grouped, Kind};
use crate::response::{created, json as respond, no_content, ok, Reply};
use replay::{commit_error, savepoint, scratch, Replay};
use stage::Gate;
use store::{OpRow, TxnRow};

pub use store::MIGRATIONS;

const TTL_DEFAULT: i64 = 300;
const TTL_MIN: i64 = 60;
const TTL_MAX: i64 = 3600;

fn path_id(p: &Params) -> ApiResult<String> {
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
    let access = Access::of(&ctx);
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
    let access = Access::of(&ctx);
    let t = ctx.project()?.read(move |tx| require(tx, &access, &id)).await?;
    ok(t.model())
}

/// `GET …/transactions`: queries on `status` and `expiresAt`.
pub async fn list(_api: Api, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let access = Access::of(&ctx);
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
    let access = Access::of(&ctx);
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
    let access = Access::of(&ctx);
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

/// The events of a commit: each document as it ends up (a deleted one as it was).
fn fired(tx: &rusqlite::Transaction, api: Api, access: &Access, r: &mut Replay) -> ApiResult<Vec<(CollectionSchema, Map<String, Value>, &'static str)>> {
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

fn invalid_operation(description: &str) -> ApiError {
    ApiError::invalid_param("operations", &format!("Value must a valid array and {description}"))
}

/// Appwrite's `Operation` validator for one item of `operations`.
fn check_operation(api: Api, o: &Map<String, Value>) -> ApiResult<()> {
    const ACTIONS: &[&str] =
        &["create", "update", "upsert", "delete", "increment", "decrement", "bulkCreate", "bulkUpdate", "bulkUpsert", "bulkDelete"];
    let (coll_key, doc_key) = (api.collection_param(), api.document_param());
    for key in ["databaseId", "action", coll_key] {
        if !o.contains_key(key) {
            return Err(invalid_operation(&format!("Missing required key: {key}")));
        }
    }
    for key in ["databaseId", "action", coll_key] {
        if !o.get(key).and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty()) {
            return Err(invalid_operation(&format!("Key '{key}' must be a non\u{2011}empty string")));
        }
    }
    let action = o["action"].as_str().unwrap_or_default();
    if !ACTIONS.contains(&action) {
        return Err(invalid_operation(&format!("Key 'action' must be one of: {}", ACTIONS.join(", "))));
    }
    let needs_id = matches!(action, "create" | "update" | "upsert" | "delete" | "increment" | "decrement");
    if needs_id && !o.contains_key(doc_key) {
        return Err(invalid_operation(&format!("Key '{doc_key}' is required for action '{action}'")));
    }
    if o.contains_key(doc_key) && !o.get(doc_key).and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty()) {
        return Err(invalid_operation(&format!("Key '{doc_key}' must be a non-empty string")));
    }
    let data = o.get("data");
    let is_array = |v: Option<&Value>| matches!(v, Some(Value::Array(_) | Value::Object(_)));
    if action != "delete" {
        if data.is_none() {
            return Err(invalid_operation("Missing required key: data"));
        }
        if !is_array(data) {
            return Err(invalid_operation("Key 'data' must be an array"));
        }
    } else if data.is_some() && !is_array(data) {
        return Err(invalid_operation("Key 'data' must be an array"));
    }
    if matches!(action, "bulkUpdate" | "bulkDelete") {
        let d = data.and_then(Value::as_object);
        match d.and_then(|d| d.get("queries")) {
            None => return Err(invalid_operation(&format!("Key 'queries' is required in data for {action}"))),
            Some(Value::Array(_)) => {}
            Some(_) => return Err(invalid_operation(&format!("Key 'queries' must be an array for {action}"))),
        }
        if action == "bulkUpdate" {
            match d.and_then(|d| d.get("data")) {
                None => return Err(invalid_operation(&format!("Key 'data' is required in data for {action}"))),
                Some(Value::Object(_)) => {}
                Some(Value::Array(a)) if a.is_empty() => {}
                Some(_) => return Err(invalid_operation(&format!("Key 'data.data' must be an array for {action}"))),
            }
        }
    }
    if matches!(action, "increment" | "decrement") {
        let key = api.attribute_param();
        let d = data.and_then(Value::as_object);
        if !d.is_some_and(|d| d.contains_key(key)) {
            return Err(invalid_operation(&format!("Key '{key}' is required in data for {action}")));
        }
        if let Some(v) = d.and_then(|d| d.get("value")) {
            if crate::params::as_f64(v).is_none() {
                return Err(invalid_operation(&format!("Key 'value' must be a numeric value for {action}")));
            }
        }
    }
    Ok(())
}

/// `POST …/transactions/{id}/operations`.
pub async fn create_operations(api: Api, ctx: Ctx, p: Params) -> Reply {
    let id = path_id(&p)?;
    let items = match p.get("operations") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(ApiError::invalid_param("operations", "Value must a valid array and Value must be an array")),
    };
    let mut operations = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(o) = item else { return Err(invalid_operation("Value must be an array")) };
        check_operation(api, &o)?;
        operations.push(o);
    }
    if operations.is_empty() {
        return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, "Operations array cannot be empty"));
    }
    let access = Access::of(&ctx);
    let t = ctx
        .project()?
        .write(move |tx| {
            let t = stage::open(tx, &access, &id, Gate::Operations, operations.len())?;
            let mut pending = store::operations_of(tx, &t)?;
            let before = pending.len();
            for o in &operations {
                let op = prepare_operation(tx, api, &access, &pending, o)?;
                pending.push(op);
            }
            store::append(tx, &t, &pending[before..], &access.now)
        })
        .await?;
    created(t.model())
}

/// Validates one operation of `…/operations` against the transaction's view of the data.
fn prepare_operation(tx: &rusqlite::Transaction, api: Api, access: &Access, pending: &[OpRow], o: &Map<String, Value>) -> ApiResult<OpRow> {
    let action = o["action"].as_str().unwrap_or_default();
    let bulk = action.starts_with("bulk");
    if bulk && !access.is_key {
        return Err(ApiError::of(types::USER_UNAUTHORIZED));
    }
    let database_id = o["databaseId"].as_str().unwrap_or_default();
    let collection_id = o[api.collection_param()].as_str().unwrap_or_default();
    let db = super::store::get_database(tx, database_id)?
        .filter(|d| d.enabled || access.is_key)
        .ok_or_else(|| ApiError::with_arg(types::DATABASE_NOT_FOUND, database_id))?;
    let coll = super::store::get_collection(tx, db.seq, collection_id)?
        .filter(|c| c.enabled || access.is_key)
        .ok_or_else(|| ApiError::with_arg(types::COLLECTION_NOT_FOUND, collection_id))?;
    let s = CollectionSchema::load(tx, db, coll)?;
    if bulk && s.attributes.iter().any(|a| a.is_relationship()) {
        return Err(ApiError::msg(
            types::GENERAL_BAD_REQUEST,
            format!("Bulk operations are not supported for {} with relationship attributes", api.collection_param()),
        ));
    }
    let mut doc_id = o.get(api.document_param()).and_then(Value::as_str).map(String::from);
    if action == "create" && doc_id.as_deref() == Some("unique()") {
        doc_id = Some(crate::ids::unique());
    }
    let data = o.get("data").cloned().unwrap_or_else(|| json!({}));
    let fields = data.as_object().cloned().unwrap_or_default();
    let mut current = None;
    if matches!(action, "update" | "delete" | "upsert" | "increment" | "decrement") {
        let id = doc_id.clone().unwrap_or_default();
        current = stage::view(tx, api, access, pending, &s, &id)?;
        if current.is_none() && action != "upsert" {
            return Err(ApiError::with_arg(types::DOCUMENT_NOT_FOUND, &id));
        }
    }
    if !bulk {
        stage::authorize(access, &s, action, current.as_ref(), &fields)?;
    }
    let base = stage::base(tx, api, access, &s, action, doc_id.as_deref(), &data);
    Ok(stage::op(&s, action, doc_id, data, base, &access.now))
}

/// Stages a write made on a document route with `transactionId` and answers as 1.9.6 does
/// (a mock document, or `{total, documents: []}` for bulk writes).
#[allow(clippy::too_many_arguments)]
pub async fn stage_route(
    ctx: &Ctx,
    api: Api,
    p: &Params,
    tid: &str,
    action: &str,
    document_id: Option<&str>,
    payload: Value,
    permissions: Option<Vec<String>>,
) -> Reply {
    let access = Access::of(ctx);
    let (database_id, collection_id) = (p.path("databaseId").to_string(), p.path(api.collection_param()).to_string());
    let (tid, action, document_id) = (tid.to_string(), action.to_string(), document_id.map(String::from));
    let (status, body) = ctx
        .project()?
        .write(move |tx| {
            let s = CollectionSchema::require(tx, api, &database_id, &collection_id, access.is_key)?;
            let (gate, staged, status, body) = prepare_route(tx, api, &access, &s, &tid, &action, document_id, payload, permissions)?;
            let t = stage::open(tx, &access, &tid, gate, 1)?;
            store::append(tx, &t, &[staged], &access.now)?;
            Ok((status, body))
        })
        .await?;
    match status {
        204 => no_content(),
        201 => created(body),
        _ => Ok(respond(axum::http::StatusCode::OK, &body)),
    }
}

/// What a staging route logs and answers: (transaction gate, operation, status, body).
#[allow(clippy::too_many_arguments)]
fn prepare_route(
    tx: &rusqlite::Transaction,
    api: Api,
    access: &Access,
    s: &CollectionSchema,
    tid: &str,
    action: &str,
    document_id: Option<String>,
    payload: Value,
    permissions: Option<Vec<String>>,
) -> ApiResult<(Gate, OpRow, u16, Value)> {
    let pending = match store::get(tx, tid)? {
        Some(t) => store::operations_of(tx, &t)?,
        None => Vec::new(),
    };
    let now = access.now.clone();
    let id = document_id.clone().unwrap_or_default();
    let mut fields = payload.as_object().cloned().unwrap_or_default();
    match action {
        "create" => {
            documents::strip_readonly(api, &mut fields, access.is_key);
            let perms = access.new_permissions(permissions)?;
            access.allow(s, permissions::CREATE, None)?;
            fields.insert("$id".into(), json!(id));
            fields.insert("$permissions".into(), json!(perms));
            let body = stage::mock(api, s, &id, &[&fields]);
            Ok((Gate::Route, stage::op(s, "create", document_id, Value::Object(fields), Map::new(), &now), 201, body))
        }
        "bulkCreate" => {
            if s.attributes.iter().any(|a| a.is_relationship()) {
                return Err(ApiError::msg(
                    types::GENERAL_BAD_REQUEST,
                    format!(
                        "Bulk create is not supported for {} with relationship {}",
                        if api.is_legacy() { "databases" } else { "tablesDB" },
                        api.attributes_key()
                    ),
                ));
            }
            let mut docs = Vec::new();
            for d in payload.as_array().into_iter().flatten() {
                let mut d = d.as_object().cloned().unwrap_or_default();
                let (id, perms) = documents::bulk_identity(&d)?;
                documents::strip_readonly(api, &mut d, access.is_key);
                d.insert("$id".into(), json!(id));
                d.insert("$permissions".into(), json!(perms.unwrap_or_default()));
                docs.push(Value::Object(d));
            }
            let body = json!({"total": docs.len(), api.documents_key(): []});
            Ok((Gate::Route, stage::op(s, "bulkCreate", None, Value::Array(docs), Map::new(), &now), 200, body))
        }
        "update" => {
            let current = stage::view(tx, api, access, &pending, s, &id)?.ok_or_else(|| ApiError::with_arg(api.document_not_found(), &id))?;
            let perms = stage::given_permissions(access, permissions)?.unwrap_or_else(|| current.permissions());
            fields.insert("$id".into(), json!(id));
            fields.insert("$permissions".into(), json!(perms));
            documents::strip_readonly(api, &mut fields, access.is_key);
            let base = stage::base(tx, api, access, s, "update", Some(&id), &Value::Null);
            let body = stage::mock(api, s, &id, &[&current.doc, &fields]);
            Ok((Gate::Route, stage::op(s, "update", document_id, Value::Object(fields), base, &now), 200, body))
        }
        "upsert" => {
            let current = stage::view(tx, api, access, &pending, s, &id)?;
            let perms = match stage::given_permissions(access, permissions)? {
                Some(p) => p,
                None => match &current {
                    Some(c) => c.permissions(),
                    None => access.new_permissions(None)?,
                },
            };
            fields.insert("$id".into(), json!(id));
            fields.insert("$permissions".into(), json!(perms));
            documents::strip_readonly(api, &mut fields, access.is_key);
            let base = stage::base(tx, api, access, s, "upsert", Some(&id), &Value::Null);
            let body = stage::mock(api, s, &id, &[&fields]);
            Ok((Gate::Route, stage::op(s, "upsert", document_id, Value::Object(fields), base, &now), 201, body))
        }
        "delete" => {
            stage::view(tx, api, access, &pending, s, &id)?.ok_or_else(|| ApiError::with_arg(api.document_not_found(), &id))?;
            let base = stage::base(tx, api, access, s, "delete", Some(&id), &Value::Null);
            Ok((Gate::Route, stage::op(s, "delete", document_id, json!({}), base, &now), 204, Value::Null))
        }
        "increment" | "decrement" => {
            let attribute = fields.get(api.attribute_param()).cloned().unwrap_or(Value::Null);
            let bound = if action == "increment" { "max" } else { "min" };
            fields.entry(bound).or_insert(Value::Null);
            let mut shown = Map::new();
            if let Some(name) = attribute.as_str() {
                shown.insert(name.to_string(), fields.get("value").cloned().unwrap_or(json!(1)));
            }
            let base = stage::base(tx, api, access, s, action, Some(&id), &Value::Null);
            let body = stage::mock(api, s, &id, &[&shown]);
            Ok((Gate::Counter, stage::op(s, action, document_id, Value::Object(fields), base, &now), 200, body))
        }
        "bulkUpdate" => {
            documents::no_relationships(s, api, "update")?;
            let queries = replay::strings(fields.get("queries"));
            crate::query::parse_all(&queries)?;
            let mut set = fields.get("data").and_then(Value::as_object).cloned().unwrap_or_default();
            if let Some(p) = set.get("$permissions") {
                let list: Vec<String> = p.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default();
                permissions::normalize("permissions", &list, permissions::ITEM_ACTIONS).map_err(|e| {
                    ApiError::msg(types::GENERAL_BAD_REQUEST, e.message.trim_start_matches("Invalid `permissions` param: ").to_string())
                })?;
            }
            documents::strip_readonly(api, &mut set, true);
            let data = json!({"data": set, "queries": queries});
            let base = stage::base(tx, api, access, s, "bulkUpdate", None, &data);
            let body = json!({"total": 0, api.documents_key(): []});
            Ok((Gate::Bulk, stage::op(s, "bulkUpdate", None, data, base, &now), 200, body))
        }
        "bulkUpsert" => {
            documents::no_relationships(s, api, "upsert")?;
            let n = payload.as_array().map(Vec::len).unwrap_or(0);
            let base = stage::base(tx, api, access, s, "bulkUpsert", None, &payload);
            let body = json!({"total": n, api.documents_key(): []});
            Ok((Gate::Bulk, stage::op(s, "bulkUpsert", None, payload, base, &now), 200, body))
        }
        "bulkDelete" => {
            documents::no_relationships(s, api, "delete")?;
            let queries = replay::strings(fields.get("queries"));
            crate::query::parse_all(&queries)?;
            let data = json!({"queries": queries});
            let base = stage::base(tx, api, access, s, "bulkDelete", None, &data);
            let body = json!({"total": 0, api.documents_key(): []});
            Ok((Gate::Bulk, stage::op(s, "bulkDelete", None, data, base, &now), 200, body))
        }
        other => Err(ApiError::msg(types::GENERAL_BAD_REQUEST, format!("Invalid action: {other}"))),
    }
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
    let access = Access::of(ctx);
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
                documents::get_in(tx, &s, api, &access, &id, &grouped)
            })
        })
        .await?;
    ok(Value::Object(doc))
}

/// `GET …/documents?transactionId=`: the list with the staged operations applied.
pub async fn read_list(ctx: &Ctx, api: Api, p: &Params, tid: &str, queries: Vec<String>, with_total: bool) -> Reply {
    let access = Access::of(ctx);
    let (database_id, collection_id) = (p.path("databaseId").to_string(), p.path(api.collection_param()).to_string());
    let tid = tid.to_string();
    let (docs, total) = ctx
        .project()?
        .write(move |tx| {
            let s = CollectionSchema::require(tx, api, &database_id, &collection_id, access.is_key)?;
            let ops = staged_for_read(tx, &tid)?;
            scratch(tx, || {
                Replay::new(tx, api, &access, false).run(&ops)?;
                documents::list_in(tx, &s, api, &access, &queries, with_total)
            })
        })
        .await?;
    ok(json!({"total": total, api.documents_key(): docs}))
}
