//! Decoding and encoding through the `image` crate (pure Rust, so the same code runs in the browser).

use crate::{Error, Result};
use image::{DynamicImage, ImageDecoder, ImageReader};
use std::io::Cursor;

/// The largest photo accepted, in pixels. A 64-megapixel photo is 256 MB as RGBA; the cut-out is made in
/// place in that buffer and everything else works at a capped size, so memory stays near one copy.
pub const MAX_PIXELS: u64 = 64_000_000;

/// A decoded photo: 8-bit RGBA, straight (not premultiplied) alpha, rows top to bottom, upright (its EXIF
/// orientation applied).
#[derive(Debug, Clone)]
pub struct Photo {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
}

fn unreadable(msg: impl Into<String>) -> Error {
    Error::Image(msg.into())
}

/// Decodes a PNG, JPEG, WebP or GIF (its first frame); 16-bit, grey, CMYK and palette images become RGBA8.
pub fn decode_photo(bytes: &[u8]) -> Result<Photo> {
    decode_photo_within(bytes, MAX_PIXELS)
}

/// [`decode_photo`] with another cap on the pixels (the fuzz target uses a smaller one). The header's size is
/// checked against the cap before any pixel buffer is made; the decoders' own buffers are held to 8 bytes a
/// pixel of the cap (the `image` crate's default at 64 megapixels). The size cannot be checked against the
/// file's length: WebP lossless and progressive JPEG store a plain 64-megapixel picture in a few hundred bytes.
pub fn decode_photo_within(bytes: &[u8], max_pixels: u64) -> Result<Photo> {
    check_png_palette(bytes)?;
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(format!("The file could not be read: {e}.")))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(8));
    reader.limits(limits);
    if reader.format().is_none() {
        return Err(unreadable(
            "This file is not an image Offgrid can open. Use a PNG, JPEG, WebP or GIF.",
        ));
    }
    let mut decoder = reader.into_decoder().map_err(|e| {
        unreadable(format!(
            "The image could not be opened ({e}). The file may be damaged."
        ))
    })?;
    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels > max_pixels {
        return Err(unreadable(format!(
            "The image is {w} × {h} pixels ({} megapixels). Offgrid can cut out photos of up to {} megapixels: \
             scale it down first.",
            pixels / 1_000_000,
            max_pixels / 1_000_000
        )));
    }
    if pixels == 0 {
        return Err(unreadable("The image has no pixels."));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| {
        unreadable(format!(
            "The image could not be decoded ({e}). The file may be damaged or cut short."
        ))
    })?;
    img.apply_orientation(orientation);
    let rgba = img.into_rgba8();
    Ok(Photo {
        width: rgba.width() as usize,
        height: rgba.height() as usize,
        rgba: rgba.into_raw(),
    })
}

/// The `png` crate (0.18.1) trusts a PNG's palette: a `PLTE` chunk that is not 1 to 256 whole RGB entries, or
/// a `tRNS` chunk giving more alphas than the palette has entries, panics inside it when the first row is
/// expanded (found by fuzzing, `engine/fuzz/fuzz_targets/image.rs`). Every chunk is looked at here first.
fn check_png_palette(bytes: &[u8]) -> Result<()> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(());
    }
    let damaged = || {
        unreadable(
            "The image could not be opened (its palette is damaged). The file may be damaged.",
        )
    };
    let mut at = 8usize;
    let mut entries = None;
    while let Some(head) = bytes.get(at..at.saturating_add(8)) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..8] {
            b"PLTE" => {
                if len == 0 || !len.is_multiple_of(3) || len > 3 * 256 {
                    return Err(damaged());
                }
                entries = Some(len / 3);
            }
            // Only an indexed image's transparency has one alpha per entry; others are refused by the crate.
            b"tRNS" if entries.is_some_and(|n| len > n) => return Err(damaged()),
            _ => {}
        }
        at = at.saturating_add(12).saturating_add(len);
    }
    Ok(())
}

