//! The local Whisper engine: one long-lived Python process running faster-whisper
//! (`emulator/whisper/worker.py`), started on the first request, kept warm, restarted when it
//! dies, fed one job at a time over a line-delimited JSON protocol on stdin/stdout.
//!
//! The script is compiled into the binary (`include_str!`) and written to a private temporary
//! folder when the worker first starts: the binary then works wherever it is installed or copied,
//! with no search for a file beside it, and the script always matches the Rust side of the protocol.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::openai_format::Transcript;

const WORKER_SCRIPT: &str = include_str!("../../whisper/worker.py");

/// How long loading the model may take before the worker is given up on.
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// Lines of the worker's stderr kept to explain a failure.
const STDERR_TAIL: usize = 30;

/// What one job asks of the engine.
#[derive(Debug, Clone, Default)]
pub struct Job {
    pub language: Option<String>,
    pub prompt: Option<String>,
    pub temperature: f64,
    pub word_timestamps: bool,
}

/// Why a job produced no transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum JobError {
    /// The file is not audio that ffmpeg (PyAV) can decode.
    InvalidAudio(String),
    /// Decoded, but shorter than 0.1 s.
    TooShort(String),
    /// The worker cannot be started (Python, faster-whisper or the model is missing or broken).
    Unavailable(String),
    /// The worker failed or died on this job.
    Engine(String),
}

/// The local engine.
pub struct LocalWhisper {
    model: PathBuf,
    python: PathBuf,
    script: OnceLock<tempfile::TempDir>,
    worker: tokio::sync::Mutex<Option<Worker>>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Copies stderr to the log and the tail; ends when the worker's stderr closes.
    stderr: tokio::task::JoinHandle<()>,
    next_id: u64,
}

