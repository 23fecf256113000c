//! The image transformations of a file preview, in Appwrite's order (utopia-php/image on
//! Imagick): crop with gravity, opacity, background, border, border radius, rotation, then the
//! output encoding.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageEncoder, Rgba, RgbaImage};

/// Crop anchors Appwrite accepts (`Image::getGravityTypes`).
pub const GRAVITIES: &[&str] =
    &["center", "top-left", "top", "top-right", "left", "right", "bottom-left", "bottom", "bottom-right"];

/// Everything a preview may ask for.
#[derive(Debug, Clone)]
pub struct Transform {
    pub width: u32,
    pub height: u32,
    pub gravity: String,
    /// -1 keeps the encoder's default.
    pub quality: i64,
    pub border_width: u32,
    pub border_color: Option<Rgba<u8>>,
    pub border_radius: u32,
    pub opacity: f64,
    pub rotation: i64,
    pub background: Option<Rgba<u8>>,
}

/// Parses `RRGGBB` or `RGB` (already validated).
pub fn hex_color(s: &str) -> Option<Rgba<u8>> {
    let expand: String = if s.len() == 3 { s.chars().flat_map(|c| [c, c]).collect() } else { s.to_string() };
    if expand.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(&expand, 16).ok()?;
    Some(Rgba([(v >> 16) as u8, (v >> 8) as u8, v as u8, 255]))
}

/// Applies `t` to `img`.
pub fn apply(img: DynamicImage, t: &Transform) -> RgbaImage {
    let mut img = img.to_rgba8();
    if t.width > 0 || t.height > 0 || t.gravity != "center" {
        img = crop(img, t.width, t.height, &t.gravity);
    }
    if (t.opacity - 1.0).abs() > f64::EPSILON {
        for p in img.pixels_mut() {
            p.0[3] = (p.0[3] as f64 * t.opacity).round() as u8;
        }
    }
    if let Some(bg) = t.background {
        img = flatten(&img, bg);
    }
    if t.border_width > 0 && t.border_radius == 0 {
        img = border(&img, t.border_width, t.border_color.unwrap_or(Rgba([0, 0, 0, 255])));
    }
    if t.border_radius > 0 {
        img = round_corners(img, t.border_radius, t.border_width, t.border_color);
    }
    if t.rotation != 0 {
        img = rotate(&img, ((t.rotation + 360) % 360) as f64);
    }
    img
}

/// `Image::crop`: a missing side follows the aspect ratio; `center` fills the box and trims the
/// overflow evenly (`cropThumbnailImage`), other gravities scale then cut at their edge.
fn crop(img: RgbaImage, width: u32, height: u32, gravity: &str) -> RgbaImage {
    let (w0, h0) = img.dimensions();
    let aspect = w0 as f64 / h0 as f64;
    let mut w = width;
    let mut h = height;
    if w == 0 {
        w = (h as f64 * aspect) as u32;
    }
    if h == 0 {
        h = (w as f64 / aspect) as u32;
    }
    if w == 0 && h == 0 {
        w = w0;
        h = h0;
    }
    let (w, h) = (w.max(1), h.max(1));
    // Scale to cover the box, then cut the box out where the gravity points.
    let scale = (w as f64 / w0 as f64).max(h as f64 / h0 as f64);
    let (sw, sh) = (((w0 as f64 * scale).round() as u32).max(w), ((h0 as f64 * scale).round() as u32).max(h));
    let scaled = imageops::resize(&img, sw, sh, FilterType::Triangle);
    let (dx, dy) = (sw - w, sh - h);
    let (x, y) = match gravity {
        "top-left" => (0, 0),
        "top" => (dx / 2, 0),
        "top-right" => (dx, 0),
        "left" => (0, dy / 2),
        "right" => (dx, dy / 2),
        "bottom-left" => (0, dy),
        "bottom" => (dx / 2, dy),
        "bottom-right" => (dx, dy),
        _ => (dx / 2, dy / 2),
    };
    imageops::crop_imm(&scaled, x, y, w, h).to_image()
}

fn flatten(img: &RgbaImage, bg: Rgba<u8>) -> RgbaImage {
    let mut out = RgbaImage::from_pixel(img.width(), img.height(), bg);
    imageops::overlay(&mut out, img, 0, 0);
    out
}

/// `borderImage`: the border is added around the image.
fn border(img: &RgbaImage, width: u32, color: Rgba<u8>) -> RgbaImage {
    let mut out = RgbaImage::from_pixel(img.width() + 2 * width, img.height() + 2 * width, color);
    imageops::overlay(&mut out, img, width as i64, width as i64);
    out
}

/// Clears what lies outside a rounded rectangle, drawing the border along it when asked.
fn round_corners(mut img: RgbaImage, radius: u32, border_width: u32, border_color: Option<Rgba<u8>>) -> RgbaImage {
    let (w, h) = img.dimensions();
    let inset = border_width as f64;
    let (x0, y0, x1, y1) = (inset, inset, w as f64 - 1.0 - inset, h as f64 - 1.0 - inset);
    let r = (radius as f64).min((x1 - x0) / 2.0).min((y1 - y0) / 2.0).max(0.0);
    // Distance outside the rounded rectangle (negative inside).
    let outside = |x: f64, y: f64| {
        let cx = x.clamp(x0 + r, x1 - r);
        let cy = y.clamp(y0 + r, y1 - r);
        ((x - cx).powi(2) + (y - cy).powi(2)).sqrt() - r
    };
    for (x, y, p) in img.enumerate_pixels_mut() {
        let d = outside(x as f64, y as f64);
        if let (Some(color), true) = (border_color, border_width > 0) {
            if d > -inset && d <= inset {
                *p = color;
                continue;
            }
        }
        if d > 0.5 {
            p.0[3] = 0;
        } else if d > -0.5 {
            p.0[3] = (p.0[3] as f64 * (0.5 - d)).round() as u8;
        }
    }
    img
}

