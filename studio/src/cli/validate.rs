//! `qw validate [ENV]`: every consistency check, the design's check-consistency.

use std::process::ExitCode;

use clap::Args as ClapArgs;

use super::output::{self, heading, print_findings, print_json, report_json, summary};
use super::Global;
use studio::checks::{CheckInput, Registry};
use studio::project::python;
use studio::project::tree::DiskTree;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Check only this environment (dev, staging, prod); the default is all of them.
    env: Option<String>,
}

pub fn run(global: &Global, args: Args) -> ExitCode {
    let (root, project) = match output::load(global) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Some(env) = &args.env {
        if let Err(code) = output::known_environment(global, &project, env) {
            return code;
        }
    }
    let syntax = python::check_syntax(&python::python_sources(&project));
    let tree = DiskTree::new(&root);
    let input = CheckInput { project: &project, tree: &tree, environment: args.env.as_deref(), python: &syntax };
    let findings = Registry::standard().run(&input);
    if global.json {
        print_json(&report_json(&root, args.env.as_deref(), &findings));
    } else {
        let scope = args.env.as_deref().map(|e| format!("environment {e}")).unwrap_or_else(|| "all environments".into());
        heading(&format!("qw validate: {} ({scope})", root.display()));
        print_findings(&findings, true);
        summary(&findings);
    }
    output::exit_for(&findings)
}