#[derive(Deserialize)]
struct Reply {
    ok: bool,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

impl LocalWhisper {
    /// An engine for the CTranslate2 model folder `model`, run by `python`; nothing starts yet.
    pub fn new(model: PathBuf, python: PathBuf) -> Self {
        LocalWhisper {
            model,
            python,
            script: OnceLock::new(),
            worker: tokio::sync::Mutex::new(None),
            stderr_tail: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    /// The model folder.
    pub fn model(&self) -> &Path {
        &self.model
    }

    /// The Python interpreter that runs the worker.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// Transcribes `audio`. The job runs on its own task, so a client that hangs up mid-way
    /// cannot leave a half-read reply in the pipe for the next request.
    pub async fn transcribe(self: &Arc<Self>, audio: bytes::Bytes, filename: &str, job: Job) -> Result<Transcript, JobError> {
        let file = write_temp_audio(&audio, filename).await?;
        let engine = self.clone();
        tokio::spawn(async move {
            let result = engine.run_job(file.path(), &job).await;
            drop(file);
            result
        })
        .await
        .map_err(|e| JobError::Engine(format!("the transcription task failed: {e}")))?
    }

    async fn run_job(&self, audio: &Path, job: &Job) -> Result<Transcript, JobError> {
        let mut slot = self.worker.lock().await;
        // A worker found dead at the first attempt may have died before this job (killed, or
        // still dying when `try_wait` looked): one retry on a fresh worker. A job that kills
        // the worker itself fails on the second one too, and is answered as a failure.
        let mut attempt = 0;
        let (id, reply) = loop {
            attempt += 1;
            let alive = match slot.as_mut() {
                Some(w) => matches!(w.child.try_wait(), Ok(None)),
                None => false,
            };
            if !alive {
                if let Some(old) = slot.take() {
                    tracing::warn!("the Whisper worker had exited; starting a new one");
                    old.stop().await;
                }
                *slot = Some(self.start().await?);
            }
            let worker = slot.as_mut().expect("worker started above");
            worker.next_id += 1;
            let id = worker.next_id;
            match worker.exchange(&job_line(id, audio, job)).await {
                Ok(reply) => break (id, reply),
                Err(why) => {
                    // The next job (or the retry) starts a fresh worker.
                    if let Some(dead) = slot.take() {
                        dead.stop().await;
                    }
                    if attempt == 2 {
                        return Err(JobError::Engine(format!(
                            "the Whisper worker died while transcribing ({why}){}",
                            self.stderr_excerpt()
                        )));
                    }
                    tracing::warn!("the Whisper worker died ({why}); retrying on a new one");
                }
            }
        };
        let parsed = serde_json::from_str::<Value>(&reply)
            .map_err(|e| format!("something that is not JSON ({e}): {reply}"))
            .and_then(|v| serde_json::from_value::<Reply>(v.clone()).map(|h| (v, h)).map_err(|e| format!("an unexpected reply ({e}): {reply}")))
            .and_then(|(v, h)| if h.id == Some(id) { Ok((v, h)) } else { Err(format!("job {:?} to job {id}", h.id)) });
        let (value, head) = match parsed {
            Ok(p) => p,
            Err(why) => {
                // Out of step with the protocol: the next reply could belong to this job, so
                // this worker cannot be trusted with another one.
                if let Some(w) = slot.take() {
                    w.stop().await;
                }
                return Err(JobError::Engine(format!("the Whisper worker answered {why}")));
            }
        };
        if !head.ok {
            return Err(match head.error.as_str() {
                "invalid_audio" => JobError::InvalidAudio(head.message),
                "too_short" => JobError::TooShort(head.message),
                _ => JobError::Engine(head.message),
            });
        }
        serde_json::from_value(value).map_err(|e| JobError::Engine(format!("unexpected transcript from the Whisper worker ({e})")))
    }

    async fn start(&self) -> Result<Worker, JobError> {
        let script = self.script_path()?;
        self.stderr_tail.lock().unwrap().clear();
        let mut child = Command::new(&self.python)
            .arg("-u")
            .arg(&script)
            .arg("--model")
            .arg(&self.model)
            .env("HF_HUB_OFFLINE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                JobError::Unavailable(format!(
                    "cannot run the Whisper worker with Python {} ({e}); point --whisper-python / QW_WHISPER_PYTHON at a Python that has faster-whisper installed",
                    self.python.display()
                ))
            })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let stderr = child.stderr.take().expect("piped stderr");
        let tail = self.stderr_tail.clone();
        let stderr = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::info!(target: "qw::whisper", "{line}");
                let mut tail = tail.lock().unwrap();
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        let first = tokio::time::timeout(START_TIMEOUT, stdout.next_line()).await;
        let fail = |why: String| JobError::Unavailable(format!("the Whisper worker did not start: {why}"));
        let line = match first {
            Err(_) => {
                let _ = child.start_kill();
                return Err(fail(format!("no answer after {} s", START_TIMEOUT.as_secs())));
            }
            Ok(Err(e)) => return Err(fail(e.to_string())),
            Ok(Ok(None)) => {
                let status = child.wait().await.map(|s| s.to_string()).unwrap_or_default();
                drain(stderr).await;
                return Err(fail(format!("{} exited ({status}){}", self.python.display(), self.stderr_excerpt())));
            }
            Ok(Ok(Some(line))) => line,
        };
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| json!({"event": "failed", "message": line}));
        if ready["event"] != "ready" {
            let _ = child.start_kill();
            let _ = child.wait().await;
            drain(stderr).await;
            let message = ready["message"].as_str().unwrap_or("").to_string();
            let hint = if message.contains("faster_whisper") {
                format!("; install faster-whisper into {} or point --whisper-python / QW_WHISPER_PYTHON at a Python that has it", self.python.display())
            } else {
                String::new()
            };
            return Err(fail(format!("{message}{hint}")));
        }
        tracing::info!(
            "Whisper worker ready: model {} (multilingual: {}), faster-whisper {}, loaded in {} s",
            self.model.display(),
            ready["multilingual"],
            ready["faster_whisper"],
            ready["load_seconds"]
        );
        Ok(Worker { child, stdin, stdout, stderr, next_id: 0 })
    }

    fn script_path(&self) -> Result<PathBuf, JobError> {
        if self.script.get().is_none() {
            let dir = tempfile::Builder::new()
                .prefix("qw-whisper-")
                .tempdir()
                .and_then(|d| std::fs::write(d.path().join("worker.py"), WORKER_SCRIPT).map(|_| d))
                .map_err(|e| JobError::Unavailable(format!("cannot write the Whisper worker script: {e}")))?;
            let _ = self.script.set(dir);
        }
        Ok(self.script.get().expect("set above").path().join("worker.py"))
    }

    fn stderr_excerpt(&self) -> String {
        let tail = self.stderr_tail.lock().unwrap();
        if tail.is_empty() {
            String::new()
        } else {
            let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
            format!(": {}", lines[lines.len().saturating_sub(8)..].join(" | "))
        }
    }
}

