//! Which engine answers transcriptions, chosen once from the configuration: the local Whisper
//! worker when a model folder is given, else OpenAI when a key is given, else none (every request
//! then gets an error naming the settings).

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;

use super::forward::{OpenAiForwarder, DEFAULT_BASE_URL};
use super::openai_format::OpenAiError;
use super::worker::LocalWhisper;
use crate::state::Config;

/// The configured engine.
pub enum Engine {
    /// faster-whisper in a Python worker (`--whisper-model`).
    Local(Arc<LocalWhisper>),
    /// The real OpenAI API (`--openai-api-key`).
    OpenAi(OpenAiForwarder),
    /// Nothing configured, or a configuration that cannot work (the reason).
    Unavailable(String),
}

impl Engine {
    /// The engine `config` asks for. A local model wins over an OpenAI key: the emulator's purpose
    /// is to run offline, and a key in the environment should not silently send audio out.
    pub fn from_config(config: &Config) -> Engine {
        if let Some(model) = &config.whisper_model {
            let python = config.whisper_python.clone().unwrap_or_else(default_python);
            tracing::info!("transcription: local Whisper model {} run by {}", model.display(), python.display());
            return Engine::Local(Arc::new(LocalWhisper::new(model.clone(), python)));
        }
        if let Some(key) = &config.openai_api_key {
            let base = config.openai_base_url.as_deref().filter(|b| !b.is_empty()).unwrap_or(DEFAULT_BASE_URL);
            tracing::info!("transcription: forwarding to {base}");
            return match OpenAiForwarder::new(base, key.clone()) {
                Ok(f) => Engine::OpenAi(f),
                Err(e) => Engine::Unavailable(format!("The OpenAI forwarder cannot start: {e}")),
            };
        }
        Engine::Unavailable(
            "No transcription engine is configured. Start the emulator with --whisper-model DIR (or set QW_WHISPER_MODEL) \
             to transcribe locally with a faster-whisper (CTranslate2) model folder, or with --openai-api-key KEY \
             (or QW_OPENAI_API_KEY) to forward to OpenAI."
                .to_string(),
        )
    }

    /// The error every request gets from an unavailable engine.
    pub fn unavailable(reason: &str) -> OpenAiError {
        OpenAiError::server(StatusCode::SERVICE_UNAVAILABLE, reason, "engine_not_configured")
    }
}

/// The project's own venv when there is one: `.venv/bin/python` in a folder holding the binary
/// (`<repo>/target/debug/qw` → `<repo>`) or the current directory; else `python3` from PATH.
pub fn default_python() -> PathBuf {
    let exe = std::env::current_exe().ok().and_then(|p| p.canonicalize().ok());
    let cwd = std::env::current_dir().ok();
    let candidates = exe.iter().flat_map(|p| p.ancestors().skip(1)).chain(cwd.iter().flat_map(|p| p.ancestors()));
    for dir in candidates {
        let python = dir.join(".venv").join("bin").join("python");
        if python.is_file() {
            return python;
        }
    }
    PathBuf::from("python3")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcription::ApiKey;

    #[test]
    fn a_local_model_wins_then_a_key_then_nothing() {
        let mut config = Config {
            whisper_model: Some("/models/tiny".into()),
            whisper_python: Some("/usr/bin/python3".into()),
            openai_api_key: Some(ApiKey::new("sk-x")),
            ..Config::default()
        };
        match Engine::from_config(&config) {
            Engine::Local(l) => {
                assert_eq!(l.model(), std::path::Path::new("/models/tiny"));
                assert_eq!(l.python(), std::path::Path::new("/usr/bin/python3"));
            }
            _ => panic!("expected the local engine"),
        }
        config.whisper_model = None;
        config.openai_base_url = Some("http://127.0.0.1:1/v1".into());
        match Engine::from_config(&config) {
            Engine::OpenAi(f) => assert_eq!(f.url(), "http://127.0.0.1:1/v1/audio/transcriptions"),
            _ => panic!("expected the forwarder"),
        }
        config.openai_api_key = None;
        match Engine::from_config(&config) {
            Engine::Unavailable(m) => assert!(m.contains("--whisper-model") && m.contains("QW_WHISPER_MODEL"), "{m}"),
            _ => panic!("expected no engine"),
        }
    }

    #[test]
    fn the_default_python_is_a_venv_or_python3() {
        let p = default_python();
        assert!(p == std::path::Path::new("python3") || p.ends_with(".venv/bin/python"), "{}", p.display());
    }
}
