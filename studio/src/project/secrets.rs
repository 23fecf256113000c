//! Secrets: where each one is read from, read only at the moment it is needed, and masked in output.

use serde::Serialize;

use super::Project;

/// The OS keychain service under which Studio keeps secrets.
pub const KEYCHAIN_SERVICE: &str = "quixoticwhisper";
/// Set to any value to skip the OS keychain (CI, tests, headless machines).
pub const NO_KEYCHAIN_VAR: &str = "QW_NO_KEYCHAIN";
/// What output shows in place of a secret's value.
pub const MASK: &str = "********";

/// Where one secret of one environment is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretRef {
    /// The process environment variable tried first.
    pub env_var: String,
    /// The keychain account (service `quixoticwhisper`) tried next.
    pub keychain_account: String,
}

/// The `QW_<ENV>_<NAME>` spelling of a per-environment process variable.
pub fn env_var_name(env: &str, name: &str) -> String {
    format!("QW_{}_{}", env.to_uppercase().replace('-', "_"), name)
}

/// Where the secret `name` of `env` comes from: `variables.json` `secrets`, or the defaults.
pub fn secret_ref(project: &Project, env: &str, name: &str) -> SecretRef {
    let configured = project.environments.get(env).and_then(|e| e.variables.secrets.get(name));
    SecretRef {
        env_var: configured.and_then(|c| c.env.clone()).unwrap_or_else(|| env_var_name(env, name)),
        keychain_account: configured.and_then(|c| c.keychain.clone()).unwrap_or_else(|| format!("{env}/{name}")),
    }
}

/// Access to the places secrets live; a trait so resolution can be tested without real ones.
pub trait SecretStore {
    /// A process environment variable.
    fn env(&self, name: &str) -> Option<String>;
    /// A keychain entry: `Ok(None)` when absent, `Err` with a reason when the keychain is unusable.
    fn keychain(&self, account: &str) -> Result<Option<String>, String>;
}

/// The outcome of looking a secret up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue {
    /// Found; `from` says where.
    Found { value: String, from: String },
    /// Not found; `reason` says everywhere that was tried.
    Missing { reason: String },
}

/// Reads a secret: the process environment first, then the keychain.
pub fn lookup(secret: &SecretRef, store: &dyn SecretStore) -> SecretValue {
    if let Some(value) = store.env(&secret.env_var).filter(|v| !v.is_empty()) {
        return SecretValue::Found { value, from: format!("${}", secret.env_var) };
    }
    let keychain = match store.keychain(&secret.keychain_account) {
        Ok(Some(value)) => return SecretValue::Found { value, from: format!("keychain {KEYCHAIN_SERVICE}/{}", secret.keychain_account) },
        Ok(None) => format!("no keychain entry {KEYCHAIN_SERVICE}/{}", secret.keychain_account),
        Err(reason) => format!("keychain unavailable ({reason})"),
    };
    SecretValue::Missing { reason: format!("${} is not set; {keychain}", secret.env_var) }
}

/// The real process environment and OS keychain.
pub struct SystemSecrets;

impl SecretStore for SystemSecrets {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn keychain(&self, account: &str) -> Result<Option<String>, String> {
        if std::env::var_os(NO_KEYCHAIN_VAR).is_some() {
            return Err(format!("disabled by {NO_KEYCHAIN_VAR}"));
        }
        let entry = keyring::Entry::new(KEYCHAIN_SERVICE, account).map_err(|e| e.to_string())?;
        match entry.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(keyring::Error::PlatformFailure(e)) | Err(keyring::Error::NoStorageAccess(e)) => {
                Err(format!("no usable OS keychain on this machine: {e}"))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Fake {
        env: BTreeMap<String, String>,
        keychain: Result<BTreeMap<String, String>, String>,
    }

    impl SecretStore for Fake {
        fn env(&self, name: &str) -> Option<String> {
            self.env.get(name).cloned()
        }
        fn keychain(&self, account: &str) -> Result<Option<String>, String> {
            self.keychain.as_ref().map(|k| k.get(account).cloned()).map_err(Clone::clone)
        }
    }

    fn reference() -> SecretRef {
        SecretRef { env_var: "QW_DEV_OPENAI_API_KEY".into(), keychain_account: "dev/OPENAI_API_KEY".into() }
    }

    #[test]
    fn lookup_prefers_the_environment_then_the_keychain() {
        let cases: Vec<(&str, Fake, SecretValue)> = vec![
            (
                "env wins",
                Fake { env: [("QW_DEV_OPENAI_API_KEY".to_string(), "sk-env".to_string())].into(), keychain: Ok([("dev/OPENAI_API_KEY".to_string(), "sk-kc".to_string())].into()) },
                SecretValue::Found { value: "sk-env".into(), from: "$QW_DEV_OPENAI_API_KEY".into() },
            ),
            (
                "keychain next",
                Fake { env: BTreeMap::new(), keychain: Ok([("dev/OPENAI_API_KEY".to_string(), "sk-kc".to_string())].into()) },
                SecretValue::Found { value: "sk-kc".into(), from: "keychain quixoticwhisper/dev/OPENAI_API_KEY".into() },
            ),
            (
                "absent",
                Fake { env: BTreeMap::new(), keychain: Ok(BTreeMap::new()) },
                SecretValue::Missing { reason: "$QW_DEV_OPENAI_API_KEY is not set; no keychain entry quixoticwhisper/dev/OPENAI_API_KEY".into() },
            ),
            (
                "no keychain",
                Fake { env: BTreeMap::new(), keychain: Err("no D-Bus".into()) },
                SecretValue::Missing { reason: "$QW_DEV_OPENAI_API_KEY is not set; keychain unavailable (no D-Bus)".into() },
            ),
        ];
        for (name, store, expected) in cases {
            assert_eq!(lookup(&reference(), &store), expected, "{name}");
        }
    }

    #[test]
    fn the_system_keychain_degrades_to_a_reason_without_a_keychain() {
        // On a machine without a Secret Service this must be an error, not a panic or a hang.
        match SystemSecrets.keychain("qw-test/never-set") {
            Ok(None) | Err(_) => {}
            Ok(Some(_)) => panic!("an entry nobody wrote was found"),
        }
    }

    #[test]
    fn env_var_names_are_upper_case() {
        assert_eq!(env_var_name("staging", "API_KEY"), "QW_STAGING_API_KEY");
        assert_eq!(env_var_name("eu-prod", "ENDPOINT"), "QW_EU_PROD_ENDPOINT");
    }
}
