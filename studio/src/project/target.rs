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

impl Target {
    /// Why the endpoint cannot be an Appwrite API root (`http(s)://HOST[:PORT][/PATH]/v1`), if it
    /// cannot: the file is checked by its schema, a `$QW_<ENV>_ENDPOINT` override only here.
    pub fn endpoint_problem(&self) -> Option<String> {
        let v = &self.endpoint.value;
        let host = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://")).and_then(|rest| rest.strip_suffix("/v1"));
        match host {
            Some(h) if !h.is_empty() && !h.starts_with('/') && !v.chars().any(char::is_whitespace) => None,
            _ => Some(format!("the endpoint {v:?} (from {}) is not an Appwrite API root like https://HOST/v1", self.endpoint.from)),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_endpoint(endpoint: &str) -> Target {
        Target {
            environment: "dev".into(),
            endpoint: Sourced { value: endpoint.into(), from: "$QW_DEV_ENDPOINT".into() },
            project: Sourced { value: "p".into(), from: "f".into() },
            api_key: SecretRef { env_var: "QW_DEV_API_KEY".into(), keychain_account: "dev/API_KEY".into() },
        }
    }

    #[test]
    fn endpoints_must_be_api_roots() {
        for good in ["http://127.0.0.1:8095/v1", "https://cloud.appwrite.io/v1", "https://example.com/appwrite/v1"] {
            assert_eq!(with_endpoint(good).endpoint_problem(), None, "{good}");
        }
        for bad in ["notaurl", "http://127.0.0.1:8095", "http:///v1", "ftp://host/v1", "https://host/v1/", "https://ho st/v1"] {
            let problem = with_endpoint(bad).endpoint_problem().unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(problem.contains("$QW_DEV_ENDPOINT") && problem.contains("https://HOST/v1"), "{problem}");
        }
    }
}
