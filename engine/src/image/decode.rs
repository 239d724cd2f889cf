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
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| unreadable(format!("The file could not be read: {e}.")))?;
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
    if pixels > MAX_PIXELS {
        return Err(unreadable(format!(
            "The image is {w} × {h} pixels ({} megapixels). Offgrid can cut out photos of up to {} megapixels: \
             scale it down first.",
            pixels / 1_000_000,
            MAX_PIXELS / 1_000_000
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
