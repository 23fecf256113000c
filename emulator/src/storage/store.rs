//! Buckets and files as rows of two system tables, and their Appwrite models.

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde_json::{json, Value};

use crate::error::{types, ApiError, ApiResult};

pub const MIGRATIONS: &[(&str, &str)] = &[(
    "storage-1",
    r#"
    CREATE TABLE buckets (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        permissions TEXT NOT NULL DEFAULT '[]',
        file_security INTEGER NOT NULL DEFAULT 0,
        enabled INTEGER NOT NULL DEFAULT 1,
        maximum_file_size INTEGER NOT NULL,
        allowed_file_extensions TEXT NOT NULL DEFAULT '[]',
        compression TEXT NOT NULL DEFAULT 'none',
        encryption INTEGER NOT NULL DEFAULT 1,
        antivirus INTEGER NOT NULL DEFAULT 1,
        transformations INTEGER NOT NULL DEFAULT 1,
        strip_metadata INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE files (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        bucket_seq INTEGER NOT NULL REFERENCES buckets(seq) ON DELETE CASCADE,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        folder TEXT NOT NULL DEFAULT '',
        permissions TEXT NOT NULL DEFAULT '[]',
        signature TEXT NOT NULL DEFAULT '',
        mime_type TEXT NOT NULL DEFAULT '',
        size_original INTEGER NOT NULL,
        size_actual INTEGER NOT NULL DEFAULT 0,
        chunks_total INTEGER NOT NULL,
        chunks_uploaded INTEGER NOT NULL DEFAULT 0,
        parts TEXT NOT NULL DEFAULT '[]',
        algorithm TEXT NOT NULL DEFAULT 'none',
        encrypted INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (bucket_seq, id)
    );
    "#,
)];

/// A bucket.
#[derive(Debug, Clone)]
pub struct BucketRow {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub file_security: bool,
    pub enabled: bool,
    pub maximum_file_size: i64,
    pub allowed_file_extensions: Vec<String>,
    pub compression: String,
    pub encryption: bool,
    pub antivirus: bool,
    pub transformations: bool,
    pub strip_metadata: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl BucketRow {
    /// The Bucket model; `totalSize` is the stored bytes of its files where Appwrite reports its
    /// usage statistic (get and list), 0 elsewhere (create and update), as Appwrite does.
    pub fn model(&self, total_size: i64) -> Value {
        json!({
            "$id": self.id,
            "$createdAt": self.created_at,
            "$updatedAt": self.updated_at,
            "$permissions": self.permissions,
            "fileSecurity": self.file_security,
            "name": self.name,
            "enabled": self.enabled,
            "maximumFileSize": self.maximum_file_size,
            "allowedFileExtensions": self.allowed_file_extensions,
            "compression": self.compression,
            "encryption": self.encryption,
            "antivirus": self.antivirus,
            "transformations": self.transformations,
            "totalSize": total_size,
            // Python 27 (Cloud 2.5) reads these two as well.
            "description": self.description,
            "stripMetadata": self.strip_metadata,
        })
    }
}

/// A file: complete, or a chunked upload in progress.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub seq: i64,
    pub bucket_seq: i64,
    pub bucket_id: String,
    pub id: String,
    pub name: String,
    pub folder: String,
    pub permissions: Vec<String>,
    pub signature: String,
    pub mime_type: String,
    pub size_original: i64,
    pub size_actual: i64,
    pub chunks_total: i64,
    pub chunks_uploaded: i64,
    /// Chunk numbers (1-based) received so far.
    pub parts: Vec<i64>,
    pub algorithm: String,
    pub encrypted: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl FileRow {
    pub fn complete(&self) -> bool {
        self.chunks_uploaded >= self.chunks_total
    }

    /// The File model.
    pub fn model(&self) -> Value {
        json!({
            "$id": self.id,
            "bucketId": self.bucket_id,
            "$createdAt": self.created_at,
            "$updatedAt": self.updated_at,
            "$permissions": self.permissions,
            "name": self.name,
            "signature": self.signature,
            "mimeType": self.mime_type,
            "sizeOriginal": self.size_original,
            "sizeActual": self.size_actual,
            "chunksTotal": self.chunks_total,
            "chunksUploaded": self.chunks_uploaded,
            "encryption": self.encrypted,
            "compression": self.algorithm,
            // Python 27 (Cloud 2.5) reads the virtual folder and the full key.
            "folder": self.folder,
            "key": format!("{}{}", self.folder, self.name),
        })
    }
}

fn string_list(s: String) -> Vec<String> {
    serde_json::from_str(&s).unwrap_or_default()
}

pub const BUCKET_COLS: &str = "b.seq, b.id, b.name, b.description, b.permissions, b.file_security, b.enabled, b.maximum_file_size, \
     b.allowed_file_extensions, b.compression, b.encryption, b.antivirus, b.transformations, b.strip_metadata, b.created_at, b.updated_at";

pub fn map_bucket(r: &Row) -> rusqlite::Result<BucketRow> {
    Ok(BucketRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        permissions: string_list(r.get(4)?),
        file_security: r.get(5)?,
        enabled: r.get(6)?,
        maximum_file_size: r.get(7)?,
        allowed_file_extensions: string_list(r.get(8)?),
        compression: r.get(9)?,
        encryption: r.get(10)?,
        antivirus: r.get(11)?,
        transformations: r.get(12)?,
        strip_metadata: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
    })
}

pub const FILE_COLS: &str = "f.seq, f.bucket_seq, b.id, f.id, f.name, f.folder, f.permissions, f.signature, f.mime_type, \
     f.size_original, f.size_actual, f.chunks_total, f.chunks_uploaded, f.parts, f.algorithm, f.encrypted, f.created_at, f.updated_at";

pub const FILE_FROM: &str = "files f JOIN buckets b ON b.seq = f.bucket_seq";

pub fn map_file(r: &Row) -> rusqlite::Result<FileRow> {
    Ok(FileRow {
        seq: r.get(0)?,
        bucket_seq: r.get(1)?,
        bucket_id: r.get(2)?,
        id: r.get(3)?,
        name: r.get(4)?,
        folder: r.get(5)?,
        permissions: string_list(r.get(6)?),
        signature: r.get(7)?,
        mime_type: r.get(8)?,
        size_original: r.get(9)?,
        size_actual: r.get(10)?,
        chunks_total: r.get(11)?,
        chunks_uploaded: r.get(12)?,
        parts: serde_json::from_str(&r.get::<_, String>(13)?).unwrap_or_default(),
        algorithm: r.get(14)?,
        encrypted: r.get(15)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
    })
}

pub fn get_bucket(tx: &Transaction, id: &str) -> ApiResult<Option<BucketRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {BUCKET_COLS} FROM buckets b WHERE b.id = ?1"))?;
    Ok(st.query_row([id], map_bucket).optional()?)
}

