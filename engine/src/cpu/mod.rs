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
        DType::F16 => (
            CpuStorage::F16(data.iter().map(|&x| f16::from_f32(x)).collect()),
            DType::F16,
        ),
        _ => (CpuStorage::F32(data), DType::F32),
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

/// A zeroed output buffer of `len` values. From 4 MB on they are zeroed by the threads natively: a product's
/// output is written by all of them, but one thread clearing 25 MB first (a 4096 × 1536 linear layer) cost
/// 15–25% of the product on 16 threads (`examples/cpu_gemm_lab.rs`); at 1 MB (512²) it made no difference.
pub(crate) fn zeroed(len: usize) -> Vec<f32> {
    #[cfg(not(target_arch = "wasm32"))]
    if len >= 1 << 20 {
        use rayon::prelude::*;
        // An indexed parallel iterator collects in place: each thread writes its own range of the new vector.
        return rayon::iter::repeat_n(0.0f32, len).collect();
    }
    vec![0.0; len]
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

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_is_all_zeros_at_every_size() {
        // Both sides of the threshold where the threads clear the buffer, and an odd length past it.
        for len in [0, 5, (1 << 20) - 1, 1 << 20, (1 << 20) + 77] {
            let v = super::zeroed(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x.to_bits() == 0), "len {len}");
        }
    }
}
