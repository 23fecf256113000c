//! `/account`: the signed-in user's own account — sign-up, email/password sessions (cookie and
//! SSR secret), sessions, prefs and JWTs.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::password;
use super::sessions::{self, Client};
use super::store::{self, SessionRow, UserRow, View};
use super::users::{email_param, new_user, prefs_param};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::response::{created, json as json_response, no_content, ok, Reply};

/// The signed-in caller's user ID (`user_not_found` for anyone else).
fn me(ctx: &Ctx) -> ApiResult<String> {
    ctx.caller.user().map(|u| u.id.clone()).ok_or_else(|| ApiError::of(types::USER_NOT_FOUND))
}

/// The session behind the request, when it was authenticated by a session secret (not a JWT).
fn current_session(ctx: &Ctx) -> Option<String> {
    ctx.caller.user().and_then(|u| u.session_id.clone())
}

/// `POST /account`: sign-up with email and password.
pub async fn create(ctx: Ctx, p: Params) -> Reply {
    let id = ids::resolve_id("userId", &p.str("userId")?)?;
    let email = email_param(&p, false)?;
    let pass = p.str("password")?;
    password::check("password", &pass, false)?;
    let name = p.text_opt("name", 128)?.unwrap_or_default();
    let now = ctx.state.clock.now_iso();
    let user = ctx
        .project()?
        .write(move |tx| {
            let mut u = new_user(id, Some(email), None, Some(&pass), name, &now);
            u.accessed_at = Some(now.clone());
            store::insert_user(tx, &u)
        })
        .await?;
    crate::events::publish(&ctx, "users.[userId].create", &[("userId", &user.id)], user.model(View::User));
    created(user.model(View::Account))
}

pub async fn get(ctx: Ctx, _p: Params) -> Reply {
    let id = me(&ctx)?;
    let user = ctx.project()?.read(move |tx| store::require_user(tx, &id)).await?;
    ok(user.model(View::Account))
}

/// `POST /account/sessions/email`: checks the credentials and opens a session, handed over as
/// cookies and `X-Fallback-Cookies`; its secret is in the body only for an API key (SSR).
pub async fn create_email_session(ctx: Ctx, p: Params) -> Reply {
    if ctx.caller.user().is_some() {
        return Err(ApiError::of(types::USER_SESSION_ALREADY_EXISTS));
    }
    let email = email_param(&p, false)?;
    let pass = p.str("password")?;
    password::check("password", &pass, false)?;
    let client = Client::of(&ctx);
    let now = ctx.state.clock.now();
    let (user, session, secret) = ctx
        .project()?
        .write(move |tx| {
            let user = store::get_user_by_email(tx, &email)?
                .filter(|u| u.password_update.is_some() && u.password.as_deref().is_some_and(|h| password::verify(&pass, h)))
                .ok_or_else(|| ApiError::of(types::USER_INVALID_CREDENTIALS))?;
            if !user.status {
                return Err(ApiError::of(types::USER_BLOCKED));
            }
            let (s, secret) = sessions::create(tx, &user, "email", &email, &["password"], &client, now)?;
            Ok((user, s, secret))
        })
        .await?;
    let shown = if ctx.is_key() { secret.as_str() } else { "" };
    let model = session.model(true, shown);
    crate::events::publish(
        &ctx,
        "users.[userId].sessions.[sessionId].create",
        &[("userId", &user.id), ("sessionId", &session.id)],
        model.clone(),
    );
    let mut response = json_response(StatusCode::CREATED, &model);
    let expires = crate::clock::parse_datetime(&session.expire).unwrap_or(now);
    sessions::hand_over(response.headers_mut(), ctx.project_id(), &secret, expires);
    Ok(response)
}

fn my_sessions(tx: &rusqlite::Transaction, user_id: &str) -> ApiResult<(UserRow, Vec<SessionRow>)> {
    let u = store::require_user(tx, user_id)?;
    let s = store::sessions_of(tx, u.seq)?;
    Ok((u, s))
}

pub async fn list_sessions(ctx: Ctx, _p: Params) -> Reply {
    let id = me(&ctx)?;
    let current = current_session(&ctx);
    let (_, list) = ctx.project()?.read(move |tx| my_sessions(tx, &id)).await?;
    let models: Vec<Value> = list.iter().map(|s| s.model(current.as_deref() == Some(s.id.as_str()), "")).collect();
    ok(json!({"total": models.len(), "sessions": models}))
}

