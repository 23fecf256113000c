//! Documents (rows): create (single and bulk), get, list, update, upsert (single and bulk),
//! delete (single and bulk), increment and decrement — with Appwrite's permission rules.

use rusqlite::types::Value as Sql;
use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::records::{self, Stored};
use super::schema::CollectionSchema;
use super::{structure, Api};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::format::Format;
use crate::ids;
use crate::params::Params;
use crate::permissions::{self, ITEM_ACTIONS};
use crate::query::list::{self, Errors, ListSpec};
use crate::query::{Compiled, COUNT_CAP};
use crate::response::{created, no_content, ok, Reply};

/// Most documents one bulk call may carry.
pub const BULK_LIMIT: usize = 100;

/// Who is writing, as the blocking store code needs it.
#[derive(Clone)]
pub struct Access {
    /// The project, for its schema cache.
    pub project: std::sync::Arc<crate::state::Project>,
    pub is_key: bool,
    pub roles: Vec<String>,
    pub user_id: Option<String>,
    pub format: Format,
    pub now: String,
}

impl Access {
    pub fn of(ctx: &Ctx) -> ApiResult<Access> {
        Ok(Access {
            project: ctx.project()?.clone(),
            is_key: ctx.is_key(),
            roles: ctx.roles(),
            user_id: ctx.caller.user().map(|u| u.id.clone()),
            format: ctx.format,
            now: ctx.state.clock.now_iso(),
        })
    }

    /// Checks `action` against the collection's permissions, and the document's when document
    /// security is on. Keys always pass.
    pub fn allow(&self, s: &CollectionSchema, action: &str, doc_perms: Option<&[String]>) -> ApiResult<()> {
        if self.is_key {
            return Ok(());
        }
        let mut perms = s.collection.permissions.clone();
        if s.collection.document_security {
            if let Some(d) = doc_perms {
                perms.extend(d.iter().cloned());
            }
        }
        permissions::authorize(&perms, action, &self.roles)
    }

    /// Whether the caller may read `doc` (used to hide unreadable documents as missing).
    pub fn can_read(&self, s: &CollectionSchema, doc: &Stored) -> bool {
        self.allow(s, permissions::READ, Some(&doc.permissions())).is_ok()
    }

    /// The permissions a new document gets: the given ones (normalised, `write` expanded), or for a
    /// user without any, full rights for that user. Non-key callers may only grant their own roles.
    pub fn new_permissions(&self, given: Option<Vec<String>>) -> ApiResult<Vec<String>> {
        let perms = match given {
            Some(p) => permissions::normalize("permissions", &p, ITEM_ACTIONS)?,
            None => match &self.user_id {
                Some(u) if !self.is_key => permissions::default_for_user(u),
                _ => Vec::new(),
            },
        };
        if !self.is_key {
            permissions::check_grantable(&perms, &self.roles)?;
        }
        Ok(perms)
    }
}

fn load(tx: &Transaction, api: Api, p: &Params, access: &Access) -> ApiResult<std::sync::Arc<CollectionSchema>> {
    access.project.schemas.require(tx, api, p.path("databaseId"), p.path(api.collection_param()), access.is_key)
}

/// Drops the keys clients may not set; `$createdAt`/`$updatedAt` are kept for keys only.
pub fn strip_readonly(api: Api, data: &mut Map<String, Value>, privileged: bool) {
    for k in ["$sequence", "$databaseId", "$collectionId", "$tableId", "$collection", "$tenant"] {
        data.remove(k);
    }
    let _ = api;
    if !privileged {
        data.remove("$createdAt");
        data.remove("$updatedAt");
    }
}

fn date_param(data: &Map<String, Value>, key: &str) -> Option<String> {
    data.get(key).and_then(Value::as_str).and_then(crate::clock::normalize_datetime)
}

