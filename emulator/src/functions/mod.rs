//! Functions: the Appwrite Functions API (functions, variables, deployments, executions),
//! builds into per-deployment folders, warm runtime processes on the open-runtimes v5 contract,
//! event and schedule triggers, function HTTP access at `/fn/{functionId}/…`, the console routes
//! the Appwrite CLI needs, and the emulator's clock control (`POST /_emulator/clock`).

pub mod archive;
mod build;
pub mod catalogue;
mod console;
mod deployments;
mod executions;
#[allow(clippy::module_inception)]
mod functions;
mod http_access;
pub mod model;
pub mod runtime;
pub mod store;
mod triggers;
pub mod validators;
mod variables;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::routing::{any, get, patch, post};
use axum::Router;

use crate::state::{AppState, Project};

pub use executions::{run_trigger, Trigger};

/// The Functions machinery one emulator shares: warm runtimes, build slots, scheduler wake-ups.
pub struct Engine {
    pub pool: runtime::Pool,
    /// Wakes the scheduler (clock moved, schedule changed).
    pub wake: tokio::sync::Notify,
    /// Concurrent builds.
    builds: tokio::sync::Semaphore,
    /// Serialises the chunks of one deployment upload.
    uploads: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Process groups of running builds, by deployment ID, for cancel.
    building: Mutex<HashMap<String, i32>>,
    /// Where the runtime harness scripts were written.
    harness: OnceLock<PathBuf>,
    started: std::sync::atomic::AtomicBool,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            pool: runtime::Pool::default(),
            wake: tokio::sync::Notify::new(),
            builds: tokio::sync::Semaphore::new(2),
            uploads: Mutex::new(HashMap::new()),
            building: Mutex::new(HashMap::new()),
            harness: OnceLock::new(),
            started: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Engine {
    /// The lock serialising the chunks of upload `key`.
    fn upload_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.uploads.lock().unwrap().entry(key.to_string()).or_default().clone()
    }

    fn upload_done(&self, key: &str) {
        self.uploads.lock().unwrap().remove(key);
    }
}

/// The harness scripts, shipped inside the binary and written out once.
const PYTHON_HARNESS: &str = include_str!("../../runtimes/python/server.py");
const NODE_HARNESS: &str = include_str!("../../runtimes/node/server.mjs");

/// The folder holding `python/server.py` and `node/server.mjs`.
fn harness_dir(state: &AppState) -> std::io::Result<PathBuf> {
    if let Some(d) = state.functions.harness.get() {
        return Ok(d.clone());
    }
    let dir = std::env::temp_dir().join(format!("qw-runtimes-{}-{}", std::process::id(), crate::ids::unique()));
    std::fs::create_dir_all(dir.join("python"))?;
    std::fs::create_dir_all(dir.join("node"))?;
    std::fs::write(dir.join("python/server.py"), PYTHON_HARNESS)?;
    std::fs::write(dir.join("node/server.mjs"), NODE_HARNESS)?;
    let _ = state.functions.harness.set(dir);
    Ok(state.functions.harness.get().unwrap().clone())
}

/// Where a function's deployments live: `<project dir>/functions/<functionId>/`.
fn function_dir(project: &Project, function_id: &str) -> PathBuf {
    project.dir.join("functions").join(function_id)
}

/// One deployment's folder: `source.tar.gz`, the built `function/`, `output.tar.gz`.
fn deployment_dir(project: &Project, function_id: &str, deployment_id: &str) -> PathBuf {
    function_dir(project, function_id).join(deployment_id)
}

/// Starts the background tasks (event triggers, scheduler). Call once the runtime is up.
pub fn start(state: &AppState) {
    if state.functions.started.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    triggers::start(state.clone());
    // Builds and executions a previous run left unfinished can never finish.
    for id in state.project_ids() {
        if let Some(project) = state.project(&id) {
            let _ = project.db.write(|tx| {
                deployments::fail_interrupted_builds(tx)?;
                executions::fail_interrupted(tx)
            });
        }
    }
    // Probe the interpreters now rather than on the first request.
    tokio::task::spawn_blocking(catalogue::installed);
}

/// Stops every warm runtime and running build (on shutdown).
pub fn shutdown(state: &AppState) {
    state.functions.pool.recycle("");
    for pgid in state.functions.building.lock().unwrap().values() {
        // SAFETY: kill(2) on a process group we created.
        unsafe {
            libc::kill(-*pgid, libc::SIGKILL);
        }
    }
    if let Some(dir) = state.functions.harness.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The Appwrite routes (under the Appwrite middleware).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/functions", get(functions::list).post(functions::create))
        .route("/v1/functions/runtimes", get(functions::runtimes))
        .route("/v1/functions/specifications", get(functions::specifications))
        .route("/v1/functions/{functionId}", get(functions::get).put(functions::update).delete(functions::delete))
        .route("/v1/functions/{functionId}/deployment", patch(deployments::activate))
        .route("/v1/functions/{functionId}/deployments", get(deployments::list).post(deployments::create))
        .route(
            "/v1/functions/{functionId}/deployments/{deploymentId}",
            get(deployments::get).delete(deployments::delete).patch(deployments::activate),
        )
        .route("/v1/functions/{functionId}/deployments/duplicate", post(deployments::duplicate))
        .route("/v1/functions/{functionId}/deployments/{deploymentId}/download", get(deployments::download))
        .route("/v1/functions/{functionId}/deployments/{deploymentId}/build/download", get(deployments::download))
        .route("/v1/functions/{functionId}/deployments/{deploymentId}/status", patch(deployments::cancel))
        .route(
            "/v1/functions/{functionId}/deployments/{deploymentId}/build",
            patch(deployments::cancel).post(deployments::duplicate),
        )
        .route("/v1/functions/{functionId}/deployments/{deploymentId}/builds/{buildId}", post(deployments::duplicate))
        .route("/v1/functions/{functionId}/executions", get(executions::list).post(executions::create))
        .route("/v1/functions/{functionId}/executions/{executionId}", get(executions::get).delete(executions::delete))
        .route("/v1/functions/{functionId}/variables", get(variables::list_function).post(variables::create_function))
        .route(
            "/v1/functions/{functionId}/variables/{variableId}",
            get(variables::get_function).put(variables::update_function).delete(variables::delete_function),
        )
        .route("/v1/project/variables", get(variables::list_project).post(variables::create_project))
        .route(
            "/v1/project/variables/{variableId}",
            get(variables::get_project).put(variables::update_project).delete(variables::delete_project),
        )
        .merge(console::routes())
}

/// Routes outside the Appwrite middleware: function HTTP access and the clock control.
pub fn raw_routes() -> Router<AppState> {
    Router::new()
        .route("/fn/{functionId}", any(http_access::handle))
        .route("/fn/{functionId}/", any(http_access::handle))
        .route("/fn/{functionId}/{*path}", any(http_access::handle))
        .route("/_emulator/clock", post(triggers::clock).get(triggers::clock_get))
}
