//! Finding the project root: the nearest folder, walking up, that holds `environments/`.

use std::path::{Path, PathBuf};

use super::paths;

/// The project root at or above `start`, if any.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join(paths::ENVIRONMENTS).is_dir()).map(Path::to_path_buf)
}
