//! `POST /storage/buckets/{bucketId}/files`: a whole file in one multipart request, or one 5 MiB
//! chunk of a larger one (`Content-Range`, `X-Appwrite-ID`), as the SDKs send them — up to eight
//! chunks at once, in any order, re-sent after a resume.
//!
//! Chunks of one upload are serialised by a per-file lock around the two short bookkeeping steps
//! (create the upload, record the chunk); the chunk's bytes are written between them, straight to
//! their offset in the upload's temporary, so concurrent chunks overlap on disk. The chunk that
//! completes the set hashes the file, renames it into place and publishes the event, exactly once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use axum::http::StatusCode;
use super::access::{self, Access};
use super::disk::{self, Facts};
use super::signature;
use super::store::{self, BucketRow, FileRow};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::ids;
use crate::params::{FilePart, Params};
use crate::permissions;
use crate::response::{self, Reply};
use crate::state::Project;

/// The chunk size of client and server (`APP_LIMIT_UPLOAD_CHUNK_SIZE`).
pub const CHUNK_SIZE: i64 = 5 * 1024 * 1024;
/// Files above this are neither compressed nor encrypted by Appwrite (`APP_STORAGE_READ_BUFFER`).
pub const READ_BUFFER: i64 = 20_000_000;

/// A parsed `Content-Range: bytes start-end/size` (end inclusive), as utopia parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: i64,
    pub end: i64,
    pub size: i64,
}

/// utopia's `parseContentRange` plus Appwrite's own `end > size` check.
pub fn parse_content_range(header: &str) -> Option<ContentRange> {
    let (unit, rest) = header.split_once(' ')?;
    if unit.trim().is_empty() || rest.contains(' ') {
        return None;
    }
    let (range, size) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(size) || !digits(start) || !digits(end) || size.contains('/') || end.contains('-') {
        return None;
    }
    let r = ContentRange { start: start.parse().ok()?, end: end.parse().ok()?, size: size.parse().ok()? };
    (r.start <= r.end && r.end <= r.size).then_some(r)
}

/// One chunk of a chunked upload.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    /// 1-based chunk number.
    number: i64,
    total: i64,
    start: i64,
    size: i64,
}

impl Chunk {
    fn of(r: ContentRange) -> Chunk {
        Chunk { number: r.start / CHUNK_SIZE + 1, total: (r.size + CHUNK_SIZE - 1) / CHUNK_SIZE, start: r.start, size: r.size }
    }

    /// The emulator writes chunks at their byte offset, so it insists that a chunk is exactly the
    /// one its number names (the SDKs always send them so); Appwrite would silently store a
    /// misaligned or short chunk as a corrupt file.
    fn fits(&self, r: ContentRange, len: usize) -> bool {
        let expected_end = (self.start + CHUNK_SIZE).min(self.size) - 1;
        self.start % CHUNK_SIZE == 0 && r.end == expected_end && len as i64 == r.end - r.start + 1
    }
}

/// One lock per file being uploaded, shared by its concurrent chunks.
static UPLOAD_LOCKS: LazyLock<Mutex<HashMap<PathBuf, Weak<tokio::sync::Mutex<()>>>>> = LazyLock::new(Default::default);

/// The lock of one file's upload (also taken by delete, so contents never outlive their row).
pub(super) fn upload_lock(project: &Project, bucket_seq: i64, file_id: &str) -> Arc<tokio::sync::Mutex<()>> {
    let key = disk::blob_path(&project.dir, bucket_seq, file_id);
    let mut locks = UPLOAD_LOCKS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
        return lock;
    }
    locks.retain(|_, l| l.strong_count() > 0);
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    locks.insert(key, Arc::downgrade(&lock));
    lock
}

/// What the request asks for, validated in Appwrite's order.
struct Upload {
    bucket: BucketRow,
    file_id: String,
    permissions: Vec<String>,
    folder: String,
    part: FilePart,
    chunk: Option<Chunk>,
}

