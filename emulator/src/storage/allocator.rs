//! Chunks pass through multi-megabyte buffers, several at once. glibc would serve each from a fresh
//! mapping (a page fault per 4 KiB, on every chunk) or, once its adaptive threshold has grown, keep
//! them for good in per-thread arenas it never shrinks. Instead large buffers stay in one heap,
//! reused from chunk to chunk while an upload runs (no trimming meanwhile), and that heap is trimmed
//! shortly after a file completes, so the emulator returns to about its idle size. `tune` must run
//! before the runtime's threads start (the `qw emulator` command calls it first); the router calls
//! it too, for embedders.

use std::sync::Once;
use std::time::Duration;

/// Sets the allocator's thresholds and a single arena (once per process).
pub fn tune() {
    static TUNED: Once = Once::new();
    // SAFETY: mallopt only changes allocator tuning and may be called at any time.
    TUNED.call_once(|| unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    });
}

/// Hands free memory back to the system a moment from now, when the request that completed a
/// file has released its own buffers too.
pub fn give_back_soon() {
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_millis(250)).await;
        // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
        let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
    });
}
