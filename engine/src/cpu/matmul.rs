//! Batched matmul and linear layers on top of the blocked GEMM in [`crate::cpu::gemm`].

use crate::cpu::gemm::{gemm_nt, gemm_nt_bias, RowSource};
use crate::cpu::recycle::overwritable;
use crate::cpu::{float_out, output, values};
use crate::storage::{CpuStorage, Storage};
use crate::{DType, Error, Result, Shape, Tensor};

/// `a @ b` with batch dimensions broadcast to `batch`.
pub fn matmul(
    a: &Tensor,
    b: &Tensor,
    batch: &Shape,
    m: usize,
    k: usize,
    n: usize,
) -> Result<Tensor> {
    let nb = batch.elem_count();
    let mut dims = batch.dims().to_vec();
    dims.extend([m, n]);
    let dtype = if a.dtype() == DType::F16 && b.dtype() == DType::F16 {
        DType::F16
    } else {
        DType::F32
    };
    // Every value is written by the products below.
    let mut out = overwritable(nb * m * n);
    // The kernel wants B as rows of k: a transposed view of b, copied only when it is not already laid out so.
    if b.rank() == 2 && a.is_contiguous() {
        // One weight shared by the whole batch: fold the batch into the rows of A.
        let av = values(a)?;
        let bt = b.t()?;
        let bv = values(&bt)?;
        gemm_nt(&av, RowSource::F32(&bv), nb * m, n, k, &mut out)?;
    } else {
        let mut a_dims = batch.dims().to_vec();
        a_dims.extend([m, k]);
        let mut b_dims = batch.dims().to_vec();
        b_dims.extend([k, n]);
        let a_full = a.broadcast_as(a_dims)?;
        let b_full = b.broadcast_as(b_dims)?.t()?;
        let av = values(&a_full)?;
        let bv = values(&b_full)?;
        for i in 0..nb {
            gemm_nt(
                &av[i * m * k..(i + 1) * m * k],
                RowSource::F32(&bv[i * n * k..(i + 1) * n * k]),
                m,
                n,
                k,
                &mut out[i * m * n..(i + 1) * m * n],
            )?;
        }
    }
    output(out, dims, dtype)
}

/// The rows of a `[n, k]` weight as the GEMM reads them, without copying when the weight is contiguous.
fn weight_rows(w: &Tensor) -> Result<(RowSource<'_>, Option<Vec<f32>>)> {
    let Storage::Cpu(storage) = w.storage() else {
        return Err(Error::invalid("linear", "weight is not on the CPU"));
    };
    let elems = w.elem_count();
    let start = w.layout().offset();
    if w.is_contiguous() {
        match storage {
            CpuStorage::F32(v) => {
                if let Some(s) = v.get(start..start + elems) {
                    return Ok((RowSource::F32(s), None));
                }
            }
            CpuStorage::F16(v) => {
                if let Some(s) = v.get(start..start + elems) {
                    return Ok((RowSource::F16(s), None));
                }
            }
            CpuStorage::Quantized { dtype, bytes } => {
                let from = start / dtype.block_len() * dtype.block_bytes();
                let len = dtype
                    .storage_bytes(elems)
                    .ok_or_else(|| Error::invalid("linear", "partial quantized block"))?;
                let bytes = bytes
                    .get(from..from + len)
                    .ok_or_else(|| Error::invalid("linear", "quantized weight out of range"))?;
                return Ok((
                    RowSource::Quantized {
                        dtype: *dtype,
                        bytes,
                    },
                    None,
                ));
            }
            CpuStorage::U32(_) => {}
        }
    }
    if w.dtype().is_quantized() {
        return Err(Error::invalid(
            "linear",
            "quantized weights must be contiguous",
        ));
    }
    Ok((RowSource::F32(&[]), Some(w.to_vec_f32()?)))
}

/// Up to this many rows, quantized weights go through the integer dot products of `quant::matmul_t`; above it,
/// through the f32 GEMM on dequantized panels (compute-bound, where f32 FMAs win).
const QUANT_DOT_MAX_ROWS: usize = 8;

/// `x @ wᵀ + bias`.
pub fn linear(x: &Tensor, w: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (n, k) = (w.dims()[0], w.dims()[1]);
    let m = x.elem_count() / k.max(1);
    let xv = values(x)?;
    let (source, owned) = weight_rows(w)?;
    let source = match &owned {
        Some(v) => RowSource::F32(v),
        None => source,
    };
    // Both kernels below write every value.
    let mut out = overwritable(m * n);
    let bv = bias.map(values).transpose()?;
    match source {
        // Decode-sized inputs against quantized weights: integer block dot products (activations quantized to
        // 8 bits per block of 32, as llama.cpp does) read the weights once, at their packed size.
        RowSource::Quantized { dtype, bytes } if m <= QUANT_DOT_MAX_ROWS => {
            crate::quant::matmul_t(dtype, bytes, n, k, &xv, &mut out)?;
            if let Some(bv) = &bv {
                for row in out.chunks_exact_mut(n.max(1)) {
                    row.iter_mut().zip(bv.iter()).for_each(|(o, &b)| *o += b);
                }
            }
        }
        _ => gemm_nt_bias(&xv, source, m, n, k, bv.as_deref(), &mut out)?,
    }
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = n;
    }
    output(out, dims, float_out(x.dtype()))
}
