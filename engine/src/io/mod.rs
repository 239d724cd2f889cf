//! Weight readers: safetensors and GGUF from byte buffers, and a name-path weight loader.
//!
//! Both readers take the whole file as bytes (the browser has no files), validate every length and offset
//! against the buffer before use, and never panic on malformed input.

pub mod ctranslate2;
pub mod gguf;
mod gguf_metadata;
pub mod hf;
pub mod onnx;
pub mod safetensors;
pub mod var_builder;

pub use gguf::{Gguf, GgufTensorInfo, GgufType, MetadataArray, MetadataValue};
pub use hf::parse_config;
#[cfg(not(target_arch = "wasm32"))]
pub use hf::ModelFolder;
pub use safetensors::{SafeTensorInfo, SafeTensors};
pub use var_builder::{DTypePolicy, VarBuilder};

use crate::storage::CpuStorage;
use crate::{DType, Error, Result};
use half::{bf16, f16};

/// Number of elements of `shape`, or `None` if it, or any stride of the shape, overflows. Zero dimensions
/// count as one for the overflow check, so `[0, 2^40, 2^40]` is refused (its strides would overflow).
pub(crate) fn checked_elems(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d.max(1)))?;
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// Converts little-endian stored values (F32, F16, BF16 or U32) to CPU storage of the type `policy` asks for.
/// BF16 always becomes F32 unless F16 is asked for: the engine computes in F32/F16 only.
pub(crate) fn float_storage(
    stored: DType,
    bytes: &[u8],
    policy: DTypePolicy,
) -> Result<CpuStorage> {
    let want = match (stored, policy) {
        (DType::U32, _) => DType::U32,
        (_, DTypePolicy::F32) | (DType::BF16, DTypePolicy::AsStored) => DType::F32,
        (_, DTypePolicy::F16) => DType::F16,
        (s, DTypePolicy::AsStored) => s,
    };
    let size = stored.block_bytes();
    if stored.is_quantized() || !bytes.len().is_multiple_of(size) {
        return Err(Error::UnsupportedDType {
            op: "load weight",
            dtype: stored,
        });
    }
    let words = bytes.chunks_exact(size);
    let as_f32 = |b: &[u8]| -> f32 {
        match stored {
            DType::F16 => f16::from_le_bytes([b[0], b[1]]).to_f32(),
            DType::BF16 => bf16::from_le_bytes([b[0], b[1]]).to_f32(),
            _ => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        }
    };
    Ok(match (stored, want) {
        (DType::U32, _) => CpuStorage::U32(
            words
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        (DType::F16, DType::F16) => {
            CpuStorage::F16(words.map(|b| f16::from_le_bytes([b[0], b[1]])).collect())
        }
        (_, DType::F16) => CpuStorage::F16(words.map(|b| f16::from_f32(as_f32(b))).collect()),
        _ => CpuStorage::F32(words.map(as_f32).collect::<Vec<f32>>().into()),
    })
}
