//! `GET …/files/{fileId}/download` and `…/view`: the contents streamed from disk (never held in
//! memory), with Appwrite's headers and its reading of the `Range` header.

use std::io::SeekFrom;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::access::Access;
use super::chunked_upload::READ_BUFFER;
use super::disk;
use super::files::readable;
use crate::context::Ctx;
use crate::error::{types, ApiError};
use crate::params::Params;
use crate::response::Reply;

/// The most a download range without an end returns (`MAX_OUTPUT_CHUNK_SIZE`).
const MAX_OUTPUT_CHUNK: i64 = 10 * 1024 * 1024;
/// Bytes per read while streaming.
const STREAM_BLOCK: usize = 512 * 1024;

/// MIME types `view` serves as themselves (Appwrite's `storage-mimes`); anything else is served
/// as `text/plain` so a browser never runs an uploaded page.
const VIEWABLE: &[&str] = &[
    "image/jpeg", "image/gif", "image/png", "image/webp", "image/heic", "image/heic-sequence", "image/avif",
    "video/mp4", "video/x-flv", "video/webm", "application/x-mpegURL", "video/MP2T", "video/3gpp",
    "video/quicktime", "video/x-msvideo", "video/x-ms-wmv", "audio/basic", "auido/L24", "audio/mid",
    "audio/mpeg", "audio/mp4", "audio/x-aiff", "audio/x-mpegurl", "audio/vnd.rn-realaudio", "audio/ogg",
    "audio/vorbis", "audio/vnd.wav", "audio/x-wav", "audio/aac", "audio/x-hx-aac-adts", "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    "application/vnd.ms-word.document.macroEnabled.12", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    "application/vnd.ms-excel.sheet.macroEnabled.12", "application/vnd.ms-excel.template.macroEnabled.12",
    "application/vnd.ms-excel.addin.macroEnabled.12", "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
    "application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.presentationml.template",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    "application/vnd.ms-powerpoint.addin.macroEnabled.12", "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    "application/vnd.ms-powerpoint.template.macroEnabled.12", "application/vnd.ms-powerpoint.slideshow.macroEnabled.12",
    "application/vnd.ms-access", "application/pdf",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Download,
    View,
}

pub async fn download(ctx: Ctx, p: Params) -> Reply {
    serve(ctx, p, Mode::Download).await
}

pub async fn view(ctx: Ctx, p: Params) -> Reply {
    serve(ctx, p, Mode::View).await
}

/// utopia's `parseRange`: `(unit, start, end)` of `unit=start-[end]`, or `None` when malformed.
fn parse_range(header: &str) -> Option<(String, i64, Option<i64>)> {
    let parts: Vec<&str> = header.split('=').collect();
    // PHP's empty() also calls "0" empty.
    if parts.len() != 2 || parts[0].is_empty() || parts[1].is_empty() || parts[1] == "0" {
        return None;
    }
    let bounds: Vec<&str> = parts[1].split('-').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if bounds.len() != 2 || !digits(bounds[0]) {
        return None;
    }
    let start: i64 = bounds[0].parse().ok()?;
    let end = match bounds[1] {
        "" => None,
        e if digits(e) => Some(e.parse().ok()?),
        _ => return None,
    };
    if end.is_some_and(|e| start >= e) {
        return None;
    }
    Some((parts[0].to_string(), start, end))
}

/// The inclusive byte range Appwrite serves for `header` of a `size`-byte file, or `None` for its
/// 416: a range without an end (or wider than 20 MB) is cut to `cap` bytes, and a one-byte or
/// out-of-file range is refused.
fn satisfiable(header: &str, size: i64, cap: i64) -> Option<(i64, i64)> {
    let (unit, start, end) = match parse_range(header) {
        Some((u, s, e)) => (Some(u), s, e),
        None => (None, 0, None),
    };
    let end = match end {
        Some(e) if e - start <= READ_BUFFER => e,
        _ => (start + cap - 1).min(size - 1),
    };
    (unit.as_deref() == Some("bytes") && start < end && end < size).then_some((start, end))
}