/// Publishes a document event (`create`, `update`, `upsert`, `delete`) with `doc` as payload.
pub fn publish(ctx: &Ctx, s: &CollectionSchema, api: Api, doc: &Map<String, Value>, action: &str) {
    let id = doc.get("$id").and_then(Value::as_str).unwrap_or_default().to_string();
    let _ = api;
    crate::events::publish_typed(
        ctx,
        &format!("databases.[databaseId].collections.[collectionId].documents.[documentId].{action}"),
        &[("databaseId", &s.database.id), ("collectionId", &s.collection.id), ("documentId", &id)],
        Value::Object(doc.clone()),
        Some(&s.database.kind),
    );
}

/// Inserts one new document prepared from client `data`.
pub fn create_one(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    id: &str,
    mut data: Map<String, Value>,
    given_permissions: Option<Vec<String>>,
) -> ApiResult<Stored> {
    strip_readonly(api, &mut data, access.is_key);
    let perms = access.new_permissions(given_permissions)?;
    access.allow(s, permissions::CREATE, None)?;
    let created_at = date_param(&data, "$createdAt").unwrap_or_else(|| access.now.clone());
    let updated_at = date_param(&data, "$updatedAt").unwrap_or_else(|| access.now.clone());
    data.remove("$id");
    data.remove("$permissions");
    data.remove("$createdAt");
    data.remove("$updatedAt");
    let values = structure::validate(s, api, &data)?;
    let values = super::relationships::before_write(tx, s, api, access, id, &data, &perms, values)?;
    records::insert(tx, s, api, id, &values, &perms, &created_at, &updated_at)?;
    super::relationships::written(tx, s, api, access, id)
}

/// Updates `current` with `data` merged over its values (PATCH and upsert of an existing document).
pub fn update_one(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    current: &Stored,
    mut data: Map<String, Value>,
    new_permissions: Option<Vec<String>>,
    replace_required: bool,
) -> ApiResult<Stored> {
    strip_readonly(api, &mut data, access.is_key);
    let perms = match new_permissions {
        Some(p) => {
            let p = permissions::normalize("permissions", &p, ITEM_ACTIONS)?;
            if !access.is_key {
                permissions::check_grantable(&p, &access.roles)?;
            }
            p
        }
        None => current.permissions(),
    };
    let created_at = date_param(&data, "$createdAt");
    let updated_at = date_param(&data, "$updatedAt").unwrap_or_else(|| access.now.clone());
    for k in ["$id", "$permissions", "$createdAt", "$updatedAt"] {
        data.remove(k);
    }
    let mut merged = current.values();
    if replace_required {
        // An upsert must send every required attribute again.
        for a in &s.attributes {
            if a.required && !data.contains_key(&a.key) {
                merged.remove(&a.key);
            }
        }
    }
    let changed = data.iter().any(|(k, v)| merged.get(k) != Some(v)) || perms != current.permissions();
    for (k, v) in &data {
        merged.insert(k.clone(), v.clone());
    }
    if !changed && created_at.is_none() {
        if !access.can_read(s, current) {
            access.allow(s, permissions::UPDATE, Some(&current.permissions()))?;
        }
        return Ok(current.clone());
    }
    access.allow(s, permissions::UPDATE, Some(&current.permissions()))?;
    let values = structure::validate(s, api, &merged)?;
    let values = super::relationships::before_write(tx, s, api, access, current.id(), &data, &perms, values)?;
    records::update(tx, s, api, current, &values, &perms, &updated_at, created_at.as_deref())?;
    super::relationships::written(tx, s, api, access, current.id())
}

/// Deletes `current` after the permission check and relationship `onDelete` handling.
pub fn delete_one(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, current: &Stored) -> ApiResult<()> {
    access.allow(s, permissions::DELETE, Some(&current.permissions()))?;
    super::relationships::before_delete(tx, s, api, access, current)?;
    records::delete(tx, s, current.seq)
}

/// Loads a document for a write: missing answers `document_not_found`.
pub fn require_doc(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, id: &str) -> ApiResult<Stored> {
    records::fetch(tx, s, api, access.format, id)?.ok_or_else(|| ApiError::with_arg(api.document_not_found(), id))
}

fn transaction_id(p: &Params) -> ApiResult<Option<String>> {
    let t = p.str_opt("transactionId")?;
    if let Some(t) = &t {
        super::relationships::check_uid("transactionId", t)?;
    }
    Ok(t)
}

