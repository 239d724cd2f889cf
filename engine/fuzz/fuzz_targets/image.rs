//! Photos (PNG, JPEG, WebP, GIF) through the decoder background removal uses, EXIF orientation included.
//! The product's cap is 64 megapixels; here it is 4, so that a header claiming a large picture costs the
//! fuzzer 16 MB, not 256 MB, per run (the same code path, a smaller number).
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or an allocation past the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::image::decode_photo_within;

fuzz_target!(|data: &[u8]| {
    if let Ok(photo) = decode_photo_within(data, 4_000_000) {
        assert_eq!(photo.rgba.len(), photo.width * photo.height * 4);
        assert!(photo.width * photo.height <= 4_000_000);
    }
});
