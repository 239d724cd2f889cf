//! Photos: decoding with the checks a person's file needs (format, size limit, EXIF orientation), the
//! resizes the models use, and the matte that turns a segmentation mask into a cut-out at the photo's own
//! resolution (edge-aware refinement and foreground colours).

mod decode;
mod matte;
mod resize;

pub use decode::{
    decode_photo, decode_photo_within, encode_gray_png, encode_rgba_png, encode_rgba_webp, Photo,
    MAX_PIXELS,
};
pub use matte::{box_mean, cut_out, guided_filter, Cutout, Refinement};
pub use resize::{resize_plane, resize_u8};