pub async fn create(api: Api, ctx: Ctx, p: Params) -> Reply {
    let data = p.object_opt("data")?.unwrap_or_default();
    let docs = p.object_list_opt(api.documents_key())?.unwrap_or_default();
    let doc_id = p.str_opt(api.document_param())?.unwrap_or_default();
    let perms_param = p.str_list_opt("permissions")?;
    if let Some(list) = &perms_param {
        permissions::normalize("permissions", list, ITEM_ACTIONS)?;
    }
    if docs.len() > BULK_LIMIT {
        return Err(ApiError::invalid_param(
            api.documents_key(),
            &format!("Value must a valid array no longer than {BULK_LIMIT} items and Value must be a valid JSON object"),
        ));
    }
    let (has_data, has_docs) = (!data.is_empty(), !docs.is_empty());
    if !has_data && !has_docs {
        return Err(ApiError::of(api.missing_data()));
    }
    if has_data && has_docs {
        return Err(ApiError::msg(
            types::GENERAL_BAD_REQUEST,
            format!("You can only send one of the following parameters: data, {}", api.documents_key()),
        ));
    }
    if has_data && doc_id.is_empty() {
        let word = api.document_word();
        return Err(ApiError::msg(
            api.missing_data(),
            format!("{word} ID is required when creating a single {}.", word.to_lowercase()),
        ));
    }
    if has_docs && !doc_id.is_empty() {
        return Err(ApiError::msg(
            types::GENERAL_BAD_REQUEST,
            format!(
                "Param \"{}\" is not allowed when creating multiple {}, set \"$id\" on each instead.",
                api.document_param(),
                api.documents_key()
            ),
        ));
    }
    if has_docs && perms_param.as_ref().is_some_and(|p| !p.is_empty()) {
        return Err(ApiError::msg(
            types::GENERAL_BAD_REQUEST,
            format!("Param \"permissions\" is disallowed when creating multiple {}, set \"$permissions\" on each instead", api.documents_key()),
        ));
    }
    if has_docs && !ctx.is_key() {
        return Err(ApiError::of(types::GENERAL_UNAUTHORIZED_SCOPE));
    }
    let single_id = if has_data { Some(ids::resolve_id(api.document_param(), &doc_id)?) } else { None };
    if let Some(tid) = transaction_id(&p)? {
        let action = if has_docs { "bulkCreate" } else { "create" };
        let payload = if has_docs { json!(docs) } else { Value::Object(data.clone()) };
        return super::transactions::stage_route(&ctx, api, &p, &tid, action, single_id.as_deref(), payload, perms_param).await;
    }
    let access = Access::of(&ctx)?;
    let (schema, stored) = ctx
        .project()?
        .write(move |tx| {
            let s = load(tx, api, &p, &access)?;
            if has_docs {
                if s.attributes.iter().any(|a| a.is_relationship()) {
                    return Err(ApiError::msg(
                        types::GENERAL_BAD_REQUEST,
                        format!(
                            "Bulk create is not supported for {} with relationship {}",
                            api.sdk_namespace(),
                            api.attributes_key()
                        ),
                    ));
                }
                let out = bulk_create(tx, &s, api, &access, docs)?;
                return Ok((s, out));
            }
            let id = single_id.expect("single create has an id");
            let stored = create_one(tx, &s, api, &access, &id, data, perms_param)?;
            Ok((s, vec![stored]))
        })
        .await?;
    for d in &stored {
        publish(&ctx, &schema, api, &d.doc, "create");
    }
    if has_docs {
        return created(bulk_response(api, &stored, stored.len() as i64));
    }
    created(Value::Object(stored[0].doc.clone()))
}

/// Creates every document of a bulk call in the caller's transaction (all or nothing).
pub fn bulk_create(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, docs: Vec<Map<String, Value>>) -> ApiResult<Vec<Stored>> {
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        let (id, perms) = bulk_identity(&d)?;
        out.push(create_one(tx, s, api, access, &id, d, perms)?);
    }
    Ok(out)
}