/// `rotateImage('transparent', degrees)`: clockwise, the canvas grown to hold the result.
fn rotate(img: &RgbaImage, degrees: f64) -> RgbaImage {
    match degrees as i64 {
        90 if degrees.fract() == 0.0 => return imageops::rotate90(img),
        180 if degrees.fract() == 0.0 => return imageops::rotate180(img),
        270 if degrees.fract() == 0.0 => return imageops::rotate270(img),
        _ => {}
    }
    let (w, h) = (img.width() as f64, img.height() as f64);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let nw = (w * cos.abs() + h * sin.abs()).ceil().max(1.0);
    let nh = (w * sin.abs() + h * cos.abs()).ceil().max(1.0);
    let mut out = RgbaImage::from_pixel(nw as u32, nh as u32, Rgba([0, 0, 0, 0]));
    let (cx, cy, ncx, ncy) = (w / 2.0, h / 2.0, nw / 2.0, nh / 2.0);
    for (x, y, p) in out.enumerate_pixels_mut() {
        // Inverse mapping: where in the source this pixel comes from.
        let (dx, dy) = (x as f64 + 0.5 - ncx, y as f64 + 0.5 - ncy);
        let sx = dx * cos + dy * sin + cx - 0.5;
        let sy = -dx * sin + dy * cos + cy - 0.5;
        if sx >= 0.0 && sy >= 0.0 && sx <= w - 1.0 && sy <= h - 1.0 {
            *p = *img.get_pixel(sx.round() as u32, sy.round() as u32);
        }
    }
    out
}

/// Encodes for an output name Appwrite accepts; `None` for those the emulator cannot write
/// (`heic`, `avif`).
pub fn encode(img: &RgbaImage, output: &str, quality: i64) -> Option<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    let (w, h) = img.dimensions();
    let ok = match output {
        "jpg" | "jpeg" => {
            // JPEG has no alpha: transparent areas become white.
            let rgb = DynamicImage::ImageRgba8(flatten(img, Rgba([255, 255, 255, 255]))).to_rgb8();
            let q = if (0..=100).contains(&quality) { quality.max(1) as u8 } else { 90 };
            JpegEncoder::new_with_quality(&mut out, q).write_image(rgb.as_raw(), w, h, image::ExtendedColorType::Rgb8).is_ok()
        }
        "png" => {
            let compression = match quality {
                0..=33 => CompressionType::Fast,
                -1 | 34..=66 => CompressionType::Default,
                _ => CompressionType::Best,
            };
            PngEncoder::new_with_quality(&mut out, compression, PngFilter::Adaptive)
                .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
                .is_ok()
        }
        "gif" => {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
            encoder.encode(img.as_raw(), w, h, image::ExtendedColorType::Rgba8).is_ok()
        }
        // The pure-Rust WebP encoder is lossless only; `quality` does not apply.
        "webp" => WebPEncoder::new_lossless(&mut out).write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8).is_ok(),
        _ => false,
    };
    ok.then(|| out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Transform {
        Transform {
            width: 0,
            height: 0,
            gravity: "center".into(),
            quality: -1,
            border_width: 0,
            border_color: None,
            border_radius: 0,
            opacity: 1.0,
            rotation: 0,
            background: None,
        }
    }

    #[test]
    fn crops_keep_aspect_or_fill_the_box() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(400, 200, Rgba([10, 20, 30, 255])));
        let t = Transform { width: 100, ..plain() };
        assert_eq!(apply(img.clone(), &t).dimensions(), (100, 50));
        let t = Transform { width: 300, height: 100, ..plain() };
        assert_eq!(apply(img.clone(), &t).dimensions(), (300, 100));
        let t = Transform { width: 50, height: 50, gravity: "top-left".into(), ..plain() };
        assert_eq!(apply(img.clone(), &t).dimensions(), (50, 50));
        let t = Transform { width: 100, height: 50, border_width: 5, ..plain() };
        assert_eq!(apply(img.clone(), &t).dimensions(), (110, 60));
        let t = Transform { rotation: 90, ..plain() };
        assert_eq!(apply(img.clone(), &t).dimensions(), (200, 400));
        let t = Transform { rotation: 45, ..plain() };
        let (w, h) = apply(img, &t).dimensions();
        assert!(w > 400 && h > 200);
    }

    #[test]
    fn opacity_background_and_colors() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, Rgba([255, 0, 0, 255])));
        let out = apply(img.clone(), &Transform { opacity: 0.5, ..plain() });
        assert_eq!(out.get_pixel(0, 0).0[3], 128);
        let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, Rgba([0, 0, 0, 0])));
        let out = apply(clear, &Transform { background: hex_color("0f0"), ..plain() });
        assert_eq!(out.get_pixel(1, 1).0, [0, 255, 0, 255]);
        assert_eq!(hex_color("ff0000"), Some(Rgba([255, 0, 0, 255])));
    }

    #[test]
    fn encodes_every_supported_output() {
        let img = RgbaImage::from_pixel(8, 8, Rgba([1, 2, 3, 255]));
        for (out, magic) in [("png", &b"\x89PNG"[..]), ("jpg", &b"\xff\xd8"[..]), ("gif", &b"GIF8"[..]), ("webp", &b"RIFF"[..])] {
            let bytes = encode(&img, out, -1).unwrap();
            assert!(bytes.starts_with(magic), "{out}");
        }
        assert!(encode(&img, "avif", -1).is_none());
    }
}
