//! `qw migrate check` and the schema-versus-migrations check of `qw validate`: every migration
//! replayed on a fresh in-memory emulator, the schema it produces compared with `schemas/`, and
//! each migration's `down` proven to restore the schema before it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::format::{self, Body, Migration, FAMILY};
use super::host::Host;
use super::inverse;
use super::run::{self, DatabaseRef, Environment, Options};
use super::snapshot::{self, CollectionSnap, DatabaseSnap, Difference, Snapshot};
use crate::appwrite::Client;
use crate::checks::{Check, CheckInput};
use crate::finding::{Finding, Level};
use crate::project::tree::Tree;
use crate::project::{paths, Project};

/// The database an environment's migrations run in: the one database of its appwrite.json.
pub fn environment_database(project: &Project, env: &str) -> Result<DatabaseRef, String> {
    let e = project.environments.get(env).ok_or_else(|| format!("unknown environment {env:?}"))?;
    match e.appwrite.databases.as_slice() {
        [db] => Ok(DatabaseRef { id: db.id.clone(), name: db.name.clone(), enabled: db.enabled }),
        dbs => Err(format!("{} lists {} databases; migrations run in an environment's one database", paths::appwrite(env), dbs.len())),
    }
}

/// What one environment's replay produced.
#[derive(Debug, Clone)]
pub struct Replay {
    pub environment: String,
    pub database: DatabaseRef,
    /// The schema after every migration.
    pub schema: Snapshot,
    /// The last migration that changed each `(database, collection)`.
    pub versions: BTreeMap<(String, String), u32>,
}

/// How much a replay does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each migration's up → down → compare → up again, and which migration changed what.
    Prove,
    /// Migration by migration, recording which one last changed each collection.
    Trace,
    /// All migrations in one run; `versions` are left for the caller to fill in.
    Plain,
}

/// Replays `migrations` for `env` on the emulator `host` as `mode` says. Problems become
/// findings; `None` when the replay stopped.
pub fn replay(host: &Host, root: Option<PathBuf>, project: &Project, env: &str, migrations: &[Migration], mode: Mode, findings: &mut Vec<Finding>) -> Option<Replay> {
    let prove_down = mode == Mode::Prove;
    let error = |code: &str, file: &str, message: String, hint: &str| Finding::new(Level::Error, FAMILY, code, file, "", message).hint(hint).env(env);
    let database = match environment_database(project, env) {
        Ok(d) => d,
        Err(m) => {
            findings.push(error("migrations-database", &paths::appwrite(env), m, "give the environment exactly one database"));
            return None;
        }
    };
    let conn = match host.project(&format!("check-{env}")) {
        Ok(c) => c,
        Err(m) => {
            findings.push(error("migrations-emulator", "migrations", m, "this is a bug of qw"));
            return None;
        }
    };
    let client = match Client::new(conn, Duration::from_secs(60)) {
        Ok(c) => c,
        Err(e) => {
            findings.push(error("migrations-emulator", "migrations", e.to_string(), "this is a bug of qw"));
            return None;
        }
    };
    let has_scripts = migrations.iter().any(|m| matches!(m.body, Body::Script(_)));
    if has_scripts && root.is_none() {
        findings.push(error("migrations-js-unavailable", "migrations", "JS migrations can only be replayed from a project on disk".into(), "run the check on the project folder"));
        return None;
    }
    let environment = Environment { name: env.to_string(), client, database: database.clone(), root: root.unwrap_or_default() };
    let opts = Options { available_timeout: Duration::from_secs(30), command: "qw migrate check".into(), ..Options::default() };
    let quiet = &mut |_| {};
    let read = |findings: &mut Vec<Finding>| match snapshot::read(&environment.client) {
        Ok(s) => Some(s),
        Err(e) => {
            findings.push(error("migrations-emulator", "migrations", format!("cannot read the replayed schema: {e}"), "this is a bug of qw"));
            None
        }
    };
    // The database and the runner's collections exist before the first migration.
    if let Err(e) = run::up(&environment, migrations, Some(0), false, &opts, quiet) {
        findings.push(error("migration-replay-failed", "migrations", format!("cannot prepare the replay: {}", describe(&e)), "this is a bug of qw"));
        return None;
    }
    let mut versions = BTreeMap::new();
    let mut proven = 0;
    // The schema as it stands; each migration's "before" is the previous one's result.
    let mut current: Option<Snapshot> = None;
    if mode == Mode::Plain {
        if let Err(e) = run::up(&environment, migrations, None, false, &opts, quiet) {
            findings.push(error("migration-replay-failed", "migrations", format!("{env}: replaying the migrations fails: {}", describe(&e)), "fix the step; the replay stops here"));
            return None;
        }
    }
    for m in migrations.iter().filter(|_| mode != Mode::Plain) {
        let before = match current.take() {
            Some(s) => s,
            None => read(findings)?,
        };
        if let Err(e) = run::up(&environment, migrations, Some(m.version), false, &opts, quiet) {
            findings.push(error("migration-replay-failed", &m.file, format!("{env}: replaying {} fails: {}", m.label(), describe(&e)), "fix the step; the replay stops here"));
            return None;
        }
        let after = read(findings)?;
        for key in snapshot::changed_collections(&before, &after) {
            versions.insert(key, m.version);
        }
        if !prove_down {
            current = Some(after);
            continue;
        }
        if !run::local_of(m).reversible {
            let why = match &m.body {
                Body::Steps(f) => inverse::down_steps(f).err().map(|(i, r)| format!("step {} ({}): {r}", i + 1, f.up[i].op.summary())).unwrap_or_default(),
                Body::Script(_) => "its module has no down".into(),
            };
            findings.push(Finding::new(Level::Warning, FAMILY, "migration-irreversible", &m.file, "/up", format!("{} cannot be rolled back: {why}", m.label())).hint("write its `down`").env(env));
            current = Some(after);
            continue;
        }
        if let Err(e) = run::down(&environment, migrations, 1, false, &opts, quiet) {
            findings.push(error("migration-down-failed", &m.file, format!("{env}: rolling back {} fails: {}", m.label(), describe(&e)), "fix its down"));
            return None;
        }
        let back = read(findings)?;
        let differences = snapshot::diff(&before, &back);
        for d in &differences {
            findings.push(error("migration-down-differs", &m.file, format!("{env}: down of {} does not restore the schema before it: {}", m.label(), d.message()), "make down undo exactly what up does"));
        }
        if let Err(e) = run::up(&environment, migrations, Some(m.version), false, &opts, quiet) {
            findings.push(error("migration-replay-failed", &m.file, format!("{env}: applying {} again after its down fails: {}", m.label(), describe(&e)), "make down undo exactly what up does"));
            return None;
        }
        let again = read(findings)?;
        for d in snapshot::diff(&after, &again) {
            findings.push(error("migration-reapply-differs", &m.file, format!("{env}: {} applied again after its down gives another schema: {}", m.label(), d.message()), "make down undo exactly what up does"));
        }
        if differences.is_empty() {
            proven += 1;
        }
        current = Some(again);
    }
    let schema = match current {
        Some(s) => s,
        None => read(findings)?,
    };
    if prove_down && proven > 0 {
        findings.push(Finding::new(Level::Ok, FAMILY, "downs-proven", "migrations", "", format!("{env}: the down of {proven} of {} migrations restores the schema before it exactly", migrations.len())).env(env));
    }
    Some(Replay { environment: env.to_string(), database, schema, versions })
}

