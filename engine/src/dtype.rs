//! Element types: floats, and llama.cpp-compatible block-quantized types.

use serde::{Deserialize, Serialize};

/// Element type of a tensor. Quantized types store blocks of `block_len()` values in `block_bytes()` bytes,
/// laid out exactly as GGUF stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(non_camel_case_types)] // the names llama.cpp and GGUF use
pub enum DType {
    F32,
    F16,
    /// Indices (argmax, top-k, token ids, gather).
    U32,
    /// Only on load: converted to F32 (or F16) before use.
    BF16,
    Q8_0,
    Q4_0,
    Q4_1,
    Q5_0,
    Q4_K,
    Q6_K,
}

impl DType {
    /// Number of values in one block (1 for plain floats).
    pub fn block_len(self) -> usize {
        match self {
            DType::F32 | DType::F16 | DType::BF16 | DType::U32 => 1,
            DType::Q8_0 | DType::Q4_0 | DType::Q4_1 | DType::Q5_0 => 32,
            DType::Q4_K | DType::Q6_K => 256,
        }
    }

    /// Bytes taken by one block (by one value for plain floats).
    pub fn block_bytes(self) -> usize {
        match self {
            DType::F32 | DType::U32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::Q8_0 => 34,
            DType::Q4_0 => 18,
            DType::Q4_1 => 20,
            DType::Q5_0 => 22,
            DType::Q4_K => 144,
            DType::Q6_K => 210,
        }
    }

    /// Whether values are stored in blocks with shared scales.
    pub fn is_quantized(self) -> bool {
        self.block_len() > 1
    }

    /// Bytes needed for `elems` values, or `None` if `elems` is not a whole number of blocks or overflows.
    pub fn storage_bytes(self, elems: usize) -> Option<usize> {
        if !elems.is_multiple_of(self.block_len()) {
            return None;
        }
        (elems / self.block_len()).checked_mul(self.block_bytes())
    }
}
