//! Gather, join and copy kernels.

use crate::cpu::{float_out, output, output_u32, values};
use crate::storage::{CpuStorage, Storage};
use crate::{DType, Error, Result, Shape, Tensor};

/// `index_select` along `axis`.
pub fn index_select(x: &Tensor, indices: &Tensor, axis: usize) -> Result<Tensor> {
    let ids = indices.to_vec_u32()?;
    let len = x.dims()[axis];
    if let Some(&bad) = ids.iter().find(|&&i| i as usize >= len) {
        return Err(Error::invalid(
            "index_select",
            format!("index {bad} out of range for axis of length {len}"),
        ));
    }
    let mut dims = x.dims().to_vec();
    dims[axis] = ids.len();
    if x.dtype().is_quantized() {
        return quantized_rows(x, &ids, axis, dims);
    }
    let outer: usize = x.dims()[..axis].iter().product();
    let inner: usize = x.dims()[axis + 1..].iter().product();
    if x.dtype() == DType::U32 {
        let v = x.to_vec_u32()?;
        let mut out = Vec::with_capacity(outer * ids.len() * inner);
        for o in 0..outer {
            for &i in &ids {
                out.extend_from_slice(&v[(o * len + i as usize) * inner..][..inner]);
            }
        }
        return Ok(output_u32(out, dims));
    }
    let v = values(x)?;
    let mut out = Vec::with_capacity(outer * ids.len() * inner);
    for o in 0..outer {
        for &i in &ids {
            out.extend_from_slice(&v[(o * len + i as usize) * inner..][..inner]);
        }
    }
    output(out, dims, float_out(x.dtype()))
}

/// Picks whole rows (everything after `axis`) of a quantized tensor, dequantizing only those.
fn quantized_rows(x: &Tensor, ids: &[u32], axis: usize, dims: Vec<usize>) -> Result<Tensor> {
    let Storage::Cpu(CpuStorage::Quantized { dtype, bytes }) = x.storage() else {
        return Err(Error::invalid(
            "index_select",
            "quantized tensor without blocks",
        ));
    };
    if !x.is_contiguous() {
        return Err(Error::invalid(
            "index_select",
            "quantized views must be contiguous",
        ));
    }
    let len = x.dims()[axis];
    let outer: usize = x.dims()[..axis].iter().product();
    let inner: usize = x.dims()[axis + 1..].iter().product();
    let row_bytes = dtype
        .storage_bytes(inner)
        .ok_or_else(|| Error::invalid("index_select", "rows are not whole quantized blocks"))?;
    let base = x.layout().offset() / dtype.block_len() * dtype.block_bytes();
    let mut out = Vec::with_capacity(outer * ids.len() * inner);
    for o in 0..outer {
        for &i in ids {
            let start = base + (o * len + i as usize) * row_bytes;
            let row = bytes
                .get(start..start + row_bytes)
                .ok_or_else(|| Error::invalid("index_select", "quantized row out of range"))?;
            out.extend(crate::quant::dequantize(*dtype, row)?);
        }
    }
    output(out, dims, DType::F32)
}

/// Joins along `axis`.
pub fn concat(tensors: &[&Tensor], axis: usize) -> Result<Tensor> {
    let first = tensors[0];
    let outer: usize = first.dims()[..axis].iter().product();
    let inner: usize = first.dims()[axis + 1..].iter().product();
    let parts = tensors
        .iter()
        .map(|t| values(t))
        .collect::<Result<Vec<_>>>()?;
    let total: usize = tensors.iter().map(|t| t.dims()[axis]).sum();
    let mut out = Vec::with_capacity(outer * total * inner);
    for o in 0..outer {
        for (t, p) in tensors.iter().zip(&parts) {
            let n = t.dims()[axis] * inner;
            out.extend_from_slice(&p[o * n..(o + 1) * n]);
        }
    }
    let mut dims = first.dims().to_vec();
    dims[axis] = total;
    let dtype = if tensors.iter().all(|t| t.dtype() == DType::F16) {
        DType::F16
    } else {
        DType::F32
    };
    output(out, dims, dtype)
}

