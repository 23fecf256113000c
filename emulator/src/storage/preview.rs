//! `GET …/files/{fileId}/preview`: JPEG, PNG, GIF and WebP images transformed and re-encoded as
//! Appwrite does; any other file (audio included), an unfinished upload or an image over the
//! preview limit is answered with a generic file icon on Appwrite's grey background, like
//! Appwrite's own file-type icon.
//!
//! Deviations, because no pure-Rust codec exists for them: HEIC sources answer
//! `storage_file_type_unsupported`, and so do the `heic` and `avif` outputs; WebP output is lossless.

use std::sync::LazyLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use image::{DynamicImage, Rgba, RgbaImage};

use super::access::Access;
use super::chunked_upload::extension;
use super::disk;
use super::transform::{self, Transform, GRAVITIES};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::params::Params;
use crate::response::Reply;

/// Sources Appwrite transforms (`storage-inputs`).
const INPUTS: &[&str] = &["image/jpeg", "image/png", "image/heic", "image/webp", "image/gif"];
/// Output names and their content types (`storage-outputs`), in Appwrite's order.
const OUTPUTS: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("webp", "image/webp"),
    ("heic", "image/heic"),
    ("avif", "image/avif"),
    ("gif", "image/gif"),
];
/// Images larger than this get the icon (`_APP_STORAGE_PREVIEW_LIMIT` default).
const PREVIEW_LIMIT: i64 = 20_000_000;
const ICON_BACKGROUND: &str = "eceff1";

fn one_of(name: &str, value: Option<String>, allowed: &[&str]) -> ApiResult<Option<String>> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(ApiError::invalid_param(name, &format!("Value must be one of ({})", allowed.join(", "))))
        }
        v => Ok(v),
    }
}

fn color(p: &Params, name: &str) -> ApiResult<Option<Rgba<u8>>> {
    let Some(s) = p.str_opt(name)? else { return Ok(None) };
    let valid = (s.len() == 6 || s.len() == 3) && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(ApiError::invalid_param(name, "Value must be a valid Hex color code"));
    }
    Ok(transform::hex_color(&s))
}

fn transform_params(p: &Params) -> ApiResult<(Transform, String)> {
    let width = p.range_opt("width", 0, 4000)?.unwrap_or(0) as u32;
    let height = p.range_opt("height", 0, 4000)?.unwrap_or(0) as u32;
    let gravity = one_of("gravity", p.str_opt("gravity")?, GRAVITIES)?.unwrap_or_else(|| "center".into());
    let quality = p.range_opt("quality", -1, 100)?.unwrap_or(-1);
    let border_width = p.range_opt("borderWidth", 0, 100)?.unwrap_or(0) as u32;
    let border_color = color(p, "borderColor")?;
    let border_radius = p.range_opt("borderRadius", 0, 4000)?.unwrap_or(0) as u32;
    let opacity = match p.get("opacity").map(crate::params::as_f64) {
        None => 1.0,
        Some(Some(o)) if (0.0..=1.0).contains(&o) => o,
        Some(_) => return Err(ApiError::invalid_param("opacity", "Value must be a valid range between 0 and 1")),
    };
    let rotation = p.range_opt("rotation", -360, 360)?.unwrap_or(0);
    let background = color(p, "background")?;
    let names: Vec<&str> = OUTPUTS.iter().map(|(n, _)| *n).collect();
    let output = one_of("output", p.str_opt("output")?.filter(|o| !o.is_empty()), &names)?.unwrap_or_default();
    p.text_opt("token", 512)?;
    let t = Transform { width, height, gravity, quality, border_width, border_color, border_radius, opacity, rotation, background };
    Ok((t, output))
}

pub async fn preview(ctx: Ctx, p: Params) -> Reply {
    let (mut t, requested) = transform_params(&p)?;
    let access = Access::of(&ctx);
    let project = ctx.project()?.clone();
    let (bucket_id, file_id) = (p.path("bucketId").to_string(), p.path("fileId").to_string());
    let file = project
        .read(move |tx| {
            let b = access.bucket(tx, &bucket_id)?;
            if !b.transformations && !access.is_key {
                return Err(ApiError::of(types::STORAGE_BUCKET_TRANSFORMATIONS_DISABLED));
            }
            let gate = access.read_gate(&b)?;
            access.readable_file(tx, &b, gate, &file_id)
        })
        .await?;

    let image_source = file.complete() && INPUTS.contains(&file.mime_type.as_str()) && file.size_actual <= PREVIEW_LIMIT;
    let kind = if image_source {
        extension(&file.name).to_lowercase()
    } else {
        if t.background.is_none() {
            t.background = transform::hex_color(ICON_BACKGROUND);
        }
        "png".to_string()
    };
    let output = if !requested.is_empty() {
        requested
    } else if kind.is_empty() {
        OUTPUTS.iter().find(|(_, m)| *m == file.mime_type).map(|(n, _)| n.to_string()).unwrap_or_else(|| "jpg".into())
    } else if OUTPUTS.iter().any(|(n, _)| *n == kind) {
        kind
    } else {
        "jpg".into()
    };
    let content_type = OUTPUTS.iter().find(|(n, _)| *n == output).map(|(_, m)| *m).unwrap_or("image/jpeg");

    let path = disk::blob_path(&project.dir, file.bucket_seq, &file.id);
    let bytes = tokio::task::spawn_blocking(move || -> ApiResult<Vec<u8>> {
        let source = if image_source {
            let data = std::fs::read(&path).map_err(|_| ApiError::of(types::STORAGE_FILE_NOT_FOUND))?;
            image::load_from_memory(&data).map_err(|e| ApiError::msg(types::STORAGE_FILE_TYPE_UNSUPPORTED, e.to_string()))?
        } else {
            DynamicImage::ImageRgba8(ICON.clone())
        };
        let out = transform::apply(source, &t);
        transform::encode(&out, &output, t.quality).ok_or_else(|| {
            ApiError::msg(types::STORAGE_FILE_TYPE_UNSUPPORTED, format!("The emulator cannot encode previews as {output}."))
        })
    })
    .await
    .map_err(ApiError::internal)??;

    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=2592000"));
    headers.insert("x-appwrite-cache", HeaderValue::from_static("miss"));
    Ok(response)
}

/// A generic document icon (grey sheet with a folded corner) on a transparent 1200×800 canvas,
/// the size of Appwrite's file-type icons; drawn here rather than shipped as an image.
static ICON: LazyLock<RgbaImage> = LazyLock::new(|| {
    let (w, h) = (1200u32, 800u32);
    let sheet = Rgba([0x9e, 0xa3, 0xae, 0xff]);
    let mut img = RgbaImage::from_pixel(w, h, Rgba([0, 0, 0, 0]));
    let (left, top, right, bottom, r) = (408.0, 143.0, 792.0, 657.0, 64.0);
    // The fold: a square notch at the top right, with a triangle flap inside it.
    let (notch_x, notch_y, gap) = (606.0, 358.0, 64.0);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (x, y) = (x as f64 + 0.5, y as f64 + 0.5);
        let cx = x.clamp(left + r, right - r);
        let cy = y.clamp(top + r, bottom - r);
        let in_sheet = x >= left && x <= right && y >= top && y <= bottom && (x - cx).powi(2) + (y - cy).powi(2) <= r * r;
        let in_notch = x > notch_x && y < notch_y;
        let in_flap = x >= notch_x + gap && y <= notch_y - gap && (x - (notch_x + gap)) <= (y - top) * 1.0 + 4.0;
        if (in_sheet && !in_notch) || (in_sheet && in_flap) {
            *p = sheet;
        }
    }
    img
});