fn encode(
    bytes: &[u8],
    width: usize,
    height: usize,
    color: image::ExtendedColorType,
    webp: bool,
) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let (w, h) = (
        u32::try_from(width).map_err(|_| unreadable("The image is too wide to save."))?,
        u32::try_from(height).map_err(|_| unreadable("The image is too tall to save."))?,
    );
    let mut out = Vec::new();
    let done = if webp {
        image::codecs::webp::WebPEncoder::new_lossless(&mut out).write_image(bytes, w, h, color)
    } else {
        image::codecs::png::PngEncoder::new(&mut out).write_image(bytes, w, h, color)
    };
    done.map_err(|e| unreadable(format!("The image could not be saved: {e}.")))?;
    Ok(out)
}

/// RGBA8 → PNG.
pub fn encode_rgba_png(rgba: &[u8], width: usize, height: usize) -> Result<Vec<u8>> {
    encode(rgba, width, height, image::ExtendedColorType::Rgba8, false)
}

/// RGBA8 → lossless WebP.
pub fn encode_rgba_webp(rgba: &[u8], width: usize, height: usize) -> Result<Vec<u8>> {
    encode(rgba, width, height, image::ExtendedColorType::Rgba8, true)
}

/// One 8-bit channel → greyscale PNG (a mask).
pub fn encode_gray_png(gray: &[u8], width: usize, height: usize) -> Result<Vec<u8>> {
    encode(gray, width, height, image::ExtendedColorType::L8, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A PNG header announcing `w × h` RGBA pixels, then an empty IDAT chunk: no pixel data. (The decoder
    /// reads up to the first IDAT before it reports the dimensions.)
    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        out.extend_from_slice(&13u32.to_be_bytes());
        out.extend_from_slice(&ihdr);
        out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(b"IDAT");
        out.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
        out
    }

    #[test]
    fn a_huge_image_is_refused_before_it_is_decoded() {
        let err = decode_photo(&png_header(20_000, 20_000)).expect_err("refused");
        let text = err.to_string();
        assert!(
            text.contains("20000 × 20000") && text.contains("400 megapixels"),
            "{text}"
        );
    }

    /// Found by fuzzing: a palette of one byte (or a transparency longer than the palette) panicked in `png`.
    #[test]
    fn a_damaged_palette_is_an_error() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            let body = [kind, data].concat();
            c.extend_from_slice(&body);
            c.extend_from_slice(&crc32(&body).to_be_bytes());
            c
        };
        let ihdr = [
            &1u32.to_be_bytes()[..],
            &1u32.to_be_bytes(),
            &[8, 3, 0, 0, 0],
        ]
        .concat();
        let idat = [
            0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
        ];
        for (plte, trns) in [(&[7u8][..], &[][..]), (&[1, 2, 3][..], &[9, 9][..])] {
            let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
            png.extend(chunk(b"IHDR", &ihdr));
            png.extend(chunk(b"PLTE", plte));
            if !trns.is_empty() {
                png.extend(chunk(b"tRNS", trns));
            }
            png.extend(chunk(b"IDAT", &idat));
            png.extend(chunk(b"IEND", &[]));
            let err = decode_photo(&png).expect_err("refused");
            assert!(err.to_string().contains("palette"), "{err}");
        }
    }

    #[test]
    fn a_cut_image_says_it_may_be_damaged() {
        let err = decode_photo(&png_header(64, 64)).expect_err("no pixel data");
        assert!(err.to_string().contains("damaged"), "{err}");
    }

    #[test]
    fn round_trip_keeps_pixels_and_alpha() {
        let rgba: Vec<u8> = (0..4 * 3 * 4).map(|i| (i * 37 % 256) as u8).collect();
        let png = encode_rgba_png(&rgba, 4, 3).expect("png");
        let back = decode_photo(&png).expect("decodes");
        assert_eq!((back.width, back.height), (4, 3));
        assert_eq!(back.rgba, rgba);
        let webp = encode_rgba_webp(&rgba, 4, 3).expect("webp");
        assert_eq!(
            decode_photo(&webp).expect("decodes").rgba,
            rgba,
            "lossless WebP"
        );
    }
}
