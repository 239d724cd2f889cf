//! Q4_1: blocks of 32 values stored as an f16 scale `d`, an f16 minimum `m` and 16 bytes of 4-bit codes;
//! value = q * d + m. Byte j holds value j in its low nibble and value j + 16 in its high nibble (llama.cpp's
//! `block_q4_1`). SmolLM2's published GGUF stores its layers this way.

use half::f16;

/// Values per block.
pub const BLOCK_LEN: usize = 32;
/// Bytes per block: f16 scale + f16 minimum + 16 bytes of nibbles.
pub const BLOCK_BYTES: usize = 20;

/// Writes the 32 values of one Q4_1 block into `out`.
pub(crate) fn dequantize_block(block: &[u8], out: &mut [f32]) {
    let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
    let m = f16::from_le_bytes([block[2], block[3]]).to_f32();
    let (lo, hi) = out.split_at_mut(BLOCK_LEN / 2);
    for (j, &b) in block[4..BLOCK_BYTES].iter().enumerate() {
        lo[j] = (b & 0x0F) as f32 * d + m;
        hi[j] = (b >> 4) as f32 * d + m;
    }
}

/// Unpacks one block's codes (0..15) in value order.
pub(crate) fn codes(block: &[u8; BLOCK_BYTES]) -> [i8; 32] {
    let mut w = [0i8; 32];
    for j in 0..BLOCK_LEN / 2 {
        w[j] = (block[4 + j] & 0x0F) as i8;
        w[j + 16] = (block[4 + j] >> 4) as i8;
    }
    w
}
