//! Users and their sessions as rows of two system tables, and their Appwrite models.

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde_json::{json, Map, Value};

use crate::auth::UserIdentity;
use crate::error::{types, ApiError, ApiResult};

pub const MIGRATIONS: &[(&str, &str)] = &[(
    "users-1",
    r#"
    CREATE TABLE users (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        email TEXT UNIQUE,
        phone TEXT UNIQUE,
        password TEXT,
        hash TEXT NOT NULL DEFAULT 'argon2',
        hash_options TEXT NOT NULL DEFAULT '{}',
        password_update TEXT,
        registration TEXT NOT NULL,
        status INTEGER NOT NULL DEFAULT 1,
        labels TEXT NOT NULL DEFAULT '[]',
        email_verification INTEGER NOT NULL DEFAULT 0,
        phone_verification INTEGER NOT NULL DEFAULT 0,
        mfa INTEGER NOT NULL DEFAULT 0,
        prefs TEXT NOT NULL DEFAULT '{}',
        targets TEXT NOT NULL DEFAULT '[]',
        accessed_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        user_seq INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
        secret_hash TEXT NOT NULL,
        provider TEXT NOT NULL,
        provider_uid TEXT NOT NULL DEFAULT '',
        factors TEXT NOT NULL DEFAULT '[]',
        ip TEXT NOT NULL DEFAULT '',
        user_agent TEXT NOT NULL DEFAULT '',
        expire TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_seq, seq);
    "#,
)];

/// A user.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The password hash (argon2 PHC string), if the user has a password.
    pub password: Option<String>,
    pub hash: String,
    pub hash_options: Value,
    pub password_update: Option<String>,
    pub registration: String,
    pub status: bool,
    pub labels: Vec<String>,
    pub email_verification: bool,
    pub phone_verification: bool,
    pub mfa: bool,
    pub prefs: Map<String, Value>,
    /// Messaging targets (Target models) kept in step with the email and phone.
    pub targets: Vec<Value>,
    pub accessed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Which user model to render: `User` (for keys: with the password hash) or `Account` (for the
/// user themself: without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    User,
    Account,
}

impl UserRow {
    pub fn model(&self, view: View) -> Value {
        let mut m = Map::new();
        m.insert("$id".into(), json!(self.id));
        m.insert("$createdAt".into(), json!(self.created_at));
        m.insert("$updatedAt".into(), json!(self.updated_at));
        m.insert("name".into(), json!(self.name));
        if view == View::User {
            m.insert("password".into(), json!(self.password));
            m.insert("hash".into(), json!(self.hash));
            m.insert("hashOptions".into(), self.hash_options.clone());
        }
        m.insert("registration".into(), json!(self.registration));
        m.insert("status".into(), json!(self.status));
        m.insert("labels".into(), json!(self.labels));
        m.insert("passwordUpdate".into(), json!(self.password_update.clone().unwrap_or_default()));
        m.insert("email".into(), json!(self.email.clone().unwrap_or_default()));
        m.insert("phone".into(), json!(self.phone.clone().unwrap_or_default()));
        m.insert("emailVerification".into(), json!(self.email_verification));
        // Appwrite classifies emails with provider lists the emulator does not have.
        for k in ["emailCanonical", "emailIsFree", "emailIsDisposable", "emailIsCorporate", "emailIsCanonical"] {
            m.insert(k.into(), Value::Null);
        }
        m.insert("phoneVerification".into(), json!(self.phone_verification));
        m.insert("mfa".into(), json!(self.mfa));
        m.insert("prefs".into(), Value::Object(self.prefs.clone()));
        m.insert("targets".into(), json!(self.targets));
        m.insert("accessedAt".into(), json!(self.accessed_at.clone().unwrap_or_default()));
        m.insert("impersonator".into(), json!(false));
        m.insert("impersonatorUserId".into(), Value::Null);
        Value::Object(m)
    }

    /// The user as authorization sees them.
    pub fn identity(&self, session_id: Option<String>) -> UserIdentity {
        UserIdentity {
            id: self.id.clone(),
            email: self.email.clone().unwrap_or_default(),
            labels: self.labels.clone(),
            verified: self.email_verification || self.phone_verification,
            memberships: Vec::new(),
            session_id,
        }
    }

