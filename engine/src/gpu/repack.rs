//! GGUF blocks (34, 18, 144 and 210 bytes) repacked into whole u32 words, since WGSL reads storage as u32s.
//!
//! Q8_0 goes in groups of eight blocks, codes first and the eight f16 scales after them, so a group is 17
//! 16-byte vectors with no padding (272 bytes: exactly the GGUF bytes). Vector `j` holds block `j`'s first 16
//! codes, vector `8 + j` its last 16 (eight threads reading one block each load 128 contiguous bytes per
//! instruction), vector 16 the scales (block `j`'s in word `j / 2`, half `j % 2`). A tensor's last group is
//! padded with zero blocks.
//!
//! The other types keep llama.cpp's byte order in each block, padded to a multiple of 4 bytes:
//! - Q4_0: `d:f16, pad:u16, qs[16]` = 5 words (byte `i` of `qs` holds values `i` and `i + 16` as nibbles)
//! - Q4_K: unchanged (144 bytes = 36 words)
//! - Q6_K: `ql[128], qh[64], scales[16], d:f16, pad:u16` = 53 words
//!
//! `gemv_q.wgsl`, `gemv.wgsl` and `weights.wgsl` hard-code these layouts. Why Q8_0 is grouped and Q4_0 is not
//! (grouping measured faster for one, slower for the other): BENCHMARKS.md, session 8.

use crate::{DType, Error, Result};

/// Blocks per group for Q8_0.
const GROUP_BLOCKS: usize = 8;

/// Where block `j` of a Q8_0 group keeps what GGUF stores in its bytes 0..2 (the scale), 2..18 and 18..34
/// (the two halves of its codes).
fn q8_0_slots(j: usize) -> [std::ops::Range<usize>; 3] {
    [
        256 + 2 * j..258 + 2 * j,
        16 * j..16 * j + 16,
        128 + 16 * j..144 + 16 * j,
    ]
}

/// How a quantized type's blocks are laid out on the GPU: `blocks` blocks take `bytes` bytes, and a byte
/// range may only start at a multiple of `blocks` blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockUnit {
    pub(crate) blocks: usize,
    pub(crate) bytes: usize,
}

/// The unit of `dtype`'s repacked layout.
pub(crate) fn block_unit(dtype: DType) -> Result<BlockUnit> {
    let (blocks, bytes) = match dtype {
        DType::Q8_0 => (GROUP_BLOCKS, GROUP_BLOCKS * 34),
        DType::Q4_0 => (1, 20),
        DType::Q4_K => (1, 144),
        DType::Q6_K => (1, 212),
        other => {
            return Err(Error::UnsupportedDType {
                op: "gpu repack",
                dtype: other,
            })
        }
    };
    Ok(BlockUnit { blocks, bytes })
}

/// Bytes that `blocks` blocks of `dtype` take on the GPU (the last unit padded whole).
pub(crate) fn repacked_len(dtype: DType, blocks: usize) -> Result<usize> {
    let unit = block_unit(dtype)?;
    Ok(blocks.div_ceil(unit.blocks) * unit.bytes)
}

/// GGUF block bytes → the GPU layout above.
pub(crate) fn repack(dtype: DType, bytes: &[u8]) -> Result<Vec<u8>> {
    let in_block = dtype.block_bytes();
    if !bytes.len().is_multiple_of(in_block) {
        return Err(Error::Malformed(format!(
            "{dtype:?} data of {} bytes is not a whole number of {in_block}-byte blocks",
            bytes.len()
        )));
    }
    let blocks = bytes.len() / in_block;
    let mut out = vec![0u8; repacked_len(dtype, blocks)?];
    match dtype {
        DType::Q8_0 => {
            let group_bytes = block_unit(dtype)?.bytes;
            for (b, block) in bytes.chunks_exact(in_block).enumerate() {
                let group = &mut out[(b / GROUP_BLOCKS) * group_bytes..][..group_bytes];
                for (from, to) in [0..2, 2..18, 18..34]
                    .into_iter()
                    .zip(q8_0_slots(b % GROUP_BLOCKS))
                {
                    group[to].copy_from_slice(&block[from]);
                }
            }
        }
        // Scale first, then two bytes of padding so the codes start on a word.
        DType::Q4_0 => {
            for (block, dst) in bytes.chunks_exact(in_block).zip(out.chunks_exact_mut(20)) {
                dst[..2].copy_from_slice(&block[..2]);
                dst[4..].copy_from_slice(&block[2..]);
            }
        }
        DType::Q6_K => {
            for (block, dst) in bytes.chunks_exact(in_block).zip(out.chunks_exact_mut(212)) {
                dst[..in_block].copy_from_slice(block);
            }
        }
        _ => out.copy_from_slice(bytes),
    }
    Ok(out)
}

