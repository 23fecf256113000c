//! The same operations straight on SQLite in-process: the emulator's table shape (typed columns,
//! unique ID, permissions table, an index on `status`), WAL, one transaction per insert.

use std::path::Path;
use std::time::Instant;

use rusqlite::{params, Connection};

pub struct Baseline {
    conn: Connection,
}

impl Baseline {
    pub fn open(path: &Path) -> Baseline {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        conn.execute_batch(
            "CREATE TABLE docs (_seq INTEGER PRIMARY KEY AUTOINCREMENT, _uid TEXT NOT NULL UNIQUE, _created TEXT NOT NULL,
               _updated TEXT NOT NULL, _perms TEXT NOT NULL DEFAULT '[]', title TEXT, n INTEGER, status TEXT);
             CREATE INDEX docs_status ON docs (status);
             CREATE TABLE docs_perms (doc INTEGER NOT NULL, action TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (role, action, doc)) WITHOUT ROWID;",
        )
        .unwrap();
        Baseline { conn }
    }

    fn insert(&self, uid: &str, title: &str, n: i64, status: &str) {
        self.conn
            .prepare_cached("INSERT INTO docs (_uid, _created, _updated, title, n, status) VALUES (?1, ?2, ?2, ?3, ?4, ?5)")
            .unwrap()
            .execute(params![uid, "2026-01-01T00:00:00.000+00:00", title, n, status])
            .unwrap();
    }

    /// Inserts per second, one transaction each (as the emulator commits each create).
    pub fn insert_rate(&self, total: usize) -> f64 {
        let t0 = Instant::now();
        for i in 0..total {
            self.conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            self.insert(&format!("rate{i}"), "created under load", 1, "s0");
            self.conn.execute_batch("COMMIT").unwrap();
        }
        let rate = total as f64 / t0.elapsed().as_secs_f64();
        self.conn.execute("DELETE FROM docs", []).unwrap();
        rate
    }

    pub fn fill(&self, n: usize, statuses: usize) {
        self.conn.execute_batch("BEGIN").unwrap();
        for k in 0..n {
            self.insert(&format!("doc{k:06}"), &format!("document {k}"), k as i64, &format!("s{}", k % statuses));
        }
        self.conn.execute_batch("COMMIT").unwrap();
    }

    pub fn sample_ids(&self, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("doc{:06}", i * (100_000 / n))).collect()
    }

    pub fn get_latencies(&self, ids: &[String]) -> Vec<f64> {
        ids.iter()
            .map(|id| {
                let t0 = Instant::now();
                let mut st = self.conn.prepare_cached("SELECT _seq, _uid, _created, _updated, _perms, title, n, status FROM docs WHERE _uid = ?1").unwrap();
                let row: (i64, String) = st.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
                assert_eq!(&row.1, id);
                t0.elapsed().as_secs_f64()
            })
            .collect()
    }

    pub fn list_latencies(&self, statuses: usize, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let status = format!("s{}", i % statuses);
                let t0 = Instant::now();
                let total: i64 = self
                    .conn
                    .prepare_cached("SELECT COUNT(*) FROM (SELECT 1 FROM docs WHERE status IN (?1) LIMIT 5000)")
                    .unwrap()
                    .query_row([&status], |r| r.get(0))
                    .unwrap();
                let mut st = self
                    .conn
                    .prepare_cached("SELECT _seq, _uid, _created, _updated, _perms, title, n, status FROM docs WHERE status IN (?1) ORDER BY _seq ASC LIMIT 25 OFFSET 0")
                    .unwrap();
                let rows = st.query_map([&status], |r| r.get::<_, i64>(0)).unwrap().count();
                assert_eq!(rows, 25);
                assert!(total >= 25);
                t0.elapsed().as_secs_f64()
            })
            .collect()
    }
}
