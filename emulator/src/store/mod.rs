//! SQLite storage: one database file per project (WAL, one writer thread, a few readers), or one
//! in-memory connection for `--in-memory`.
//!
//! Writes go to a dedicated writer thread that commits them in groups: every write waiting when
//! the thread is free runs in the same SQLite transaction, each inside its own savepoint, so a
//! failing write rolls back alone while the others share one commit. Callers are answered only
//! after that commit. Under concurrent load this turns many small commits into few.

pub mod schema;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{ApiError, ApiResult};

const READERS: usize = 4;
/// Most writes committed together.
const GROUP: usize = 128;

/// Answers a write's caller once the group it ran in has committed (or failed to).
type Finisher = Box<dyn FnOnce(Option<&ApiError>) + Send>;

/// A queued write.
trait Job: Send {
    /// Runs inside the group's transaction; says whether it succeeded.
    fn run(self: Box<Self>, tx: &Transaction) -> (bool, Finisher);
    /// Answers without running (the group could not start).
    fn abort(self: Box<Self>, error: ApiError);
}

struct Pending<F, R> {
    f: F,
    reply: R,
}

impl<T, F, R> Job for Pending<F, R>
where
    T: Send + 'static,
    F: FnOnce(&Transaction) -> ApiResult<T> + Send + 'static,
    R: FnOnce(ApiResult<T>) + Send + 'static,
{
    fn run(self: Box<Self>, tx: &Transaction) -> (bool, Finisher) {
        let Pending { f, reply } = *self;
        let result = catch_unwind(AssertUnwindSafe(|| f(tx))).unwrap_or_else(|_| Err(ApiError::internal("a write panicked")));
        let ok = result.is_ok();
        let finish: Finisher = Box::new(move |commit_error| {
            reply(match (commit_error, result) {
                (Some(e), Ok(_)) => Err(e.clone()),
                (_, result) => result,
            })
        });
        (ok, finish)
    }

    fn abort(self: Box<Self>, error: ApiError) {
        (self.reply)(Err(error))
    }
}

/// The SQLite database of one project.
pub struct Db {
    jobs: mpsc::Sender<Box<dyn Job>>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl Db {
    /// Opens (creating if needed) the database at `path`, or an in-memory one for `None`,
    /// and brings its system tables up to date.
    pub fn open(path: Option<&Path>) -> ApiResult<Db> {
        let writer = match path {
            Some(path) => Connection::open(path)?,
            None => Connection::open_in_memory()?,
        };
        configure(&writer, true)?;
        let readers = match path {
            Some(path) => (0..READERS)
                .map(|_| {
                    let c = Connection::open_with_flags(
                        path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                    )?;
                    configure(&c, false)?;
                    Ok(Mutex::new(c))
                })
                .collect::<ApiResult<Vec<_>>>()?,
            None => Vec::new(),
        };
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new().name("qw-sqlite-writer".into()).spawn(move || writer_loop(writer, rx))?;
        let db = Db { jobs: tx, readers, next_reader: AtomicUsize::new(0) };
        db.write(|tx| schema::apply(tx))?;
        Ok(db)
    }

    fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction) -> ApiResult<T> + Send + 'static,
        reply: impl FnOnce(ApiResult<T>) + Send + 'static,
    ) {
        if let Err(mpsc::SendError(job)) = self.jobs.send(Box::new(Pending { f, reply })) {
            // The writer thread is gone (process shutting down): answer instead of hanging.
            job.abort(ApiError::internal("the database writer has stopped"));
        }
    }

    /// Runs `f` in a write transaction, committed only if `f` succeeds (blocking the caller).
    pub fn write<T: Send + 'static>(&self, f: impl FnOnce(&Transaction) -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(f, move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or_else(|_| Err(ApiError::internal("the database writer has stopped")))
    }

    /// [`Db::write`] for async callers: awaits the commit without holding a runtime thread.
    pub async fn write_async<T: Send + 'static>(&self, f: impl FnOnce(&Transaction) -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(f, move |r| {
            let _ = tx.send(r);
        });
        rx.await.unwrap_or_else(|_| Err(ApiError::internal("the database writer has stopped")))
    }

    /// True when reads share the writer (in memory): they must then go through the writer queue.
    pub fn reads_via_writer(&self) -> bool {
        self.readers.is_empty()
    }

    /// Runs `f` in a read transaction on a reader connection: one consistent snapshot.
    pub fn read<T: Send + 'static>(&self, f: impl FnOnce(&Transaction) -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
        if self.readers.is_empty() {
            return self.write(f);
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

/// Commits waiting writes in groups, each write in its own savepoint.
fn writer_loop(mut conn: Connection, jobs: mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < GROUP {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                let err = ApiError::from(e);
                for job in batch {
                    job.abort(err.clone());
                }
                continue;
            }
        };
        let mut finishers = Vec::with_capacity(batch.len());
        for job in batch {
            let opened = tx.execute_batch("SAVEPOINT qw_write").is_ok();
            let (ok, finish) = job.run(&tx);
            if opened {
                let end = if ok { "RELEASE qw_write" } else { "ROLLBACK TO qw_write; RELEASE qw_write" };
                if let Err(e) = tx.execute_batch(end) {
                    tracing::error!("savepoint handling failed: {e}");
                }
            }
            finishers.push(finish);
        }
        let commit_error = tx.commit().err().map(ApiError::from);
        for finish in finishers {
            finish(commit_error.as_ref());
        }
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