/// `$id` (default `unique()`) and `$permissions` of one bulk item, validated.
pub fn bulk_identity(d: &Map<String, Value>) -> ApiResult<(String, Option<Vec<String>>)> {
    let raw = d.get("$id").and_then(Value::as_str).unwrap_or("unique()");
    if !(raw == "unique()" || ids::is_valid_id(raw)) {
        return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, ids::ID_DESCRIPTION));
    }
    let id = if raw == "unique()" { ids::unique() } else { raw.to_string() };
    let perms = match d.get("$permissions") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => {
            let list: Vec<String> = a.iter().filter_map(|v| v.as_str().map(String::from)).collect();
            permissions::normalize("permissions", &list, ITEM_ACTIONS)
                .map_err(|e| ApiError::msg(types::GENERAL_BAD_REQUEST, e.message.trim_start_matches("Invalid `permissions` param: ").to_string()))?;
            Some(list)
        }
        Some(_) => return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, "Permissions must be an array of strings.")),
    };
    Ok((id, perms))
}

pub fn bulk_response(api: Api, docs: &[Stored], total: i64) -> Value {
    json!({"total": total, api.documents_key(): docs.iter().take(BULK_LIMIT).map(|d| Value::Object(d.doc.clone())).collect::<Vec<_>>()})
}

