//! The QuixoticWhisper project model: its files, loaded and checked against their schemas.

pub mod file_schemas;
pub mod graph;
pub mod load;
pub mod locate;
pub mod model;
pub mod paths;
pub mod pointer;
pub mod python;
pub mod secrets;
pub mod target;
pub mod tree;
pub mod variables;

use std::collections::BTreeMap;

pub use load::{load, load_dir, LoadFailure};
use model::*;

/// Everything the checks look at, loaded from one project folder.
#[derive(Debug, Clone, Default)]
pub struct Project {
    /// Environments by name (the folders of `environments/`).
    pub environments: BTreeMap<String, Environment>,
    pub shared: SharedVariables,
    /// Function folders by name (the folders of `functions/` except `shared`).
    pub functions: BTreeMap<String, FunctionDir>,
    pub routes: Option<Routes>,
    /// Collection schemas by collection ID.
    pub collections: BTreeMap<String, Located<CollectionSchema>>,
    /// Database schemas by database ID.
    pub databases: BTreeMap<String, Located<DatabaseSchema>>,
    pub drift_allow: Option<DriftAllow>,
}

/// A value with the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub file: String,
    pub value: T,
}

/// One environment: its Appwrite project file and its variables.
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    pub appwrite: AppwriteFile,
    pub variables: EnvironmentVariables,
}

impl Environment {
    /// The function registered under this ID, with its index in `functions`.
    pub fn function(&self, id: &str) -> Option<(usize, &FunctionEntry)> {
        self.appwrite.functions.iter().enumerate().find(|(_, f)| f.id == id)
    }
}

/// One folder of `functions/`.
#[derive(Debug, Clone, Default)]
pub struct FunctionDir {
    pub name: String,
    pub manifest: Option<FunctionManifest>,
    pub dependencies: Option<Dependencies>,
    /// Every file in the folder by path relative to it; text when readable as UTF-8, else `None`.
    pub files: BTreeMap<String, Option<String>>,
}

impl Project {
    /// The environment names, in order.
    pub fn environment_names(&self) -> Vec<String> {
        self.environments.keys().cloned().collect()
    }

    /// The `dependencies.json` of a function, when it has one.
    pub fn dependencies_of(&self, function: &str) -> Option<&Dependencies> {
        self.functions.get(function).and_then(|f| f.dependencies.as_ref())
    }
}