pub async fn create(ctx: Ctx, mut p: Params) -> Reply {
    let upload = validate(&ctx, &mut p).await?;
    let project = ctx.project()?.clone();
    let lock = upload_lock(&project, upload.bucket.seq, &upload.file_id);
    let (status, file, completed) = match upload.chunk {
        None => (StatusCode::CREATED, whole(&ctx, &project, &lock, upload).await?, true),
        Some(chunk) => chunked(&ctx, &project, &lock, upload, chunk).await?,
    };
    if completed {
        super::allocator::give_back_soon();
        crate::events::publish(
            &ctx,
            "buckets.[bucketId].files.[fileId].create",
            &[("bucketId", &file.bucket_id), ("fileId", &file.id)],
            file.model(),
        );
    }
    Ok(response::json(status, &file.model()))
}

async fn validate(ctx: &Ctx, p: &mut Params) -> ApiResult<Upload> {
    let raw_id = p.str("fileId")?;
    if raw_id != "unique()" {
        ids::check_id("fileId", &raw_id)?;
    }
    let given = access::file_permissions_param(p.str_list_opt("permissions")?)?;
    let folder = folder(p.str_opt("folder")?.unwrap_or_default());
    let part = p.take_file("file");

    let access = Access::of(ctx);
    let bucket_id = p.path("bucketId").to_string();
    let who = access.clone();
    let bucket = ctx.project()?.read(move |tx| who.bucket(tx, &bucket_id)).await?;
    access.bucket_allows(&bucket, permissions::CREATE)?;
    let permissions = access.new_permissions(given)?;
    if bucket.maximum_file_size > ctx.state.config.storage_limit as i64 {
        return Err(ApiError::msg(types::GENERAL_SERVER_ERROR, "Maximum bucket file size is larger than _APP_STORAGE_LIMIT"));
    }
    // An empty file part is refused like a missing one: there is nothing to store.
    let part = part.filter(|f| !f.data.is_empty()).ok_or_else(|| ApiError::of(types::STORAGE_FILE_EMPTY))?;

    let mut file_id = if raw_id == "unique()" { ids::unique() } else { raw_id };
    let mut size = part.data.len() as i64;
    let mut chunk = None;
    if let Some(header) = ctx.header("content-range").map(str::trim).filter(|h| !h.is_empty()) {
        let range = parse_content_range(header).ok_or_else(|| ApiError::of(types::STORAGE_INVALID_CONTENT_RANGE))?;
        if let Some(id) = ctx.header("x-appwrite-id") {
            file_id = id.trim().to_string();
        }
        if !ids::is_valid_id(&file_id) {
            return Err(ApiError::of(types::STORAGE_INVALID_APPWRITE_ID));
        }
        let c = Chunk::of(range);
        if !c.fits(range, part.data.len()) {
            return Err(ApiError::of(types::STORAGE_INVALID_CONTENT_RANGE));
        }
        size = range.size;
        chunk = Some(c);
    }

    if !bucket.allowed_file_extensions.is_empty() && !bucket.allowed_file_extensions.contains(&extension(&part.filename)) {
        return Err(ApiError::msg(types::STORAGE_FILE_TYPE_UNSUPPORTED, "File extension not allowed"));
    }
    if size > bucket.maximum_file_size {
        return Err(ApiError::msg(types::STORAGE_INVALID_FILE_SIZE, "File size not allowed"));
    }
    Ok(Upload { bucket, file_id, permissions, folder, part, chunk })
}

/// PHP's `pathinfo($name, PATHINFO_EXTENSION)`: what follows the last dot of the base name.
pub fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.rsplit_once('.').map(|(_, ext)| ext.to_string()).unwrap_or_default()
}

/// A virtual folder (Python 27's `folder`) as the File model shows it: with a trailing slash, or
/// empty for the bucket root.
fn folder(raw: String) -> String {
    let trimmed = raw.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}/")
    }
}

/// The row of a new file (or of a chunked upload's first chunk, with nothing uploaded yet).
fn new_row(ctx: &Ctx, u: &Upload, size: i64, chunks_total: i64) -> FileRow {
    let now = ctx.state.clock.now_iso();
    FileRow {
        seq: 0,
        bucket_seq: u.bucket.seq,
        bucket_id: u.bucket.id.clone(),
        id: u.file_id.clone(),
        name: u.part.filename.clone(),
        folder: u.folder.clone(),
        permissions: u.permissions.clone(),
        signature: String::new(),
        mime_type: String::new(),
        size_original: size,
        size_actual: 0,
        chunks_total,
        chunks_uploaded: 0,
        parts: Vec::new(),
        algorithm: "none".into(),
        encrypted: false,
        created_at: now.clone(),
        updated_at: now,
    }
}

