//! Carrying out a plan against an environment: bootstrap of the database and the runner's
//! collections, the lock, per-step history (so a rerun resumes where a failure stopped), and
//! events for progress display.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::apply::Target;
use super::format::{Body, Migration, Step};
use super::history::{self, Entry};
use super::inverse;
use super::js;
use super::lock::{self, Holder, LockError};
use super::plan::{self, Action, Blocker, Local, Recorded, Row, State};
use crate::appwrite::{Client, Error};

/// The database an environment's migrations run in (the one of its appwrite.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseRef {
    pub id: String,
    pub name: String,
    pub enabled: bool,
}

/// Everything a run needs to reach an environment.
pub struct Environment {
    /// `dev`, `staging`, … (for messages).
    pub name: String,
    pub client: Client,
    pub database: DatabaseRef,
    /// The project root, where `migrations/` is.
    pub root: PathBuf,
}

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long to wait for another runner's lock.
    pub lock_wait: Duration,
    /// Remove whatever lock is there before taking it.
    pub break_lock: bool,
    /// How long an attribute or index may take to become available.
    pub available_timeout: Duration,
    /// How long the lock is presumed alive without a refresh.
    pub lock_ttl: Duration,
    /// The command line, recorded in the lock.
    pub command: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { lock_wait: Duration::ZERO, break_lock: false, available_timeout: Duration::from_secs(120), lock_ttl: Duration::from_secs(600), command: "qw migrate".into() }
    }
}

/// What a run reports as it goes.
#[derive(Debug, Clone)]
pub enum Event {
    /// The planned work: total steps over all actions.
    Planned { steps: usize },
    /// A migration starts (`up` or `down`).
    Started { label: String, direction: &'static str, steps: usize },
    /// A step finished.
    StepDone { label: String, index: usize, summary: String },
    /// A migration finished.
    Finished { label: String, direction: &'static str, duration_ms: u64 },
}

/// One planned or performed action, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    #[serde(flatten)]
    pub action: Action,
    pub label: String,
    pub kind: &'static str,
    /// What each step still to run does.
    pub steps: Vec<String>,
}

/// The result of a run that went through.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub environment: String,
    pub database: String,
    pub dry_run: bool,
    /// Done (or, for a dry run, to do), in order.
    pub actions: Vec<Planned>,
}

