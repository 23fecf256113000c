//! SQLite storage: one database file per project (WAL, one writer, a few readers), or one
//! in-memory connection for `--in-memory`.

pub mod schema;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::ApiResult;

const READERS: usize = 4;

/// The SQLite database of one project.
pub struct Db {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl Db {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `None`,
    /// and brings its system tables up to date.
    pub fn open(path: Option<&Path>) -> ApiResult<Db> {
        let (writer, readers) = match path {
            Some(path) => {
                let writer = Connection::open(path)?;
                configure(&writer, true)?;
                let readers = (0..READERS)
                    .map(|_| {
                        let c = Connection::open_with_flags(
                            path,
                            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                        )?;
                        configure(&c, false)?;
                        Ok(Mutex::new(c))
                    })
                    .collect::<ApiResult<Vec<_>>>()?;
                (writer, readers)
            }
            None => {
                let writer = Connection::open_in_memory()?;
                configure(&writer, true)?;
                (writer, Vec::new())
            }
        };
        let db = Db { writer: Mutex::new(writer), readers, next_reader: AtomicUsize::new(0) };
        db.write(|tx| schema::apply(tx))?;
        Ok(db)
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`), committed only if `f` succeeds.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction) -> ApiResult<T>) -> ApiResult<T> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a read transaction on a reader connection: one consistent snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&Transaction) -> ApiResult<T>) -> ApiResult<T> {
        if self.readers.is_empty() {
            let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            return f(&tx);
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        let mut guard = (0..n)
            .find_map(|i| self.readers[(start + i) % n].try_lock().ok())
            .unwrap_or_else(|| self.readers[start % n].lock().unwrap_or_else(|p| p.into_inner()));
        let tx = guard.transaction_with_behavior(TransactionBehavior::Deferred)?;
        f(&tx)
    }
}

fn configure(conn: &Connection, writer: bool) -> ApiResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if writer {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(())
}