    /// Replaces the messaging target of `provider_type` (email or sms) by one for `identifier`.
    pub fn set_target(&mut self, provider_type: &str, identifier: Option<&str>, now: &str) {
        let existing = self.targets.iter().position(|t| t["providerType"] == provider_type);
        match (existing, identifier) {
            (Some(i), Some(id)) => {
                self.targets[i]["identifier"] = json!(id);
                self.targets[i]["$updatedAt"] = json!(now);
            }
            (Some(i), None) => {
                self.targets.remove(i);
            }
            (None, Some(id)) => self.targets.push(json!({
                "$id": crate::ids::unique(),
                "$createdAt": now,
                "$updatedAt": now,
                "name": "",
                "userId": self.id,
                "providerId": null,
                "providerType": provider_type,
                "identifier": id,
                "expired": false,
            })),
            (None, None) => {}
        }
    }
}

pub const USER_COLS: &str = "u.seq, u.id, u.name, u.email, u.phone, u.password, u.hash, u.hash_options, u.password_update, \
     u.registration, u.status, u.labels, u.email_verification, u.phone_verification, u.mfa, u.prefs, u.targets, u.accessed_at, \
     u.created_at, u.updated_at";

fn json_of<T: serde::de::DeserializeOwned + Default>(s: String) -> T {
    serde_json::from_str(&s).unwrap_or_default()
}

pub fn map_user(r: &Row) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        password: r.get(5)?,
        hash: r.get(6)?,
        hash_options: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or(Value::Null),
        password_update: r.get(8)?,
        registration: r.get(9)?,
        status: r.get(10)?,
        labels: json_of(r.get(11)?),
        email_verification: r.get(12)?,
        phone_verification: r.get(13)?,
        mfa: r.get(14)?,
        prefs: json_of(r.get(15)?),
        targets: json_of(r.get(16)?),
        accessed_at: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
    })
}

pub fn get_user(tx: &Transaction, id: &str) -> ApiResult<Option<UserRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"))?;
    Ok(st.query_row([id], map_user).optional()?)
}

/// The user `id`, or `user_not_found`.
pub fn require_user(tx: &Transaction, id: &str) -> ApiResult<UserRow> {
    get_user(tx, id)?.ok_or_else(|| ApiError::of(types::USER_NOT_FOUND))
}

pub fn get_user_by_email(tx: &Transaction, email: &str) -> ApiResult<Option<UserRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {USER_COLS} FROM users u WHERE u.email = ?1"))?;
    Ok(st.query_row([email], map_user).optional()?)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(x, _) if x.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// Inserts a new user; a taken ID, email or phone is `user_already_exists`.
pub fn insert_user(tx: &Transaction, u: &UserRow) -> ApiResult<UserRow> {
    tx.execute(
        "INSERT INTO users (id, name, email, phone, password, hash, hash_options, password_update, registration, status, labels,
             email_verification, phone_verification, mfa, prefs, targets, accessed_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        params![
            u.id,
            u.name,
            u.email,
            u.phone,
            u.password,
            u.hash,
            u.hash_options.to_string(),
            u.password_update,
            u.registration,
            u.status,
            serde_json::to_string(&u.labels).unwrap(),
            u.email_verification,
            u.phone_verification,
            u.mfa,
            Value::Object(u.prefs.clone()).to_string(),
            serde_json::to_string(&u.targets).unwrap(),
            u.accessed_at,
            u.created_at,
            u.updated_at
        ],
    )
    .map_err(|e| if is_unique_violation(&e) { ApiError::of(types::USER_ALREADY_EXISTS) } else { e.into() })?;
    require_user(tx, &u.id)
}

/// Writes every mutable column back; a taken email or phone is reported as `duplicate`.
pub fn update_user(tx: &Transaction, u: &UserRow, duplicate: crate::error::ErrorType) -> ApiResult<()> {
    tx.execute(
        "UPDATE users SET name = ?2, email = ?3, phone = ?4, password = ?5, hash = ?6, hash_options = ?7, password_update = ?8,
             status = ?9, labels = ?10, email_verification = ?11, phone_verification = ?12, mfa = ?13, prefs = ?14, targets = ?15,
             accessed_at = ?16, updated_at = ?17
         WHERE seq = ?1",
        params![
            u.seq,
            u.name,
            u.email,
            u.phone,
            u.password,
            u.hash,
            u.hash_options.to_string(),
            u.password_update,
            u.status,
            serde_json::to_string(&u.labels).unwrap(),
            u.email_verification,
            u.phone_verification,
            u.mfa,
            Value::Object(u.prefs.clone()).to_string(),
            serde_json::to_string(&u.targets).unwrap(),
            u.accessed_at,
            u.updated_at
        ],
    )
    .map_err(|e| if is_unique_violation(&e) { ApiError::of(duplicate) } else { e.into() })?;
    Ok(())
}

