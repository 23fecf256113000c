//! Builds: unpack the checked source into `<deployment>/function/`, prepare the runtime (a Python
//! venv inside the build folder, like open-runtimes' build-prepare, so `pip install` lands in the
//! artifact), run the deployment's commands with `bash -c`, and record status, logs, sizes and
//! duration: waiting → processing → building → ready | failed (or canceled from outside).

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncReadExt;

use super::catalogue::{self, Language};
use super::deployments::update_latest;
use super::store::{self, Doc, Table};
use super::{archive, deployment_dir, model, runtime};
use crate::auth::Caller;
use crate::context::Ctx;
use crate::state::{AppState, Project};

/// `_APP_COMPUTE_BUILD_TIMEOUT`.
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);

/// Queues the build of a fully uploaded deployment.
pub fn start(state: AppState, project: Arc<Project>, function_id: String, deployment_id: String) {
    tokio::spawn(async move {
        let _permit = state.functions.builds.acquire().await;
        let result = run(&state, &project, &function_id, &deployment_id).await;
        state.functions.building.lock().unwrap().remove(&deployment_id);
        if let Err(e) = result {
            tracing::warn!("build of {deployment_id} could not be recorded: {e}");
        }
    });
}

fn stamp(state: &AppState) -> String {
    state.clock.now().format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// Appends to the logs and sets the status, unless the deployment was canceled or deleted.
/// Returns the stored deployment, or `None` when the build must stop.
async fn record(
    state: &AppState,
    project: &Arc<Project>,
    function_id: &str,
    deployment_id: &str,
    status: Option<&str>,
    logs: &str,
    extra: Doc,
) -> crate::error::ApiResult<Option<Doc>> {
    let (fid, did) = (function_id.to_string(), deployment_id.to_string());
    let (status, logs, now) = (status.map(String::from), logs.to_string(), state.clock.now_iso());
    let doc = project
        .write(move |tx| {
            let Some(mut d) = store::get(tx, Table::Deployments, &did)? else { return Ok(None) };
            if store::str_of(&d, "status") == "canceled" {
                return Ok(None);
            }
            let mut all = store::str_of(&d, "buildLogs");
            all.push_str(&logs);
            d.insert("buildLogs".into(), json!(all));
            if let Some(s) = status {
                d.insert("status".into(), json!(s));
            }
            d.extend(extra);
            d.insert("$updatedAt".into(), json!(now));
            store::put(tx, Table::Deployments, &d)?;
            update_latest(tx, &fid)?;
            Ok(Some(d))
        })
        .await?;
    if let Some(d) = &doc {
        let ctx = Ctx::internal(state.clone(), project.clone(), Caller::admin_key());
        crate::events::publish(
            &ctx,
            "functions.[functionId].deployments.[deploymentId].update",
            &[("functionId", function_id), ("deploymentId", deployment_id)],
            model::deployment(d),
        );
    }
    Ok(doc)
}

async fn run(state: &AppState, project: &Arc<Project>, function_id: &str, deployment_id: &str) -> crate::error::ApiResult<()> {
    let started = Instant::now();
    let line = |msg: &str| format!("[{}] [appwrite] {msg}\n", stamp(state));
    let Some(deployment) =
        record(state, project, function_id, deployment_id, Some("processing"), &line("Environment preparation started."), Doc::new()).await?
    else {
        return Ok(());
    };
    let function = {
        let fid = function_id.to_string();
        project.read(move |tx| store::get(tx, Table::Functions, &fid)).await?
    };
    let Some(function) = function else { return Ok(()) };
    let fail = |msg: String| async move {
        let logs = format!("{}{}", msg, line("Build failed."));
        let extra: Doc = [("buildDuration".to_string(), json!(started.elapsed().as_secs_f64().ceil() as i64))].into_iter().collect();
        record(state, project, function_id, deployment_id, Some("failed"), &logs, extra).await.map(|_| ())
    };

    let runtime_id = store::str_of(&function, "runtime");
    let Some(installed) = catalogue::find(&runtime_id) else {
        return fail(format!("Runtime \"{runtime_id}\" is not installed on this machine.\n")).await;
    };
    let dir = deployment_dir(project, function_id, deployment_id);
    let code = dir.join("function");
    let unpacked = tokio::task::spawn_blocking({
        let (src, code) = (dir.join("source.tar.gz"), code.clone());
        move || {
            let _ = std::fs::remove_dir_all(&code);
            archive::unpack(&src, &code)
        }
    })
    .await
    .map_err(crate::error::ApiError::internal)?;
    if let Err(refused) = unpacked {
        return fail(format!("{}\n", refused.0)).await;
    }

    let mut commands = store::str_of(&deployment, "buildCommands");
    if commands.trim().is_empty() {
        // An empty command installs the dependency file when there is one (the CLI's default
        // command for the runtime), so a function deployed without `commands` still gets its
        // packages.
        commands = match installed.language {
            Language::Python if code.join("requirements.txt").is_file() => "pip install -r requirements.txt".into(),
            Language::Node if code.join("package.json").is_file() => "npm install".into(),
            _ => String::new(),
        };
    }
    let Some(_) = record(state, project, function_id, deployment_id, Some("building"), &line("Build started."), Doc::new()).await? else {
        return Ok(());
    };

    let env = build_env(state, project, &function, deployment_id).await?;
    let mut output = String::new();
    if installed.language == Language::Python && !commands.trim().is_empty() {
        let venv = code.join("runtime-env");
        let args = vec!["-m".to_string(), "venv".to_string(), venv.to_string_lossy().into_owned()];
        match run_command(state, deployment_id, &installed.interpreter.to_string_lossy(), &args, &code, &env).await {
            Ok((true, out)) => output.push_str(&out),
            Ok((false, out)) => return fail(format!("{out}Could not create the Python virtual environment.\n")).await,
            Err(e) => return fail(format!("{e}\n")).await,
        }
    }
    if !commands.trim().is_empty() {
        let args = vec!["-c".to_string(), commands.clone()];
        let result = run_command(state, deployment_id, "bash", &args, &code, &with_venv(&env, &code)).await;
        match result {
            Ok((true, out)) => output.push_str(&out),
            Ok((false, out)) => {
                output.push_str(&out);
                return fail(output).await;
            }
            Err(e) => {
                output.push_str(&e);
                output.push('\n');
                return fail(output).await;
            }
        }
    }
    let build_size = tokio::task::spawn_blocking({
        let code = code.clone();
        move || archive::dir_size(&code)
    })
    .await
    .unwrap_or(0);
    let source_size = store::i64_of(&deployment, "sourceSize");
    let extra: Doc = [
        ("buildSize".to_string(), json!(build_size)),
        ("totalSize".to_string(), json!(build_size as i64 + source_size)),
        ("buildDuration".to_string(), json!(started.elapsed().as_secs_f64().ceil() as i64)),
    ]
    .into_iter()
    .collect();
    output.push_str(&line("Deployment finished."));
    let Some(done) = record(state, project, function_id, deployment_id, Some("ready"), &output, extra).await? else {
        return Ok(());
    };
    if store::bool_of(&done, "activate") {
        activate_after_build(state, project, function_id, &done).await?;
    }
    Ok(())
}

/// Auto-activation: unless the active deployment is newer than this one (Appwrite's rule).
async fn activate_after_build(state: &AppState, project: &Arc<Project>, function_id: &str, deployment: &Doc) -> crate::error::ApiResult<()> {
    let (fid, d) = (function_id.to_string(), deployment.clone());
    let now = state.clock.now_iso();
    let changed = project
        .write(move |tx| {
            let Some(mut f) = store::get(tx, Table::Functions, &fid)? else { return Ok(None) };
            let current = store::str_of(&f, "deploymentId");
            if !current.is_empty() {
                if let Some(active) = store::get(tx, Table::Deployments, &current)? {
                    if store::str_of(&active, "$createdAt") > store::str_of(&d, "$createdAt") {
                        return Ok(None);
                    }
                }
            }
            f.insert("deploymentId".into(), d["$id"].clone());
            f.insert("deploymentCreatedAt".into(), d["$createdAt"].clone());
            f.insert("live".into(), json!(true));
            f.insert("$updatedAt".into(), json!(now));
            store::put(tx, Table::Functions, &f)?;
            Ok(Some(current))
        })
        .await?;
    if let Some(previous) = changed {
        if !previous.is_empty() {
            state.functions.pool.recycle(&runtime::key(&project.id, function_id, &previous));
        }
        state.functions.wake.notify_one();
    }
    Ok(())
}

/// The build environment: project and function variables, then Appwrite's (which win).
async fn build_env(state: &AppState, project: &Arc<Project>, function: &Doc, deployment_id: &str) -> crate::error::ApiResult<Vec<(String, String)>> {
    let fid = store::str_of(function, "$id");
    let pid = project.id.clone();
    let vars = {
        let fid = fid.clone();
        project.read(move |tx| super::variables::environment(tx, &pid, &fid)).await?
    };
    let (cpus, memory) = catalogue::specification(&store::str_of(function, "buildSpecification"));
    let runtime_id = store::str_of(function, "runtime");
    let (_, version) = catalogue::split_id(&runtime_id);
    let now = state.clock.now().timestamp();
    let api_key = crate::auth::issue_ephemeral_key(&state.secret, now, &project.id, &store::list_of(function, "scopes"), BUILD_TIMEOUT.as_secs() as i64 + 60);
    let mut env = runtime::base_env();
    env.extend(vars);
    env.extend([
        ("APPWRITE_FUNCTION_API_ENDPOINT".to_string(), state.endpoint()),
        ("APPWRITE_FUNCTION_API_KEY".to_string(), api_key),
        ("APPWRITE_FUNCTION_ID".to_string(), fid),
        ("APPWRITE_FUNCTION_NAME".to_string(), store::str_of(function, "name")),
        ("APPWRITE_FUNCTION_DEPLOYMENT".to_string(), deployment_id.to_string()),
        ("APPWRITE_FUNCTION_PROJECT_ID".to_string(), project.id.clone()),
        ("APPWRITE_FUNCTION_RUNTIME_NAME".to_string(), catalogue::runtime_model(&runtime_id)["name"].as_str().unwrap_or("").to_string()),
        ("APPWRITE_FUNCTION_RUNTIME_VERSION".to_string(), version.to_string()),
        ("APPWRITE_FUNCTION_CPUS".to_string(), cpus.to_string()),
        ("APPWRITE_FUNCTION_MEMORY".to_string(), memory.to_string()),
        ("APPWRITE_VERSION".to_string(), crate::format::SERVER_VERSION.to_string()),
        ("OPEN_RUNTIMES_ENTRYPOINT".to_string(), store::str_of(function, "entrypoint")),
        ("OPEN_RUNTIMES_CPUS".to_string(), cpus.to_string()),
        ("OPEN_RUNTIMES_MEMORY".to_string(), memory.to_string()),
        ("CI".to_string(), "true".to_string()),
        ("PIP_DISABLE_PIP_VERSION_CHECK".to_string(), "1".to_string()),
        ("npm_config_update_notifier".to_string(), "false".to_string()),
        ("npm_config_fund".to_string(), "false".to_string()),
        ("npm_config_audit".to_string(), "false".to_string()),
    ]);
    Ok(env)
}

/// The environment with the deployment's venv (if any) activated.
fn with_venv(env: &[(String, String)], code: &Path) -> Vec<(String, String)> {
    let venv = code.join("runtime-env");
    let mut env = env.to_vec();
    if venv.join("bin").is_dir() {
        let path = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone()).unwrap_or_default();
        env.retain(|(k, _)| k != "PATH");
        env.push(("PATH".into(), format!("{}:{path}", venv.join("bin").display())));
        env.push(("VIRTUAL_ENV".into(), venv.display().to_string()));
    }
    env
}

