//! Runtime processes: one warm open-runtimes server (our Python or Node harness) per active
//! deployment, spawned on the first execution, reused while warm, killed on timeout, crash,
//! redeploy, variable change or function delete.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::sync::watch;

/// How long a runtime may take to announce its port.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How much of a runtime's own stdout/stderr is kept for crash reports.
const TAIL_BYTES: usize = 64 * 1024;

/// What to start for a deployment.
pub struct Spec {
    /// The interpreter (the deployment's venv python, or node).
    pub interpreter: PathBuf,
    /// Interpreter options before the harness script.
    pub args: Vec<String>,
    /// The harness script it runs.
    pub harness: PathBuf,
    /// The folder holding `function/` (the built code).
    pub code_root: PathBuf,
    pub env: Vec<(String, String)>,
    pub logs_dir: PathBuf,
}

/// One request to a function.
pub struct Invocation {
    pub method: String,
    /// Path with its query string.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The function's timeout (the runtime's own, soft one).
    pub timeout: Duration,
    /// When the emulator gives up and kills the runtime.
    pub deadline: Duration,
    pub logging: bool,
}

/// What came back.
#[derive(Debug, Default)]
pub struct Outcome {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub logs: String,
    pub errors: String,
    /// Seconds, including a cold start.
    pub duration: f64,
    /// The deadline passed and the runtime was killed.
    pub killed_on_deadline: bool,
}

struct Output {
    text: String,
    total: u64,
}

/// A running harness process.
struct Process {
    pid: i32,
    port: u16,
    secret: String,
    logs_dir: PathBuf,
    output: Arc<Mutex<Output>>,
    exited: watch::Receiver<bool>,
}

impl Process {
    /// Kills the whole process group (the harness and anything the function started).
    fn kill(&self) {
        // SAFETY: kill(2) on a process group we created; a stale group is a harmless ESRCH.
        unsafe {
            libc::kill(-self.pid, libc::SIGKILL);
        }
    }

    fn output_since(&self, mark: u64) -> String {
        let out = self.output.lock().unwrap();
        let new = (out.total - mark) as usize;
        let keep = new.min(out.text.len());
        let mut start = out.text.len() - keep;
        while !out.text.is_char_boundary(start) {
            start += 1;
        }
        out.text[start..].to_string()
    }

