//! The bytes behind a tensor, on the CPU or on the GPU.

use crate::cpu::recycle::F32Buffer;
use crate::gpu::GpuStorage;
use crate::DType;
use half::f16;

/// Element storage on the CPU. Quantized weights keep their GGUF block bytes unchanged.
#[derive(Clone, Debug)]
pub enum CpuStorage {
    /// Given back to [`crate::cpu::recycle`]'s pool when dropped, if large.
    F32(F32Buffer),
    F16(Vec<f16>),
    U32(Vec<u32>),
    Quantized {
        dtype: DType,
        bytes: Vec<u8>,
    },
}

impl CpuStorage {
    /// The element type held.
    pub fn dtype(&self) -> DType {
        match self {
            CpuStorage::F32(_) => DType::F32,
            CpuStorage::F16(_) => DType::F16,
            CpuStorage::U32(_) => DType::U32,
            CpuStorage::Quantized { dtype, .. } => *dtype,
        }
    }
    /// Size in bytes.
    pub fn byte_len(&self) -> usize {
        match self {
            CpuStorage::F32(v) => v.len() * 4,
            CpuStorage::F16(v) => v.len() * 2,
            CpuStorage::U32(v) => v.len() * 4,
            CpuStorage::Quantized { bytes, .. } => bytes.len(),
        }
    }
}

/// Storage on either backend.
#[derive(Debug)]
pub enum Storage {
    Cpu(CpuStorage),
    Gpu(GpuStorage),
}