/// The inverse of [`repack`] for the first `blocks` blocks (downloads of quantized tensors).
pub(crate) fn unpack(dtype: DType, bytes: &[u8], blocks: usize) -> Result<Vec<u8>> {
    if bytes.len() < repacked_len(dtype, blocks)? {
        return Err(Error::Gpu(format!(
            "{} bytes read back cannot hold {blocks} {dtype:?} blocks",
            bytes.len()
        )));
    }
    let in_block = dtype.block_bytes();
    let mut out = Vec::with_capacity(blocks * in_block);
    match dtype {
        DType::Q8_0 => {
            let group_bytes = block_unit(dtype)?.bytes;
            for b in 0..blocks {
                let group = &bytes[(b / GROUP_BLOCKS) * group_bytes..][..group_bytes];
                for slot in q8_0_slots(b % GROUP_BLOCKS) {
                    out.extend_from_slice(&group[slot]);
                }
            }
        }
        DType::Q4_0 => {
            for block in bytes.chunks_exact(20).take(blocks) {
                out.extend_from_slice(&block[..2]);
                out.extend_from_slice(&block[4..]);
            }
        }
        DType::Q6_K => {
            for block in bytes.chunks_exact(212).take(blocks) {
                out.extend_from_slice(&block[..in_block]);
            }
        }
        _ => out.extend_from_slice(&bytes[..blocks * in_block]),
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn repack_roundtrips_every_type_and_partial_groups() {
        for dtype in [DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K] {
            for blocks in [1, 3, 8, 13] {
                let bytes: Vec<u8> = (0..dtype.block_bytes() * blocks)
                    .map(|i| (i * 7 + i / 5) as u8)
                    .collect();
                let packed = repack(dtype, &bytes).unwrap();
                assert_eq!(packed.len(), repacked_len(dtype, blocks).unwrap());
                if dtype == DType::Q8_0 {
                    assert_eq!(packed.len() % 16, 0, "whole 16-byte vectors");
                }
                assert_eq!(
                    unpack(dtype, &packed, blocks).unwrap(),
                    bytes,
                    "{dtype:?} {blocks}"
                );
            }
        }
    }

    #[test]
    fn q8_0_group_layout() {
        // Block j: scale bytes (2j, 2j + 1), codes 100 + j * 40 + i.
        let mut bytes = Vec::new();
        for j in 0..8u8 {
            bytes.extend_from_slice(&[2 * j, 2 * j + 1]);
            bytes.extend((0..32u8).map(|i| 100u8.wrapping_add(j.wrapping_mul(40)).wrapping_add(i)));
        }
        let packed = repack(DType::Q8_0, &bytes).unwrap();
        assert_eq!(packed.len(), 272);
        // Block 3's codes 0..16 in vector 3, codes 16..32 in vector 11; its scale at byte 256 + 6.
        assert_eq!(packed[48], 100 + 120);
        assert_eq!(packed[11 * 16 + 1], 100 + 120 + 17);
        assert_eq!(&packed[262..264], &[6, 7]);
    }

    #[test]
    fn partial_block_is_an_error() {
        assert!(repack(DType::Q8_0, &[0; 35]).is_err());
    }
}
