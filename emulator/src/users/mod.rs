//! Users, accounts, sessions and JWTs: the `/users` and `/account` APIs, and who a request without
//! an API key is (`authenticate`).

mod account;
pub mod password;
pub mod sessions;
pub mod store;
mod users;

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::routing::{get, patch, post, put};
use axum::Router;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};

use crate::auth::{Caller, UserJwtClaims};
use crate::error::{types, ApiError, ApiResult};
use crate::state::{AppState, Project};

/// Every Users and Account route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/users", get(users::list).post(users::create))
        .route("/v1/users/{userId}", get(users::get).delete(users::delete))
        .route("/v1/users/{userId}/prefs", get(users::get_prefs).patch(users::update_prefs))
        .route("/v1/users/{userId}/name", patch(users::update_name))
        .route("/v1/users/{userId}/email", patch(users::update_email))
        .route("/v1/users/{userId}/password", patch(users::update_password))
        .route("/v1/users/{userId}/status", patch(users::update_status))
        .route("/v1/users/{userId}/labels", put(users::update_labels))
        .route(
            "/v1/users/{userId}/sessions",
            get(users::list_sessions).post(users::create_session).delete(users::delete_sessions),
        )
        .route("/v1/users/{userId}/sessions/{sessionId}", axum::routing::delete(users::delete_session))
        .route("/v1/users/{userId}/jwts", post(users::create_jwt))
        .route("/v1/account", get(account::get).post(account::create))
        .route("/v1/account/prefs", get(account::get_prefs).patch(account::update_prefs))
        .route(
            "/v1/account/sessions",
            get(account::list_sessions).post(account::create_email_session).delete(account::delete_sessions),
        )
        .route("/v1/account/sessions/email", post(account::create_email_session))
        .route("/v1/account/sessions/{sessionId}", get(account::get_session).delete(account::delete_session))
        .route("/v1/account/jwts", post(account::create_jwt))
        .route("/v1/account/jwt", post(account::create_jwt))
}

/// The session secret a request carries: the `a_session_<project>` cookie (or its `_legacy`
/// twin), else `X-Appwrite-Session` (SSR), else `X-Fallback-Cookies` — Appwrite's order.
fn session_secret(project_id: &str, headers: &HeaderMap) -> Option<String> {
    let name = sessions::cookie_name(project_id);
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    sessions::request_cookie(headers, &name)
        .or_else(|| sessions::request_cookie(headers, &format!("{name}_legacy")))
        .or_else(|| header("x-appwrite-session").map(String::from))
        .or_else(|| {
            let fallback: serde_json::Value = serde_json::from_str(header("x-fallback-cookies")?).ok()?;
            fallback.get(&name)?.as_str().map(String::from)
        })
}

