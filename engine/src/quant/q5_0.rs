//! Q5_0: blocks of 32 values stored as an f16 scale `d`, 32 high bits (`qh`, little-endian) and 16 bytes of
//! low nibbles; value = (q - 16) * d with q = nibble | high bit << 4. Byte j holds values j and j + 16; bit j of
//! `qh` is value j's high bit and bit j + 16 value j + 16's (llama.cpp's `block_q5_0`). Qwen2.5's Q4_K_M files
//! use it for some layers.

use half::f16;

/// Values per block.
pub const BLOCK_LEN: usize = 32;
/// Bytes per block: f16 scale + 4 bytes of high bits + 16 bytes of nibbles.
pub const BLOCK_BYTES: usize = 22;

/// Unpacks one block's codes (0..31) in value order.
pub(crate) fn codes(block: &[u8; BLOCK_BYTES]) -> [i8; 32] {
    let qh = u32::from_le_bytes([block[2], block[3], block[4], block[5]]);
    let mut w = [0i8; 32];
    for j in 0..BLOCK_LEN / 2 {
        let b = block[6 + j];
        let hi_lo = ((qh >> j) & 1) as u8;
        let hi_hi = ((qh >> (j + 16)) & 1) as u8;
        w[j] = ((b & 0x0F) | (hi_lo << 4)) as i8;
        w[j + 16] = ((b >> 4) | (hi_hi << 4)) as i8;
    }
    w
}

/// Writes the 32 values of one Q5_0 block into `out`.
pub(crate) fn dequantize_block(block: &[u8], out: &mut [f32]) {
    let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
    let Ok(block) = <&[u8; BLOCK_BYTES]>::try_from(&block[..BLOCK_BYTES]) else {
        return;
    };
    for (o, q) in out.iter_mut().zip(codes(block)) {
        *o = (q as i32 - 16) as f32 * d;
    }
}
