//! Sessions and their secrets: created for a user, carried as `a_session_<project>` (cookie,
//! `X-Appwrite-Session`, `X-Fallback-Cookies`), verified on each request; and user JWTs.

use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rusqlite::Transaction;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::store::{self, SessionRow, UserRow};
use crate::clock::iso;
use crate::context::Ctx;
use crate::error::ApiResult;

/// How long a session lasts (`TOKEN_EXPIRATION_LOGIN_LONG`, one year).
pub const SESSION_SECS: i64 = 31_536_000;

/// The cookie carrying a project's session.
pub fn cookie_name(project_id: &str) -> String {
    format!("a_session_{project_id}")
}

/// Appwrite's `Store::encode`: base64 of `{"id":<userId>,"secret":<token>}`.
pub fn encode_secret(user_id: &str, token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(json!({"id": user_id, "secret": token}).to_string())
}

/// The (user ID, token) of an encoded session secret; `None` when it is not one.
pub fn decode_secret(value: &str) -> Option<(String, String)> {
    let value = value.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(value.trim_end_matches('=')))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let id = v.get("id")?.as_str()?.to_string();
    let secret = v.get("secret")?.as_str()?.to_string();
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// Only the hash of a token is stored, as Appwrite does.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn new_token() -> String {
    (0..64).map(|_| format!("{:02x}", rand::random::<u8>())).collect()
}

/// Where a request comes from, as a session records it.
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

impl Client {
    pub fn of(ctx: &Ctx) -> Client {
        let ip = ctx.header("x-forwarded-for").and_then(|v| v.split(',').next()).map(str::trim).filter(|v| !v.is_empty());
        Client {
            ip: ip.unwrap_or("127.0.0.1").to_string(),
            user_agent: ctx.header("user-agent").unwrap_or("UNKNOWN").to_string(),
        }
    }
}

/// Creates a session for `user`; returns it with its encoded secret (shown once).
pub fn create(
    tx: &Transaction,
    user: &UserRow,
    provider: &str,
    provider_uid: &str,
    factors: &[&str],
    client: &Client,
    now: DateTime<Utc>,
) -> ApiResult<(SessionRow, String)> {
    let token = new_token();
    let row = SessionRow {
        seq: 0,
        id: crate::ids::unique(),
        user_seq: user.seq,
        user_id: user.id.clone(),
        secret_hash: hash_token(&token),
        provider: provider.to_string(),
        provider_uid: provider_uid.to_string(),
        factors: factors.iter().map(|f| f.to_string()).collect(),
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        expire: iso(now + chrono::Duration::seconds(SESSION_SECS)),
        created_at: iso(now),
        updated_at: iso(now),
    };
    let row = store::insert_session(tx, &row)?;
    Ok((row, encode_secret(&user.id, &token)))
}

/// The live session of `user` whose token is `token`, if any.
pub fn verify(tx: &Transaction, user: &UserRow, token: &str, now: &str) -> ApiResult<Option<SessionRow>> {
    let hash = hash_token(token);
    Ok(store::sessions_of(tx, user.seq)?.into_iter().find(|s| s.secret_hash == hash && s.expire.as_str() >= now))
}

/// PHP `urlencode`, as the cookie value is written.
const COOKIE_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

fn cookie(name: &str, value: &str, expires: DateTime<Utc>, same_site: bool) -> HeaderValue {
    let mut c = format!(
        "{name}={}; expires={}; path=/; httponly",
        utf8_percent_encode(value, COOKIE_VALUE),
        expires.format("%a, %d-%b-%Y %H:%M:%S GMT")
    );
    if same_site {
        c.push_str("; samesite=None");
    }
    HeaderValue::from_str(&c).expect("cookie text is ASCII")
}

/// The headers that hand a new session to the client: both cookies and `X-Fallback-Cookies`.
pub fn hand_over(headers: &mut HeaderMap, project_id: &str, encoded: &str, expires: DateTime<Utc>) {
    let name = cookie_name(project_id);
    headers.append(SET_COOKIE, cookie(&format!("{name}_legacy"), encoded, expires, false));
    headers.append(SET_COOKIE, cookie(&name, encoded, expires, true));
    let fallback = json!({ name: encoded }).to_string();
    headers.insert("x-fallback-cookies", HeaderValue::from_str(&fallback).expect("JSON of ASCII"));
}

/// The headers that make the client forget the current session.
pub fn forget(headers: &mut HeaderMap, project_id: &str, now: DateTime<Utc>) {
    let name = cookie_name(project_id);
    let past = now - chrono::Duration::hours(1);
    headers.append(SET_COOKIE, cookie(&format!("{name}_legacy"), "", past, false));
    headers.append(SET_COOKIE, cookie(&name, "", past, true));
    headers.insert("x-fallback-cookies", HeaderValue::from_static("[]"));
}

/// The value of cookie `name` in the request's `Cookie` headers, decoded as PHP decodes it.
pub fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_like_appwrite_store() {
        let s = encode_secret("u1", "tok");
        assert_eq!(s, base64::engine::general_purpose::STANDARD.encode(r#"{"id":"u1","secret":"tok"}"#));
        assert_eq!(decode_secret(&s), Some(("u1".into(), "tok".into())));
        assert_eq!(decode_secret("not base64!"), None);
        assert_eq!(decode_secret(&base64::engine::general_purpose::STANDARD.encode("{}")), None);
    }

    #[test]
    fn cookies_are_url_encoded_and_read_back() {
        let mut headers = HeaderMap::new();
        let encoded = encode_secret("u1", "a+b/c");
        hand_over(&mut headers, "p1", &encoded, Utc::now());
        let set: Vec<&str> = headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
        assert!(set[0].starts_with("a_session_p1_legacy="));
        assert!(set[1].starts_with("a_session_p1=") && set[1].ends_with("samesite=None"));
        let value = set[1].split(';').next().unwrap().to_string();
        let mut req = HeaderMap::new();
        req.insert(axum::http::header::COOKIE, HeaderValue::from_str(&format!("x=1; {value}")).unwrap());
        assert_eq!(request_cookie(&req, "a_session_p1").as_deref(), Some(encoded.as_str()));
        let fallback: serde_json::Value = serde_json::from_str(headers["x-fallback-cookies"].to_str().unwrap()).unwrap();
        assert_eq!(fallback["a_session_p1"], encoded);
    }
}
