//! The dependency graph: unknown functions, cycles, and `depends_on` / `depended_by` that disagree.

use super::CheckInput;
use crate::finding::{Finding, Level};
use crate::project::graph::DependencyGraph;
use crate::project::paths;
use crate::project::pointer::pointer;

/// The family name.
pub const FAMILY: &str = "dependencies";

/// Every dependency finding; the graph is project-wide, so the environment does not narrow it.
pub fn check(input: &CheckInput) -> Vec<Finding> {
    let project = input.project;
    let mut findings = Vec::new();
    for (name, dir) in &project.functions {
        let Some(deps) = &dir.dependencies else { continue };
        for (field, list) in [("depends_on", &deps.depends_on), ("depended_by", &deps.depended_by)] {
            for (i, other) in list.iter().enumerate() {
                let at = pointer(&[field.to_string(), i.to_string()]);
                let Some(other_dir) = project.functions.get(other) else {
                    findings.push(
                        Finding::new(Level::Error, FAMILY, "dependency-unknown", paths::dependencies(name), at, format!("{name} {field} {other}, which is not a function folder"))
                            .hint(format!("create functions/{other} or remove it from {field}")),
                    );
                    continue;
                };
                let (mirror, mirror_list) = match field {
                    "depends_on" => ("depended_by", other_dir.dependencies.as_ref().map(|d| &d.depended_by)),
                    _ => ("depends_on", other_dir.dependencies.as_ref().map(|d| &d.depends_on)),
                };
                if !mirror_list.is_some_and(|l| l.contains(name)) {
                    findings.push(
                        Finding::new(Level::Error, FAMILY, "dependency-disagreement", paths::dependencies(name), at, format!("{name} {field} {other}, but {} does not list {name} in {mirror}", paths::dependencies(other)))
                            .hint(format!("add {name} to {mirror} of {}", paths::dependencies(other))),
                    );
                }
            }
        }
    }
    let cycles = DependencyGraph::of(project).cycles();
    for cycle in &cycles {
        let first = &cycle[0];
        let index = project.dependencies_of(first).and_then(|d| d.depends_on.iter().position(|x| *x == cycle[1])).unwrap_or(0);
        findings.push(
            Finding::new(Level::Error, FAMILY, "dependency-cycle", paths::dependencies(first), pointer(&["depends_on".to_string(), index.to_string()]), format!("dependency cycle: {}", cycle.join(" → ")))
                .hint("break the cycle: one of these functions must not need the next one at deploy time"),
        );
    }
    if findings.is_empty() {
        findings.push(Finding::new(Level::Ok, FAMILY, "dependencies-ok", paths::FUNCTIONS, "", format!("{} functions, dependencies agree, no cycle", project.functions.len())));
    }
    findings
}