    fn output_mark(&self) -> u64 {
        self.output.lock().unwrap().total
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Process>>>>;

/// The warm runtimes of one emulator, keyed `project/function/deployment`.
pub struct Pool {
    slots: Mutex<HashMap<String, Slot>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for Pool {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(600)).build(connector);
        Pool { slots: Mutex::new(HashMap::new()), client }
    }
}

/// The pool key of a deployment's runtime.
pub fn key(project: &str, function: &str, deployment: &str) -> String {
    format!("{project}/{function}/{deployment}")
}

impl Pool {
    /// Runs `inv` on the runtime of `key`, starting it from `spec` (awaited only then) when it is
    /// not warm.
    pub async fn invoke(&self, key: &str, spec: impl std::future::Future<Output = Result<Spec, String>>, inv: Invocation) -> Outcome {
        let started = Instant::now();
        let process = match self.warm(key, spec).await {
            Ok(p) => p,
            Err(e) => {
                return Outcome {
                    status: 500,
                    errors: e,
                    duration: started.elapsed().as_secs_f64(),
                    ..Default::default()
                }
            }
        };
        let mark = process.output_mark();
        let log_id = crate::ids::unique();
        let mut builder = hyper::Request::builder()
            .method(inv.method.as_str())
            .uri(format!("http://127.0.0.1:{}{}", process.port, inv.path));
        let mut has_host = false;
        for (k, v) in &inv.headers {
            has_host |= k.eq_ignore_ascii_case("host");
            builder = builder.header(k.as_str(), v.as_str());
        }
        if !has_host {
            builder = builder.header("host", format!("127.0.0.1:{}", process.port));
        }
        builder = builder
            .header("x-open-runtimes-secret", process.secret.as_str())
            .header("x-open-runtimes-timeout", inv.timeout.as_secs().max(1).to_string())
            .header("x-open-runtimes-logging", if inv.logging { "enabled" } else { "disabled" })
            .header("x-open-runtimes-log-id", log_id.as_str());
        let request = match builder.body(Full::new(inv.body.clone())) {
            Ok(r) => r,
            Err(e) => return Outcome { status: 500, errors: format!("Invalid request: {e}"), ..Default::default() },
        };
        let mut exited = process.exited.clone();
        let call = async {
            let response = self.client.request(request).await.map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok::<_, String>((parts, bytes))
        };
        enum End {
            Done(Result<(hyper::http::response::Parts, Bytes), String>),
            Deadline,
            Exited,
        }
        let end = tokio::select! {
            r = call => End::Done(r),
            _ = tokio::time::sleep(inv.deadline) => End::Deadline,
            _ = exited.wait_for(|e| *e) => End::Exited,
        };
        let (mut logs, mut errors) = read_logs(&process.logs_dir, &log_id).await;
        let mut outcome = Outcome::default();
        match end {
            End::Done(Ok((parts, body))) => {
                outcome.status = parts.status.as_u16();
                outcome.headers = parts
                    .headers
                    .iter()
                    .filter(|(k, _)| !k.as_str().starts_with("x-open-runtimes-"))
                    .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                    .collect();
                outcome.body = body;
            }
            End::Deadline => {
                process.kill();
                self.forget(key, &process);
                errors.push_str("Execution timed out.\n");
                outcome.status = 500;
                outcome.killed_on_deadline = true;
            }
            End::Done(Err(_)) | End::Exited => {
                // The runtime died mid-request: report what it printed, the way a container's
                // crash shows up in the executor's errors.
                let _ = tokio::time::timeout(Duration::from_secs(2), exited.wait_for(|e| *e)).await;
                self.forget(key, &process);
                let (more_logs, more_errors) = read_logs(&process.logs_dir, &log_id).await;
                logs.push_str(&more_logs);
                errors.push_str(&more_errors);
                let printed = process.output_since(mark);
                if !printed.is_empty() {
                    errors.push_str(&printed);
                    if !printed.ends_with('\n') {
                        errors.push('\n');
                    }
                }
                errors.push_str("Runtime exited unexpectedly; the runtime process was restarted.\n");
                outcome.status = 500;
            }
        }
        outcome.logs = logs;
        outcome.errors = errors;
        outcome.duration = started.elapsed().as_secs_f64();
        outcome
    }

    async fn warm(&self, key: &str, spec: impl std::future::Future<Output = Result<Spec, String>>) -> Result<Arc<Process>, String> {
        let slot = self.slots.lock().unwrap().entry(key.to_string()).or_default().clone();
        let mut guard = slot.lock().await;
        if let Some(p) = guard.as_ref() {
            if !*p.exited.borrow() {
                return Ok(p.clone());
            }
        }
        let process = Arc::new(spawn(spec.await?).await?);
        *guard = Some(process.clone());
        Ok(process)
    }

    /// Drops `process` from the pool if it is still the one serving `key`.
    fn forget(&self, key: &str, process: &Arc<Process>) {
        let slot = self.slots.lock().unwrap().get(key).cloned();
        if let Some(slot) = slot {
            if let Ok(mut guard) = slot.try_lock() {
                if guard.as_ref().is_some_and(|p| Arc::ptr_eq(p, process)) {
                    *guard = None;
                }
            }
        }
        process.kill();
    }

    /// Stops every runtime whose key starts with `prefix` (a project, a function, a deployment).
    pub fn recycle(&self, prefix: &str) {
        let slots: Vec<Slot> = {
            let mut map = self.slots.lock().unwrap();
            let keys: Vec<String> = map.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
            keys.iter().filter_map(|k| map.remove(k)).collect()
        };
        for slot in slots {
            let taken = match slot.try_lock() {
                Ok(mut guard) => Some(guard.take()),
                Err(_) => None,
            };
            if let Some(process) = taken {
                if let Some(p) = process {
                    p.kill();
                }
            } else {
                // Spawning right now: kill it once it is up.
                tokio::spawn(async move {
                    if let Some(p) = slot.lock().await.take() {
                        p.kill();
                    }
                });
            }
        }
    }

