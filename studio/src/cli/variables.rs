//! `qw variables ENV [FUNCTION]`: the resolved hierarchy, one ✅ / ⚠️ / ❌ line per variable.

use std::process::ExitCode;

use anstream::println;
use anstyle::Style;
use clap::Args as ClapArgs;
use serde_json::json;

use super::output::{self, heading, print_json, style};
use super::Global;
use studio::finding::Tally;
use studio::project::secrets::SystemSecrets;
use studio::project::target::target;
use studio::project::variables::lines;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The environment: dev, staging or prod.
    env: String,
    /// Add this function's own variables and requirements.
    function: Option<String>,
}

pub fn run(global: &Global, args: Args) -> ExitCode {
    let (root, project) = match output::load(global) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if let Err(code) = output::known_environment(global, &project, &args.env) {
        return code;
    }
    if let Some(f) = &args.function {
        if !project.functions.contains_key(f) && project.environments[&args.env].function(f).is_none() {
            return output::usage_error(global, &format!("unknown function {f:?}; functions: {}", project.functions.keys().cloned().collect::<Vec<_>>().join(", ")));
        }
    }
    let target = target(&project, &args.env, &|v| std::env::var(v).ok()).expect("known environment");
    if let Some(problem) = target.endpoint_problem() {
        return output::usage_error(global, &problem);
    }
    let lines = lines(&project, &args.env, args.function.as_deref(), &SystemSecrets);
    let tally = Tally::of_levels(lines.iter().map(|l| l.level));
    if global.json {
        print_json(&json!({
            "project": root.display().to_string(),
            "environment": args.env,
            "function": args.function,
            "target": target,
            "ok": tally.errors == 0,
            "summary": tally,
            "variables": lines,
        }));
    } else {
        let dim = Style::new().dimmed();
        let scope = args.function.as_deref().map(|f| format!(" / {f}")).unwrap_or_default();
        heading(&format!("{}{scope}: {} project {}", args.env, target.endpoint.value, target.project.value));
        println!("  {dim}endpoint from {}, project from {}{dim:#}", target.endpoint.from, target.project.from);
        for line in &lines {
            let s = style(line.level);
            let value = line.value.as_deref().map(|v| format!(" = {v}")).unwrap_or_default();
            let origin = match (&line.from, &line.secret_source) {
                (_, Some(src)) => format!("secret, from {src}"),
                (Some(from), None) => format!("{} ({})", from.layer.name(), from.file),
                (None, None) => String::new(),
            };
            println!("{} {s}{}{value}{s:#}  {dim}{origin}{dim:#}", line.level.symbol(), line.name);
            for note in &line.notes {
                println!("     {dim}{note}{dim:#}");
            }
        }
        output::tally_line(tally);
    }
    if tally.errors > 0 {
        ExitCode::from(output::FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
