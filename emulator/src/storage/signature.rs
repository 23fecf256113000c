//! The MD5 signature of a chunked upload, computed while its chunks arrive: each time the next
//! chunk in file order is present it is hashed (from the request's memory when it is the chunk just
//! received, else read back from the upload's temporary), so the completing chunk does not have to
//! read the whole file again. The state lives in memory only; after a restart it is rebuilt from
//! the chunks on disk.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use md5::{Digest, Md5};

use super::chunked_upload::CHUNK_SIZE;
use super::disk::{self, Facts};

/// MD5 over the leading chunks of an upload received so far.
pub struct Running {
    md5: Md5,
    /// The next chunk number (1-based) to hash.
    next: i64,
    head: Vec<u8>,
}

impl Running {
    fn new() -> Running {
        Running { md5: Md5::new(), next: 1, head: Vec::new() }
    }

    fn feed(&mut self, data: &[u8]) {
        if self.head.len() < disk::SNIFF_BYTES {
            let take = (disk::SNIFF_BYTES - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
        }
        self.md5.update(data);
    }

    /// Hashes every chunk that now continues the hashed prefix: `parts` are the chunk numbers
    /// present, `just` the chunk this request carried (`data`), `size` the file's total size.
    pub fn advance(&mut self, part: &Path, parts: &[i64], just: i64, data: &[u8], size: i64) -> io::Result<()> {
        let mut file: Option<File> = None;
        while parts.binary_search(&self.next).is_ok() {
            let start = (self.next - 1) * CHUNK_SIZE;
            let len = (size - start).min(CHUNK_SIZE) as usize;
            if self.next == just {
                self.feed(data);
            } else {
                let f = match &file {
                    Some(f) => f,
                    None => file.insert(File::open(part)?),
                };
                let mut buf = vec![0u8; len];
                f.read_exact_at(&mut buf, start as u64)?;
                self.feed(&buf);
            }
            self.next += 1;
        }
        Ok(())
    }

    /// The facts of the complete file (every chunk hashed).
    pub fn finish(self, name: &str) -> Facts {
        let signature = self.md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Facts { signature, mime_type: disk::mime_type(&self.head, name) }
    }
}

static RUNNING: LazyLock<Mutex<HashMap<PathBuf, Running>>> = LazyLock::new(Default::default);

/// Takes the running signature of the upload whose temporary is `part` (a fresh one if none).
pub fn take(part: &Path) -> Running {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner()).remove(part).unwrap_or_else(Running::new)
}

/// Keeps the running signature for the upload's next chunk.
pub fn keep(part: PathBuf, running: Running) {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner()).insert(part, running);
}

/// Forgets an upload (deleted, or its state could not be kept).
pub fn forget(part: &Path) {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner()).remove(part);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_chunks_hash_like_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("f.part");
        let chunk = CHUNK_SIZE as usize;
        let data: Vec<u8> = (0..(3 * chunk + 5)).map(|i| (i * 7 % 251) as u8).collect();
        let size = data.len() as i64;
        let slice = |n: i64| &data[(n as usize - 1) * chunk..((n as usize) * chunk).min(data.len())];
        let mut running = Running::new();
        let mut parts = Vec::new();
        for n in [3, 1, 4, 2] {
            disk::write_chunk(&part, ((n - 1) * CHUNK_SIZE) as u64, slice(n)).unwrap();
            parts.push(n);
            parts.sort();
            running.advance(&part, &parts, n, slice(n), size).unwrap();
        }
        assert_eq!(running.next, 5);
        assert_eq!(running.finish("f.bin"), disk::facts_of_bytes(&data, "f.bin"));
    }

    #[test]
    fn a_lost_state_is_rebuilt_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("g.part");
        let data = vec![9u8; CHUNK_SIZE as usize + 3];
        disk::write_chunk(&part, 0, &data[..CHUNK_SIZE as usize]).unwrap();
        disk::write_chunk(&part, CHUNK_SIZE as u64, &data[CHUNK_SIZE as usize..]).unwrap();
        let mut fresh = take(&part);
        fresh.advance(&part, &[1, 2], 2, &data[CHUNK_SIZE as usize..], data.len() as i64).unwrap();
        assert_eq!(fresh.finish("g").signature, disk::facts_of_bytes(&data, "g").signature);
    }
}
