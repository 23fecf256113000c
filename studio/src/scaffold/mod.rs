//! Creating functions and collections: a pure plan of file writes, then applying it.

pub mod collection;
pub mod function;

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// One file to write, relative to the project root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileWrite {
    pub path: String,
    /// True when the file must not exist yet.
    pub new: bool,
    #[serde(skip)]
    pub content: String,
}

/// Everything a scaffold command will write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub writes: Vec<FileWrite>,
    /// What is left for the user to do.
    pub notes: Vec<String>,
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The request is malformed (exit code 2).
    Usage(String),
    /// The request is well formed but cannot be carried out (exit code 1).
    Conflict(String),
}

impl PlanError {
    /// The message to show.
    pub fn message(&self) -> &str {
        match self {
            PlanError::Usage(m) | PlanError::Conflict(m) => m,
        }
    }
}

/// A JSON document in the repository's format: two-space indent and a final newline.
pub fn json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON value serialises");
    text.push('\n');
    text
}

/// Parses a project file that loading already validated.
pub(crate) fn read_json(tree: &dyn crate::project::tree::Tree, path: &str) -> Result<Value, PlanError> {
    let text = tree.read(path).map_err(|e| PlanError::Usage(format!("cannot read {path}: {e}")))?.ok_or_else(|| PlanError::Usage(format!("{path} is missing")))?;
    serde_json::from_str(&text).map_err(|e| PlanError::Usage(format!("{path} is not valid JSON: {e}")))
}

impl Plan {
    /// Writes every file: all new files are checked absent first, so a clash changes nothing.
    pub fn apply(&self, root: &Path) -> std::io::Result<()> {
        for w in self.writes.iter().filter(|w| w.new) {
            if root.join(&w.path).exists() {
                return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{} already exists", w.path)));
            }
        }
        for w in &self.writes {
            let full = root.join(&w.path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            // Write beside and rename, so an interrupted run never leaves half a file.
            let tmp = full.with_extension("qw-tmp");
            std::fs::write(&tmp, &w.content)?;
            std::fs::rename(&tmp, &full)?;
        }
        Ok(())
    }
}
