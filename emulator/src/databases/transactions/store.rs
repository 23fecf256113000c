//! Transactions and their staged operations, kept in system tables of the project database.

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde_json::{json, Map, Value};

use crate::error::ApiResult;

pub const MIGRATIONS: &[(&str, &str)] = &[(
    "transactions-1",
    r#"
    CREATE TABLE transactions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL DEFAULT 'pending',
        operations INTEGER NOT NULL DEFAULT 0,
        expires_at TEXT NOT NULL,
        permissions TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX transactions_expires ON transactions (expires_at);
    CREATE TABLE transaction_operations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        transaction_seq INTEGER NOT NULL REFERENCES transactions(seq) ON DELETE CASCADE,
        database_seq INTEGER NOT NULL,
        collection_seq INTEGER NOT NULL,
        document_id TEXT,
        action TEXT NOT NULL,
        data TEXT NOT NULL,
        staged_at TEXT NOT NULL,
        base TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX transaction_operations_txn ON transaction_operations (transaction_seq, seq);
    "#,
)];

/// A transaction.
#[derive(Debug, Clone)]
pub struct TxnRow {
    pub seq: i64,
    pub id: String,
    /// pending, committing, committed or failed
    pub status: String,
    pub operations: i64,
    pub expires_at: String,
    pub permissions: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl TxnRow {
    /// The Transaction response model.
    pub fn model(&self) -> Value {
        json!({
            "$id": self.id,
            "$createdAt": self.created_at,
            "$updatedAt": self.updated_at,
            "status": self.status,
            "operations": self.operations,
            "expiresAt": self.expires_at,
        })
    }
}

pub const TXN_COLS: &str = "seq, id, status, operations, expires_at, permissions, created_at, updated_at";

pub fn map_txn(r: &Row) -> rusqlite::Result<TxnRow> {
    let perms: String = r.get(5)?;
    Ok(TxnRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        status: r.get(2)?,
        operations: r.get(3)?,
        expires_at: r.get(4)?,
        permissions: serde_json::from_str(&perms).unwrap_or_default(),
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

pub fn get(tx: &Transaction, id: &str) -> ApiResult<Option<TxnRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {TXN_COLS} FROM transactions WHERE id = ?1"))?;
    Ok(st.query_row([id], map_txn).optional()?)
}

pub fn insert(tx: &Transaction, id: &str, expires_at: &str, permissions: &[String], now: &str) -> ApiResult<TxnRow> {
    tx.execute(
        "INSERT INTO transactions (id, status, operations, expires_at, permissions, created_at, updated_at) VALUES (?1, 'pending', 0, ?2, ?3, ?4, ?4)",
        params![id, expires_at, serde_json::to_string(permissions).unwrap(), now],
    )?;
    Ok(get(tx, id)?.expect("just inserted"))
}

pub fn set_status(tx: &Transaction, t: &TxnRow, status: &str, now: &str) -> ApiResult<TxnRow> {
    tx.prepare_cached("UPDATE transactions SET status = ?2, updated_at = ?3 WHERE seq = ?1")?.execute(params![t.seq, status, now])?;
    Ok(TxnRow { status: status.to_string(), updated_at: now.to_string(), ..t.clone() })
}

pub fn delete(tx: &Transaction, t: &TxnRow) -> ApiResult<()> {
    tx.execute("DELETE FROM transactions WHERE seq = ?1", [t.seq])?;
    Ok(())
}

/// One staged operation.
#[derive(Debug, Clone)]
pub struct OpRow {
    pub database_seq: i64,
    pub collection_seq: i64,
    pub document_id: Option<String>,
    pub action: String,
    pub data: Value,
    pub staged_at: String,
    /// Fingerprints of the documents the operation touches as they were when it was staged
    /// (absent: the document did not exist), for conflict detection at commit.
    pub base: Map<String, Value>,
}

pub fn operations_of(tx: &Transaction, t: &TxnRow) -> ApiResult<Vec<OpRow>> {
    let mut st = tx.prepare_cached(
        "SELECT database_seq, collection_seq, document_id, action, data, staged_at, base FROM transaction_operations WHERE transaction_seq = ?1 ORDER BY seq",
    )?;
    let rows = st
        .query_map([t.seq], |r| {
            let data: String = r.get(4)?;
            let base: String = r.get(6)?;
            Ok(OpRow {
                database_seq: r.get(0)?,
                collection_seq: r.get(1)?,
                document_id: r.get(2)?,
                action: r.get(3)?,
                data: serde_json::from_str(&data).unwrap_or(Value::Null),
                staged_at: r.get(5)?,
                base: serde_json::from_str(&base).unwrap_or_default(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Appends `ops` to the transaction and counts them (`operations` keeps the total even after the
/// staged rows are cleared by commit or rollback).
pub fn append(tx: &Transaction, t: &TxnRow, ops: &[OpRow], now: &str) -> ApiResult<TxnRow> {
    let mut st = tx.prepare_cached(
        "INSERT INTO transaction_operations (transaction_seq, database_seq, collection_seq, document_id, action, data, staged_at, base)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for o in ops {
        st.execute(params![
            t.seq,
            o.database_seq,
            o.collection_seq,
            o.document_id,
            o.action,
            o.data.to_string(),
            o.staged_at,
            Value::Object(o.base.clone()).to_string()
        ])?;
    }
    let operations = t.operations + ops.len() as i64;
    tx.prepare_cached("UPDATE transactions SET operations = ?2, updated_at = ?3 WHERE seq = ?1")?.execute(params![t.seq, operations, now])?;
    Ok(TxnRow { operations, updated_at: now.to_string(), ..t.clone() })
}

/// Forgets the staged rows once the transaction is settled (Appwrite's deletes worker does the
/// same with its transaction logs).
pub fn clear_operations(tx: &Transaction, t: &TxnRow) -> ApiResult<()> {
    tx.prepare_cached("DELETE FROM transaction_operations WHERE transaction_seq = ?1")?.execute([t.seq])?;
    Ok(())
}
