//! Python syntax of the functions' sources, checked by the real interpreter without writing bytecode.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde::Serialize;

use super::Project;

/// The interpreter used, overridable for machines where `python3` is elsewhere.
pub const PYTHON_VAR: &str = "QW_PYTHON";

/// The outcome of compiling every `.py` file of every function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyntaxReport {
    /// Why nothing could be compiled (no interpreter), if so.
    pub unavailable: Option<String>,
    /// `functions/NAME/path.py` → "line N: message" for each file that does not compile.
    pub errors: BTreeMap<String, String>,
}

/// `functions/NAME/…py` → source, for every Python file of every function.
pub fn python_sources(project: &Project) -> BTreeMap<String, String> {
    let mut sources = BTreeMap::new();
    for (name, dir) in &project.functions {
        for (file, text) in &dir.files {
            if let (true, Some(text)) = (file.ends_with(".py"), text) {
                sources.insert(super::paths::function_file(name, file), text.clone());
            }
        }
    }
    sources
}

const COMPILE_ALL: &str = r#"
import json, sys
errors = {}
for path, source in json.load(sys.stdin).items():
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        errors[path] = "line %s: %s" % (e.lineno, e.msg)
    except ValueError as e:
        errors[path] = str(e)
json.dump(errors, sys.stdout)
"#;

/// Compiles the sources with one run of the interpreter.
pub fn check_syntax(sources: &BTreeMap<String, String>) -> SyntaxReport {
    if sources.is_empty() {
        return SyntaxReport::default();
    }
    let python = std::env::var(PYTHON_VAR).unwrap_or_else(|_| "python3".to_string());
    let unavailable = |why: String| SyntaxReport { unavailable: Some(why), errors: BTreeMap::new() };
    let mut child = match Command::new(&python).args(["-c", COMPILE_ALL]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => return unavailable(format!("cannot run {python}: {e}")),
    };
    let input = serde_json::to_vec(sources).expect("sources serialise");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&input);
    }
    match child.wait_with_output() {
        Ok(out) if out.status.success() => match serde_json::from_slice(&out.stdout) {
            Ok(errors) => SyntaxReport { unavailable: None, errors },
            Err(e) => unavailable(format!("{python} answered something unexpected: {e}")),
        },
        Ok(out) => unavailable(format!("{python} failed: {}", String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) => unavailable(format!("{python} failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_line_of_a_syntax_error() {
        let sources: BTreeMap<String, String> = [
            ("functions/a/src/main.py".to_string(), "def main(context):\n    return 1\n".to_string()),
            ("functions/b/src/main.py".to_string(), "def main(context)\n    return 1\n".to_string()),
        ]
        .into();
        let report = check_syntax(&sources);
        if report.unavailable.is_some() {
            return; // no interpreter on this machine: nothing to assert
        }
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert!(report.errors["functions/b/src/main.py"].starts_with("line 1: "), "{report:?}");
    }
}