/// The `select` of a get or list, applied to one document: internal keys always stay.
pub fn project(doc: &Map<String, Value>, selection: &Option<Vec<String>>) -> Map<String, Value> {
    let Some(sel) = selection else { return doc.clone() };
    if sel.iter().any(|s| s == "*") {
        return doc.clone();
    }
    doc.iter()
        .filter(|(k, _)| k.starts_with('$') || sel.iter().any(|s| s == *k || s.split('.').next() == Some(k.as_str())))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub async fn get(api: Api, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let grouped = crate::query::parse_all(&queries)?;
    if let Some(q) = grouped.all.iter().find(|q| q.method != "select") {
        return Err(ApiError::query(format!("Invalid query method: {}", q.method)));
    }
    if let Some(tid) = transaction_id(&p)? {
        return super::transactions::read_one(&ctx, api, &p, &tid, grouped).await;
    }
    let access = Access::of(&ctx)?;
    let doc = ctx
        .project()?
        .read(move |tx| {
            let s = load(tx, api, &p, &access)?;
            get_in(tx, &s, api, &access, p.path(api.document_param()), &grouped)
        })
        .await?;
    ok(Value::Object(doc))
}

/// Reads one document as `get` answers it (also used inside transactions).
pub fn get_in(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, id: &str, grouped: &crate::query::Grouped) -> ApiResult<Map<String, Value>> {
    crate::query::validate(grouped, s, true).map_err(|m| ApiError::msg(types::GENERAL_QUERY_INVALID, m))?;
    let found = records::fetch(tx, s, api, access.format, id)?
        .filter(|d| access.can_read(s, d))
        .ok_or_else(|| ApiError::with_arg(api.document_not_found(), id))?;
    let doc = super::relationships::expand(tx, s, api, access, found.doc, &grouped.selection())?;
    Ok(project(&doc, &grouped.selection()))
}

/// Lists documents visible to `access` matching `queries` (also used inside transactions).
pub fn list_in(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    queries: &[String],
    with_total: bool,
) -> ApiResult<(Vec<Map<String, Value>>, i64)> {
    let mut visibility = Compiled::default();
    if !access.is_key && permissions::authorize(&s.collection.permissions, permissions::READ, &access.roles).is_err() {
        if !s.collection.document_security {
            permissions::authorize(&s.collection.permissions, permissions::READ, &access.roles)?;
        }
        if let Some((sql, params)) = records::read_visibility(s, &access.roles) {
            visibility.push(&sql, params);
        }
    }
    let (queries, through) = super::relationships::nested_filters(tx, s, access, queries)?;
    if !through.sql.is_empty() {
        visibility.push(&through.sql, through.params);
    }
    let table = format!("\"{}\"", s.collection.table());
    let spec = ListSpec {
        from: table,
        select: s.select_columns(),
        scope: Compiled::default(),
        visibility,
        schema: s,
        id_sql: "_uid",
        resource: api.document_word(),
        order_words: (api.attribute_word(), api.documents_key()),
        errors: Errors::Query,
        search: None,
        allow_select: true,
    };
    let format = access.format;
    let page = list::list(tx, &spec, &queries, with_total, |r| s.document(api, format, r))?;
    let selection = page.grouped.selection();
    let docs = page
        .items
        .into_iter()
        .map(|d| super::relationships::expand(tx, s, api, access, d, &selection).map(|d| project(&d, &selection)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((docs, page.total.min(COUNT_CAP)))
}

pub async fn list(api: Api, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    p.range_opt("ttl", 0, 86400)?;
    if let Some(tid) = transaction_id(&p)? {
        return super::transactions::read_list(&ctx, api, &p, &tid, queries, with_total).await;
    }
    let access = Access::of(&ctx)?;
    let (docs, total) = ctx
        .project()?
        .read(move |tx| {
            let s = load(tx, api, &p, &access)?;
            list_in(tx, &s, api, &access, &queries, with_total)
        })
        .await?;
    ok(json!({"total": total, api.documents_key(): docs}))
}

pub async fn update(api: Api, ctx: Ctx, p: Params) -> Reply {
    let data = p.object_opt("data")?.unwrap_or_default();
    let perms = p.str_list_opt("permissions")?;
    if data.is_empty() && perms.is_none() {
        return Err(ApiError::of(api.missing_payload()));
    }
    if let Some(list) = &perms {
        permissions::normalize("permissions", list, ITEM_ACTIONS)?;
    }
    if let Some(tid) = transaction_id(&p)? {
        let id = p.path(api.document_param()).to_string();
        return super::transactions::stage_route(&ctx, api, &p, &tid, "update", Some(&id), Value::Object(data), perms).await;
    }
    let access = Access::of(&ctx)?;
    let (s, doc) = ctx
        .project()?
        .write(move |tx| {
            let s = load(tx, api, &p, &access)?;
            let current = require_doc(tx, &s, api, &access, p.path(api.document_param()))?;
            let doc = update_one(tx, &s, api, &access, &current, data, perms, false)?;
            Ok((s, doc))
        })
        .await?;
    publish(&ctx, &s, api, &doc.doc, "update");
    ok(Value::Object(doc.doc))
}

/// Creates or updates the document at `id` (single and bulk upsert).
pub fn upsert_one(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    id: &str,
    data: Map<String, Value>,
    perms: Option<Vec<String>>,
) -> ApiResult<(Stored, bool)> {
    match records::fetch(tx, s, api, access.format, id)? {
        Some(current) => Ok((update_one(tx, s, api, access, &current, data, perms, true)?, false)),
        None => Ok((create_one(tx, s, api, access, id, data, perms)?, true)),
    }
}

pub async fn upsert(api: Api, ctx: Ctx, p: Params) -> Reply {
    let data = p.object_opt("data")?.unwrap_or_default();
    let perms = p.str_list_opt("permissions")?;
    if let Some(list) = &perms {
        permissions::normalize("permissions", list, ITEM_ACTIONS)?;
    }
    let id = p.path(api.document_param()).to_string();
    ids::check_id(api.document_param(), &id)?;
    if let Some(tid) = transaction_id(&p)? {
        return super::transactions::stage_route(&ctx, api, &p, &tid, "upsert", Some(&id), Value::Object(data), perms).await;
    }
    let access = Access::of(&ctx)?;
    let (s, doc) = ctx
        .project()?
        .write(move |tx| {
            let s = load(tx, api, &p, &access)?;
            let (doc, _created) = upsert_one(tx, &s, api, &access, &id, data, perms)?;
            Ok((s, doc))
        })
        .await?;
    // 1.9.6 labels the upsert route with the `upsert` event only, created or not.
    publish(&ctx, &s, api, &doc.doc, "upsert");
    ok(Value::Object(doc.doc))
}

pub async fn delete(api: Api, ctx: Ctx, p: Params) -> Reply {
    if let Some(tid) = transaction_id(&p)? {
        let id = p.path(api.document_param()).to_string();
        return super::transactions::stage_route(&ctx, api, &p, &tid, "delete", Some(&id), Value::Null, None).await;
    }
    let access = Access::of(&ctx)?;
    let (s, doc) = ctx
        .project()?
        .write(move |tx| {
            let s = load(tx, api, &p, &access)?;
            let current = require_doc(tx, &s, api, &access, p.path(api.document_param()))?;
            delete_one(tx, &s, api, &access, &current)?;
            Ok((s, current))
        })
        .await?;
    publish(&ctx, &s, api, &doc.doc, "delete");
    no_content()
}

/// A number as PHP prints it in a string: integers without a fraction.
pub fn php_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// Applies `by` (positive or negative) to a numeric attribute, bounded by `limit`, in one statement
/// so concurrent increments serialise in SQLite and lose nothing.
pub fn increment_in(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    id: &str,
    attribute: &str,
    by: f64,
    limit: Option<f64>,
) -> ApiResult<Stored> {
    let a = s.attribute(attribute).ok_or_else(|| ApiError::with_arg(api.attribute_not_found(), attribute))?;
    if !matches!(a.kind.as_str(), "integer" | "bigint" | "double") || a.array {
        // 1.9.6 answers utopia's TypeException with the legacy type on both APIs.
        return Err(ApiError::msg(types::ATTRIBUTE_TYPE_INVALID, format!("{} \"{attribute}\" is not a number", api.sdk_namespace())));
    }
    let current = require_doc(tx, s, api, access, id)?;
    access.allow(s, permissions::UPDATE, Some(&current.permissions()))?;
    let value = current.doc.get(attribute).and_then(Value::as_f64).unwrap_or(0.0);
    let next = value + by;
    if let Some(limit) = limit {
        let over = if by >= 0.0 { next > limit } else { next < limit };
        if over {
            // 1.9.6 maps utopia's LimitException to attribute_limit_exceeded with this text.
            let word = if by >= 0.0 { "maximum" } else { "minimum" };
            return Err(ApiError::msg(
                api.attribute_limit(),
                format!(
                    "{} \"{attribute}\" has reached the {word} value of {}",
                    api.sdk_namespace(),
                    php_number(limit)
                ),
            ));
        }
    }
    let is_int = a.kind != "double";
    let bound = |v: f64| if is_int { Sql::Integer(v as i64) } else { Sql::Real(v) };
    let sql = format!(
        "UPDATE \"{t}\" SET {c} = COALESCE({c}, 0) + ?1, _updated = ?2 WHERE _seq = ?3",
        t = s.collection.table(),
        c = a.sql()
    );
    tx.execute(&sql, rusqlite::params![bound(by), access.now, current.seq])?;
    let updated = require_doc(tx, s, api, access, id)?;
    // The attribute's own range still applies.
    structure::check_value(a, updated.doc.get(attribute).unwrap_or(&Value::Null))
        .map_err(|m| ApiError::msg(api.invalid_structure(), format!("Invalid document structure: {m}")))?;
    Ok(updated)
}

pub async fn increment(api: Api, ctx: Ctx, p: Params, sign: f64) -> Reply {
    let attribute = p.path(api.attribute_param()).to_string();
    let value = p.f64_opt("value")?.unwrap_or(1.0);
    if value <= 0.0 {
        return Err(ApiError::invalid_param("value", "Value must be a valid number greater than 0"));
    }
    let bound_name = if sign > 0.0 { "max" } else { "min" };
    let limit = p.f64_opt(bound_name)?;
    if let Some(tid) = transaction_id(&p)? {
        let id = p.path(api.document_param()).to_string();
        let mut data = Map::new();
        data.insert(api.attribute_param().into(), json!(attribute));
        data.insert("value".into(), json!(value));
        if let Some(l) = limit {
            data.insert(bound_name.into(), json!(l));
        }
        let action = if sign > 0.0 { "increment" } else { "decrement" };
        return super::transactions::stage_route(&ctx, api, &p, &tid, action, Some(&id), Value::Object(data), None).await;
    }
    let access = Access::of(&ctx)?;
    let (s, doc) = ctx
        .project()?
        .write(move |tx| {
            let s = load(tx, api, &p, &access)?;
            let id = p.path(api.document_param());
            let doc = increment_in(tx, &s, api, &access, id, &attribute, sign * value, limit)?;
            Ok((s, doc))
        })
        .await?;
    publish(&ctx, &s, api, &doc.doc, "update");
    ok(Value::Object(doc.doc))
}

/// Every document matching `queries` (all of them: bulk operations ignore the default limit).
pub fn matching(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, queries: &[String]) -> ApiResult<Vec<Stored>> {
    let mut all = queries.to_vec();
    if !queries.iter().any(|q| q.contains("\"limit\"")) {
        all.push(json!({"method": "limit", "values": [i64::MAX]}).to_string());
    }
    let mut visibility = Compiled::default();
    if !access.is_key {
        if let Some((sql, params)) = records::read_visibility(s, &access.roles) {
            if permissions::authorize(&s.collection.permissions, permissions::READ, &access.roles).is_err() {
                visibility.push(&sql, params);
            }
        }
    }
    let (all, through) = super::relationships::nested_filters(tx, s, access, &all)?;
    if !through.sql.is_empty() {
        visibility.push(&through.sql, through.params);
    }
    let spec = ListSpec {
        from: format!("\"{}\"", s.collection.table()),
        select: s.select_columns(),
        scope: Compiled::default(),
        visibility,
        schema: s,
        id_sql: "_uid",
        resource: api.document_word(),
        order_words: (api.attribute_word(), api.documents_key()),
        errors: Errors::Query,
        search: None,
        allow_select: false,
    };
    let format = access.format;
    let page = list::list(tx, &spec, &all, false, |r| Ok(Stored { seq: r.get(0)?, doc: s.document(api, format, r)? }))?;
    Ok(page.items)
}

/// Updates every match of `queries` with `data` (one transaction).
pub fn bulk_update_in(
    tx: &Transaction,
    s: &CollectionSchema,
    api: Api,
    access: &Access,
    queries: &[String],
    mut data: Map<String, Value>,
) -> ApiResult<Vec<Stored>> {
    no_relationships(s, api, "update")?;
    let perms = match data.remove("$permissions") {
        Some(Value::Array(a)) => {
            let list: Vec<String> = a.iter().filter_map(|v| v.as_str().map(String::from)).collect();
            permissions::normalize("permissions", &list, ITEM_ACTIONS).map_err(|e| {
                ApiError::msg(types::GENERAL_BAD_REQUEST, e.message.trim_start_matches("Invalid `permissions` param: ").to_string())
            })?;
            Some(list)
        }
        Some(Value::Null) | None => None,
        Some(_) => return Err(ApiError::msg(types::GENERAL_BAD_REQUEST, "Permissions must be an array of strings.")),
    };
    strip_readonly(api, &mut data, true);
    let mut out = Vec::new();
    for current in matching(tx, s, api, access, queries)? {
        out.push(update_one(tx, s, api, access, &current, data.clone(), perms.clone(), false)?);
    }
    Ok(out)
}

pub async fn bulk_update(api: Api, ctx: Ctx, p: Params) -> Reply {
    let data = p.object_opt("data")?.unwrap_or_default();
    if data.is_empty() {
        return Err(ApiError::of(api.missing_payload()));
    }
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    if let Some(tid) = transaction_id(&p)? {
        let payload = json!({"data": data, "queries": queries});
        return super::transactions::stage_route(&ctx, api, &p, &tid, "bulkUpdate", None, payload, None).await;
    }
    let access = Access::of(&ctx)?;
    let (s, docs) = ctx
        .project()?
        .write(move |tx| {
            let s = load(tx, api, &p, &access)?;
            let docs = bulk_update_in(tx, &s, api, &access, &queries, data)?;
            Ok((s, docs))
        })
        .await?;
    for d in &docs {
        publish(&ctx, &s, api, &d.doc, "update");
    }
    ok(bulk_response(api, &docs, docs.len() as i64))
}

/// 1.9.6 refuses bulk update, upsert and delete on collections with relationships ("attributes"
/// on both APIs, unlike bulk create's message).
pub fn no_relationships(s: &CollectionSchema, api: Api, what: &str) -> ApiResult<()> {
    if s.attributes.iter().any(|a| a.is_relationship()) {
        return Err(ApiError::msg(
            types::GENERAL_BAD_REQUEST,
            format!(
                "Bulk {what} is not supported for {} with relationship attributes",
                api.sdk_namespace()
            ),
        ));
    }
    Ok(())
}

/// Creates or updates each document of a bulk upsert (one transaction). Returns the documents
/// that changed (created or updated), as utopia's `upsertDocuments` skips identical ones.
pub fn bulk_upsert_in(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, docs: Vec<Map<String, Value>>) -> ApiResult<Vec<(Stored, bool)>> {
    no_relationships(s, api, "upsert")?;
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        let (id, perms) = bulk_identity(&d)?;
        let before = records::fetch(tx, s, api, access.format, &id)?;
        let (doc, was_created) = upsert_one(tx, s, api, access, &id, d, perms)?;
        if was_created || before.is_some_and(|b| b.doc != doc.doc) {
            out.push((doc, was_created));
        }
    }
    Ok(out)
}

pub async fn bulk_upsert(api: Api, ctx: Ctx, p: Params) -> Reply {
    let docs = p.object_list_opt(api.documents_key())?.ok_or_else(|| ApiError::missing_param(api.documents_key()))?;
    if docs.len() > BULK_LIMIT {
        return Err(ApiError::invalid_param(
            api.documents_key(),
            &format!("Value must a valid array no longer than {BULK_LIMIT} items and Value must be a valid JSON object"),
        ));
    }
    // Unlike bulk create, 1.9.6 lets any caller with the scope upsert in bulk; document
    // permissions decide per document.
    if let Some(tid) = transaction_id(&p)? {
        return super::transactions::stage_route(&ctx, api, &p, &tid, "bulkUpsert", None, json!(docs), None).await;
    }
    let access = Access::of(&ctx)?;
    let (s, docs) = ctx
        .project()?
        .write(move |tx| {
            let s = load(tx, api, &p, &access)?;
            let docs = bulk_upsert_in(tx, &s, api, &access, docs)?;
            Ok((s, docs))
        })
        .await?;
    for (d, _) in &docs {
        publish(&ctx, &s, api, &d.doc, "upsert");
    }
    let stored: Vec<Stored> = docs.into_iter().map(|(d, _)| d).collect();
    // The SDK specs say 201, but the 1.9.6 handler never sets a status: 200.
    ok(bulk_response(api, &stored, stored.len() as i64))
}

/// Deletes every match of `queries` (one transaction); returns what was deleted.
pub fn bulk_delete_in(tx: &Transaction, s: &CollectionSchema, api: Api, access: &Access, queries: &[String]) -> ApiResult<Vec<Stored>> {
    no_relationships(s, api, "delete")?;
    let docs = matching(tx, s, api, access, queries)?;
    for d in &docs {
        delete_one(tx, s, api, access, d)?;
    }
    Ok(docs)
}

pub async fn bulk_delete(api: Api, ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    if let Some(tid) = transaction_id(&p)? {
        return super::transactions::stage_route(&ctx, api, &p, &tid, "bulkDelete", None, json!({"queries": queries}), None).await;
    }
    let access = Access::of(&ctx)?;
    let (s, docs) = ctx
        .project()?
        .write(move |tx| {
            let s = load(tx, api, &p, &access)?;
            let docs = bulk_delete_in(tx, &s, api, &access, &queries)?;
            Ok((s, docs))
        })
        .await?;
    for d in &docs {
        publish(&ctx, &s, api, &d.doc, "delete");
    }
    ok(bulk_response(api, &docs, docs.len() as i64))
}
