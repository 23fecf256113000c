//! Chunks pass through multi-megabyte buffers, several at once. glibc would serve each from a fresh
//! mapping (a page fault per 4 KiB, on every chunk) or, once its adaptive threshold has grown,
//! keep them for good. Instead large buffers stay in the heap, reused from chunk to chunk while an
//! upload runs, and the heap is trimmed shortly after a file completes, so the emulator returns to
//! about its idle size.

use std::sync::Once;
use std::time::Duration;

/// Sets the allocator's thresholds (once per process).
pub fn tune() {
    static TUNED: Once = Once::new();
    // SAFETY: mallopt only changes allocator tuning and may be called at any time.
    TUNED.call_once(|| unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
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
