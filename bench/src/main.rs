//! `qw-bench core`: the emulator's core figures beside the same operations done straight on
//! SQLite in-process — cold start, idle RSS, document create throughput at concurrency 1/16/64,
//! get-by-id and indexed-`equal` list latency on a 100k-document collection. Prints Markdown.

mod http;
mod process;
mod sqlite_baseline;
mod stats;

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use crate::http::Api;
use crate::stats::{fmt_ms, Summary};

const DOCS: usize = 100_000;
const STATUSES: usize = 100;

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "core".into());
    let qw = PathBuf::from(args.next().unwrap_or_else(|| "target/release/qw".into()));
    match what.as_str() {
        "core" => {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(core(qw));
        }
        "creates" => {
            // Load only, against an emulator already running (for profiling): qw-bench creates ENDPOINT KEY CONCURRENCY TOTAL
            let endpoint = qw.to_string_lossy().to_string();
            let key = args.next().unwrap_or_else(|| "standard_bench".into());
            let concurrency: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
            let total: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let api = Api::new(&endpoint, &key);
                api.wait_healthy().await;
                api.setup_collection().await;
                println!("{:.0} creates/s", api.create_rate(concurrency, total).await);
            });
        }
        other => {
            eprintln!("usage: qw-bench core [path/to/qw] | qw-bench creates ENDPOINT KEY CONCURRENCY TOTAL   (unknown: {other})");
            std::process::exit(2);
        }
    }
}

async fn core(qw: PathBuf) {
    println!("## Core: start, memory, documents\n");

    // Cold start: process spawn → first 200 from /v1/health, and RSS once idle.
    let mut starts = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..15 {
        let t0 = Instant::now();
        let emu = process::Emulator::start(&qw, None).await;
        emu.api().wait_healthy().await;
        starts.push(t0.elapsed().as_secs_f64());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        rss.push(emu.rss_kib() as f64);
        emu.stop().await;
    }
    let starts = Summary::of(starts);
    let rss = Summary::of(rss);
    println!("| figure | emulator | target |");
    println!("|---|---|---|");
    println!("| cold start, spawn → first 200 from `/v1/health` (median of 15; p90) | {} ms ({} ms) | ≤ 50 ms |", fmt_ms(starts.p50), fmt_ms(starts.p90));
    println!("| idle RSS after start (median of 15) | {:.1} MiB | ≤ 30 MB |", rss.p50 / 1024.0);
    println!();

    // Create throughput over loopback HTTP, beside one-transaction-per-insert straight on SQLite.
    let dir = tempdir();
    let emu = process::Emulator::start(&qw, Some(&dir.join("data"))).await;
    let api = emu.api();
    api.wait_healthy().await;
    api.setup_collection().await;
    let baseline_dir = dir.join("baseline");
    std::fs::create_dir_all(&baseline_dir).unwrap();
    let base = sqlite_baseline::Baseline::open(&baseline_dir.join("b.db"));
    let base_inserts = base.insert_rate(5_000);
    println!("| documents created per second (loopback HTTP) | emulator | straight on SQLite | ratio |");
    println!("|---|---|---|---|");
    for (concurrency, total) in [(1usize, 3_000usize), (16, 20_000), (64, 20_000)] {
        let rate = api.create_rate(concurrency, total).await;
        println!("| concurrency {concurrency} ({total} creates) | {rate:.0}/s | {base_inserts:.0}/s | {:.2} |", rate / base_inserts);
    }
    println!();

    // 100k documents (bulk create through the API), then reads.
    let already = api.count().await;
    let t0 = Instant::now();
    api.fill(DOCS - already, STATUSES).await;
    let fill_secs = t0.elapsed().as_secs_f64();
    base.fill(DOCS, STATUSES);
    let rss_loaded = emu.rss_kib() as f64 / 1024.0;
    let ids = api.sample_ids(2_000).await;
    let get = Summary::of(api.get_latencies(&ids).await);
    let base_get = Summary::of(base.get_latencies(&base.sample_ids(2_000)));
    let list = Summary::of(api.list_latencies(STATUSES, 2_000).await);
    let base_list = Summary::of(base.list_latencies(STATUSES, 2_000));
    println!("| on {DOCS} documents (one client) | emulator p50 / p99 | straight on SQLite p50 / p99 | ratio (p50) |");
    println!("|---|---|---|---|");
    println!(
        "| get by ID | {} / {} ms | {} / {} ms | {:.1} |",
        fmt_ms(get.p50),
        fmt_ms(get.p99),
        fmt_ms(base_get.p50),
        fmt_ms(base_get.p99),
        get.p50 / base_get.p50
    );
    println!(
        "| list, indexed `equal` (limit 25, with total) | {} / {} ms | {} / {} ms | {:.1} |",
        fmt_ms(list.p50),
        fmt_ms(list.p99),
        fmt_ms(base_list.p50),
        fmt_ms(base_list.p99),
        list.p50 / base_list.p50
    );
    println!();
    println!("Loading {DOCS} documents through bulk create took {fill_secs:.1} s; RSS with them on disk: {rss_loaded:.1} MiB.");
    println!("Sizes: {}", json!({"data_dir_mib": dir_size(&dir.join("data")) as f64 / 1048576.0}));
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qw-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dir_size(p: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let m = e.metadata().unwrap();
            total += if m.is_dir() { dir_size(&e.path()) } else { m.len() };
        }
    }
    total
}

impl process::Emulator {
    fn api(&self) -> Api {
        Api::new(&self.endpoint, &self.key)
    }
}