/// A header value from file-supplied text, dropping what HTTP cannot carry.
fn header_text(s: &str) -> HeaderValue {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    HeaderValue::from_bytes(clean.as_bytes()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn serve(ctx: Ctx, p: Params, mode: Mode) -> Reply {
    let access = Access::of(&ctx);
    let project = ctx.project()?.clone();
    let (bucket_id, file_id) = (p.path("bucketId").to_string(), p.path("fileId").to_string());
    let (_, file) = project.read(move |tx| readable(tx, &access, &bucket_id, &file_id)).await?;
    if !file.complete() {
        // An upload in progress has no contents yet, as on Appwrite's device.
        return Err(ApiError::of(types::STORAGE_FILE_NOT_FOUND));
    }
    let path = disk::blob_path(&project.dir, file.bucket_seq, &file.id);
    let mut handle = tokio::fs::File::open(&path).await.map_err(|_| ApiError::of(types::STORAGE_FILE_NOT_FOUND))?;
    let size = file.size_original;

    let mut headers = HeaderMap::new();
    let content_type = match mode {
        Mode::Download => file.mime_type.as_str(),
        Mode::View if VIEWABLE.contains(&file.mime_type.as_str()) => file.mime_type.as_str(),
        Mode::View => "text/plain",
    };
    headers.insert(header::CONTENT_TYPE, header_text(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3888000"));
    let disposition = if mode == Mode::View { "inline" } else { "attachment" };
    headers.insert(header::CONTENT_DISPOSITION, header_text(&format!("{disposition}; filename=\"{}\"", file.name)));
    if mode == Mode::View {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("script-src none;"));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
    // Not sent by Appwrite: the content hash lets browsers and proxies revalidate cheaply.
    let etag = format!("\"{}\"", file.signature);
    headers.insert(header::ETAG, header_text(&etag));

    let range = ctx.header("range").map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    let (status, start, end) = match &range {
        Some(r) => {
            let cap = if mode == Mode::View { READ_BUFFER } else { MAX_OUTPUT_CHUNK };
            let (start, end) = satisfiable(r, size, cap).ok_or_else(|| ApiError::of(types::STORAGE_INVALID_RANGE))?;
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            headers.insert(header::CONTENT_RANGE, header_text(&format!("bytes {start}-{end}/{size}")));
            (StatusCode::PARTIAL_CONTENT, start, end)
        }
        None => {
            if ctx.header("if-none-match").is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
                return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
            }
            (StatusCode::OK, 0, size - 1)
        }
    };
    let len = (end - start + 1).max(0) as u64;
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if start > 0 {
        handle.seek(SeekFrom::Start(start as u64)).await?;
    }
    let body = Body::from_stream(ReaderStream::with_capacity(handle.take(len), STREAM_BLOCK));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_appwrite() {
        let size = 47218;
        assert_eq!(satisfiable("bytes=0-99", size, MAX_OUTPUT_CHUNK), Some((0, 99)));
        assert_eq!(satisfiable("bytes=0-", size, MAX_OUTPUT_CHUNK), Some((0, size - 1)));
        assert_eq!(satisfiable("bytes=100-", size, MAX_OUTPUT_CHUNK), Some((100, size - 1)));
        for bad in ["bytes=988", "bytes=-988", "bytes=5-5", "bytes=9-3", "items=0-9", "bytes=0-47218", "bytes=0-1,4-5", "bytes"] {
            assert_eq!(satisfiable(bad, size, MAX_OUTPUT_CHUNK), None, "{bad}");
        }
        // an open range is cut to the output chunk; a huge closed one too
        let big = 100 * 1024 * 1024;
        assert_eq!(satisfiable("bytes=0-", big, MAX_OUTPUT_CHUNK), Some((0, MAX_OUTPUT_CHUNK - 1)));
        assert_eq!(satisfiable("bytes=0-99999999", big, MAX_OUTPUT_CHUNK), Some((0, MAX_OUTPUT_CHUNK - 1)));
        assert_eq!(satisfiable("bytes=0-", big, READ_BUFFER), Some((0, READ_BUFFER - 1)));
    }
}
