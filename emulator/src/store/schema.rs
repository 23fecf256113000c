//! The system tables of a project database, as named, append-only migrations: each module
//! lists its own, and a database opened by a newer emulator gains the ones it lacks.

use rusqlite::Transaction;

use crate::error::ApiResult;

/// All migrations in order. Never edit one that has shipped; append a new one.
fn all() -> Vec<(&'static str, &'static str)> {
    let mut list = Vec::new();
    list.extend_from_slice(crate::databases::store::MIGRATIONS);
    list.extend_from_slice(crate::databases::transactions::MIGRATIONS);
    list.extend_from_slice(crate::functions::store::MIGRATIONS);
    list.extend_from_slice(crate::storage::store::MIGRATIONS);
    list.extend_from_slice(crate::users::store::MIGRATIONS);
    list
}

pub fn apply(tx: &Transaction) -> ApiResult<()> {
    tx.execute_batch("CREATE TABLE IF NOT EXISTS _qw_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")?;
    for (name, sql) in all() {
        let done: bool = tx.query_row("SELECT EXISTS(SELECT 1 FROM _qw_migrations WHERE name = ?1)", [name], |r| r.get(0))?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO _qw_migrations (name, applied_at) VALUES (?1, datetime('now'))", [name])?;
        }
    }
    Ok(())
}
