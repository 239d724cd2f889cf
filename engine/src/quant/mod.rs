//! llama.cpp-compatible block quantization: Q8_0, Q4_0, Q4_1, Q5_0, Q4_K, Q6_K.
//!
//! Blocks are laid out byte for byte as GGUF stores them (ggml-quants.h), so GGUF tensors load without
//! conversion and our own load-time quantization produces what llama.cpp would.

mod k_quants;
mod matmul;
mod q4_0;
mod q4_1;
mod q5_0;
mod q8_0;

pub use matmul::matmul_t;

use crate::{DType, Error, Result};

/// Checks that `bytes` is a whole number of `dtype` blocks and returns how many.
fn block_count(op: &'static str, dtype: DType, bytes: &[u8]) -> Result<usize> {
    if !dtype.is_quantized() {
        return Err(Error::UnsupportedDType { op, dtype });
    }
    if !bytes.len().is_multiple_of(dtype.block_bytes()) {
        return Err(Error::invalid(
            op,
            format!(
                "{} bytes are not a whole number of {dtype:?} blocks of {} bytes",
                bytes.len(),
                dtype.block_bytes()
            ),
        ));
    }
    Ok(bytes.len() / dtype.block_bytes())
}

/// Dequantizes whole blocks of `dtype` to f32.
pub fn dequantize(dtype: DType, bytes: &[u8]) -> Result<Vec<f32>> {
    let blocks = block_count("dequantize", dtype, bytes)?;
    let mut out = vec![0f32; blocks * dtype.block_len()];
    dequantize_into(dtype, bytes, &mut out)?;
    Ok(out)
}

/// Dequantizes whole blocks of `dtype` into `out`, which must hold exactly their values.
pub fn dequantize_into(dtype: DType, bytes: &[u8], out: &mut [f32]) -> Result<()> {
    let blocks = block_count("dequantize", dtype, bytes)?;
    if out.len() != blocks * dtype.block_len() {
        return Err(Error::invalid(
            "dequantize",
            format!(
                "{blocks} blocks of {dtype:?} do not fill {} values",
                out.len()
            ),
        ));
    }
    let f: fn(&[u8], &mut [f32]) = match dtype {
        DType::Q8_0 => q8_0::dequantize_block,
        DType::Q4_0 => q4_0::dequantize_block,
        DType::Q4_1 => q4_1::dequantize_block,
        DType::Q5_0 => q5_0::dequantize_block,
        DType::Q4_K => k_quants::dequantize_q4_k,
        DType::Q6_K => k_quants::dequantize_q6_k,
        other => {
            return Err(Error::UnsupportedDType {
                op: "dequantize",
                dtype: other,
            })
        }
    };
    let chunks = bytes.chunks_exact(dtype.block_bytes());
    for (block, y) in chunks.zip(out.chunks_exact_mut(dtype.block_len())) {
        f(block, y);
    }
    Ok(())
}

/// Quantizes `values` (a whole number of blocks) to `dtype` blocks, as llama.cpp's reference quantizer does.
pub fn quantize(dtype: DType, values: &[f32]) -> Result<Vec<u8>> {
    let f: fn(&[f32], &mut Vec<u8>) = match dtype {
        DType::Q8_0 => q8_0::quantize_block,
        DType::Q4_0 => q4_0::quantize_block,
        other => {
            return Err(Error::UnsupportedDType {
                op: "quantize",
                dtype: other,
            })
        }
    };
    let len = dtype.block_len();
    if !values.len().is_multiple_of(len) {
        return Err(Error::invalid(
            "quantize",
            format!(
                "{} values are not a whole number of blocks of {len}",
                values.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(values.len() / len * dtype.block_bytes());
    for block in values.chunks_exact(len) {
        f(block, &mut out);
    }
    Ok(out)
}
