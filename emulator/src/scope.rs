//! Route scopes, looked up in the table generated from Appwrite 1.9.6's own route definitions.

use std::collections::HashMap;
use std::sync::LazyLock;

type Entry = (&'static str, &'static str, &'static [&'static str]);

static ROUTES: &[Entry] = include!(concat!(env!("OUT_DIR"), "/route_scopes.rs"));

/// Routes indexed by (method, number of segments), each a list of (segments, scopes).
static INDEX: LazyLock<HashMap<(&'static str, usize), Vec<(Vec<&'static str>, &'static [&'static str])>>> =
    LazyLock::new(|| {
        let mut index: HashMap<_, Vec<_>> = HashMap::new();
        for (method, path, scopes) in ROUTES {
            let segments: Vec<&str> = path.split('/').collect();
            index.entry((*method, segments.len())).or_default().push((segments, *scopes));
        }
        index
    });

/// The scopes of the route serving `method path` (any one of them suffices), if Appwrite has it.
/// Where several patterns match, the one with the most literal segments wins, as in Appwrite's router.
pub fn lookup(method: &str, path: &str) -> Option<&'static [&'static str]> {
    let segments: Vec<&str> = path.split('/').collect();
    let candidates = INDEX.get(&(method, segments.len()))?;
    candidates
        .iter()
        .filter(|(pattern, _)| pattern.iter().zip(&segments).all(|(p, s)| *p == "*" || p == s))
        .max_by_key(|(pattern, _)| pattern.iter().filter(|p| **p != "*").count())
        .map(|(_, scopes)| *scopes)
}

/// Every scope a project API key can hold (1.9.6 `app/config/scopes/project.php`), plus the
/// three every key gets.
pub const ALL_KEY_SCOPES: &[&str] = &[
    "project.read", "project.write", "keys.read", "keys.write", "platforms.read", "platforms.write",
    "mocks.read", "mocks.write", "policies.read", "policies.write", "project.policies.read",
    "project.policies.write", "templates.read", "templates.write", "oauth2.read", "oauth2.write",
    "users.read", "users.write", "sessions.read", "sessions.write", "teams.read", "teams.write",
    "databases.read", "databases.write", "tables.read", "tables.write", "columns.read", "columns.write",
    "indexes.read", "indexes.write", "rows.read", "rows.write", "collections.read", "collections.write",
    "attributes.read", "attributes.write", "documents.read", "documents.write", "buckets.read",
    "buckets.write", "files.read", "files.write", "tokens.read", "tokens.write", "functions.read",
    "functions.write", "executions.read", "executions.write", "execution.read", "execution.write",
    "sites.read", "sites.write", "log.read", "log.write", "providers.read", "providers.write",
    "topics.read", "topics.write", "subscribers.read", "subscribers.write", "targets.read",
    "targets.write", "messages.read", "messages.write", "rules.read", "rules.write", "webhooks.read",
    "webhooks.write", "locale.read", "avatars.read", "health.read", "assistant.read", "migrations.read",
    "migrations.write", "schedules.read", "schedules.write", "vcs.read", "vcs.write", "insights.read",
    "insights.write", "reports.read", "reports.write", "presences.read", "presences.write",
    "global", "graphql",
];

/// Scopes of unauthenticated callers (`app/config/roles.php`, role `guests`).
pub const GUEST_SCOPES: &[&str] = &[
    "global", "public", "home", "console", "graphql", "sessions.write", "documents.read",
    "documents.write", "rows.read", "rows.write", "embeddings.write", "files.read", "files.write",
    "locale.read", "avatars.read", "executions.write",
];

/// Scopes of signed-in users (`app/config/roles.php`, role `users`).
pub const USER_SCOPES: &[&str] = &[
    "global", "public", "home", "console", "graphql", "sessions.write", "account", "teams.read",
    "teams.write", "presences.read", "presences.write", "documents.read", "documents.write",
    "rows.read", "rows.write", "embeddings.write", "files.read", "files.write", "projects.read",
    "locale.read", "avatars.read", "executions.read", "executions.write", "targets.read",
    "targets.write", "subscribers.write", "subscribers.read", "assistant.read", "rules.read",
];

/// True when `scope` is one a project key may be given (the function `scopes` param validates this).
pub fn is_key_scope(scope: &str) -> bool {
    ALL_KEY_SCOPES.contains(&scope) && scope != "global" && scope != "graphql"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_scopes_with_literal_segments_winning() {
        assert_eq!(lookup("GET", "/v1/databases"), Some(&["databases.read"][..]));
        assert_eq!(lookup("GET", "/v1/databases/transactions"), Some(&["rows.read"][..]));
        assert_eq!(lookup("GET", "/v1/databases/main"), Some(&["databases.read"][..]));
        assert_eq!(
            lookup("GET", "/v1/tablesdb/db/tables/t/rows"),
            Some(&["rows.read", "documents.read"][..])
        );
        assert_eq!(lookup("GET", "/v1/health/version"), Some(&["public"][..]));
        assert_eq!(lookup("GET", "/v1/nothing/here"), None);
        // the alias of the legacy relationship update
        assert_eq!(
            lookup("PATCH", "/v1/databases/d/collections/c/attributes/k/relationship"),
            Some(&["collections.write"][..])
        );
    }
}
