//! The emulator's shared state: configuration, clock, signing secret and the emulated projects.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};

use crate::clock::Clock;
use crate::error::{ApiError, ApiResult};
use crate::store::Db;

/// How the emulator is started (`qw emulator` flags).
#[derive(Debug, Clone)]
pub struct Config {
    /// Where projects persist; `None` keeps everything in memory (and a temporary folder for blobs).
    pub data_dir: Option<PathBuf>,
    /// Projects to create at start (existing ones under `data_dir` are always loaded).
    pub projects: Vec<String>,
    /// API keys holding every scope on every project.
    pub api_keys: Vec<String>,
    /// A CTranslate2 Whisper model folder for the local transcription engine (`--whisper-model`).
    pub whisper_model: Option<PathBuf>,
    /// The Python that runs the Whisper worker (`--whisper-python`); default: the project's venv.
    pub whisper_python: Option<PathBuf>,
    /// Forward transcriptions to OpenAI with this key when no local model is set (`--openai-api-key`).
    pub openai_api_key: Option<crate::transcription::ApiKey>,
    /// OpenAI's base URL for forwarding (`QW_OPENAI_BASE_URL`); default `https://api.openai.com/v1`.
    pub openai_base_url: Option<String>,
    /// The largest file a bucket may accept, in bytes (`_APP_STORAGE_LIMIT`).
    pub storage_limit: u64,
}

/// `_APP_STORAGE_LIMIT`'s default: 30,000,000 bytes.
pub const DEFAULT_STORAGE_LIMIT: u64 = 30_000_000;

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: None,
            projects: Vec::new(),
            api_keys: Vec::new(),
            whisper_model: None,
            whisper_python: None,
            openai_api_key: None,
            openai_base_url: None,
            storage_limit: DEFAULT_STORAGE_LIMIT,
        }
    }
}

/// One emulated Appwrite project.
pub struct Project {
    pub id: String,
    pub db: Db,
    /// Folder for the project's blobs (files, deployments, builds).
    pub dir: PathBuf,
    /// Loaded collection schemas, reused until the metadata changes.
    pub schemas: crate::databases::schema::SchemaCache,
}

impl Project {
    /// Runs `f` in a write transaction on a blocking thread.
    pub async fn write<T, F>(self: &Arc<Self>, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction) -> ApiResult<T> + Send + 'static,
    {
        self.db.write_async(f).await
    }

    /// Runs `f` in a read transaction on a blocking thread.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction) -> ApiResult<T> + Send + 'static,
    {
        if self.db.reads_via_writer() {
            return self.db.write_async(f).await;
        }
        let p = self.clone();
        tokio::task::spawn_blocking(move || p.db.read(f)).await.map_err(ApiError::internal)?
    }
}

/// Cheaply cloneable handle on everything the handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub clock: Clock,
    /// Signs ephemeral API keys and user JWTs.
    pub secret: Vec<u8>,
    projects: RwLock<HashMap<String, Arc<Project>>>,
    blob_root: PathBuf,
    _temp: Option<tempfile::TempDir>,
    /// `http://HOST:PORT/v1`, known once the listener is bound.
    endpoint: OnceLock<String>,
    /// The caller every configured API key is (built once: it holds every scope).
    pub admin_caller: Arc<crate::auth::Caller>,
    /// Every published event; function triggers subscribe.
    pub events: tokio::sync::broadcast::Sender<crate::events::EventMessage>,
    /// Functions: warm runtimes, builds, scheduler.
    pub functions: crate::functions::Engine,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Opens every project under the data folder and creates the configured ones.
    pub fn new(config: Config) -> ApiResult<AppState> {
        let (blob_root, temp) = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                (dir.clone(), None)
            }
            None => {
                let t = tempfile::Builder::new().prefix("qw-emulator-").tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let secret = load_secret(config.data_dir.as_deref())?;
        let state = AppState(Arc::new(Inner {
            config: config.clone(),
            clock: Clock::default(),
            secret,
            projects: RwLock::new(HashMap::new()),
            blob_root,
            _temp: temp,
            endpoint: OnceLock::new(),
            admin_caller: Arc::new(crate::auth::Caller::admin_key()),
            events: tokio::sync::broadcast::channel(4096).0,
            functions: crate::functions::Engine::default(),
        }));
        if let Some(dir) = &config.data_dir {
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                if entry.path().join("project.db").is_file() {
                    if let Some(id) = entry.file_name().to_str() {
                        state.create_project(id)?;
                    }
                }
            }
        }
        for id in &config.projects {
            state.create_project(id)?;
        }
        Ok(state)
    }

    /// The project `id`, if it exists.
    pub fn project(&self, id: &str) -> Option<Arc<Project>> {
        self.projects.read().unwrap().get(id).cloned()
    }

    /// IDs of all projects, sorted.
    pub fn project_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.projects.read().unwrap().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Opens or creates project `id` (idempotent).
    pub fn create_project(&self, id: &str) -> ApiResult<Arc<Project>> {
        if let Some(p) = self.project(id) {
            return Ok(p);
        }
        if !crate::ids::is_valid_id(id) || id == "console" {
            return Err(ApiError::invalid_param("projectId", crate::ids::ID_DESCRIPTION));
        }
        let dir = self.blob_root.join(id);
        std::fs::create_dir_all(&dir)?;
        let db_path = self.config.data_dir.as_ref().map(|_| dir.join("project.db"));
        let db = Db::open(db_path.as_deref())?;
        let project = Arc::new(Project { id: id.to_string(), db, dir, schemas: Default::default() });
        let mut projects = self.projects.write().unwrap();
        Ok(projects.entry(id.to_string()).or_insert(project).clone())
    }

    /// True when `key` is one of the configured full-scope API keys.
    pub fn is_admin_key(&self, key: &str) -> bool {
        self.config.api_keys.iter().any(|k| k == key)
    }

    /// Records the public endpoint once the listener is bound.
    pub fn set_endpoint(&self, endpoint: String) {
        let _ = self.endpoint.set(endpoint);
    }

    /// `http://HOST:PORT/v1` (or a placeholder in router-only tests).
    pub fn endpoint(&self) -> String {
        self.endpoint.get().cloned().unwrap_or_else(|| "http://localhost/v1".to_string())
    }
}

/// The signing secret survives restarts with `--data`, so issued keys and JWTs stay valid.
fn load_secret(data_dir: Option<&Path>) -> ApiResult<Vec<u8>> {
    let fresh = || (0..32).map(|_| rand::random::<u8>()).collect::<Vec<u8>>();
    let Some(dir) = data_dir else { return Ok(fresh()) };
    let path = dir.join(".secret");
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= 32 => Ok(bytes),
        _ => {
            let secret = fresh();
            std::fs::write(&path, &secret)?;
            Ok(secret)
        }
    }
}