    /// Number of warm runtimes (for tests and diagnostics).
    pub fn warm_count(&self) -> usize {
        self.slots.lock().unwrap().len()
    }
}

/// Reads and removes the two log files of one execution. Plain blocking reads: they are small
/// local files, usually absent, and a thread hop would cost more than the read.
async fn read_logs(dir: &std::path::Path, id: &str) -> (String, String) {
    let mut out = (String::new(), String::new());
    for (suffix, target) in [("_logs.log", &mut out.0), ("_errors.log", &mut out.1)] {
        let path = dir.join(format!("{id}{suffix}"));
        if let Ok(bytes) = std::fs::read(&path) {
            *target = String::from_utf8_lossy(&bytes).into_owned();
            let _ = std::fs::remove_file(&path);
        }
    }
    out
}

async fn spawn(spec: Spec) -> Result<Process, String> {
    tokio::fs::create_dir_all(&spec.logs_dir).await.map_err(|e| format!("Runtime failed to start: {e}"))?;
    let secret = format!("{:032x}", rand::random::<u128>());
    let mut cmd = tokio::process::Command::new(&spec.interpreter);
    cmd.args(&spec.args)
        .arg(&spec.harness)
        .current_dir(spec.code_root.join("function"))
        .env_clear()
        .envs(base_env())
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("OPEN_RUNTIMES_SECRET", &secret)
        .env("QW_CODE_DIR", &spec.code_root)
        .env("QW_LOGS_DIR", &spec.logs_dir)
        .env("PYTHONUNBUFFERED", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0);
    // SAFETY: only async-signal-safe prctl between fork and exec: the runtime dies with us.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| format!("Runtime failed to start: {}: {e}", spec.interpreter.display()))?;
    let pid = child.id().unwrap_or(0) as i32;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let output = Arc::new(Mutex::new(Output { text: String::new(), total: 0 }));
    let mut lines = BufReader::new(stdout);
    let mut first = String::new();
    let ready = tokio::time::timeout(START_TIMEOUT, lines.read_line(&mut first)).await;
    let stderr_task = tokio::spawn(drain(stderr, output.clone()));
    let port = match ready {
        Ok(Ok(n)) if n > 0 => first.trim().strip_prefix("READY ").and_then(|p| p.parse::<u16>().ok()),
        _ => None,
    };
    let Some(port) = port else {
        // SAFETY: as in `Process::kill`.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait().await;
        let _ = tokio::time::timeout(Duration::from_secs(1), stderr_task).await;
        let printed = output.lock().unwrap().text.clone();
        return Err(format!("Runtime failed to start.\n{first}{printed}"));
    };
    let stdout_task = tokio::spawn(drain(lines.into_inner(), output.clone()));
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let _ = child.wait().await;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let _ = stdout_task.await;
            let _ = stderr_task.await;
        })
        .await;
        let _ = tx.send(true);
    });
    Ok(Process { pid, port, secret, logs_dir: spec.logs_dir, output, exited: rx })
}

async fn drain(mut pipe: impl AsyncRead + Unpin, output: Arc<Mutex<Output>>) {
    let mut buf = vec![0u8; 8192];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let mut out = output.lock().unwrap();
                out.text.push_str(&String::from_utf8_lossy(&buf[..n]));
                out.total += n as u64;
                if out.text.len() > TAIL_BYTES {
                    let mut cut = out.text.len() - TAIL_BYTES;
                    while !out.text.is_char_boundary(cut) {
                        cut += 1;
                    }
                    out.text.drain(..cut);
                }
            }
        }
    }
}

/// The few variables of the emulator's own environment a runtime inherits (a container gets a
/// clean environment; the interpreter still needs a PATH and a HOME).
pub fn base_env() -> Vec<(String, String)> {
    ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "npm_config_registry", "npm_config_cache"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}
