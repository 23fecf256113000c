//! The `qw emulator` process under test.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const PROJECT: &str = "bench";

pub struct Emulator {
    child: Child,
    pub endpoint: String,
    pub key: String,
}

impl Emulator {
    /// Starts `qw emulator --port 0` (in memory, or on `data`) and reads its first line.
    pub async fn start(qw: &Path, data: Option<&Path>) -> Emulator {
        let key = "standard_bench".to_string();
        let mut cmd = Command::new(qw);
        cmd.args(["emulator", "--port", "0", "--project", PROJECT, "--api-key", &key]);
        match data {
            Some(d) => cmd.arg("--data").arg(d),
            None => cmd.arg("--in-memory"),
        };
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true).spawn().expect("spawn qw");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next_line().await.unwrap().expect("first line");
        let endpoint = first.strip_prefix("emulator listening on ").expect("contract line").to_string();
        Emulator { child, endpoint, key }
    }

    /// Resident set size in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.id().unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            terminate(pid);
        }
        let _ = self.child.wait().await;
    }
}

fn terminate(pid: u32) {
    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
}