pub fn delete_user(tx: &Transaction, seq: i64) -> ApiResult<()> {
    tx.execute("DELETE FROM users WHERE seq = ?1", [seq])?;
    Ok(())
}

/// True when some user already has a messaging target with this identifier.
pub fn target_exists(tx: &Transaction, identifier: &str) -> ApiResult<bool> {
    let mut st = tx.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM users u, json_each(u.targets) t WHERE json_extract(t.value, '$.identifier') = ?1)",
    )?;
    Ok(st.query_row([identifier], |r| r.get(0))?)
}

/// A session.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub seq: i64,
    pub id: String,
    pub user_seq: i64,
    pub user_id: String,
    pub secret_hash: String,
    pub provider: String,
    pub provider_uid: String,
    pub factors: Vec<String>,
    pub ip: String,
    pub user_agent: String,
    pub expire: String,
    pub created_at: String,
    pub updated_at: String,
}

impl SessionRow {
    /// The Session model; `secret` is the encoded session secret where the caller may see it
    /// (created with an API key), else empty.
    pub fn model(&self, current: bool, secret: &str) -> Value {
        json!({
            "$id": self.id,
            "$createdAt": self.created_at,
            "$updatedAt": self.updated_at,
            "userId": self.user_id,
            "expire": self.expire,
            "provider": self.provider,
            "providerUid": self.provider_uid,
            "providerAccessToken": "",
            "providerAccessTokenExpiry": "",
            "providerRefreshToken": "",
            "ip": self.ip,
            "osCode": "",
            "osName": "",
            "osVersion": "",
            "clientType": "",
            "clientCode": "",
            "clientName": "",
            "clientVersion": "",
            "clientEngine": "",
            "clientEngineVersion": "",
            "deviceName": "",
            "deviceBrand": "",
            "deviceModel": "",
            // No GeoIP database: Appwrite's answer for an unknown address.
            "countryCode": "--",
            "countryName": "Unknown",
            "current": current,
            "factors": self.factors,
            "secret": secret,
            "mfaUpdatedAt": "",
        })
    }
}

const SESSION_COLS: &str = "s.seq, s.id, s.user_seq, u.id, s.secret_hash, s.provider, s.provider_uid, s.factors, s.ip, \
     s.user_agent, s.expire, s.created_at, s.updated_at";

fn map_session(r: &Row) -> rusqlite::Result<SessionRow> {
    Ok(SessionRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        user_seq: r.get(2)?,
        user_id: r.get(3)?,
        secret_hash: r.get(4)?,
        provider: r.get(5)?,
        provider_uid: r.get(6)?,
        factors: json_of(r.get(7)?),
        ip: r.get(8)?,
        user_agent: r.get(9)?,
        expire: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

/// A user's sessions, oldest first (so the last is the most recent).
pub fn sessions_of(tx: &Transaction, user_seq: i64) -> ApiResult<Vec<SessionRow>> {
    let mut st = tx.prepare_cached(&format!(
        "SELECT {SESSION_COLS} FROM sessions s JOIN users u ON u.seq = s.user_seq WHERE s.user_seq = ?1 ORDER BY s.seq"
    ))?;
    let rows = st.query_map([user_seq], map_session)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn get_session(tx: &Transaction, id: &str) -> ApiResult<Option<SessionRow>> {
    let mut st =
        tx.prepare_cached(&format!("SELECT {SESSION_COLS} FROM sessions s JOIN users u ON u.seq = s.user_seq WHERE s.id = ?1"))?;
    Ok(st.query_row([id], map_session).optional()?)
}

pub fn insert_session(tx: &Transaction, s: &SessionRow) -> ApiResult<SessionRow> {
    tx.execute(
        "INSERT INTO sessions (id, user_seq, secret_hash, provider, provider_uid, factors, ip, user_agent, expire, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            s.id,
            s.user_seq,
            s.secret_hash,
            s.provider,
            s.provider_uid,
            serde_json::to_string(&s.factors).unwrap(),
            s.ip,
            s.user_agent,
            s.expire,
            s.created_at,
            s.updated_at
        ],
    )?;
    get_session(tx, &s.id)?.ok_or_else(|| ApiError::internal("session vanished after insert"))
}

pub fn delete_session(tx: &Transaction, seq: i64) -> ApiResult<()> {
    tx.execute("DELETE FROM sessions WHERE seq = ?1", [seq])?;
    Ok(())
}
