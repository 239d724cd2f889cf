//! Q4_0: blocks of 32 values stored as an f16 scale `d` and 16 bytes of 4-bit codes; value = (q - 8) * d.
//! Byte j holds value j in its low nibble and value j + 16 in its high nibble (llama.cpp's `block_q4_0`).

use half::f16;

/// Values per block.
pub const BLOCK_LEN: usize = 32;
/// Bytes per block: f16 scale + 16 bytes of nibbles.
pub const BLOCK_BYTES: usize = 18;

/// Appends the Q4_0 encoding of one block of 32 values to `out`.
pub(crate) fn quantize_block(block: &[f32], out: &mut Vec<u8>) {
    // The scale comes from the value of largest magnitude, sign included, so that it maps to code 0 (-8).
    let (mut amax, mut max) = (0f32, 0f32);
    for &v in block {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    let d = max / -8.0;
    let id = if d == 0.0 { 0.0 } else { 1.0 / d };
    out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
    // Plain f32 `x * id + 8.5` truncated, as gguf-py does (Rust never fuses it into an FMA, so every target
    // gives the same codes; llama.cpp's C may differ in the last ulp where its compiler emits an FMA).
    let code = |v: f32| (v * id + 8.5).trunc().clamp(0.0, 15.0) as u8;
    for j in 0..BLOCK_LEN / 2 {
        out.push(code(block[j]) | (code(block[j + BLOCK_LEN / 2]) << 4));
    }
}

/// Writes the 32 values of one Q4_0 block into `out`.
pub(crate) fn dequantize_block(block: &[u8], out: &mut [f32]) {
    let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
    let (lo, hi) = out.split_at_mut(BLOCK_LEN / 2);
    for (j, &b) in block[2..BLOCK_BYTES].iter().enumerate() {
        lo[j] = ((b & 0x0F) as i32 - 8) as f32 * d;
        hi[j] = ((b >> 4) as i32 - 8) as f32 * d;
    }
}