/// The bucket `id`, or `storage_bucket_not_found`.
pub fn require_bucket(tx: &Transaction, id: &str) -> ApiResult<BucketRow> {
    get_bucket(tx, id)?.ok_or_else(|| ApiError::of(types::STORAGE_BUCKET_NOT_FOUND))
}

/// Bytes stored in a bucket (Appwrite's per-bucket storage statistic).
pub fn total_size(tx: &Transaction, bucket_seq: i64) -> ApiResult<i64> {
    let mut st = tx.prepare_cached("SELECT COALESCE(SUM(size_actual), 0) FROM files WHERE bucket_seq = ?1")?;
    Ok(st.query_row([bucket_seq], |r| r.get(0))?)
}

/// Every column a bucket create or update writes.
pub fn insert_bucket(tx: &Transaction, b: &BucketRow) -> ApiResult<BucketRow> {
    tx.execute(
        "INSERT INTO buckets (id, name, description, permissions, file_security, enabled, maximum_file_size, allowed_file_extensions,
             compression, encryption, antivirus, transformations, strip_metadata, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            b.id,
            b.name,
            b.description,
            serde_json::to_string(&b.permissions).unwrap(),
            b.file_security,
            b.enabled,
            b.maximum_file_size,
            serde_json::to_string(&b.allowed_file_extensions).unwrap(),
            b.compression,
            b.encryption,
            b.antivirus,
            b.transformations,
            b.strip_metadata,
            b.created_at,
            b.updated_at
        ],
    )?;
    require_bucket(tx, &b.id)
}

