//! What a check reports: a level, where (file and JSON pointer), what, and how to fix it.

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// ✅ something checked and found right.
    Ok,
    /// ⚠️ worth a look; does not fail a command.
    Warning,
    /// ❌ wrong; fails the command with exit code 1.
    Error,
}

impl Level {
    /// The symbol printed in front of a finding.
    pub fn symbol(self) -> &'static str {
        match self {
            Level::Ok => "✅",
            Level::Warning => "⚠️",
            Level::Error => "❌",
        }
    }
}

/// One result of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub level: Level,
    /// The check family: files, variables, routes, dependencies, drift, functions, schemas, migrations.
    pub check: String,
    /// A stable name for the kind of finding, e.g. `variable-conflict`.
    pub code: String,
    /// The file concerned, relative to the project root, `/`-separated.
    pub file: String,
    /// A JSON pointer into that file ("" for the whole file).
    pub pointer: String,
    pub message: String,
    pub hint: Option<String>,
    /// The environment concerned, when there is one.
    pub environment: Option<String>,
}

impl Finding {
    /// A finding without hint or environment; add them with the builder methods.
    pub fn new(level: Level, check: &str, code: &str, file: impl Into<String>, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            level,
            check: check.to_string(),
            code: code.to_string(),
            file: file.into(),
            pointer: pointer.into(),
            message: message.into(),
            hint: None,
            environment: None,
        }
    }

    /// Adds how to fix it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Names the environment concerned.
    pub fn env(mut self, env: impl Into<String>) -> Self {
        self.environment = Some(env.into());
        self
    }
}

/// Counts of each level, for summaries and exit codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub ok: usize,
    pub warnings: usize,
    pub errors: usize,
}

impl Tally {
    /// Counts the findings by level.
    pub fn of(findings: &[Finding]) -> Tally {
        Tally::of_levels(findings.iter().map(|f| f.level))
    }

    /// Counts levels.
    pub fn of_levels(levels: impl IntoIterator<Item = Level>) -> Tally {
        let mut t = Tally::default();
        for level in levels {
            match level {
                Level::Ok => t.ok += 1,
                Level::Warning => t.warnings += 1,
                Level::Error => t.errors += 1,
            }
        }
        t
    }
}