/// Records the contents' facts, and the compression and encryption Appwrite would report for this
/// bucket and size. The emulator stores the bytes as they are (`sizeActual` = `sizeOriginal`).
fn complete(row: &mut FileRow, bucket: &BucketRow, facts: Facts, now: String) {
    let small = row.size_original <= READ_BUFFER;
    row.signature = facts.signature;
    row.mime_type = facts.mime_type;
    row.size_actual = row.size_original;
    row.chunks_uploaded = row.chunks_total;
    row.algorithm = if small && bucket.compression != "none" { bucket.compression.clone() } else { "none".into() };
    row.encrypted = small && bucket.encryption;
    row.updated_at = now;
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?.map_err(ApiError::from)
}

/// A file sent whole: stored, then recorded; a file that already exists is a conflict.
async fn whole(ctx: &Ctx, project: &Arc<Project>, lock: &tokio::sync::Mutex<()>, u: Upload) -> ApiResult<FileRow> {
    let _guard = lock.lock().await;
    let (bucket_seq, file_id) = (u.bucket.seq, u.file_id.clone());
    let exists = project.read(move |tx| Ok(store::get_file(tx, bucket_seq, &file_id)?.is_some())).await?;
    if exists {
        return Err(ApiError::of(types::STORAGE_FILE_ALREADY_EXISTS));
    }
    let mut row = new_row(ctx, &u, u.part.data.len() as i64, 1);
    let dir = project.dir.clone();
    let (id, name, data) = (u.file_id.clone(), u.part.filename.clone(), u.part.data.clone());
    let facts = blocking(move || {
        let facts = disk::facts_of_bytes(&data, &name);
        disk::write_whole(&dir, bucket_seq, &id, &data)?;
        Ok(facts)
    })
    .await?;
    let now = row.created_at.clone();
    complete(&mut row, &u.bucket, facts, now);
    row.parts = vec![1];
    project.write(move |tx| store::insert_file(tx, &row)).await
}

/// An upload whose last chunk was renamed into place but whose row was not updated (the process
/// died in between) is finished from the file on disk; `None` when there is nothing to recover.
async fn recover(ctx: &Ctx, project: &Arc<Project>, bucket: &BucketRow, mut row: FileRow) -> ApiResult<Option<FileRow>> {
    let blob = disk::blob_path(&project.dir, row.bucket_seq, &row.id);
    let part = disk::part_path(&project.dir, row.bucket_seq, &row.id);
    let (name, size, total) = (row.name.clone(), row.size_original, row.chunks_total);
    let facts = blocking(move || {
        if part.exists() || !blob.exists() {
            return Ok(None);
        }
        let mut running = signature::take(&part);
        let all: Vec<i64> = (1..=total).collect();
        running.advance(&blob, &all, 0, &[], size)?;
        Ok(Some(running.finish(&name)))
    })
    .await?;
    let Some(facts) = facts else { return Ok(None) };
    row.parts = (1..=row.chunks_total).collect();
    complete(&mut row, bucket, facts, ctx.state.clock.now_iso());
    let saved = row.clone();
    project.write(move |tx| store::update_file(tx, &saved)).await?;
    Ok(Some(row))
}