/// Why a run stopped.
#[derive(Debug, Clone)]
pub enum RunError {
    /// Appwrite could not be used (unreachable, bad key, …).
    Api(Error),
    /// Another runner holds the lock.
    Locked(Holder),
    /// The history and the files disagree; nothing was done.
    Blocked(Vec<Blocker>),
    /// A step failed; what was done before it stays done and is recorded.
    Failed { label: String, direction: &'static str, step: usize, summary: String, message: String, done: Vec<Planned> },
}

impl From<Error> for RunError {
    fn from(e: Error) -> Self {
        RunError::Api(e)
    }
}

impl From<LockError> for RunError {
    fn from(e: LockError) -> Self {
        match e {
            LockError::Held(h) => RunError::Locked(h),
            LockError::Api(e) => RunError::Api(e),
        }
    }
}

/// The checksum of each `up` step (a script is one step: its file).
pub fn step_checksums(m: &Migration) -> Vec<String> {
    match &m.body {
        Body::Steps(f) => f.up.iter().map(|s| hex::encode(&Sha256::digest(serde_json::to_string(s).expect("steps serialise").as_bytes())[..8])).collect(),
        Body::Script(_) => vec![m.checksum[..16].to_string()],
    }
}

/// What planning needs of a migration.
pub fn local_of(m: &Migration) -> Local {
    let (reversible, derived_down) = match &m.body {
        Body::Steps(f) => (inverse::down_steps(f).is_ok(), f.down.is_none()),
        Body::Script(s) => (s.contains("down"), false),
    };
    Local { version: m.version, label: m.label(), checksum: m.checksum.clone(), step_checksums: step_checksums(m), reversible, derived_down }
}

fn planned(m: &Migration, action: &Action) -> Planned {
    let steps = match (action, &m.body) {
        (Action::Apply { from, .. }, Body::Steps(f)) => f.up[*from..].iter().map(summary).collect(),
        (Action::Revert { from, partial, .. }, Body::Steps(_)) => down_of(m, *partial).map(|d| d[*from..].iter().map(summary).collect()).unwrap_or_default(),
        (Action::Apply { .. }, Body::Script(_)) => vec![format!("run up of {}", m.file)],
        (Action::Revert { .. }, Body::Script(_)) => vec![format!("run down of {}", m.file)],
    };
    Planned { action: action.clone(), label: m.label(), kind: m.kind(), steps }
}

fn summary(s: &Step) -> String {
    match &s.description {
        Some(d) => format!("{} — {d}", s.op.summary()),
        None => s.op.summary(),
    }
}

fn down_of(m: &Migration, partial: Option<usize>) -> Result<Vec<Step>, String> {
    let Body::Steps(f) = &m.body else { return Ok(Vec::new()) };
    match partial {
        Some(done) if f.down.is_none() => inverse::derived_down(&f.up, done),
        _ => inverse::down_steps(f),
    }
    .map_err(|(i, reason)| format!("step {}: {reason}", i + 1))
}

fn find(migrations: &[Migration], version: u32) -> &Migration {
    migrations.iter().find(|m| m.version == version).expect("planned migrations exist locally")
}

/// Creates the environment's database if it does not exist, then the runner's collections.
fn bootstrap(env: &Environment, opts: &Options) -> Result<(), Error> {
    let db = &env.database;
    match env.client.get_database(&db.id) {
        Ok(_) => {}
        Err(e) if e.is_not_found() => match env.client.create_database(&db.id, &db.name, db.enabled) {
            Ok(_) => {}
            Err(e) if e.is_conflict() => {}
            Err(e) => return Err(e),
        },
        Err(e) => return Err(e),
    }
    history::ensure(&env.client, &db.id, opts.available_timeout)?;
    lock::ensure(&env.client, &db.id, opts.available_timeout)
}

/// The recorded history; empty where the database or the history does not exist yet.
pub fn read_history(env: &Environment) -> Result<Vec<Entry>, Error> {
    history::read(&env.client, &env.database.id)
}

/// Runs `plan` under the lock (or only describes it for a dry run).
fn execute(env: &Environment, migrations: &[Migration], opts: &Options, dry_run: bool, make_plan: impl Fn(&[Local], &[plan::Record]) -> Result<Vec<Action>, Vec<Blocker>>, on: &mut dyn FnMut(Event)) -> Result<Report, RunError> {
    let locals: Vec<Local> = migrations.iter().map(local_of).collect();
    let report = |actions: Vec<Planned>| Report { environment: env.name.clone(), database: env.database.id.clone(), dry_run, actions };
    if dry_run {
        let history = read_history(env)?;
        let records: Vec<plan::Record> = history.iter().map(Entry::record).collect();
        let actions = make_plan(&locals, &records).map_err(RunError::Blocked)?;
        return Ok(report(actions.iter().map(|a| planned(find(migrations, a.version()), a)).collect()));
    }
    bootstrap(env, opts)?;
    let db = env.database.id.as_str();
    let held = lock::acquire(&env.client, db, &opts.command, opts.lock_ttl, opts.lock_wait, opts.break_lock)?;
    let result = (|| {
        let history = read_history(env)?;
        let records: Vec<plan::Record> = history.iter().map(Entry::record).collect();
        let actions = make_plan(&locals, &records).map_err(RunError::Blocked)?;
        let todo: Vec<Planned> = actions.iter().map(|a| planned(find(migrations, a.version()), a)).collect();
        on(Event::Planned { steps: todo.iter().map(|p| p.steps.len()).sum() });
        let mut done = Vec::new();
        let mut refreshed = Instant::now();
        for p in todo {
            let m = find(migrations, p.action.version());
            let previous = history.iter().find(|e| e.version == m.version);
            let result = match p.action {
                Action::Apply { from, .. } => apply(env, m, previous, from, opts, &mut refreshed, on),
                Action::Revert { from, partial, .. } => revert(env, m, previous, from, partial, opts, &mut refreshed, on),
            };
            match result {
                Ok(()) => done.push(p),
                Err(Failure::Api(e)) => return Err(RunError::Api(e)),
                Err(Failure::Step { direction, step, summary, message }) => return Err(RunError::Failed { label: m.label(), direction, step, summary, message, done }),
            }
        }
        Ok(report(done))
    })();
    // Releasing must not hide the run's own outcome; a lock left behind expires and can be broken.
    let _ = lock::release(&env.client, db, &held);
    result
}

enum Failure {
    Api(Error),
    Step { direction: &'static str, step: usize, summary: String, message: String },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Api(e)
    }
}

fn keep_alive(env: &Environment, opts: &Options, refreshed: &mut Instant) -> Result<(), Error> {
    if refreshed.elapsed() >= opts.lock_ttl / 3 {
        lock::refresh(&env.client, &env.database.id, opts.lock_ttl)?;
        *refreshed = Instant::now();
    }
    Ok(())
}

fn target<'a>(env: &'a Environment, opts: &Options, resuming: bool) -> Target<'a> {
    Target { client: &env.client, database: env.database.id.clone(), available_timeout: opts.available_timeout, resuming }
}

