//! Pure-Rust CPU kernels (auto-vectorised natively with an AVX2/FMA path chosen at run time; simd128 on wasm32
//! when built with `+simd128`). Kernels compute in f32 and write new contiguous tensors.

pub mod attention;
pub mod conv;
pub mod elementwise;
pub mod fastmath;
pub mod gemm;
pub mod index;
pub mod matmul;
pub mod norm;
mod packed;
pub mod pool;
pub mod recycle;
pub mod reduce;

use crate::storage::{CpuStorage, Storage};
use crate::{DType, Device, Error, Layout, Result, Shape, Tensor};
use half::f16;
use std::borrow::Cow;

/// The values of a CPU tensor as f32 in row-major order, borrowed when it is a contiguous F32 tensor.
pub(crate) fn values(t: &Tensor) -> Result<Cow<'_, [f32]>> {
    if let Storage::Cpu(CpuStorage::F32(v)) = t.storage() {
        if t.is_contiguous() {
            let start = t.layout().offset();
            if let Some(s) = v.get(start..start + t.elem_count()) {
                return Ok(Cow::Borrowed(s));
            }
        }
    }
    Ok(Cow::Owned(t.to_vec_f32()?))
}

/// The dtype a float op writes for an input of `dtype`: F16 stays F16, everything else becomes F32.
pub(crate) fn float_out(dtype: DType) -> DType {
    if dtype == DType::F16 {
        DType::F16
    } else {
        DType::F32
    }
}

/// Wraps f32 results as a new contiguous CPU tensor stored as `dtype` (F32 or F16).
pub(crate) fn output(data: Vec<f32>, shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
    let shape = shape.into();
    if shape.elem_count() != data.len() {
        return Err(Error::invalid(
            "output",
            format!("{} values for shape {shape:?}", data.len()),
        ));
    }
    let (storage, dtype) = match dtype {
        DType::F16 => {
            let halves = data.iter().map(|&x| f16::from_f32(x)).collect();
            // The f32 values were an op's output: their buffer can serve the next one.
            drop(recycle::F32Buffer::from(data));
            (CpuStorage::F16(halves), DType::F16)
        }
        _ => (CpuStorage::F32(data.into()), DType::F32),
    };
    Ok(Tensor::from_parts(
        Storage::Cpu(storage),
        Layout::contiguous(shape),
        dtype,
        Device::Cpu,
    ))
}

/// Wraps u32 results (indices) as a new contiguous CPU tensor.
pub(crate) fn output_u32(data: Vec<u32>, shape: impl Into<Shape>) -> Tensor {
    Tensor::from_parts(
        Storage::Cpu(CpuStorage::U32(data)),
        Layout::contiguous(shape),
        DType::U32,
        Device::Cpu,
    )
}

/// Runs `f` over `chunk`-sized pieces of `out` in parallel natively, sequentially on wasm32.
pub(crate) fn for_chunks(
    out: &mut [f32],
    chunk: usize,
    f: impl Fn(usize, &mut [f32]) + Send + Sync,
) {
    let chunk = chunk.max(1);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        if out.len() >= 1 << 14 {
            out.par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, c)| f(i, c));
            return;
        }
    }
    out.chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i, c));
}
