//! `qw emulator`: serve the Appwrite emulator until SIGTERM or Ctrl-C.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args as ClapArgs;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8095)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Folder where projects persist across restarts.
    #[arg(long, conflicts_with = "in_memory")]
    data: Option<PathBuf>,
    /// Keep everything in memory (the default when --data is not given).
    #[arg(long)]
    in_memory: bool,
    /// A project to create at start (repeatable).
    #[arg(long = "project")]
    projects: Vec<String>,
    /// An API key holding every scope on every project.
    #[arg(long = "api-key")]
    api_keys: Vec<String>,
    /// A CTranslate2 Whisper model folder: /v1/audio/transcriptions then transcribes locally.
    #[arg(long, env = "QW_WHISPER_MODEL", value_name = "DIR")]
    whisper_model: Option<PathBuf>,
    /// The Python (with faster-whisper) that runs the Whisper worker [default: the project's .venv, else python3].
    #[arg(long, env = "QW_WHISPER_PYTHON", value_name = "PATH")]
    whisper_python: Option<PathBuf>,
    /// Forward /v1/audio/transcriptions to OpenAI with this key (when no --whisper-model is given).
    #[arg(long, env = "QW_OPENAI_API_KEY", value_name = "KEY", hide_env_values = true, value_parser = parse_api_key)]
    openai_api_key: Option<emulator::transcription::ApiKey>,
    /// OpenAI's base URL for forwarding [default: https://api.openai.com/v1].
    #[arg(long, env = "QW_OPENAI_BASE_URL", value_name = "URL")]
    openai_base_url: Option<String>,
    /// The largest file a bucket may accept, in bytes (Appwrite's `_APP_STORAGE_LIMIT`).
    #[arg(long, env = "_APP_STORAGE_LIMIT", default_value_t = emulator::state::DEFAULT_STORAGE_LIMIT)]
    storage_limit: u64,
}

fn parse_api_key(s: &str) -> Result<emulator::transcription::ApiKey, String> {
    Ok(emulator::transcription::ApiKey::new(s))
}

/// Refuses a Whisper configuration that cannot work before anything starts (exit 2), rather than
/// on the first transcription.
fn check_whisper(args: &Args) -> Result<(), String> {
    if let Some(dir) = &args.whisper_model {
        if !dir.join("model.bin").is_file() {
            return Err(format!("--whisper-model {}: not a CTranslate2 Whisper model folder (no model.bin)", dir.display()));
        }
    }
    if let Some(python) = &args.whisper_python {
        // A bare name (`python3`) is looked up on PATH when the worker starts.
        if python.components().count() > 1 && !python.is_file() {
            return Err(format!("--whisper-python {}: no such file", python.display()));
        }
    }
    Ok(())
}

pub fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: Args) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("QW_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    if let Err(e) = check_whisper(&args) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let config = emulator::Config {
        data_dir: args.data.clone(),
        projects: args.projects.clone(),
        api_keys: args.api_keys.clone(),
        whisper_model: args.whisper_model.clone(),
        whisper_python: args.whisper_python.clone(),
        openai_api_key: args.openai_api_key.clone(),
        openai_base_url: args.openai_base_url.clone(),
        storage_limit: args.storage_limit,
        ..emulator::Config::default()
    };
    let state = match emulator::AppState::new(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot open the emulator's data: {}", e.message);
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}:{}: {e}", args.host, args.port);
            return ExitCode::from(1);
        }
    };
    let addr = listener.local_addr().expect("bound address");
    let host = if addr.ip().is_ipv6() { format!("[{}]", addr.ip()) } else { addr.ip().to_string() };
    let endpoint = format!("http://{host}:{}/v1", addr.port());
    state.set_endpoint(endpoint.clone());
    // Handlers exist before the first line is printed: a signal sent right after it must still
    // shut the server down cleanly.
    let shutdown = match shutdown_signal() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    println!("emulator listening on {endpoint}");
    let _ = std::io::stdout().flush();
    match emulator::serve(listener, state, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// A future resolving on SIGTERM or Ctrl-C; the handlers are installed when this returns.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
