//! `qw collection create NAME`: a collection schema added to every environment.

use std::path::Path;
use std::process::ExitCode;

use anstream::println;
use clap::Subcommand;
use serde_json::json;

use super::output::{self, heading, print_json, style};
use super::Global;
use studio::finding::Level;
use studio::project::tree::DiskTree;
use studio::scaffold::collection::{plan, Request};
use studio::scaffold::{Plan, PlanError};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create schemas/collections/NAME.json and add the collection to each environment's database.
    Create {
        /// The collection ID, e.g. api_keys.
        name: String,
        /// The display name (default: the ID with spaces).
        #[arg(long = "display-name")]
        display_name: Option<String>,
    },
}

pub fn run(global: &Global, cmd: Command) -> ExitCode {
    let Command::Create { name, display_name } = cmd;
    let (root, project) = match output::load(global) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let result = plan(&project, &DiskTree::new(&root), &Request { id: name.clone(), name: display_name });
    apply(global, &root, result, &format!("created collection {name}"))
}

/// Applies a scaffold plan and reports it; shared by the create commands.
pub fn apply(global: &Global, root: &Path, result: Result<Plan, PlanError>, done: &str) -> ExitCode {
    let plan = match result {
        Ok(plan) => plan,
        Err(PlanError::Usage(m)) => return output::usage_error(global, &m),
        Err(PlanError::Conflict(m)) => {
            if global.json {
                print_json(&json!({"ok": false, "error": m}));
            } else {
                println!("{} {}{m}{:#}", Level::Error.symbol(), style(Level::Error), style(Level::Error));
            }
            return ExitCode::from(output::FAILED);
        }
    };
    if let Err(e) = plan.apply(root) {
        let m = format!("could not write the files: {e}");
        if global.json {
            print_json(&json!({"ok": false, "error": m}));
        } else {
            println!("{} {m}", Level::Error.symbol());
        }
        return ExitCode::from(output::FAILED);
    }
    if global.json {
        print_json(&json!({"ok": true, "written": plan.writes, "notes": plan.notes}));
    } else {
        heading(&format!("{} {done}", Level::Ok.symbol()));
        for w in &plan.writes {
            println!("  {} {}", if w.new { "created" } else { "updated" }, w.path);
        }
        for n in &plan.notes {
            println!("  next: {n}");
        }
    }
    ExitCode::SUCCESS
}
