//! Q8_0: blocks of 32 values stored as an f16 scale `d` and 32 signed bytes; value = q * d.
//! Layout and rounding follow llama.cpp's `quantize_row_q8_0_ref` (ggml-quants.c).

use half::f16;

/// Bytes per block: f16 scale + 32 × i8.
pub const BLOCK_BYTES: usize = 34;

/// Appends the Q8_0 encoding of one block of 32 values to `out`.
pub(crate) fn quantize_block(block: &[f32], out: &mut Vec<u8>) {
    let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d == 0.0 { 0.0 } else { 1.0 / d };
    out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
    // `f32::round` rounds half away from zero, like C's `roundf` that llama.cpp uses.
    out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
}

/// Writes the 32 values of one Q8_0 block into `out`.
pub(crate) fn dequantize_block(block: &[u8], out: &mut [f32]) {
    let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
    for (o, &q) in out.iter_mut().zip(&block[2..BLOCK_BYTES]) {
        *o = q as i8 as f32 * d;
    }
}
