//! One runner at a time: a lock document with a fixed ID, whose creation is atomic (a second
//! creator gets 409), holding who runs, since when and until when it is presumed alive.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::appwrite::{Client, Error};

/// The lock collection's ID.
pub const COLLECTION: &str = "qw_migrations_lock";
const DOCUMENT: &str = "lock";

/// A lock this process holds.
#[derive(Debug, Clone)]
pub struct Lock {
    pub token: String,
    pub holder: String,
}

/// Who holds the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub holder: String,
    pub command: String,
    pub acquired_at: String,
    pub expires_at: String,
    /// The holder stopped refreshing it: its runner is most likely dead.
    pub stale: bool,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}) since {}", self.holder, self.command, self.acquired_at)?;
        if self.stale {
            write!(f, "; it expired at {} and looks stale", self.expires_at)
        } else {
            write!(f, ", until {} unless refreshed", self.expires_at)
        }
    }
}

/// Why the lock could not be taken.
#[derive(Debug, Clone)]
pub enum LockError {
    Held(Holder),
    Api(Error),
}

impl From<Error> for LockError {
    fn from(e: Error) -> Self {
        LockError::Api(e)
    }
}

/// Now, as Appwrite writes date-times.
pub fn now_iso() -> String {
    iso(Utc::now())
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

/// `user@host pid N`: who is running.
pub fn identity() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "someone".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").or_else(|_| std::env::var("HOSTNAME")).unwrap_or_else(|_| "localhost".into());
    format!("{user}@{} pid {}", host.trim(), std::process::id())
}

/// Creates the lock collection if it is missing.
pub fn ensure(client: &Client, db: &str, timeout: Duration) -> Result<(), Error> {
    let attributes = [
        json!({"key": "holder", "type": "string", "size": 255, "required": true}),
        json!({"key": "token", "type": "string", "size": 64, "required": true}),
        json!({"key": "command", "type": "string", "size": 255, "required": false}),
        json!({"key": "acquired_at", "type": "datetime", "required": true}),
        json!({"key": "expires_at", "type": "datetime", "required": true}),
    ];
    super::history::ensure_collection(client, db, COLLECTION, "Migration lock (qw)", &attributes, timeout)
}

/// Who holds the lock, if anyone.
pub fn current(client: &Client, db: &str) -> Result<Option<Holder>, Error> {
    match client.get_document(db, COLLECTION, DOCUMENT) {
        Ok(doc) => {
            let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let expires_at = s("expires_at");
            let stale = DateTime::parse_from_rfc3339(&expires_at).map(|t| t.with_timezone(&Utc) < Utc::now()).unwrap_or(true);
            Ok(Some(Holder { holder: s("holder"), command: s("command"), acquired_at: s("acquired_at"), expires_at, stale }))
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Takes the lock, waiting up to `wait` for a holder to let go; `break_lock` first removes
/// whatever lock is there (for a runner known to be dead).
pub fn acquire(client: &Client, db: &str, command: &str, ttl: Duration, wait: Duration, break_lock: bool) -> Result<Lock, LockError> {
    if break_lock {
        force_release(client, db)?;
    }
    let lock = Lock { token: hex::encode(rand::random::<[u8; 16]>()), holder: identity() };
    let deadline = Instant::now() + wait;
    loop {
        let now = Utc::now();
        let data = json!({
            "holder": lock.holder,
            "token": lock.token,
            "command": command.chars().take(255).collect::<String>(),
            "acquired_at": iso(now),
            "expires_at": iso(now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(10))),
        });
        match client.create_document(db, COLLECTION, DOCUMENT, &data, Some(&[])) {
            Ok(_) => return Ok(lock),
            Err(e) if e.is_conflict() => {
                if Instant::now() >= deadline {
                    return match current(client, db)? {
                        Some(holder) => Err(LockError::Held(holder)),
                        // Released between our attempt and the look: try once more.
                        None => continue,
                    };
                }
                std::thread::sleep(Duration::from_millis(200).min(deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(1)));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Pushes the lock's expiry forward, showing the runner is alive.
pub fn refresh(client: &Client, db: &str, ttl: Duration) -> Result<(), Error> {
    let expires = Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(10));
    client.update_document(db, COLLECTION, DOCUMENT, &json!({"expires_at": iso(expires)})).map(|_| ())
}

/// Lets go of a lock this process holds (not someone else's that replaced it after a break).
pub fn release(client: &Client, db: &str, lock: &Lock) -> Result<(), Error> {
    match client.get_document(db, COLLECTION, DOCUMENT) {
        Ok(doc) if doc.get("token").and_then(Value::as_str) == Some(&lock.token) => match client.delete_document(db, COLLECTION, DOCUMENT) {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        },
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes the lock whoever holds it; returns who did.
pub fn force_release(client: &Client, db: &str) -> Result<Option<Holder>, Error> {
    let holder = current(client, db)?;
    if holder.is_some() {
        match client.delete_document(db, COLLECTION, DOCUMENT) {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => {}
        }
    }
    Ok(holder)
}