pub fn update_bucket(tx: &Transaction, b: &BucketRow) -> ApiResult<()> {
    tx.execute(
        "UPDATE buckets SET name = ?2, description = ?3, permissions = ?4, file_security = ?5, enabled = ?6, maximum_file_size = ?7,
             allowed_file_extensions = ?8, compression = ?9, encryption = ?10, antivirus = ?11, transformations = ?12,
             strip_metadata = ?13, updated_at = ?14
         WHERE seq = ?1",
        params![
            b.seq,
            b.name,
            b.description,
            serde_json::to_string(&b.permissions).unwrap(),
            b.file_security,
            b.enabled,
            b.maximum_file_size,
            serde_json::to_string(&b.allowed_file_extensions).unwrap(),
            b.compression,
            b.encryption,
            b.antivirus,
            b.transformations,
            b.strip_metadata,
            b.updated_at
        ],
    )?;
    Ok(())
}

pub fn get_file(tx: &Transaction, bucket_seq: i64, id: &str) -> ApiResult<Option<FileRow>> {
    let mut st = tx.prepare_cached(&format!("SELECT {FILE_COLS} FROM {FILE_FROM} WHERE f.bucket_seq = ?1 AND f.id = ?2"))?;
    Ok(st.query_row(params![bucket_seq, id], map_file).optional()?)
}

pub fn insert_file(tx: &Transaction, f: &FileRow) -> ApiResult<FileRow> {
    tx.execute(
        "INSERT INTO files (bucket_seq, id, name, folder, permissions, signature, mime_type, size_original, size_actual,
             chunks_total, chunks_uploaded, parts, algorithm, encrypted, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            f.bucket_seq,
            f.id,
            f.name,
            f.folder,
            serde_json::to_string(&f.permissions).unwrap(),
            f.signature,
            f.mime_type,
            f.size_original,
            f.size_actual,
            f.chunks_total,
            f.chunks_uploaded,
            serde_json::to_string(&f.parts).unwrap(),
            f.algorithm,
            f.encrypted,
            f.created_at,
            f.updated_at
        ],
    )
    .map_err(|e| match &e {
        rusqlite::Error::SqliteFailure(x, _) if x.code == rusqlite::ErrorCode::ConstraintViolation => {
            ApiError::of(types::STORAGE_FILE_ALREADY_EXISTS)
        }
        _ => e.into(),
    })?;
    get_file(tx, f.bucket_seq, &f.id)?.ok_or_else(|| ApiError::internal("file vanished after insert"))
}

/// Writes every mutable column of `f` back.
pub fn update_file(tx: &Transaction, f: &FileRow) -> ApiResult<()> {
    tx.execute(
        "UPDATE files SET name = ?2, permissions = ?3, signature = ?4, mime_type = ?5, size_actual = ?6, chunks_uploaded = ?7,
             parts = ?8, algorithm = ?9, encrypted = ?10, updated_at = ?11
         WHERE seq = ?1",
        params![
            f.seq,
            f.name,
            serde_json::to_string(&f.permissions).unwrap(),
            f.signature,
            f.mime_type,
            f.size_actual,
            f.chunks_uploaded,
            serde_json::to_string(&f.parts).unwrap(),
            f.algorithm,
            f.encrypted,
            f.updated_at
        ],
    )?;
    Ok(())
}

pub fn delete_file(tx: &Transaction, seq: i64) -> ApiResult<()> {
    tx.execute("DELETE FROM files WHERE seq = ?1", [seq])?;
    Ok(())
}