/// Constant padding of one axis.
pub fn pad(x: &Tensor, axis: usize, before: usize, after: usize, value: f32) -> Result<Tensor> {
    let outer: usize = x.dims()[..axis].iter().product();
    let inner: usize = x.dims()[axis + 1..].iter().product();
    let len = x.dims()[axis];
    let v = values(x)?;
    let mut out = Vec::with_capacity(outer * (len + before + after) * inner);
    for o in 0..outer {
        out.extend(std::iter::repeat_n(value, before * inner));
        out.extend_from_slice(&v[o * len * inner..(o + 1) * len * inner]);
        out.extend(std::iter::repeat_n(value, after * inner));
    }
    let mut dims = x.dims().to_vec();
    dims[axis] = len + before + after;
    output(out, dims, float_out(x.dtype()))
}

/// Elementwise select.
pub fn where_cond(
    mask: &Tensor,
    on_true: &Tensor,
    on_false: &Tensor,
    shape: &Shape,
) -> Result<Tensor> {
    let m = mask.broadcast_as(shape.clone())?;
    let m: Vec<bool> = if m.dtype() == DType::U32 {
        m.to_vec_u32()?.into_iter().map(|v| v != 0).collect()
    } else {
        values(&m)?.iter().map(|&v| v != 0.0).collect()
    };
    let t = on_true.broadcast_as(shape.clone())?;
    let f = on_false.broadcast_as(shape.clone())?;
    let (tv, fv) = (values(&t)?, values(&f)?);
    let out = m
        .iter()
        .zip(tv.iter().zip(fv.iter()))
        .map(|(&c, (&a, &b))| if c { a } else { b })
        .collect();
    let dtype = if on_true.dtype() == DType::F16 && on_false.dtype() == DType::F16 {
        DType::F16
    } else {
        DType::F32
    };
    output(out, shape.clone(), dtype)
}

/// Converts to F32 or F16.
pub fn cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    output(values(x)?.into_owned(), x.shape().clone(), dtype)
}

/// A contiguous copy.
pub fn contiguous(x: &Tensor) -> Result<Tensor> {
    match x.dtype() {
        DType::U32 => Ok(output_u32(x.to_vec_u32()?, x.shape().clone())),
        dtype => output(values(x)?.into_owned(), x.shape().clone(), dtype),
    }
}

/// Writes `new` `[b, h, t, d]` into `buf` `[b, h, max_len, d]` at position `pos`, in place when `buf` owns its
/// storage alone, else after copying it.
pub fn write_seq(buf: &mut Tensor, new: &Tensor, pos: usize) -> Result<()> {
    let [b, h, max_len, d] = [buf.dims()[0], buf.dims()[1], buf.dims()[2], buf.dims()[3]];
    let t = new.dims()[2];
    let src = values(new)?;
    if buf.storage_mut().is_none() {
        let Storage::Cpu(cpu) = buf.storage() else {
            return Err(Error::invalid("kv_cache", "cache is not on the CPU"));
        };
        *buf = Tensor::from_parts(
            Storage::Cpu(cpu.clone()),
            buf.layout().clone(),
            buf.dtype(),
            buf.device().clone(),
        );
    }
    let Some(Storage::Cpu(storage)) = buf.storage_mut() else {
        return Err(Error::invalid("kv_cache", "cache storage is shared"));
    };
    for bh in 0..b * h {
        for ti in 0..t {
            let s = &src[(bh * t + ti) * d..][..d];
            let at = (bh * max_len + pos + ti) * d;
            match storage {
                CpuStorage::F32(v) => v[at..at + d].copy_from_slice(s),
                CpuStorage::F16(v) => v[at..at + d]
                    .iter_mut()
                    .zip(s)
                    .for_each(|(o, &x)| *o = half::f16::from_f32(x)),
                _ => return Err(Error::invalid("kv_cache", "cache must be F32 or F16")),
            }
        }
    }
    Ok(())
}
