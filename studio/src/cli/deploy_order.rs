//! `qw deploy-order ENV`: the environment's functions, dependencies first, with the reason for each place.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anstream::println;
use clap::Args as ClapArgs;
use serde_json::json;

use super::output::{self, heading, print_finding, print_json, report_json};
use super::Global;
use studio::finding::{Finding, Level};
use studio::project::graph::DependencyGraph;
use studio::project::{paths, pointer::pointer};

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The environment: dev, staging or prod.
    env: String,
}

pub fn run(global: &Global, args: Args) -> ExitCode {
    let (root, project) = match output::load(global) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Err(code) = output::known_environment(global, &project, &args.env) {
        return code;
    }
    let env = &project.environments[&args.env];
    let included: BTreeSet<String> = env.appwrite.functions.iter().map(|f| f.id.clone()).collect();
    let mut problems = Vec::new();
    for name in &included {
        for (i, dep) in project.dependencies_of(name).map(|d| d.depends_on.clone()).unwrap_or_default().iter().enumerate() {
            if !included.contains(dep) {
                problems.push(
                    Finding::new(Level::Error, "dependencies", "dependency-unregistered", paths::dependencies(name), pointer(&["depends_on".to_string(), i.to_string()]), format!("{name} depends on {dep}, which is not registered in {}", args.env))
                        .hint(format!("register {dep} in {}", paths::appwrite(&args.env)))
                        .env(args.env.as_str()),
                );
            }
        }
    }
    let order = DependencyGraph::of(&project).deploy_order(&included);
    if let Err(cycles) = &order {
        for c in cycles {
            problems.push(Finding::new(Level::Error, "dependencies", "dependency-cycle", paths::dependencies(&c[0]), "/depends_on", format!("dependency cycle: {}", c.join(" → "))).hint("break the cycle; no order exists until then"));
        }
    }
    let steps = order.unwrap_or_default();
    if global.json {
        let mut report = report_json(&root, Some(&args.env), &problems);
        report["order"] = json!(steps.iter().map(|s| json!({"position": s.position, "function": s.function, "reason": s.reason(), "after": s.after.iter().map(|(f, _)| f).collect::<Vec<_>>()})).collect::<Vec<_>>());
        print_json(&report);
    } else {
        heading(&format!("Deploy order for {} ({})", args.env, paths::appwrite(&args.env)));
        for s in &steps {
            println!("{:>3}. {}  — {}", s.position, s.function, s.reason());
        }
        for p in &problems {
            print_finding(p);
        }
    }
    output::exit_for(&problems)
}
