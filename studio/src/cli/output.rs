//! Shared by the project commands: finding the project, loading it, and printing reports.

use std::path::PathBuf;
use std::process::ExitCode;

use anstream::{eprintln, println};
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use serde_json::json;

use super::Global;
use studio::finding::{Finding, Level, Tally};
use studio::project::{self, paths, Project};

/// Exit code: a check or operation failed.
pub const FAILED: u8 = 1;
/// Exit code: bad usage or unreadable configuration.
pub const UNUSABLE: u8 = 2;

const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// The colour of a level.
pub fn style(level: Level) -> Style {
    match level {
        Level::Ok => AnsiColor::Green.on_default(),
        Level::Warning => AnsiColor::Yellow.on_default(),
        Level::Error => AnsiColor::Red.on_default().bold(),
    }
}

/// A heading line.
pub fn heading(text: &str) {
    println!("{BOLD}{text}{BOLD:#}");
}

/// Prints a JSON document to stdout.
pub fn print_json(value: &impl Serialize) {
    println!("{}", serde_json::to_string_pretty(value).expect("report serialises"));
}

/// Reports bad usage and returns exit code 2, as JSON when asked.
pub fn usage_error(global: &Global, message: &str) -> ExitCode {
    if global.json {
        print_json(&json!({"ok": false, "error": message}));
    } else {
        let s = style(Level::Error);
        eprintln!("{s}error:{s:#} {message}");
    }
    ExitCode::from(UNUSABLE)
}

/// The project root: `--project-dir`, else the nearest folder up from here holding environments/.
pub fn project_root(global: &Global) -> Result<PathBuf, String> {
    match &global.project_dir {
        Some(dir) if dir.join(paths::ENVIRONMENTS).is_dir() => Ok(dir.clone()),
        Some(dir) => Err(format!("{} is not a QuixoticWhisper project: it has no {}/ folder", dir.display(), paths::ENVIRONMENTS)),
        None => {
            let here = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
            project::locate::find_root(&here).ok_or_else(|| format!("no QuixoticWhisper project here: no {}/ folder in {} or above (use --project-dir)", paths::ENVIRONMENTS, here.display()))
        }
    }
}

/// Finds and loads the project; on failure prints why and gives the exit code 2.
pub fn load(global: &Global) -> Result<(PathBuf, Project), ExitCode> {
    let root = project_root(global).map_err(|m| usage_error(global, &m))?;
    match project::load_dir(&root) {
        Ok(p) => Ok((root, p)),
        Err(failure) => {
            if global.json {
                print_json(&report_json(&root, None, &failure.findings));
            } else {
                heading(&format!("{} cannot be read:", root.display()));
                print_findings(&failure.findings, false);
                summary(&failure.findings);
            }
            Err(ExitCode::from(UNUSABLE))
        }
    }
}

/// The standard JSON report of findings.
pub fn report_json(root: &std::path::Path, environment: Option<&str>, findings: &[Finding]) -> serde_json::Value {
    let tally = Tally::of(findings);
    json!({
        "project": root.display().to_string(),
        "environment": environment,
        "ok": tally.errors == 0,
        "summary": tally,
        "findings": findings,
    })
}

/// Prints findings grouped by check family, each with its place and hint.
pub fn print_findings(findings: &[Finding], grouped: bool) {
    let mut family = "";
    for f in findings {
        if grouped && f.check != family {
            family = &f.check;
            heading(family);
        }
        print_finding(f);
    }
}

/// Prints one finding.
pub fn print_finding(f: &Finding) {
    let s = style(f.level);
    println!("  {} {s}{}{s:#}", f.level.symbol(), f.message);
    if f.level != Level::Ok {
        let place = if f.pointer.is_empty() { f.file.clone() } else { format!("{}#{}", f.file, f.pointer) };
        println!("     {DIM}at {place}{DIM:#}");
        if let Some(hint) = &f.hint {
            println!("     {DIM}fix: {hint}{DIM:#}");
        }
    }
}

/// Prints the closing count line.
pub fn summary(findings: &[Finding]) {
    tally_line(Tally::of(findings));
}

/// Prints the closing count line of a tally.
pub fn tally_line(t: Tally) {
    let s = style(if t.errors > 0 { Level::Error } else if t.warnings > 0 { Level::Warning } else { Level::Ok });
    println!("{s}{} error(s), {} warning(s), {} ok{s:#}", t.errors, t.warnings, t.ok);
}

/// 1 when any finding is an error, else 0.
pub fn exit_for(findings: &[Finding]) -> ExitCode {
    if findings.iter().any(|f| f.level == Level::Error) {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Checks that `env` is one of the project's environments.
pub fn known_environment(global: &Global, project: &Project, env: &str) -> Result<(), ExitCode> {
    if project.environments.contains_key(env) {
        Ok(())
    } else {
        Err(usage_error(global, &format!("unknown environment {env:?}; the project has: {}", project.environment_names().join(", "))))
    }
}