impl Worker {
    /// Sends one job line and reads the reply line; `Err` when the worker is gone.
    async fn exchange(&mut self, line: &str) -> Result<String, String> {
        let sent = async {
            self.stdin.write_all(line.as_bytes()).await?;
            self.stdin.flush().await
        };
        sent.await.map_err(|e| e.to_string())?;
        match self.stdout.next_line().await {
            Ok(Some(reply)) => Ok(reply),
            Ok(None) => Err("its output closed".to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Kills the worker and waits for its last stderr lines to reach the tail.
    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        drain(self.stderr).await;
    }
}

/// Waits (briefly: a grandchild could hold the pipe open) for a stderr reader to finish.
async fn drain(reader: tokio::task::JoinHandle<()>) {
    let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
}

/// One protocol line asking for job `id`.
fn job_line(id: u64, audio: &Path, job: &Job) -> String {
    let line = json!({
        "id": id,
        "audio": audio,
        "language": job.language,
        "prompt": job.prompt,
        "temperature": job.temperature,
        "word_timestamps": job.word_timestamps,
    });
    format!("{line}\n")
}

/// The upload, written where the worker can open it by path. The original extension is kept as
/// a hint for the few formats ffmpeg cannot recognise from their content alone.
async fn write_temp_audio(audio: &[u8], filename: &str) -> Result<tempfile::NamedTempFile, JobError> {
    let ext: String = Path::new(filename)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let audio = audio.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut file = tempfile::Builder::new().prefix("qw-audio-").suffix(&ext).tempfile()?;
        std::io::Write::write_all(&mut file, &audio)?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| JobError::Engine(e.to_string()))?
    .map_err(|e| JobError::Engine(format!("cannot store the upload for the Whisper worker: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_python_is_reported_as_unavailable_naming_the_setting() {
        let engine = Arc::new(LocalWhisper::new("/nonexistent/model".into(), "/nonexistent/python3".into()));
        let err = engine.transcribe(bytes::Bytes::from_static(b"RIFF"), "a.wav", Job::default()).await.unwrap_err();
        match err {
            JobError::Unavailable(m) => assert!(m.contains("--whisper-python") && m.contains("/nonexistent/python3"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_worker_that_cannot_load_explains_why() {
        // A real Python without the model: the worker's own "failed" line comes back.
        let Ok(python) = which_python() else { return };
        let engine = Arc::new(LocalWhisper::new("/nonexistent/model".into(), python));
        let err = engine.transcribe(bytes::Bytes::from_static(b"RIFF"), "a.wav", Job::default()).await.unwrap_err();
        match err {
            JobError::Unavailable(m) => assert!(m.contains("model.bin"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    fn which_python() -> Result<PathBuf, ()> {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("python3")).find(|p| p.is_file()))
            .ok_or(())
    }

    /// A stand-in for Python: a shell script playing the worker's side of the protocol.
    fn fake_python(dir: &Path, on_job: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("python");
        let script = format!(
            "#!/bin/sh\necho started >> {starts}\necho '{{\"event\": \"ready\"}}'\nwhile read line; do\n  id=$(echo \"$line\" | sed 's/^{{\"id\":\\([0-9]*\\).*/\\1/')\n  {on_job}\ndone\n",
            starts = dir.join("starts").display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn starts(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join("starts")).map(|s| s.lines().count()).unwrap_or(0)
    }

    #[tokio::test]
    async fn replies_are_matched_to_jobs_and_the_worker_stays_warm() {
        let dir = tempfile::tempdir().unwrap();
        let python = fake_python(
            dir.path(),
            r#"echo "{\"id\": $id, \"ok\": true, \"language\": \"en\", \"duration\": 1.5, \"segments\": []}""#,
        );
        let engine = Arc::new(LocalWhisper::new(dir.path().into(), python));
        for _ in 0..3 {
            let t = engine.transcribe(bytes::Bytes::from_static(b"RIFF"), "a.wav", Job::default()).await.unwrap();
            assert_eq!((t.language.as_str(), t.duration, t.segments.len()), ("en", 1.5, 0));
        }
        assert_eq!(starts(dir.path()), 1, "one worker serves every job");
    }

    #[tokio::test]
    async fn a_worker_out_of_step_with_the_protocol_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let python = fake_python(dir.path(), "echo 'Some library printed this'");
        let engine = Arc::new(LocalWhisper::new(dir.path().into(), python));
        for n in 1..=2 {
            match engine.transcribe(bytes::Bytes::from_static(b"RIFF"), "a.wav", Job::default()).await.unwrap_err() {
                JobError::Engine(m) => assert!(m.contains("not JSON"), "{m}"),
                other => panic!("{other:?}"),
            }
            assert_eq!(starts(dir.path()), n, "a fresh worker for each job after a bad reply");
        }
    }

    #[tokio::test]
    async fn uploads_keep_a_safe_extension() {
        let f = write_temp_audio(b"x", "talk.MP3").await.unwrap();
        assert!(f.path().to_string_lossy().ends_with(".MP3"));
        let f = write_temp_audio(b"x", "../../etc/passwd").await.unwrap();
        assert!(f.path().extension().is_none());
        let f = write_temp_audio(b"x", "a.w a v").await.unwrap();
        assert!(f.path().extension().is_none());
    }
}
