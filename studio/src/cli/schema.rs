//! `qw schema generate`: schemas/ written from a replay of the migrations.

use std::process::ExitCode;

use anstream::println;
use clap::Subcommand;
use serde_json::json;

use super::output::{self, heading, print_findings, print_json, report_json, summary};
use super::Global;
use studio::finding::Level;
use studio::migrate::check::{replay_all, Mode};
use studio::migrate::format;
use studio::migrate::host::Host;
use studio::migrate::schema_gen;
use studio::project::tree::DiskTree;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay migrations/ on a fresh in-memory emulator and write schemas/ from the result.
    Generate,
}

pub fn run(global: &Global, cmd: Command) -> ExitCode {
    let Command::Generate = cmd;
    let (root, project) = match output::load(global) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let tree = DiskTree::new(&root);
    let migrations = match format::load(&tree) {
        Ok(m) => m,
        Err(problems) => {
            if global.json {
                print_json(&report_json(&root, None, &problems));
            } else {
                print_findings(&problems, false);
            }
            return ExitCode::from(output::UNUSABLE);
        }
    };
    let host = match Host::start() {
        Ok(h) => h,
        Err(m) => return output::usage_error(global, &m),
    };
    let mut findings = Vec::new();
    let envs = project.environment_names();
    let envs: Vec<&str> = envs.iter().map(String::as_str).collect();
    let replays = replay_all(&host, Some(root.clone()), &project, &envs, &migrations, Mode::Trace, &mut findings);
    if findings.iter().any(|f| f.level == Level::Error) {
        if global.json {
            print_json(&report_json(&root, None, &findings));
        } else {
            heading("the migrations cannot be replayed; schemas/ left as they are");
            print_findings(&findings, false);
            summary(&findings);
        }
        return ExitCode::from(output::FAILED);
    }
    let (plan, stale) = schema_gen::plan(&project, &tree, &replays, &migrations);
    let mut changed = Vec::new();
    for w in &plan.writes {
        let current = std::fs::read_to_string(root.join(&w.path)).ok();
        if current.as_deref() != Some(w.content.as_str()) {
            changed.push(w.path.clone());
        }
    }
    let result = plan.apply(&root).and_then(|_| stale.iter().try_for_each(|s| std::fs::remove_file(root.join(s))));
    if let Err(e) = result {
        return output::usage_error(global, &format!("could not write schemas/: {e}"));
    }
    if global.json {
        print_json(&json!({"ok": true, "migrations": migrations.len(), "changed": changed, "removed": stale}));
    } else {
        heading(&format!("{} schemas/ generated from {} migrations", Level::Ok.symbol(), migrations.len()));
        if changed.is_empty() && stale.is_empty() {
            println!("  schemas/ already matched the migrations: nothing changed");
        }
        for c in &changed {
            println!("  updated {c}");
        }
        for s in &stale {
            println!("  removed {s}");
        }
        if !changed.is_empty() || !stale.is_empty() {
            println!("  next: bring environments/*/appwrite.json in line (qw validate shows where)");
        }
    }
    ExitCode::SUCCESS
}
