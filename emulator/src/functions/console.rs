//! The console routes `appwrite push functions` calls besides the Functions API (REFERENCE
//! §8.4): `GET /console/variables` (for `_APP_DOMAIN_FUNCTIONS`) and the proxy rules it creates
//! and lists to print a function's domain.
//!
//! Deviation: Appwrite serves `/console/variables` to console sessions only (scope
//! `projects.read`); the emulator has no console login, so it answers everyone (it reveals only
//! the emulator's domain settings). The CLI still refuses to call it without a login cookie, so
//! with key-only auth its first push of a new function stops after creating it, exactly as
//! against a real server, and the next push deploys.

use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::functions::require;
use super::model;
use super::store::{self, Doc, Table};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Kind};
use crate::response::{created, no_content, ok, Reply};
use crate::state::AppState;

/// The domain function rules are created under.
pub const FUNCTIONS_DOMAIN: &str = "functions.localhost";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/console/variables", get(variables))
        .route("/v1/proxy/rules", get(list_rules))
        .route("/v1/proxy/rules/function", axum::routing::post(create_function_rule))
        .route("/v1/proxy/rules/{ruleId}", get(get_rule).delete(delete_rule))
}

async fn variables(_ctx: Ctx, _p: Params) -> Reply {
    ok(json!({
        "_APP_DOMAIN_TARGET_CNAME": "localhost",
        "_APP_DOMAIN_TARGET_AAAA": "::1",
        "_APP_DOMAIN_TARGET_A": "127.0.0.1",
        "_APP_DOMAIN_TARGET_CAA": "",
        "_APP_STORAGE_LIMIT": 30000000,
        "_APP_COMPUTE_SIZE_LIMIT": super::deployments::SIZE_LIMIT,
        "_APP_COMPUTE_BUILD_TIMEOUT": 900,
        "_APP_USAGE_STATS": "disabled",
        "_APP_VCS_ENABLED": false,
        "_APP_DOMAIN_ENABLED": false,
        "_APP_ASSISTANT_ENABLED": false,
        "_APP_DOMAIN_SITES": "sites.localhost",
        "_APP_DOMAIN_FUNCTIONS": FUNCTIONS_DOMAIN,
        "_APP_OPTIONS_FORCE_HTTPS": "disabled",
        "_APP_DOMAINS_NAMESERVERS": "",
        "_APP_DB_ADAPTER": "sqlite",
    }))
}

fn valid_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').count() >= 2
        && d.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

async fn create_function_rule(ctx: Ctx, p: Params) -> Reply {
    let domain = p.str("domain")?.to_ascii_lowercase();
    if !valid_domain(&domain) {
        return Err(ApiError::invalid_param("domain", "Value must be a valid domain"));
    }
    let fid = p.str("functionId")?;
    let branch = p.text_opt("branch", 255)?.unwrap_or_default();
    let now = ctx.state.clock.now_iso();
    let doc = ctx
        .project()?
        .write(move |tx| {
            let f = require(tx, &fid)?;
            let mut d = Doc::new();
            d.insert("$id".into(), json!(crate::ids::unique()));
            d.insert("$createdAt".into(), json!(now));
            d.insert("$updatedAt".into(), json!(now));
            d.insert("domain".into(), json!(domain));
            d.insert("type".into(), json!("deployment"));
            d.insert("trigger".into(), json!("manual"));
            d.insert("redirectUrl".into(), json!(""));
            d.insert("redirectStatusCode".into(), json!(0));
            d.insert("deploymentId".into(), json!(store::str_of(&f, "deploymentId")));
            d.insert("deploymentResourceType".into(), json!("function"));
            d.insert("deploymentResourceId".into(), json!(fid));
            d.insert("deploymentVcsProviderBranch".into(), json!(branch));
            d.insert("status".into(), json!("verified"));
            d.insert("logs".into(), json!(""));
            d.insert("renewAt".into(), json!(""));
            if !store::insert_rule(tx, &d)? {
                return Err(ApiError::of(types::RULE_ALREADY_EXISTS));
            }
            Ok(d)
        })
        .await?;
    created(model::rule(&doc))
}

fn require_rule(tx: &rusqlite::Transaction, id: &str) -> ApiResult<Doc> {
    store::get(tx, Table::Rules, id)?.ok_or_else(|| ApiError::of(types::RULE_NOT_FOUND))
}

async fn get_rule(ctx: Ctx, p: Params) -> Reply {
    let id = p.path("ruleId").to_string();
    let doc = ctx.project()?.read(move |tx| require_rule(tx, &id)).await?;
    ok(model::rule(&doc))
}

async fn delete_rule(ctx: Ctx, p: Params) -> Reply {
    let id = p.path("ruleId").to_string();
    ctx.project()?
        .write(move |tx| {
            require_rule(tx, &id)?;
            store::delete(tx, Table::Rules, &id)
        })
        .await?;
    no_content()
}

async fn list_rules(ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let search = p.text_opt("search", 256)?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (items, total) = ctx
        .project()?
        .read(move |tx| {
            let schema = FixedSchema::new(
                "",
                &[
                    ("domain", "domain", Kind::String),
                    ("type", "type", Kind::String),
                    ("trigger", "trigger", Kind::String),
                    ("deploymentResourceType", "deployment_resource_type", Kind::String),
                    ("deploymentResourceId", "deployment_resource_id", Kind::String),
                    ("deploymentId", "deployment_id", Kind::String),
                    ("deploymentVcsProviderBranch", "deployment_vcs_provider_branch", Kind::String),
                ],
                "seq",
            );
            let spec = ListSpec {
                from: "rules".into(),
                select: "doc".into(),
                scope: Compiled::default(),
                visibility: Compiled::default(),
                schema: &schema,
                id_sql: "id",
                resource: "Rule",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: (!search.is_empty()).then(|| (search.clone(), vec!["id", "domain"])),
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, |r| r.get::<_, String>(0))?;
            Ok((page.items, page.total))
        })
        .await?;
    let rules: Vec<Value> = items.iter().map(|t| model::rule(&store::parse_doc(t))).collect();
    ok(json!({"total": total, "rules": rules}))
}
