//! Where file contents live and how they get there: `<project dir>/buckets/<bucketSeq>/<fileId>`
//! for complete files, `…/.uploads/` for uploads in progress. A file reaches its final path only
//! by an atomic rename of a fully written temporary, so a crash mid-upload never leaves a partial
//! file at a visible path (file IDs cannot start with `.`, so `.uploads` never collides).
//!
//! Contents are not fsynced before the rename: like the project database (WAL with
//! `synchronous=NORMAL`) this survives a killed process, not a power cut, and keeps large uploads
//! at disk-cache speed.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

/// Folder of one bucket's files (by sequence, so a re-created bucket never sees old files).
pub fn bucket_dir(project_dir: &Path, bucket_seq: i64) -> PathBuf {
    project_dir.join("buckets").join(bucket_seq.to_string())
}

/// The final path of a complete file.
pub fn blob_path(project_dir: &Path, bucket_seq: i64, file_id: &str) -> PathBuf {
    bucket_dir(project_dir, bucket_seq).join(file_id)
}

fn uploads_dir(project_dir: &Path, bucket_seq: i64) -> PathBuf {
    bucket_dir(project_dir, bucket_seq).join(".uploads")
}

/// The temporary that a chunked upload's chunks are written into, each at its own offset.
pub fn part_path(project_dir: &Path, bucket_seq: i64, file_id: &str) -> PathBuf {
    uploads_dir(project_dir, bucket_seq).join(format!("{file_id}.part"))
}

/// Writes one chunk at `offset` of the upload's temporary (created on first use, never truncated,
/// so chunks may arrive in any order and concurrently).
pub fn write_chunk(part: &Path, offset: u64, data: &[u8]) -> io::Result<()> {
    if let Some(dir) = part.parent() {
        fs::create_dir_all(dir)?;
    }
    let f = OpenOptions::new().create(true).write(true).truncate(false).open(part)?;
    f.write_all_at(data, offset)
}

/// Writes a whole file to a fresh temporary beside its final path, then renames it into place.
pub fn write_whole(project_dir: &Path, bucket_seq: i64, file_id: &str, data: &[u8]) -> io::Result<()> {
    let dir = uploads_dir(project_dir, bucket_seq);
    fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::Builder::new().prefix(&format!("{file_id}.")).suffix(".tmp").tempfile_in(&dir)?;
    tmp.write_all(data)?;
    tmp.persist(blob_path(project_dir, bucket_seq, file_id)).map_err(|e| e.error)?;
    Ok(())
}

/// Moves a completed upload's temporary to its final path (atomic: same folder tree).
pub fn publish(part: &Path, blob: &Path) -> io::Result<()> {
    fs::rename(part, blob)
}

/// Removes a file's contents and any upload temporary; missing ones are fine.
pub fn remove(project_dir: &Path, bucket_seq: i64, file_id: &str) -> io::Result<()> {
    for path in [blob_path(project_dir, bucket_seq, file_id), part_path(project_dir, bucket_seq, file_id)] {
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Removes a deleted bucket's folder and everything in it.
pub fn remove_bucket(project_dir: &Path, bucket_seq: i64) -> io::Result<()> {
    match fs::remove_dir_all(bucket_dir(project_dir, bucket_seq)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// What Appwrite records about a file's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// MD5 hex of the contents (the local device's `getFileHash`).
    pub signature: String,
    pub mime_type: String,
}

/// Bytes read to recognise a file type.
pub const SNIFF_BYTES: usize = 8192;

/// Facts of an in-memory file.
pub fn facts_of_bytes(data: &[u8], name: &str) -> Facts {
    Facts { signature: hex(&Md5::digest(data)), mime_type: mime_type(&data[..data.len().min(SNIFF_BYTES)], name) }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The MIME type of contents starting with `head`: recognised from the bytes (as libmagic does
/// for Appwrite), else from the file name's extension, else `text/plain` for text, else
/// `application/octet-stream`.
pub fn mime_type(head: &[u8], name: &str) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    if let Some(guess) = mime_guess::from_path(name).first() {
        return guess.essence_str().to_string();
    }
    if looks_like_text(head) {
        return "text/plain".into();
    }
    "application/octet-stream".into()
}

fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the sniffed window is still text.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_contents_then_names() {
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R'];
        assert_eq!(mime_type(&png, "no-extension"), "image/png");
        let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
        wav.extend_from_slice(&[0u8; 32]);
        assert_eq!(mime_type(&wav, "take.bin"), "audio/x-wav");
        assert_eq!(mime_type(b"ID3\x04\x00\x00\x00\x00\x00\x00", "song"), "audio/mpeg");
        assert_eq!(mime_type(b"{\"a\":1}", "data.json"), "application/json");
        assert_eq!(mime_type(b"hello world", "a.txt"), "text/plain");
        assert_eq!(mime_type("héllo".as_bytes(), "README"), "text/plain");
        assert_eq!(mime_type(&[0, 1, 2, 3, 0xff], "blob"), "application/octet-stream");
    }

    #[test]
    fn md5_signature() {
        assert_eq!(facts_of_bytes(b"hello world", "a.txt").signature, "5eb63bbbe01eeed093cb22bb8f5acdc3");
    }

    #[test]
    fn chunks_land_at_their_offsets_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let part = part_path(dir.path(), 7, "f1");
        write_chunk(&part, 6, b"world").unwrap();
        write_chunk(&part, 0, b"hello ").unwrap();
        let blob = blob_path(dir.path(), 7, "f1");
        publish(&part, &blob).unwrap();
        assert_eq!(fs::read(&blob).unwrap(), b"hello world");
        assert!(!part.exists());
        remove(dir.path(), 7, "f1").unwrap();
        assert!(!blob.exists());
    }
}