fn describe(e: &run::RunError) -> String {
    match e {
        run::RunError::Api(e) => e.to_string(),
        run::RunError::Locked(h) => format!("locked by {h}"),
        run::RunError::Blocked(b) => b.iter().map(|b| b.message.clone()).collect::<Vec<_>>().join("; "),
        run::RunError::Failed { direction, step, summary, message, .. } => format!("{direction} step {step} ({summary}): {message}"),
    }
}

/// What `schemas/` says the environment's databases hold.
pub fn expected(project: &Project, env: &str) -> Snapshot {
    let mut snap = Snapshot::default();
    let enabled = |id: &str| project.environments.get(env).and_then(|e| e.appwrite.databases.iter().find(|d| d.id == id)).map(|d| d.enabled).unwrap_or(true);
    for db in project.databases.values().filter(|d| d.value.environment == env) {
        let collections = db.value.collections.iter().filter_map(|c| project.collections.get(c).map(|s| (c.clone(), CollectionSnap::of_schema(&s.value)))).collect();
        snap.databases.insert(db.value.database_id.clone(), DatabaseSnap { name: db.value.name.clone(), enabled: enabled(&db.value.database_id), collections });
    }
    snap
}

/// Findings comparing a replay with `schemas/`.
pub fn compare(project: &Project, replay: &Replay, migrations: &[Migration]) -> Vec<Finding> {
    let env = replay.environment.as_str();
    let mut want = expected(project, env);
    // Buckets are described by appwrite.json, not schemas/: they are compared only by the down proof.
    want.buckets = replay.schema.buckets.clone();
    let mut findings: Vec<Finding> = snapshot::diff(&want, &replay.schema).iter().map(|d| mismatch(project, env, d)).collect();
    for (id, db) in &replay.schema.databases {
        for c in db.collections.keys() {
            let (Some(schema), Some(v)) = (project.collections.get(c), replay.versions.get(&(id.clone(), c.clone()))) else { continue };
            if schema.value.migration_version != *v {
                let label = migrations.iter().find(|m| m.version == *v).map(|m| m.label()).unwrap_or_default();
                findings.push(
                    Finding::new(Level::Error, FAMILY, "migration-version-mismatch", &schema.file, "/migration_version", format!("{env}: collection {c}, migration_version: expected {}, actual {v} (last changed by {label})", schema.value.migration_version))
                        .hint(format!("set migration_version to {v}, or run qw schema generate"))
                        .env(env),
                );
            }
        }
    }
    if findings.is_empty() {
        let n: usize = replay.schema.databases.values().map(|d| d.collections.len()).sum();
        findings.push(Finding::new(Level::Ok, FAMILY, "schemas-proven", "migrations", "", format!("{env}: {} migrations replayed on a fresh emulator produce schemas/ exactly ({} with {n} collections)", migrations.len(), replay.database.id)).env(env));
    }
    findings
}

