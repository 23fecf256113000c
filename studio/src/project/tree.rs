//! Where project files are read from: the disk, or a map in memory for tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Read access to a project's files by `/`-separated relative path.
pub trait Tree {
    /// The file's text; `Ok(None)` when absent, `Err` when present but unreadable or not UTF-8.
    fn read(&self, path: &str) -> Result<Option<String>, String>;
    /// The names of a folder's entries, sorted, each with whether it is a folder.
    fn list(&self, dir: &str) -> Vec<(String, bool)>;
    /// Whether the path is a folder.
    fn is_dir(&self, path: &str) -> bool;
    /// The project folder on disk, for tools that need real paths; `None` for a tree in memory.
    fn root(&self) -> Option<&Path> {
        None
    }
}

/// The project on disk.
pub struct DiskTree {
    root: PathBuf,
}

impl DiskTree {
    /// Reads the project rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiskTree { root: root.into() }
    }

    fn full(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            self.root.clone()
        } else {
            self.root.join(Path::new(path))
        }
    }
}

impl Tree for DiskTree {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        let full = self.full(path);
        match std::fs::read(&full) {
            Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| "not UTF-8 text".to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if full.is_dir() => Err(format!("is a folder: {e}")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn list(&self, dir: &str) -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> = std::fs::read_dir(self.full(dir))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                        Some((name, is_dir))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    fn is_dir(&self, path: &str) -> bool {
        self.full(path).is_dir()
    }

    fn root(&self) -> Option<&Path> {
        Some(&self.root)
    }
}

/// A project held in memory: relative path → text.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    pub files: BTreeMap<String, String>,
}

impl MemoryTree {
    /// Adds or replaces a file.
    pub fn insert(&mut self, path: &str, text: impl Into<String>) {
        self.files.insert(path.to_string(), text.into());
    }
}

impl Tree for MemoryTree {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        Ok(self.files.get(path).cloned())
    }

    fn list(&self, dir: &str) -> Vec<(String, bool)> {
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let mut out: BTreeMap<String, bool> = BTreeMap::new();
        for path in self.files.keys() {
            if let Some(rest) = path.strip_prefix(&prefix) {
                match rest.split_once('/') {
                    Some((name, _)) => {
                        out.insert(name.to_string(), true);
                    }
                    None => {
                        out.entry(rest.to_string()).or_insert(false);
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        self.files.keys().any(|k| k.starts_with(&prefix))
    }
}
