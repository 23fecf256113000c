//! Who is calling: an API key (configured or ephemeral), a user (session or JWT), or a guest;
//! their roles and scopes, and the signed tokens the emulator issues.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::scope::{ALL_KEY_SCOPES, GUEST_SCOPES, USER_SCOPES};

/// A signed-in user as seen by authorization.
#[derive(Debug, Clone, Default)]
pub struct UserIdentity {
    pub id: String,
    pub email: String,
    pub labels: Vec<String>,
    pub verified: bool,
    /// Team memberships as (teamId, membershipId, roles).
    pub memberships: Vec<(String, String, Vec<String>)>,
    /// The session behind the request (`None` for a JWT without a session).
    pub session_id: Option<String>,
}

/// The caller of one request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A project API key: authorization is off, scopes still apply.
    Key { scopes: Vec<String>, name: String },
    User(UserIdentity),
    Guest,
}

impl Caller {
    /// A key holding every scope.
    pub fn admin_key() -> Caller {
        Caller::Key { scopes: ALL_KEY_SCOPES.iter().map(|s| s.to_string()).collect(), name: "Emulator key".into() }
    }

    /// True for API keys, which bypass permissions (not scopes).
    pub fn is_key(&self) -> bool {
        matches!(self, Caller::Key { .. })
    }

    pub fn user(&self) -> Option<&UserIdentity> {
        match self {
            Caller::User(u) => Some(u),
            _ => None,
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        match self {
            Caller::Key { scopes, .. } => scopes.iter().any(|s| s == scope),
            Caller::User(_) => USER_SCOPES.contains(&scope),
            Caller::Guest => GUEST_SCOPES.contains(&scope),
        }
    }

    /// The role set permissions are matched against (`User::getRoles`).
    pub fn roles(&self) -> Vec<String> {
        match self {
            Caller::Key { .. } => vec!["any".into()],
            Caller::Guest => vec!["any".into(), "guests".into()],
            Caller::User(u) => {
                let dim = if u.verified { "verified" } else { "unverified" };
                let mut roles = vec![
                    "any".to_string(),
                    format!("user:{}", u.id),
                    "users".to_string(),
                    format!("user:{}/{dim}", u.id),
                    format!("users/{dim}"),
                ];
                for (team, membership, team_roles) in &u.memberships {
                    roles.push(format!("team:{team}"));
                    roles.push(format!("member:{membership}"));
                    for r in team_roles {
                        roles.push(format!("team:{team}/{r}"));
                    }
                }
                roles.extend(u.labels.iter().map(|l| format!("label:{l}")));
                roles
            }
        }
    }

    /// How Appwrite names the caller in a missing-scope error: `<email> (role: <label>)`.
    pub fn describe(&self, project_id: &str, host: &str) -> String {
        match self {
            Caller::Key { .. } => format!("app.{project_id}@service.{host} (role: applications)"),
            Caller::User(u) if !u.email.is_empty() => format!("{} (role: users)", u.email),
            Caller::User(_) => "User (role: users)".into(),
            Caller::Guest => "User (role: guests)".into(),
        }
    }
}

/// Claims of an `ephemeral_` API key.
#[derive(Debug, Serialize, Deserialize)]
struct KeyClaims {
    #[serde(rename = "projectId")]
    project_id: String,
    scopes: Vec<String>,
    #[serde(default)]
    name: Option<String>,
    exp: i64,
    iat: i64,
}

/// Issues `ephemeral_<JWT>`: a key for `project_id` holding `scopes`, valid `ttl_secs`.
pub fn issue_ephemeral_key(secret: &[u8], now: i64, project_id: &str, scopes: &[String], ttl_secs: i64) -> String {
    let claims = KeyClaims {
        project_id: project_id.to_string(),
        scopes: scopes.to_vec(),
        name: Some("Ephemeral Key".into()),
        exp: now + ttl_secs,
        iat: now,
    };
    let token = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).expect("HS256 encoding");
    format!("ephemeral_{token}")
}

/// Decodes an `ephemeral_`/`dynamic_` key for `project_id`. `None` (treated as a guest) when the
/// signature, expiry or project does not match, as Appwrite does.
pub fn decode_ephemeral_key(secret: &[u8], now: i64, key: &str, project_id: &str) -> Option<Caller> {
    let token = key.strip_prefix("ephemeral_").or_else(|| key.strip_prefix("dynamic_"))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = decode::<KeyClaims>(token, &DecodingKey::from_secret(secret), &validation).ok()?;
    if data.claims.exp < now || data.claims.project_id != project_id {
        return None;
    }
    let mut scopes = data.claims.scopes;
    scopes.extend(["global", "health.read", "graphql"].map(String::from));
    Some(Caller::Key { scopes, name: data.claims.name.unwrap_or_else(|| "Ephemeral Key".into()) })
}

/// Claims of a user JWT (`X-Appwrite-JWT`).
#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct UserJwtClaims {
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(rename = "sessionId")]
    pub session_id: String,
    #[serde(rename = "projectId", default)]
    pub project_id: String,
    pub exp: i64,
    pub iat: i64,
}

/// Issues a user JWT valid `ttl_secs`.
pub fn issue_user_jwt(secret: &[u8], now: i64, project_id: &str, user_id: &str, session_id: &str, ttl_secs: i64) -> String {
    let claims = UserJwtClaims {
        user_id: user_id.into(),
        session_id: session_id.into(),
        project_id: project_id.into(),
        exp: now + ttl_secs,
        iat: now,
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).expect("HS256 encoding")
}

/// Decodes a user JWT; `None` when invalid, expired or for another project.
pub fn decode_user_jwt(secret: &[u8], now: i64, token: &str, project_id: &str) -> Option<UserJwtClaims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = decode::<UserJwtClaims>(token, &DecodingKey::from_secret(secret), &validation).ok()?;
    (data.claims.exp >= now && data.claims.project_id == project_id).then_some(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_keys_round_trip_and_expire() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let key = issue_ephemeral_key(secret, 1000, "p1", &["documents.read".into()], 60);
        let caller = decode_ephemeral_key(secret, 1030, &key, "p1").expect("valid");
        assert!(caller.has_scope("documents.read") && caller.has_scope("health.read"));
        assert!(!caller.has_scope("documents.write"));
        assert!(decode_ephemeral_key(secret, 2000, &key, "p1").is_none(), "expired");
        assert!(decode_ephemeral_key(secret, 1030, &key, "p2").is_none(), "other project");
        assert!(decode_ephemeral_key(b"another-secret-another-secret-!!", 1030, &key, "p1").is_none());
        let dynamic = key.replacen("ephemeral_", "dynamic_", 1);
        assert!(decode_ephemeral_key(secret, 1030, &dynamic, "p1").is_some());
    }

    #[test]
    fn user_roles() {
        let u = Caller::User(UserIdentity { id: "u1".into(), labels: vec!["vip".into()], ..Default::default() });
        let roles = u.roles();
        for r in ["any", "users", "user:u1", "user:u1/unverified", "users/unverified", "label:vip"] {
            assert!(roles.contains(&r.to_string()), "{r}");
        }
        assert!(!roles.contains(&"guests".to_string()));
        assert_eq!(Caller::Guest.roles(), vec!["any", "guests"]);
    }
}
