//! GGUF blocks (34, 18, 144 and 210 bytes) repacked into whole u32 words, since WGSL reads storage as u32s.
//! Each block keeps its llama.cpp byte order and is padded to a multiple of 4 bytes:
//! - Q8_0: `d:f16, pad:u16, qs[32]` = 9 words
//! - Q4_0: `d:f16, pad:u16, qs[16]` = 5 words
//! - Q4_K: unchanged (144 bytes = 36 words)
//! - Q6_K: `ql[128], qh[64], scales[16], d:f16, pad:u16` = 53 words

use crate::{DType, Error, Result};

/// Bytes of one repacked block.
pub(crate) fn repacked_bytes(dtype: DType) -> Result<usize> {
    match dtype {
        DType::Q8_0 => Ok(36),
        DType::Q4_0 => Ok(20),
        DType::Q4_K => Ok(144),
        DType::Q6_K => Ok(212),
        other => Err(Error::UnsupportedDType {
            op: "gpu repack",
            dtype: other,
        }),
    }
}

/// u32 words in one repacked block (the kernels hard-code the same numbers).
#[cfg(test)]
fn block_words(dtype: DType) -> u32 {
    match dtype {
        DType::Q8_0 => 9,
        DType::Q4_0 => 5,
        DType::Q4_K => 36,
        DType::Q6_K => 53,
        _ => 1,
    }
}

/// GGUF block bytes → u32-aligned blocks.
pub(crate) fn repack(dtype: DType, bytes: &[u8]) -> Result<Vec<u8>> {
    let out_block = repacked_bytes(dtype)?;
    let in_block = dtype.block_bytes();
    if !bytes.len().is_multiple_of(in_block) {
        return Err(Error::Malformed(format!(
            "{dtype:?} data of {} bytes is not a whole number of {in_block}-byte blocks",
            bytes.len()
        )));
    }
    let mut out = Vec::with_capacity(bytes.len() / in_block * out_block);
    for block in bytes.chunks_exact(in_block) {
        match dtype {
            // Scale first, then two bytes of padding so the quants start on a word.
            DType::Q8_0 | DType::Q4_0 => {
                out.extend_from_slice(&block[..2]);
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&block[2..]);
            }
            DType::Q6_K => {
                out.extend_from_slice(block);
                out.extend_from_slice(&[0, 0]);
            }
            _ => out.extend_from_slice(block),
        }
    }
    Ok(out)
}

/// The inverse of [`repack`] (for downloads of quantized tensors).
pub(crate) fn unpack(dtype: DType, bytes: &[u8]) -> Result<Vec<u8>> {
    let out_block = repacked_bytes(dtype)?;
    let mut out = Vec::with_capacity(bytes.len() / out_block * dtype.block_bytes());
    for block in bytes.chunks_exact(out_block) {
        match dtype {
            DType::Q8_0 | DType::Q4_0 => {
                out.extend_from_slice(&block[..2]);
                out.extend_from_slice(&block[4..]);
            }
            DType::Q6_K => out.extend_from_slice(&block[..210]),
            _ => out.extend_from_slice(block),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn repack_roundtrips_every_type() {
        for dtype in [DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K] {
            let bytes: Vec<u8> = (0..dtype.block_bytes() * 3)
                .map(|i| (i * 7) as u8)
                .collect();
            let packed = repack(dtype, &bytes).unwrap();
            assert_eq!(packed.len(), 3 * block_words(dtype) as usize * 4);
            assert_eq!(unpack(dtype, &packed).unwrap(), bytes);
        }
    }

    #[test]
    fn partial_block_is_an_error() {
        assert!(repack(DType::Q8_0, &[0; 35]).is_err());
    }
}