/// One chunk: returns the status, the file as it now stands, and whether this chunk completed it.
async fn chunked(
    ctx: &Ctx,
    project: &Arc<Project>,
    lock: &tokio::sync::Mutex<()>,
    u: Upload,
    chunk: Chunk,
) -> ApiResult<(StatusCode, FileRow, bool)> {
    let (bucket_seq, dir) = (u.bucket.seq, project.dir.clone());
    let part_path = disk::part_path(&dir, bucket_seq, &u.file_id);
    {
        // Step 1: find or start the upload.
        let _guard = lock.lock().await;
        let fresh = new_row(ctx, &u, chunk.size, chunk.total);
        let file_id = u.file_id.clone();
        let existing = project
            .write(move |tx| match store::get_file(tx, bucket_seq, &file_id)? {
                Some(row) => Ok(Some(row)),
                None => store::insert_file(tx, &fresh).map(|_| None),
            })
            .await?;
        if let Some(row) = existing {
            if row.complete() {
                // A chunk re-sent after the upload completed: the file as it is, nothing changes.
                return Ok((StatusCode::OK, row, false));
            }
            if row.size_original != chunk.size {
                return Err(ApiError::of(types::STORAGE_INVALID_CONTENT_RANGE));
            }
            if let Some(row) = recover(ctx, project, &u.bucket, row).await? {
                return Ok((StatusCode::OK, row, false));
            }
        }
    }

    // Step 2: the chunk's bytes, at their offset, outside the lock.
    let data = u.part.data.clone();
    let target = part_path.clone();
    let offset = chunk.start as u64;
    blocking(move || disk::write_chunk(&target, offset, &data)).await?;

    // Step 3: record the chunk; the one completing the set finishes the file.
    let _guard = lock.lock().await;
    let file_id = u.file_id.clone();
    let row = project.read(move |tx| store::get_file(tx, bucket_seq, &file_id)).await?;
    let Some(mut row) = row else {
        // Deleted while this chunk was being written.
        let _ = std::fs::remove_file(&part_path);
        return Err(ApiError::of(types::STORAGE_FILE_NOT_FOUND));
    };
    if row.complete() {
        return Ok((StatusCode::OK, row, false));
    }
    if let Err(i) = row.parts.binary_search(&chunk.number) {
        row.parts.insert(i, chunk.number);
    }
    row.chunks_uploaded = row.parts.len() as i64;
    let now = ctx.state.clock.now_iso();
    let completed = row.complete();
    // The signature advances over the chunks now in file order; the completing chunk finishes it.
    let running = signature::take(&part_path);
    let (parts, name, size) = (row.parts.clone(), row.name.clone(), row.size_original);
    let blob = disk::blob_path(&dir, bucket_seq, &row.id);
    let (data, target) = (u.part.data.clone(), part_path.clone());
    let outcome = blocking(move || {
        let mut running = running;
        running.advance(&target, &parts, chunk.number, &data, size)?;
        if !completed {
            return Ok(Err(running));
        }
        let facts = running.finish(&name);
        disk::publish(&target, &blob)?;
        Ok(Ok(facts))
    })
    .await;
    match outcome {
        Ok(Ok(facts)) => {
            complete(&mut row, &u.bucket, facts, now);
            // As Appwrite, the completing chunk's permissions are the file's.
            row.permissions = u.permissions.clone();
        }
        Ok(Err(running)) => {
            signature::keep(part_path, running);
            row.updated_at = now;
        }
        Err(e) => return Err(e),
    }
    let saved = row.clone();
    project.write(move |tx| store::update_file(tx, &saved)).await?;
    Ok((StatusCode::CREATED, row, completed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_parsing_matches_utopia() {
        assert_eq!(parse_content_range("bytes 0-5242879/10485770"), Some(ContentRange { start: 0, end: 5242879, size: 10485770 }));
        assert_eq!(parse_content_range("bytes 10485760-10485769/10485770").unwrap().end, 10485769);
        for bad in ["bytes 0-10/5", "bytes 5-1/10", "bytes -1/10", "bytes 0-1", "0-1/10", "bytes 0-1/x", "bytes  0-1/10", "bytes 0-1-2/10"] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
        // utopia accepts end == size; Appwrite keeps that for compatibility
        assert!(parse_content_range("bytes 0-10/10").is_some());
    }

    #[test]
    fn chunks_are_numbered_from_their_offset() {
        let r = parse_content_range("bytes 10485760-10485769/10485770").unwrap();
        let c = Chunk::of(r);
        assert_eq!((c.number, c.total), (3, 3));
        assert!(c.fits(r, 10));
        assert!(!c.fits(r, 9));
        let first = parse_content_range("bytes 0-5242879/10485770").unwrap();
        assert!(Chunk::of(first).fits(first, CHUNK_SIZE as usize));
        let misaligned = parse_content_range("bytes 100-5242979/10485770").unwrap();
        assert!(!Chunk::of(misaligned).fits(misaligned, CHUNK_SIZE as usize));
    }

    #[test]
    fn extensions_and_folders() {
        assert_eq!(extension("a.tar.gz"), "gz");
        assert_eq!(extension("take.MP3"), "MP3");
        assert_eq!(extension("noext"), "");
        assert_eq!(extension("dir.d/file"), "");
        assert_eq!(folder("photos/2026".into()), "photos/2026/");
        assert_eq!(folder("/".into()), "");
    }
}