#[allow(clippy::too_many_arguments)]
fn apply(env: &Environment, m: &Migration, previous: Option<&Entry>, from: usize, opts: &Options, refreshed: &mut Instant, on: &mut dyn FnMut(Event)) -> Result<(), Failure> {
    let db = env.database.id.as_str();
    let checksums = step_checksums(m);
    let started = Instant::now();
    let mut entry = Entry {
        version: m.version,
        name: m.label(),
        kind: m.kind().into(),
        checksum: m.checksum.clone(),
        status: Recorded::Running,
        applied_at: Some(lock::now_iso()),
        duration_ms: None,
        steps_total: checksums.len(),
        done: previous.map(|p| p.done.clone()).unwrap_or_default(),
        undone: 0,
        failed_step: None,
        error: None,
        runner: lock::identity(),
    };
    entry.done.truncate(from);
    history::save(&env.client, db, &entry)?;
    on(Event::Started { label: m.label(), direction: "up", steps: checksums.len() - from });
    // A recorded but unfinished run may have done part of the step it stopped in.
    let resumed = previous.is_some_and(|p| matches!(p.status, Recorded::Failed | Recorded::Running));
    for i in from..checksums.len() {
        let target = target(env, opts, resumed && i == from);
        let (summary, result) = match &m.body {
            Body::Steps(f) => (summary(&f.up[i]), target.run(&f.up[i].op).map(|_| ()).map_err(|e| e.to_string())),
            Body::Script(_) => (format!("run up of {}", m.file), js::run(&env.root.join(&m.file), "up", env.client.connection(), db)),
        };
        if let Err(message) = result {
            entry.status = Recorded::Failed;
            entry.failed_step = Some(i + 1);
            entry.error = Some(message.clone());
            history::save(&env.client, db, &entry)?;
            return Err(Failure::Step { direction: "up", step: i + 1, summary, message });
        }
        entry.done.push(checksums[i].clone());
        history::save(&env.client, db, &entry)?;
        on(Event::StepDone { label: m.label(), index: i + 1, summary });
        keep_alive(env, opts, refreshed)?;
    }
    let ms = started.elapsed().as_millis() as u64;
    entry.status = Recorded::Applied;
    entry.applied_at = Some(lock::now_iso());
    entry.duration_ms = Some(ms as i64);
    history::save(&env.client, db, &entry)?;
    on(Event::Finished { label: m.label(), direction: "up", duration_ms: ms });
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn revert(env: &Environment, m: &Migration, previous: Option<&Entry>, from: usize, partial: Option<usize>, opts: &Options, refreshed: &mut Instant, on: &mut dyn FnMut(Event)) -> Result<(), Failure> {
    let db = env.database.id.as_str();
    let started = Instant::now();
    let steps: Vec<Option<Step>> = match &m.body {
        Body::Steps(_) => down_of(m, partial).map_err(|message| Failure::Step { direction: "down", step: 0, summary: "derive down".into(), message })?.into_iter().map(Some).collect(),
        Body::Script(_) => vec![None],
    };
    let mut entry = previous.cloned().expect("a reverted migration is recorded");
    entry.status = Recorded::RollingBack;
    entry.undone = from;
    entry.failed_step = None;
    entry.error = None;
    history::save(&env.client, db, &entry)?;
    on(Event::Started { label: m.label(), direction: "down", steps: steps.len() - from });
    let resumed = previous.is_some_and(|p| matches!(p.status, Recorded::RollingBack | Recorded::RollbackFailed));
    for (i, step) in steps.iter().enumerate().skip(from) {
        let target = target(env, opts, resumed && i == from);
        let (summary, result) = match step {
            Some(s) => (summary(s), target.run(&s.op).map(|_| ()).map_err(|e| e.to_string())),
            None => (format!("run down of {}", m.file), js::run(&env.root.join(&m.file), "down", env.client.connection(), db)),
        };
        if let Err(message) = result {
            entry.status = Recorded::RollbackFailed;
            entry.failed_step = Some(i + 1);
            entry.error = Some(message.clone());
            history::save(&env.client, db, &entry)?;
            return Err(Failure::Step { direction: "down", step: i + 1, summary, message });
        }
        entry.undone = i + 1;
        history::save(&env.client, db, &entry)?;
        on(Event::StepDone { label: m.label(), index: i + 1, summary });
        keep_alive(env, opts, refreshed)?;
    }
    history::remove(&env.client, db, m.version)?;
    on(Event::Finished { label: m.label(), direction: "down", duration_ms: started.elapsed().as_millis() as u64 });
    Ok(())
}

/// `qw migrate up`: applies pending migrations up to `to`, resuming any that stopped part way.
pub fn up(env: &Environment, migrations: &[Migration], to: Option<u32>, dry_run: bool, opts: &Options, on: &mut dyn FnMut(Event)) -> Result<Report, RunError> {
    execute(env, migrations, opts, dry_run, |l, r| plan::plan_up(l, r, to, &env.name), on)
}

/// `qw migrate down`: rolls back the last `count` migrations.
pub fn down(env: &Environment, migrations: &[Migration], count: usize, dry_run: bool, opts: &Options, on: &mut dyn FnMut(Event)) -> Result<Report, RunError> {
    execute(env, migrations, opts, dry_run, |l, r| plan::plan_down(l, r, count, &env.name), on)
}

/// One line of `qw migrate status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusLine {
    #[serde(flatten)]
    pub row: Row,
    pub file: Option<String>,
    pub checksum: Option<String>,
    pub applied_checksum: Option<String>,
    pub applied_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub failed_step: Option<usize>,
    pub error: Option<String>,
    pub runner: Option<String>,
}

