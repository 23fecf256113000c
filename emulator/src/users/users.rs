//! `/users`: users managed with an API key — create, get, list, update (name, email, password,
//! status, labels, prefs), delete — and their sessions and JWTs.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::password;
use super::sessions::{self, Client};
use super::store::{self, UserRow, View};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::Params;
use crate::query::list::{self, Errors, FixedSchema, ListSpec};
use crate::query::{Compiled, Field, Kind};
use crate::response::{created, json as json_response, no_content, ok, Reply};

/// utopia-php/emails' rule, as far as the emulator needs it: `local@domain.tld`.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    s.len() <= 254 && local_ok && domain_ok
}

/// A required email param, lower-cased; `allow_empty` lets an update remove the email.
pub fn email_param(p: &Params, allow_empty: bool) -> ApiResult<String> {
    let email = p.str("email")?;
    if !(allow_empty && email.is_empty()) && !valid_email(&email) {
        return Err(ApiError::invalid_param("email", "Value must be a valid email address"));
    }
    Ok(email.to_lowercase())
}

/// Appwrite's `Phone` rule: E.164, `+` then 7 to 15 digits.
fn valid_phone(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else { return false };
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

fn labels_param(p: &Params) -> ApiResult<Vec<String>> {
    let Some(labels) = p.str_list_opt("labels")? else { return Err(ApiError::missing_param("labels")) };
    let valid = labels.len() <= 1000
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 36 && l.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !valid {
        let allowed: Vec<String> = ('0'..='9').chain('A'..='Z').chain('a'..='z').map(String::from).collect();
        return Err(ApiError::invalid_param(
            "labels",
            &format!(
                "Value must a valid array no longer than 1000 items and Value must be a valid string and at least 1 chars and no longer than 36 chars and only consist of '{}' chars",
                allowed.join(", ")
            ),
        ));
    }
    let mut unique: Vec<String> = Vec::new();
    for l in labels {
        if !unique.contains(&l) {
            unique.push(l);
        }
    }
    Ok(unique)
}

/// A prefs object (utopia `Assoc`: a JSON object of at most 65,535 bytes).
pub fn prefs_param(p: &Params) -> ApiResult<Map<String, Value>> {
    if !p.present("prefs") {
        return Err(ApiError::missing_param("prefs"));
    }
    let prefs = p.object_opt("prefs").ok().flatten().filter(|o| Value::Object(o.clone()).to_string().len() <= 65535);
    prefs.ok_or_else(|| ApiError::invalid_param("prefs", "Value must be a valid object."))
}

/// A new user with Appwrite's initial values.
pub fn new_user(id: String, email: Option<String>, phone: Option<String>, password: Option<&str>, name: String, now: &str) -> UserRow {
    let mut u = UserRow {
        seq: 0,
        id,
        name,
        email: email.clone(),
        phone: phone.clone(),
        password: password.map(password::hash),
        hash: "argon2".into(),
        hash_options: password::options(),
        password_update: password.map(|_| now.to_string()),
        registration: now.to_string(),
        status: true,
        labels: Vec::new(),
        email_verification: false,
        phone_verification: false,
        mfa: false,
        prefs: Map::new(),
        targets: Vec::new(),
        accessed_at: None,
        created_at: now.to_string(),
        updated_at: now.to_string(),
    };
    u.set_target("email", email.as_deref(), now);
    u.set_target("sms", phone.as_deref(), now);
    u
}

fn publish(ctx: &Ctx, pattern: &str, u: &UserRow, extra: &[(&str, &str)]) {
    let mut params = vec![("userId", u.id.as_str())];
    params.extend_from_slice(extra);
    crate::events::publish(ctx, pattern, &params, u.model(View::User));
}

pub async fn create(ctx: Ctx, p: Params) -> Reply {
    let id = ids::resolve_id("userId", &p.str("userId")?)?;
    let email = match p.str_opt("email")? {
        Some(e) if !valid_email(&e) => return Err(ApiError::invalid_param("email", "Value must be a valid email address")),
        e => e.map(|e| e.to_lowercase()),
    };
    let phone = match p.str_opt("phone")? {
        Some(ph) if !valid_phone(&ph) => {
            return Err(ApiError::invalid_param("phone", "Phone number must start with a '+' can have a maximum of fifteen digits."))
        }
        ph => ph,
    };
    let pass = p.str_opt("password")?;
    if let Some(pw) = &pass {
        password::check("password", pw, false)?;
    }
    let name = p.text_opt("name", 128)?.unwrap_or_default();
    let now = ctx.state.clock.now_iso();
    let user = ctx
        .project()?
        .write(move |tx| {
            let u = new_user(id, email, phone, pass.as_deref().filter(|p| !p.is_empty()), name, &now);
            store::insert_user(tx, &u)
        })
        .await?;
    publish(&ctx, "users.[userId].create", &user, &[]);
    created(user.model(View::User))
}

pub async fn get(ctx: Ctx, p: Params) -> Reply {
    let user = ctx.project()?.read(move |tx| store::require_user(tx, p.path("userId"))).await?;
    ok(user.model(View::User))
}

pub async fn get_prefs(ctx: Ctx, p: Params) -> Reply {
    let user = ctx.project()?.read(move |tx| store::require_user(tx, p.path("userId"))).await?;
    ok(Value::Object(user.prefs))
}

pub async fn list(ctx: Ctx, p: Params) -> Reply {
    let queries = p.str_list_opt("queries")?.unwrap_or_default();
    let search = p.text_opt("search", 256)?.unwrap_or_default();
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let (users, total) = ctx
        .project()?
        .read(move |tx| {
            let mut schema = FixedSchema::new(
                "u.",
                &[
                    ("name", "name", Kind::String),
                    ("email", "email", Kind::String),
                    ("phone", "phone", Kind::String),
                    ("status", "status", Kind::Boolean),
                    ("passwordUpdate", "password_update", Kind::Datetime),
                    ("registration", "registration", Kind::Datetime),
                    ("emailVerification", "email_verification", Kind::Boolean),
                    ("phoneVerification", "phone_verification", Kind::Boolean),
                    ("labels", "labels", Kind::String),
                ],
                "u.seq",
            );
            for (name, field) in schema.fields.iter_mut() {
                if *name == "labels" {
                    field.array = true;
                }
            }
            // No user can impersonate in the emulator.
            schema.fields.push(("impersonator", Field::new("0", Kind::Boolean)));
            let spec = ListSpec {
                from: "users u".into(),
                select: store::USER_COLS.into(),
                scope: Compiled::default(),
                visibility: Compiled::default(),
                schema: &schema,
                id_sql: "u.id",
                resource: "User",
                order_words: ("attribute", "documents"),
                errors: Errors::Param,
                search: (!search.is_empty()).then(|| (search.clone(), vec!["u.id", "u.email", "u.phone", "u.name"])),
                allow_select: false,
            };
            let page = list::list(tx, &spec, &queries, with_total, store::map_user)?;
            Ok((page.items, page.total))
        })
        .await?;
    ok(json!({"total": total, "users": users.iter().map(|u| u.model(View::User)).collect::<Vec<_>>()}))
}

/// Loads a user, applies `change`, saves it (a taken email or phone is `duplicate`) and
/// publishes `users.[userId].update.<what>`.
async fn update_with(
    ctx: Ctx,
    p: Params,
    what: &'static str,
    duplicate: crate::error::ErrorType,
    change: impl FnOnce(&rusqlite::Transaction, &mut UserRow, &str) -> ApiResult<()> + Send + 'static,
) -> Reply {
    let now = ctx.state.clock.now_iso();
    let user = ctx
        .project()?
        .write(move |tx| {
            let mut u = store::require_user(tx, p.path("userId"))?;
            change(tx, &mut u, &now)?;
            u.updated_at = now;
            store::update_user(tx, &u, duplicate)?;
            Ok(u)
        })
        .await?;
    publish(&ctx, &format!("users.[userId].update.{what}"), &user, &[]);
    ok(user.model(View::User))
}

pub async fn update_name(ctx: Ctx, p: Params) -> Reply {
    let name = p.str("name")?;
    if name.chars().count() > 128 {
        return Err(ApiError::invalid_param("name", "Value must be a valid string and no longer than 128 chars"));
    }
    update_with(ctx, p, "name", types::USER_ALREADY_EXISTS, move |_, u, _| {
        u.name = name;
        Ok(())
    })
    .await
}

pub async fn update_email(ctx: Ctx, p: Params) -> Reply {
    let email = email_param(&p, true)?;
    update_with(ctx, p, "email", types::USER_EMAIL_ALREADY_EXISTS, move |tx, u, now| {
        // Appwrite refuses an email that is already some user's messaging target.
        if !email.is_empty() && store::target_exists(tx, &email)? {
            return Err(ApiError::of(types::USER_TARGET_ALREADY_EXISTS));
        }
        let email = (!email.is_empty()).then_some(email);
        u.set_target("email", email.as_deref(), now);
        u.email = email;
        u.email_verification = false;
        Ok(())
    })
    .await
}

pub async fn update_password(ctx: Ctx, p: Params) -> Reply {
    let new = p.str("password")?;
    password::check("password", &new, true)?;
    let hashed = (!new.is_empty()).then(|| password::hash(&new));
    update_with(ctx, p, "password", types::USER_ALREADY_EXISTS, move |_, u, now| {
        u.password = hashed;
        u.hash = "argon2".into();
        u.hash_options = password::options();
        u.password_update = Some(now.to_string());
        Ok(())
    })
    .await
}

pub async fn update_status(ctx: Ctx, p: Params) -> Reply {
    let status = p.bool("status")?;
    update_with(ctx, p, "status", types::USER_ALREADY_EXISTS, move |_, u, _| {
        u.status = status;
        Ok(())
    })
    .await
}

pub async fn update_labels(ctx: Ctx, p: Params) -> Reply {
    let labels = labels_param(&p)?;
    update_with(ctx, p, "labels", types::USER_ALREADY_EXISTS, move |_, u, _| {
        u.labels = labels;
        Ok(())
    })
    .await
}

pub async fn update_prefs(ctx: Ctx, p: Params) -> Reply {
    let prefs = prefs_param(&p)?;
    let now = ctx.state.clock.now_iso();
    let user = ctx
        .project()?
        .write(move |tx| {
            let mut u = store::require_user(tx, p.path("userId"))?;
            u.prefs = prefs;
            u.updated_at = now;
            store::update_user(tx, &u, types::USER_ALREADY_EXISTS)?;
            Ok(u)
        })
        .await?;
    publish(&ctx, "users.[userId].update.prefs", &user, &[]);
    ok(Value::Object(user.prefs))
}

pub async fn delete(ctx: Ctx, p: Params) -> Reply {
    let user = ctx
        .project()?
        .write(move |tx| {
            let u = store::require_user(tx, p.path("userId"))?;
            store::delete_user(tx, u.seq)?;
            Ok(u)
        })
        .await?;
    publish(&ctx, "users.[userId].delete", &user, &[]);
    no_content()
}

pub async fn list_sessions(ctx: Ctx, p: Params) -> Reply {
    let with_total = p.bool_opt("total")?.unwrap_or(true);
    let sessions = ctx
        .project()?
        .read(move |tx| {
            let u = store::require_user(tx, p.path("userId"))?;
            store::sessions_of(tx, u.seq)
        })
        .await?;
    let total = if with_total { sessions.len() } else { 0 };
    ok(json!({"total": total, "sessions": sessions.iter().map(|s| s.model(false, "")).collect::<Vec<_>>()}))
}

pub async fn create_session(ctx: Ctx, p: Params) -> Reply {
    let client = Client::of(&ctx);
    let now = ctx.state.clock.now();
    let (user, session, secret) = ctx
        .project()?
        .write(move |tx| {
            let u = store::require_user(tx, p.path("userId"))?;
            let (s, secret) = sessions::create(tx, &u, "server", "", &["server"], &client, now)?;
            Ok((u, s, secret))
        })
        .await?;
    let model = session.model(false, &secret);
    crate::events::publish(
        &ctx,
        "users.[userId].sessions.[sessionId].create",
        &[("userId", &user.id), ("sessionId", &session.id)],
        model.clone(),
    );
    Ok(json_response(StatusCode::CREATED, &model))
}

pub async fn delete_session(ctx: Ctx, p: Params) -> Reply {
    let (user, session) = ctx
        .project()?
        .write(move |tx| {
            let u = store::require_user(tx, p.path("userId"))?;
            let s = store::get_session(tx, p.path("sessionId"))?.ok_or_else(|| ApiError::of(types::USER_SESSION_NOT_FOUND))?;
            store::delete_session(tx, s.seq)?;
            Ok((u, s))
        })
        .await?;
    crate::events::publish(
        &ctx,
        "users.[userId].sessions.[sessionId].delete",
        &[("userId", &user.id), ("sessionId", &session.id)],
        session.model(false, ""),
    );
    no_content()
}

pub async fn delete_sessions(ctx: Ctx, p: Params) -> Reply {
    let user = ctx
        .project()?
        .write(move |tx| {
            let u = store::require_user(tx, p.path("userId"))?;
            for s in store::sessions_of(tx, u.seq)? {
                store::delete_session(tx, s.seq)?;
            }
            Ok(u)
        })
        .await?;
    publish(&ctx, "users.[userId].sessions.delete", &user, &[]);
    no_content()
}

/// `POST /users/{userId}/jwts`: a JWT for the user, bound to one of their sessions (`recent` for
/// the newest) or to none.
pub async fn create_jwt(ctx: Ctx, p: Params) -> Reply {
    let session_id = p.str_opt("sessionId")?.unwrap_or_default();
    if !session_id.is_empty() && session_id != "recent" {
        ids::check_id("sessionId", &session_id)?;
    }
    let duration = p.range_opt("duration", 0, 3600)?.unwrap_or(900);
    let (user, bound) = ctx
        .project()?
        .read(move |tx| {
            let u = store::require_user(tx, p.path("userId"))?;
            let sessions = store::sessions_of(tx, u.seq)?;
            let bound = if session_id == "recent" {
                sessions.last().map(|s| s.id.clone())
            } else {
                sessions.iter().find(|s| s.id == session_id).map(|s| s.id.clone())
            };
            Ok((u, bound.unwrap_or_default()))
        })
        .await?;
    let jwt = crate::auth::issue_user_jwt(
        &ctx.state.secret,
        ctx.state.clock.now().timestamp(),
        ctx.project_id(),
        &user.id,
        &bound,
        duration,
    );
    created(json!({ "jwt": jwt }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_and_phone_rules() {
        for ok in ["a@b.co", "first.last+tag@example.com", "x@sub.domain.io"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a..b@c.de", "a b@c.de", "a@b_c.de"] {
            assert!(!valid_email(bad), "{bad}");
        }
        assert!(valid_phone("+16175551212"));
        for bad in ["16175551212", "+1", "+0123456789", "+1617555121x", "+1234567890123456"] {
            assert!(!valid_phone(bad), "{bad}");
        }
    }
}