/// Why a JWT that `auth::decode_user_jwt` refused is invalid, in the words of the JWT library
/// Appwrite uses; `None` when it is sound but for another project (treated as an unknown user).
fn jwt_problem(secret: &[u8], now: i64, token: &str) -> Option<String> {
    if token.matches('.').count() < 2 {
        return Some("Invalid token: Incomplete segments".into());
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    match decode::<UserJwtClaims>(token, &DecodingKey::from_secret(secret), &validation) {
        Ok(data) if data.claims.exp < now => Some("Invalid token: Expired".into()),
        Ok(_) => None,
        Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {
            Some("Invalid token: Signature failed".into())
        }
        Err(_) => Some("JSON failed: Syntax error, malformed JSON".into()),
    }
}

/// Resolves a session (cookie, `X-Appwrite-Session`, `X-Fallback-Cookies`) or a user JWT
/// (`X-Appwrite-JWT`) to a user. Without either, or with a stale one, the caller is a guest.
/// Both at once is `user_jwt_and_cookie_set`; a bad JWT `user_jwt_invalid`; a blocked user
/// `user_blocked` (Appwrite checks that one after the route's scope).
pub async fn authenticate(state: &AppState, project: &Arc<Project>, headers: &HeaderMap) -> ApiResult<Caller> {
    let secret = session_secret(&project.id, headers).and_then(|s| sessions::decode_secret(&s));
    let jwt = headers.get("x-appwrite-jwt").and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    if secret.is_none() && jwt.is_none() {
        return Ok(Caller::Guest);
    }
    let now = state.clock.now();
    let claims = match &jwt {
        None => None,
        Some(token) => match crate::auth::decode_user_jwt(&state.secret, now.timestamp(), token, &project.id) {
            Some(c) => Some(c),
            None => {
                if let Some(problem) = jwt_problem(&state.secret, now.timestamp(), token) {
                    return Err(ApiError::msg(types::USER_JWT_INVALID, format!("Failed to verify JWT. {problem}")));
                }
                // Sound but signed for another project: no such user here.
                Some(UserJwtClaims { user_id: String::new(), session_id: String::new(), project_id: String::new(), exp: 0, iat: 0 })
            }
        },
    };
    let now_iso = crate::clock::iso(now);
    project
        .read(move |tx| {
            let mut found = None;
            if let Some((user_id, token)) = secret {
                if let Some(u) = store::get_user(tx, &user_id)? {
                    if let Some(s) = sessions::verify(tx, &u, &token, &now_iso)? {
                        found = Some((u, Some(s.id)));
                    }
                }
            }
            if let Some(claims) = claims {
                if found.is_some() {
                    return Err(ApiError::of(types::USER_JWT_AND_COOKIE_SET));
                }
                let user = if claims.user_id.is_empty() { None } else { store::get_user(tx, &claims.user_id)? };
                found = match user {
                    Some(u) if !claims.session_id.is_empty() => {
                        let live = store::sessions_of(tx, u.seq)?.iter().any(|s| s.id == claims.session_id);
                        live.then_some((u, None))
                    }
                    other => other.map(|u| (u, None)),
                };
            }
            match found {
                None => Ok(Caller::Guest),
                Some((u, _)) if !u.status => Err(ApiError::of(types::USER_BLOCKED)),
                // Only a session secret names a current session; a JWT caller has none.
                Some((u, session)) => Ok(Caller::User(u.identity(session))),
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use crate::state::{AppState, Config};

    fn post(path: &str, body: &str, key: bool) -> Request<Body> {
        let mut req = Request::post(path).header("x-appwrite-project", "p").header("content-type", "application/json");
        if key {
            req = req.header("x-appwrite-key", "k");
        }
        req.body(Body::from(body.to_string())).unwrap()
    }

    /// Every way a user comes to exist publishes `users.[userId].create`; sessions publish theirs.
    #[tokio::test]
    async fn user_and_session_events() {
        let state = AppState::new(Config { projects: vec!["p".into()], api_keys: vec!["k".into()], ..Config::default() }).unwrap();
        let mut events = state.events.subscribe();
        let send = |req| crate::router(state.clone()).oneshot(req);
        let res = send(post("/v1/users", r#"{"userId":"u1","email":"u1@example.com","password":"password123"}"#, true)).await.unwrap();
        assert_eq!(res.status(), 201);
        let e = events.recv().await.unwrap();
        assert_eq!(e.events[0], "users.u1.create");
        assert!(e.events.contains(&"users.*.create".to_string()));
        assert!(e.payload["password"].as_str().unwrap().starts_with("$argon2id$"));

        let res = send(post("/v1/account", r#"{"userId":"u2","email":"u2@example.com","password":"password123"}"#, false)).await.unwrap();
        assert_eq!(res.status(), 201);
        assert_eq!(events.recv().await.unwrap().events[0], "users.u2.create");

        let res = send(post("/v1/account/sessions/email", r#"{"email":"u2@example.com","password":"password123"}"#, false)).await.unwrap();
        assert_eq!(res.status(), 201);
        let e = events.recv().await.unwrap();
        assert!(e.events[0].starts_with("users.u2.sessions.") && e.events[0].ends_with(".create"), "{}", e.events[0]);
        assert!(e.events.contains(&"users.*.sessions.*.create".to_string()));

        let req = Request::patch("/v1/users/u1/name")
            .header("x-appwrite-project", "p")
            .header("x-appwrite-key", "k")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"name":"Ada"}"#))
            .unwrap();
        assert_eq!(send(req).await.unwrap().status(), 200);
        let e = events.recv().await.unwrap();
        assert!(e.events.contains(&"users.u1.update.name".to_string()), "{:?}", e.events);
        assert_eq!(e.payload["name"], "Ada");
    }
}