/// Runs one build step in its own process group; stdout and stderr become build logs.
async fn run_command(
    state: &AppState,
    deployment_id: &str,
    program: &str,
    args: &[String],
    cwd: &Path,
    env: &[(String, String)],
) -> Result<(bool, String), String> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // SAFETY: only async-signal-safe prctl between fork and exec: the build dies with us.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| format!("Could not start {program}: {e}"))?;
    let pgid = child.id().unwrap_or(0) as i32;
    state.functions.building.lock().unwrap().insert(deployment_id.to_string(), pgid);
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let collected = Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let pump = |mut pipe: Box<dyn tokio::io::AsyncRead + Unpin + Send>, sink: Arc<std::sync::Mutex<Vec<u8>>>| async move {
        let mut buf = vec![0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    };
    let a = tokio::spawn(pump(Box::new(stdout), collected.clone()));
    let b = tokio::spawn(pump(Box::new(stderr), collected.clone()));
    let status = tokio::time::timeout(BUILD_TIMEOUT, child.wait()).await;
    let timed_out = status.is_err();
    if timed_out {
        // SAFETY: the build's own process group.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = child.wait().await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = a.await;
        let _ = b.await;
    })
    .await;
    let text = String::from_utf8_lossy(&collected.lock().unwrap()).into_owned();
    if timed_out {
        return Err(format!("{text}Build timed out after {} seconds.", BUILD_TIMEOUT.as_secs()));
    }
    Ok((matches!(status, Ok(Ok(s)) if s.success()), text))
}