fn mismatch(project: &Project, env: &str, d: &Difference) -> Finding {
    let name = |p: Option<&String>, prefix: &str| p.and_then(|s| s.strip_prefix(prefix)).map(str::to_string);
    let (file, pointer) = match name(d.path.get(1), "collection ") {
        Some(c) => match project.collections.get(&c) {
            Some(s) => {
                let item = d.path.get(2);
                let pointer = match (name(item, "attribute "), name(item, "index ")) {
                    (Some(k), _) => at(&s.value.attributes, "attributes", &k, d.path.get(3)),
                    (_, Some(k)) => at(&s.value.indexes, "indexes", &k, d.path.get(3)),
                    _ => item.map(|p| format!("/{p}")).unwrap_or_default(),
                };
                (s.file.clone(), pointer)
            }
            None => (paths::collection(&c), String::new()),
        },
        None => (name(d.path.first(), "database ").map(|db| paths::database(&db)).unwrap_or_else(|| "schemas".into()), String::new()),
    };
    Finding::new(Level::Error, FAMILY, "schema-mismatch", file, pointer, format!("{env}: schemas/ and migrations disagree: {}", d.message()))
        .hint("change the schema file or add a migration (qw schema generate writes schemas/ from the migrations)")
        .env(env)
}

fn at(items: &[serde_json::Value], field: &str, key: &str, prop: Option<&String>) -> String {
    match items.iter().position(|v| v.get("key").and_then(serde_json::Value::as_str) == Some(key)) {
        Some(i) => format!("/{field}/{i}{}", prop.map(|p| format!("/{p}")).unwrap_or_default()),
        None => format!("/{field}"),
    }
}

/// Steps that lose data their migration's down does not bring back.
pub fn data_loss_findings(migrations: &[Migration]) -> Vec<Finding> {
    let mut out = Vec::new();
    for m in migrations {
        let Body::Steps(f) = &m.body else { continue };
        for i in 0..f.up.len() {
            if let Some(why) = inverse::data_loss(f, i) {
                out.push(Finding::new(Level::Warning, FAMILY, "destructive-step", &m.file, format!("/up/{i}"), format!("{} step {} ({}) {why}", m.label(), i + 1, f.up[i].op.summary())).hint("write a down that brings the data back (copy it aside first), or accept the loss knowingly"));
            }
        }
    }
    out
}

/// The whole check over `environments`: migration files, replay, comparison, down proof (on the
/// first environment; the others replay `up` only, since only database IDs and names differ).
pub fn check(project: &Project, tree: &dyn Tree, environments: &[&str]) -> Vec<Finding> {
    let migrations = match format::load(tree) {
        Ok(m) => m,
        Err(problems) => return problems,
    };
    let mut findings = data_loss_findings(&migrations);
    let host = match Host::start() {
        Ok(h) => h,
        Err(m) => return vec![Finding::new(Level::Error, FAMILY, "migrations-emulator", "migrations", "", m)],
    };
    for replay in replay_all(&host, tree.root().map(PathBuf::from), project, environments, &migrations, Mode::Prove, &mut findings) {
        findings.extend(compare(project, &replay, &migrations));
    }
    findings
}

/// Replays every environment: the first in `first` mode, the others plainly (only their database
/// differs), taking from the first which migration last changed each collection.
pub fn replay_all(host: &Host, root: Option<PathBuf>, project: &Project, environments: &[&str], migrations: &[Migration], first: Mode, findings: &mut Vec<Finding>) -> Vec<Replay> {
    let mut out: Vec<Replay> = Vec::new();
    for (i, env) in environments.iter().enumerate() {
        let mode = if i == 0 { first } else { Mode::Plain };
        let Some(mut replay) = replay(host, root.clone(), project, env, migrations, mode, findings) else { continue };
        if let Some(head) = out.first() {
            replay.versions = head
                .versions
                .iter()
                .map(|((db, c), v)| ((if *db == head.database.id { replay.database.id.clone() } else { db.clone() }, c.clone()), *v))
                .collect();
        }
        out.push(replay);
    }
    out
}

/// The check registered in `qw validate`'s migrations slot.
pub struct SchemaMigrationsCheck;

impl Check for SchemaMigrationsCheck {
    fn family(&self) -> &'static str {
        FAMILY
    }

    fn run(&self, input: &CheckInput) -> Vec<Finding> {
        if !input.tree.is_dir(format::FOLDER) {
            return vec![Finding::new(Level::Warning, FAMILY, "migrations-none", format::FOLDER, "", "there is no migrations/ folder: schemas/ are not backed by migrations").hint("create the first one with qw migrate create initial_schema")];
        }
        check(input.project, input.tree, &input.environments())
    }
}
