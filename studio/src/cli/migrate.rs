//! `qw migrate …`: create, up, down, status, unlock, accept and check.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anstream::println;
use clap::{Args as ClapArgs, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::output::{self, heading, print_findings, print_json, report_json, style, summary};
use super::Global;
use studio::appwrite::{Client, Connection};
use studio::finding::Level;
use studio::migrate::check::{self, environment_database};
use studio::migrate::format::{self, Migration};
use studio::migrate::run::{self, Environment, Event, Options, RunError};
use studio::project::secrets::{self, SecretValue, SystemSecrets};
use studio::project::target::target;
use studio::project::tree::DiskTree;
use studio::project::Project;
use studio::scaffold::{FileWrite, Plan, PlanError};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create migrations/NNN_NAME.json (or .js with --js), numbered after the last one.
    Create {
        /// The migration's name, lowercase snake_case (e.g. add_api_keys).
        name: String,
        /// Write a JavaScript migration (run with node-appwrite) instead of declarative steps.
        #[arg(long)]
        js: bool,
    },
    /// Apply pending migrations to an environment, resuming one that stopped part way.
    Up {
        /// dev, staging or prod.
        env: String,
        /// Stop after this migration number.
        #[arg(long)]
        to: Option<u32>,
        /// Show what would run and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Roll back the last COUNT migrations applied to an environment (default 1).
    Down {
        /// dev, staging or prod.
        env: String,
        /// How many migrations to roll back.
        #[arg(default_value_t = 1)]
        count: usize,
        /// Show what would run and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Each migration's state in an environment: applied, pending, changed, missing, failed.
    Status {
        /// dev, staging or prod.
        env: String,
    },
    /// Remove the lock of a runner that died (check first that none is running).
    Unlock {
        /// dev, staging or prod.
        env: String,
    },
    /// Record the current checksum of an applied migration whose file was edited harmlessly.
    Accept {
        /// dev, staging or prod.
        env: String,
        /// The migration number.
        version: u32,
    },
    /// Replay every migration on a fresh in-memory emulator and prove schemas/ and each down.
    Check,
}

/// Options of the commands that change an environment.
#[derive(ClapArgs, Debug, Clone)]
pub struct RunArgs {
    /// Wait up to this many seconds for another runner's lock (default: stop at once).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    lock_wait: u64,
    /// Remove an existing lock first (only when its runner is known to be dead).
    #[arg(long)]
    break_lock: bool,
    /// How long an attribute or index may take to become available.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    available_timeout: u64,
}

pub fn run(global: &Global, cmd: Command) -> ExitCode {
    let (root, project) = match output::load(global) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let tree = DiskTree::new(&root);
    if let Command::Create { name, js } = &cmd {
        return super::collection::apply(global, &root, create_plan(&project, &tree, name, *js), &format!("created migration {name}"));
    }
    let migrations = match format::load(&tree) {
        Ok(m) => m,
        Err(problems) => {
            if global.json {
                print_json(&report_json(&root, None, &problems));
            } else {
                heading("migrations/ cannot be read:");
                print_findings(&problems, false);
            }
            return ExitCode::from(output::UNUSABLE);
        }
    };
    if let Command::Check = cmd {
        let envs = project.environment_names();
        let findings = check::check(&project, &tree, &envs.iter().map(String::as_str).collect::<Vec<_>>());
        if global.json {
            print_json(&report_json(&root, None, &findings));
        } else {
            heading(&format!("qw migrate check: {} migrations replayed on a fresh emulator", migrations.len()));
            print_findings(&findings, false);
            summary(&findings);
        }
        return output::exit_for(&findings);
    }
    let env_name = match &cmd {
        Command::Up { env, .. } | Command::Down { env, .. } | Command::Status { env } | Command::Unlock { env } | Command::Accept { env, .. } => env.clone(),
        Command::Create { .. } | Command::Check => unreachable!("handled above"),
    };
    // A version that names no migration is a typo, not "all of them".
    let named = match &cmd {
        Command::Up { to: Some(v), .. } | Command::Accept { version: v, .. } => Some(*v),
        _ => None,
    };
    if let Some(v) = named.filter(|v| !migrations.iter().any(|m| m.version == *v)) {
        let last = migrations.last().map(|m| format!("the last is {}", m.label())).unwrap_or_else(|| "there are none".into());
        return output::usage_error(global, &format!("there is no migration {v:03} in migrations/ ({last})"));
    }
    let env = match connect(global, &project, &root, &env_name) {
        Ok(e) => e,
        Err(code) => return code,
    };
    match cmd {
        Command::Up { to, dry_run, run: r, .. } => {
            let opts = options(&r, "up", &env_name);
            perform(global, &env, &migrations, dry_run, |on| run::up(&env, &migrations, to, dry_run, &opts, on))
        }
        Command::Down { count, dry_run, run: r, .. } => {
            let opts = options(&r, "down", &env_name);
            perform(global, &env, &migrations, dry_run, |on| run::down(&env, &migrations, count, dry_run, &opts, on))
        }
        Command::Status { .. } => status(global, &env, &migrations),
        Command::Unlock { .. } => match run::unlock(&env) {
            Ok(holder) => {
                if global.json {
                    print_json(&json!({"ok": true, "environment": env.name, "removed": holder}));
                } else {
                    match holder {
                        Some(h) => println!("{} removed the lock of {h}", Level::Ok.symbol()),
                        None => println!("{} {} was not locked", Level::Ok.symbol(), env.name),
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => failed(global, &format!("cannot reach {}: {e}", env.client.connection().endpoint)),
        },
        Command::Accept { version, .. } => match run::accept(&env, &migrations, version) {
            Ok((old, new)) => {
                if global.json {
                    print_json(&json!({"ok": true, "environment": env.name, "version": version, "previous_checksum": old, "checksum": new}));
                } else {
                    println!("{} {}: migration {version:03} now recorded with checksum {} (was {})", Level::Ok.symbol(), env.name, &new[..12], &old[..12]);
                }
                ExitCode::SUCCESS
            }
            Err(run::AcceptError::Nothing(m)) => failed(global, &m),
            Err(run::AcceptError::Api(e)) => failed(global, &format!("cannot reach {}: {e}", env.client.connection().endpoint)),
        },
        Command::Create { .. } | Command::Check => unreachable!("handled above"),
    }
}

fn options(r: &RunArgs, verb: &str, env: &str) -> Options {
    Options {
        lock_wait: Duration::from_secs(r.lock_wait),
        break_lock: r.break_lock,
        available_timeout: Duration::from_secs(r.available_timeout.max(1)),
        command: format!("qw migrate {verb} {env}"),
        ..Options::default()
    }
}

/// The environment's endpoint, project, API key and database, or exit code 2 with the reason.
fn connect(global: &Global, project: &Project, root: &std::path::Path, env: &str) -> Result<Environment, ExitCode> {
    output::known_environment(global, project, env)?;
    let t = target(project, env, &|k| std::env::var(k).ok()).expect("known environment");
    if let Some(problem) = t.endpoint_problem() {
        return Err(output::usage_error(global, &problem));
    }
    let api_key = match secrets::lookup(&t.api_key, &SystemSecrets) {
        SecretValue::Found { value, .. } => value,
        SecretValue::Missing { reason } => return Err(output::usage_error(global, &format!("no API key for {env}: {reason}"))),
    };
    let database = environment_database(project, env).map_err(|m| output::usage_error(global, &m))?;
    let conn = Connection { endpoint: t.endpoint.value.clone(), project: t.project.value.clone(), api_key };
    let client = Client::new(conn, Duration::from_secs(60)).map_err(|e| output::usage_error(global, &e.to_string()))?;
    Ok(Environment { name: env.to_string(), client, database, root: root.to_path_buf() })
}

fn failed(global: &Global, message: &str) -> ExitCode {
    if global.json {
        print_json(&json!({"ok": false, "error": message}));
    } else {
        let s = style(Level::Error);
        println!("{} {s}{message}{s:#}", Level::Error.symbol());
    }
    ExitCode::from(output::FAILED)
}

/// Runs up or down with a progress bar on a terminal, then reports.
fn perform(global: &Global, env: &Environment, migrations: &[Migration], dry_run: bool, go: impl FnOnce(&mut dyn FnMut(Event)) -> Result<run::Report, RunError>) -> ExitCode {
    let conn = env.client.connection();
    if !global.json {
        heading(&format!("{} {} ({} project {}, database {})", if dry_run { "dry run on" } else { "migrating" }, env.name, conn.endpoint, conn.project, env.database.id));
    }
    let bar = ProgressBar::with_draw_target(Some(0), if !global.json && std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() });
    bar.set_style(ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} steps  {msg}").expect("valid template").progress_chars("=> "));
    // A long step (a data step over many documents, a JS migration) still shows it is alive.
    bar.enable_steady_tick(Duration::from_millis(120));
    let json = global.json;
    let mut on = |e: Event| match e {
        Event::Planned { steps } => bar.set_length(steps as u64),
        Event::Started { label, direction, .. } => bar.set_message(format!("{direction} {label}")),
        Event::StepDone { .. } => bar.inc(1),
        Event::Finished { label, direction, duration_ms } => {
            if !json {
                bar.suspend(|| println!("  {} {} {label} ({duration_ms} ms)", Level::Ok.symbol(), if direction == "up" { "applied" } else { "rolled back" }));
            }
        }
    };
    let result = go(&mut on);
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            if json {
                print_json(&json!({"ok": true, "report": report}));
            } else if report.actions.is_empty() {
                let applied = run::read_history(env).map(|h| h.len()).unwrap_or(0);
                println!("{} nothing to do: {} has {applied} of {} migrations applied", Level::Ok.symbol(), env.name, migrations.len());
            } else if dry_run {
                for a in &report.actions {
                    let verb = match a.action {
                        studio::migrate::plan::Action::Apply { from: 0, .. } => "would apply".to_string(),
                        studio::migrate::plan::Action::Apply { from, .. } => format!("would resume at step {}", from + 1),
                        studio::migrate::plan::Action::Revert { .. } => "would roll back".to_string(),
                    };
                    println!("  {verb} {} ({})", a.label, a.kind);
                    for (i, s) in a.steps.iter().enumerate() {
                        println!("     {}. {s}", i + 1);
                    }
                }
                println!("{} dry run: nothing was changed", Level::Ok.symbol());
            } else {
                println!("{} {} migration(s) done in {}", Level::Ok.symbol(), report.actions.len(), env.name);
            }
            ExitCode::SUCCESS
        }
        Err(e) => run_error(global, env, e),
    }
}

fn run_error(global: &Global, env: &Environment, e: RunError) -> ExitCode {
    let name = &env.name;
    let (error, lines): (serde_json::Value, Vec<String>) = match &e {
        RunError::Api(err) => (
            json!({"kind": "appwrite", "detail": err}),
            vec![format!("cannot use Appwrite at {}: {err}", env.client.connection().endpoint)],
        ),
        RunError::Locked(h) => (
            json!({"kind": "locked", "holder": h}),
            vec![
                format!("{name} is locked by another migration runner: {h}"),
                format!("fix: wait for it (--lock-wait SECONDS); if that runner is dead, remove its lock with `qw migrate unlock {name}` or pass --break-lock"),
            ],
        ),
        RunError::Blocked(blockers) => (
            json!({"kind": "blocked", "blockers": blockers}),
            blockers.iter().flat_map(|b| [b.message.clone(), format!("fix: {}", b.fix)]).collect(),
        ),
        RunError::Failed { label, direction, step, summary, message, done } => (
            json!({"kind": "step_failed", "migration": label, "direction": direction, "step": step, "summary": summary, "message": message, "done": done}),
            vec![
                format!("{label}: {direction} step {step} ({summary}) failed: {message}"),
                format!(
                    "the failure is recorded; {} stays applied; fix the step and run `qw migrate {direction} {name}` again to resume at step {step}",
                    if done.is_empty() { "everything before it".to_string() } else { done.iter().map(|d| d.label.clone()).collect::<Vec<_>>().join(", ") + " and the steps before it" }
                ),
            ],
        ),
    };
    if global.json {
        print_json(&json!({"ok": false, "environment": name, "error": error}));
    } else {
        let s = style(Level::Error);
        for (i, l) in lines.iter().enumerate() {
            if i == 0 || !l.starts_with("fix:") {
                println!("{} {s}{l}{s:#}", Level::Error.symbol());
            } else {
                println!("     {l}");
            }
        }
    }
    ExitCode::from(output::FAILED)
}

fn status(global: &Global, env: &Environment, migrations: &[Migration]) -> ExitCode {
    let (lines, holder) = match run::status(env, migrations) {
        Ok(x) => x,
        Err(e) => return failed(global, &format!("cannot read the history at {}: {e}", env.client.connection().endpoint)),
    };
    // A changed, missing or failed migration blocks `up`: status says so with exit code 1.
    let blocked = lines.iter().any(|l| matches!(l.row.state.word(), "changed" | "missing" | "failed"));
    let code = if blocked { ExitCode::from(output::FAILED) } else { ExitCode::SUCCESS };
    if global.json {
        print_json(&json!({"ok": !blocked, "environment": env.name, "database": env.database.id, "migrations": lines, "lock": holder}));
        return code;
    }
    heading(&format!("{}: {} ({} database {})", env.name, env.client.connection().endpoint, env.client.connection().project, env.database.id));
    println!("  {:<32} {:<16} {:<30} {:>9}  {}", "MIGRATION", "STATE", "APPLIED AT", "DURATION", "CHECKSUM");
    for l in &lines {
        let level = match l.row.state.word() {
            "applied" => Level::Ok,
            "pending" => Level::Warning,
            _ => Level::Error,
        };
        let s = style(level);
        let state = match (&l.row.state, l.failed_step) {
            (studio::migrate::plan::State::Failed { .. }, Some(step)) => format!("failed at step {step}"),
            (st, _) => st.word().to_string(),
        };
        let checksum = l.checksum.as_deref().or(l.applied_checksum.as_deref()).map(|c| &c[..12]).unwrap_or("");
        let duration = l.duration_ms.map(|d| format!("{d} ms")).unwrap_or_default();
        println!("  {} {:<30} {s}{:<16}{s:#} {:<30} {:>9}  {checksum}", level.symbol(), l.row.label, state, l.applied_at.as_deref().unwrap_or(""), duration);
        if let Some(err) = l.error.as_ref().filter(|_| level == Level::Error) {
            println!("     {err}");
        }
        if l.row.state.word() == "changed" {
            println!("     applied with checksum {}; restore the file or `qw migrate accept {} {}`", &l.applied_checksum.as_deref().unwrap_or("")[..12], env.name, l.row.version);
        }
    }
    match holder {
        Some(h) => println!("  {} locked by {h}", Level::Warning.symbol()),
        None => println!("  not locked"),
    }
    code
}

/// The file `qw migrate create` writes.
fn create_plan(project: &Project, tree: &DiskTree, name: &str, js: bool) -> Result<Plan, PlanError> {
    if format::parse_file_name(&format!("001_{name}.json")).is_none() {
        return Err(PlanError::Usage(format!("{name:?} is not a valid migration name: use lowercase letters, digits and underscores")));
    }
    let version = studio::scaffold::collection::next_migration_version(project, tree);
    let description = name.replace('_', " ");
    let (path, content) = if js {
        (
            format!("{}/{version:03}_{name}.js", format::FOLDER),
            format!(
                "// {version:03}_{name}: {description}.\n// Run by `qw migrate` with node-appwrite's Databases bound to the environment; `databaseId` is\n// its database. Make each function safe to run again: a failed run is retried from the start.\nexport default {{\n  up: async (databases, {{ databaseId }}) => {{\n  }},\n  down: async (databases, {{ databaseId }}) => {{\n  }},\n}};\n"
            ),
        )
    } else {
        (
            format!("{}/{version:03}_{name}.json", format::FOLDER),
            studio::scaffold::json_text(&json!({"$schema": "../schemas/json/migration.schema.json", "description": description, "up": []})),
        )
    };
    Ok(Plan {
        writes: vec![FileWrite { path: path.clone(), new: true, content }],
        notes: vec![format!("write its steps in {path}, then `qw migrate check` and `qw schema generate`")],
    })
}
