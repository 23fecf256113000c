//! `qw routes`: each API route and the function serving it, ✅ or ❌.

use std::process::ExitCode;

use super::output::{self, heading, print_findings, print_json, report_json, summary};
use super::Global;
use studio::checks::{routes, CheckInput};
use studio::project::python::SyntaxReport;
use studio::project::tree::DiskTree;

pub fn run(global: &Global) -> ExitCode {
    let (root, project) = match output::load(global) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let tree = DiskTree::new(&root);
    let findings = routes::check(&CheckInput { project: &project, tree: &tree, environment: None, python: &SyntaxReport::default() });
    if global.json {
        let mut report = report_json(&root, None, &findings);
        report["routes"] = serde_json::to_value(project.routes.as_ref().map(|r| &r.routes)).expect("routes serialise");
        print_json(&report);
    } else {
        if let Some(r) = &project.routes {
            heading(&format!("API routes (default version {})", r.default_version));
        }
        print_findings(&findings, false);
        summary(&findings);
    }
    output::exit_for(&findings)
}