/// `current` names the request's own session.
fn resolve_session_id(ctx: &Ctx, p: &Params) -> ApiResult<Option<String>> {
    let raw = p.path("sessionId");
    if raw == "current" {
        return Ok(current_session(ctx));
    }
    ids::check_id("sessionId", raw)?;
    Ok(Some(raw.to_string()))
}

pub async fn get_session(ctx: Ctx, p: Params) -> Reply {
    let id = me(&ctx)?;
    let wanted = resolve_session_id(&ctx, &p)?;
    let current = current_session(&ctx);
    let (_, list) = ctx.project()?.read(move |tx| my_sessions(tx, &id)).await?;
    let s = list
        .iter()
        .find(|s| wanted.as_deref() == Some(s.id.as_str()))
        .ok_or_else(|| ApiError::of(types::USER_SESSION_NOT_FOUND))?;
    ok(s.model(current.as_deref() == Some(s.id.as_str()), ""))
}

fn deleted(ctx: &Ctx, user_id: &str, s: &SessionRow, current: bool) {
    crate::events::publish(
        ctx,
        "users.[userId].sessions.[sessionId].delete",
        &[("userId", user_id), ("sessionId", &s.id)],
        s.model(current, ""),
    );
}

pub async fn delete_session(ctx: Ctx, p: Params) -> Reply {
    let id = me(&ctx)?;
    let wanted = resolve_session_id(&ctx, &p)?;
    let current = current_session(&ctx);
    let (user_id, session) = ctx
        .project()?
        .write(move |tx| {
            let (u, list) = my_sessions(tx, &id)?;
            let s = list
                .into_iter()
                .find(|s| wanted.as_deref() == Some(s.id.as_str()))
                .ok_or_else(|| ApiError::of(types::USER_SESSION_NOT_FOUND))?;
            store::delete_session(tx, s.seq)?;
            Ok((u.id, s))
        })
        .await?;
    let is_current = current.as_deref() == Some(session.id.as_str());
    deleted(&ctx, &user_id, &session, is_current);
    let mut response = no_content()?;
    if is_current {
        sessions::forget(response.headers_mut(), ctx.project_id(), ctx.state.clock.now());
    }
    Ok(response)
}

pub async fn delete_sessions(ctx: Ctx, _p: Params) -> Reply {
    let id = me(&ctx)?;
    let current = current_session(&ctx);
    let (user_id, list) = ctx
        .project()?
        .write(move |tx| {
            let (u, list) = my_sessions(tx, &id)?;
            for s in &list {
                store::delete_session(tx, s.seq)?;
            }
            Ok((u.id, list))
        })
        .await?;
    let mut response: Response = no_content()?;
    if let Some(s) = list.iter().find(|s| current.as_deref() == Some(s.id.as_str())) {
        deleted(&ctx, &user_id, s, true);
        sessions::forget(response.headers_mut(), ctx.project_id(), ctx.state.clock.now());
    }
    Ok(response)
}

/// `POST /account/jwts`: a JWT for the current session (a JWT caller has none to bind).
pub async fn create_jwt(ctx: Ctx, p: Params) -> Reply {
    let duration = p.range_opt("duration", 0, 3600)?.unwrap_or(900);
    let id = me(&ctx)?;
    let session = current_session(&ctx).ok_or_else(|| ApiError::of(types::USER_SESSION_NOT_FOUND))?;
    let jwt = crate::auth::issue_user_jwt(
        &ctx.state.secret,
        ctx.state.clock.now().timestamp(),
        ctx.project_id(),
        &id,
        &session,
        duration,
    );
    created(json!({ "jwt": jwt }))
}

pub async fn get_prefs(ctx: Ctx, _p: Params) -> Reply {
    let id = me(&ctx)?;
    let user = ctx.project()?.read(move |tx| store::require_user(tx, &id)).await?;
    ok(Value::Object(user.prefs))
}

pub async fn update_prefs(ctx: Ctx, p: Params) -> Reply {
    let id = me(&ctx)?;
    let prefs = prefs_param(&p)?;
    let now = ctx.state.clock.now_iso();
    let user = ctx
        .project()?
        .write(move |tx| {
            let mut u = store::require_user(tx, &id)?;
            u.prefs = prefs;
            u.updated_at = now;
            store::update_user(tx, &u, types::USER_ALREADY_EXISTS)?;
            Ok(u)
        })
        .await?;
    crate::events::publish(&ctx, "users.[userId].update.prefs", &[("userId", &user.id)], user.model(View::User));
    ok(user.model(View::Account))
}
