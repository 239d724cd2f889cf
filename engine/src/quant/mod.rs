//! llama.cpp-compatible block quantization: Q8_0, Q4_0, Q4_K, Q6_K.

use crate::{DType, Error, Result};

/// Dequantizes whole blocks of `dtype` to f32.
pub fn dequantize(dtype: DType, _bytes: &[u8]) -> Result<Vec<f32>> {
    Err(Error::UnsupportedDType {
        op: "dequantize",
        dtype,
    })
}
