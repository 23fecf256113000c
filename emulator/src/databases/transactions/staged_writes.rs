//! Writes made on the document routes with `transactionId`: checked as 1.9.6 checks them, logged,
//! and answered with a mock document (or `{total, documents: []}` for bulk writes).

use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::super::documents::{self, Access};
use super::super::schema::CollectionSchema;
use super::super::Api;
use super::replay;
use super::stage::{self, Gate};
use super::store::{self, OpRow};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::permissions;
use crate::response::{created, json as respond, no_content, Reply};

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
    let access = Access::of(ctx)?;
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
    tx: &Transaction,
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
                        api.sdk_namespace(),
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

