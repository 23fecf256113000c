//! The Appwrite endpoint, project and API key of an environment, with `QW_<ENV>_*` overrides.

use serde::Serialize;

use super::secrets::{env_var_name, SecretRef};
use super::Project;

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced {
    pub value: String,
    /// `environments/ENV/appwrite.json` or `$QW_ENV_…`.
    pub from: String,
}

/// Where an environment's Appwrite lives and how to authenticate to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub environment: String,
    pub endpoint: Sourced,
    pub project: Sourced,
    /// The API key is a secret, read only when a command needs it.
    pub api_key: SecretRef,
}

/// The target of `env`, `None` for an unknown environment; `getenv` reads the process environment.
pub fn target(project: &Project, env: &str, getenv: &dyn Fn(&str) -> Option<String>) -> Option<Target> {
    let environment = project.environments.get(env)?;
    let file = super::paths::appwrite(env);
    let pick = |suffix: &str, from_file: &str| {
        let var = env_var_name(env, suffix);
        match getenv(&var).filter(|v| !v.is_empty()) {
            Some(value) => Sourced { value, from: format!("${var}") },
            None => Sourced { value: from_file.to_string(), from: file.clone() },
        }
    };
    Some(Target {
        environment: env.to_string(),
        endpoint: pick("ENDPOINT", &environment.appwrite.endpoint),
        project: pick("PROJECT", &environment.appwrite.project_id),
        api_key: SecretRef { env_var: env_var_name(env, "API_KEY"), keychain_account: format!("{env}/API_KEY") },
    })
}