/// The status of every migration in an environment, and who holds the lock.
pub fn status(env: &Environment, migrations: &[Migration]) -> Result<(Vec<StatusLine>, Option<Holder>), Error> {
    let history = read_history(env)?;
    let locals: Vec<Local> = migrations.iter().map(local_of).collect();
    let records: Vec<plan::Record> = history.iter().map(Entry::record).collect();
    let lines = plan::status(&locals, &records)
        .into_iter()
        .map(|row| {
            let m = migrations.iter().find(|m| m.version == row.version);
            let e = history.iter().find(|e| e.version == row.version);
            StatusLine {
                file: m.map(|m| m.file.clone()),
                checksum: m.map(|m| m.checksum.clone()),
                applied_checksum: e.map(|e| e.checksum.clone()),
                applied_at: e.and_then(|e| e.applied_at.clone()).filter(|_| row.state != State::Pending),
                duration_ms: e.and_then(|e| e.duration_ms),
                failed_step: e.and_then(|e| e.failed_step),
                error: e.and_then(|e| e.error.clone()),
                runner: e.map(|e| e.runner.clone()),
                row,
            }
        })
        .collect();
    let holder = match lock::current(&env.client, &env.database.id) {
        Ok(h) => h,
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    Ok((lines, holder))
}

/// `qw migrate unlock`: removes the lock whoever holds it; returns who did.
pub fn unlock(env: &Environment) -> Result<Option<Holder>, Error> {
    match lock::force_release(&env.client, &env.database.id) {
        Err(e) if e.is_not_found() => Ok(None),
        other => other,
    }
}

/// Why `accept` refused.
#[derive(Debug, Clone)]
pub enum AcceptError {
    Api(Error),
    /// Nothing to accept: the message says why.
    Nothing(String),
}

/// `qw migrate accept`: records the file's current checksum for an applied migration that was
/// edited, after the user confirmed the edit does not change what ran.
pub fn accept(env: &Environment, migrations: &[Migration], version: u32) -> Result<(String, String), AcceptError> {
    let history = read_history(env).map_err(AcceptError::Api)?;
    let Some(m) = migrations.iter().find(|m| m.version == version) else {
        return Err(AcceptError::Nothing(format!("there is no migration {version:03} in migrations/")));
    };
    let Some(mut entry) = history.into_iter().find(|e| e.version == version && e.status == Recorded::Applied) else {
        return Err(AcceptError::Nothing(format!("{} is not applied in {}", m.label(), env.name)));
    };
    if entry.checksum == m.checksum {
        return Err(AcceptError::Nothing(format!("{} is unchanged since it was applied", m.label())));
    }
    let old = std::mem::replace(&mut entry.checksum, m.checksum.clone());
    entry.done = step_checksums(m);
    entry.steps_total = entry.done.len();
    history::save(&env.client, &env.database.id, &entry).map_err(AcceptError::Api)?;
    Ok((old, m.checksum.clone()))
}
