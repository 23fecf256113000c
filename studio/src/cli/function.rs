//! `qw function create NAME`: a function from the template, registered everywhere.

use std::process::ExitCode;

use clap::Subcommand;

use super::output;
use super::Global;
use studio::project::tree::DiskTree;
use studio::scaffold::function::{plan, Request};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create functions/NAME from templates/function-template and register it in every environment.
    Create {
        /// The function ID, e.g. translate-v1.
        name: String,
        /// What the function does (fills the template's description).
        #[arg(long)]
        description: Option<String>,
        /// A function this one needs, deployed before it (repeatable).
        #[arg(long = "depends-on", value_name = "FUNCTION")]
        depends_on: Vec<String>,
        /// A function that needs this one (repeatable).
        #[arg(long = "depended-by", value_name = "FUNCTION")]
        depended_by: Vec<String>,
    },
}

pub fn run(global: &Global, cmd: Command) -> ExitCode {
    let Command::Create { name, description, depends_on, depended_by } = cmd;
    let (root, project) = match output::load(global) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let request = Request { name: name.clone(), description, depends_on, depended_by };
    let result = plan(&project, &DiskTree::new(&root), &request);
    super::collection::apply(global, &root, result, &format!("created function {name}"))
}
