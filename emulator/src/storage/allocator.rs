//! Chunks pass through multi-megabyte buffers; glibc keeps what they leave behind in its arenas.
//! Shortly after a file completes the free memory is handed back, so an emulator that served a
//! large upload returns towards its idle size.
//!
//! (An earlier version also pinned glibc to one arena with raised thresholds: it kept idle memory
//! lowest but serialised every allocation of concurrent requests on one lock, halving document
//! create throughput at concurrency 64. Measurements in bench/RESULTS.md.)

use std::time::Duration;

/// Hands free memory back to the system a moment from now, when the request that completed a
/// file has released its own buffers too.
pub fn give_back_soon() {
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_millis(250)).await;
        // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
        let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
    });
}
