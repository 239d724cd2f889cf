//! Reductions, scans and softmax along one axis. The axis is moved last (a strided copy) so every kernel walks
//! contiguous rows.

use crate::cpu::{float_out, output, output_u32, values};
use crate::ops::reduce::ReduceOp;
use crate::{Result, Tensor};

/// The values with `axis` moved last, and the permutation that did it.
fn rows_last(x: &Tensor, axis: usize) -> Result<(Vec<f32>, Vec<usize>)> {
    let mut perm: Vec<usize> = (0..x.rank()).filter(|&a| a != axis).collect();
    perm.push(axis);
    let moved = x.permute(&perm)?;
    Ok((values(&moved)?.into_owned(), perm))
}

/// Wraps rows computed with `axis` last back into the original axis order.
fn restore(data: Vec<f32>, x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let dims: Vec<usize> = perm.iter().map(|&p| x.dims()[p]).collect();
    let moved = output(data, dims, crate::DType::F32)?;
    let mut inverse = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    let back = moved.permute(&inverse)?;
    output(
        values(&back)?.into_owned(),
        x.shape().clone(),
        float_out(x.dtype()),
    )
}

fn reduced_dims(x: &Tensor, axis: usize, keepdim: bool) -> Vec<usize> {
    let mut dims = x.dims().to_vec();
    if keepdim {
        dims[axis] = 1;
    } else {
        dims.remove(axis);
    }
    dims
}

/// Reduces `axis` with `op`.
pub fn reduce(x: &Tensor, op: ReduceOp, axis: usize, keepdim: bool) -> Result<Tensor> {
    let n = x.dims()[axis];
    let (data, _) = rows_last(x, axis)?;
    let dims = reduced_dims(x, axis, keepdim);
    let rows = data
        .chunks_exact(n.max(1))
        .take(if n == 0 { 0 } else { usize::MAX });
    if op == ReduceOp::ArgMax {
        let idx = rows
            .map(|r| {
                let mut best = 0;
                for (i, &v) in r.iter().enumerate() {
                    // NaN wins, as in torch.
                    if v > r[best] || (v.is_nan() && !r[best].is_nan()) {
                        best = i;
                    }
                }
                best as u32
            })
            .collect();
        return Ok(output_u32(idx, dims));
    }
    let out: Vec<f32> = if n == 0 {
        vec![if op == ReduceOp::Mean { f32::NAN } else { 0.0 }; dims.iter().product()]
    } else {
        rows.map(|r| match op {
            ReduceOp::Sum => r.iter().sum(),
            ReduceOp::Mean => r.iter().sum::<f32>() / n as f32,
            _ => r.iter().copied().fold(f32::NEG_INFINITY, |m, v| {
                if v.is_nan() || m.is_nan() {
                    f32::NAN
                } else {
                    m.max(v)
                }
            }),
        })
        .collect()
    };
    output(out, dims, float_out(x.dtype()))
}

/// The `k` largest values of each last-axis row, sorted descending, and their indices.
pub fn top_k(x: &Tensor, k: usize) -> Result<(Tensor, Tensor)> {
    let n = x.shape().last_dim();
    let data = values(x)?;
    let mut vals = Vec::with_capacity(data.len() / n.max(1) * k);
    let mut idx = Vec::with_capacity(vals.capacity());
    let mut order: Vec<u32> = Vec::with_capacity(n);
    for row in data.chunks_exact(n.max(1)) {
        order.clear();
        order.extend(0..n as u32);
        // Descending, ties by lower index; NaN sorts first as in torch.
        order.sort_by(|&a, &b| row[b as usize].total_cmp(&row[a as usize]).then(a.cmp(&b)));
        for &i in &order[..k] {
            vals.push(row[i as usize]);
            idx.push(i);
        }
    }
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = k;
    }
    Ok((
        output(vals, dims.clone(), float_out(x.dtype()))?,
        output_u32(idx, dims),
    ))
}

/// Running sum along `axis`.
pub fn cumsum(x: &Tensor, axis: usize) -> Result<Tensor> {
    let n = x.dims()[axis];
    let (mut data, perm) = rows_last(x, axis)?;
    for row in data.chunks_exact_mut(n.max(1)) {
        let mut acc = 0.0;
        for v in row {
            acc += *v;
            *v = acc;
        }
    }
    restore(data, x, &perm)
}

/// Softmax of every row in place.
pub(crate) fn softmax_rows(data: &mut [f32], n: usize) {
    for row in data.chunks_exact_mut(n.max(1)) {
        // The maximum in 8 lanes (a single running max is a chain of dependent compares).
        let (lanes, rest) = row.as_chunks::<8>();
        let mut peak = [f32::NEG_INFINITY; 8];
        for chunk in lanes {
            for (p, &v) in peak.iter_mut().zip(chunk) {
                *p = if v > *p { v } else { *p };
            }
        }
        let max = peak
            .iter()
            .chain(rest)
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        if max == f32::NEG_INFINITY {
            row.fill(0.0);
            continue;
        }
        // exp first, then the sum in 8 lanes: a running scalar sum would keep the loop from vectorising.
        row.iter_mut()
            .for_each(|v| *v = crate::cpu::fastmath::exp(*v - max));
        let inv = 1.0 / crate::cpu::fastmath::sum(row);
        row.iter_mut().for_each(|v| *v *= inv);
    }
}

/// Softmax along `axis`.
pub fn softmax(x: &Tensor, axis: usize) -> Result<Tensor> {
    let n = x.dims()[axis];
    let (mut data, perm) = rows_last(x, axis)?;
    softmax_rows(&mut data, n);
    restore(data, x, &perm)
}

/// `Σ a·b` over the shorter of the two. Attention scores and the per-frame layers of `nn::frame` use it.
///
/// Written with 128-bit SIMD where the target has it (SSE is part of every x86-64; simd128 is on for our wasm
/// build): left to the auto-vectoriser, the lanes of the final reduction made LLVM split the loop into
/// 2-wide pieces and shuffles, and Silero VAD ran 25% slower.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let body = n / 16 * 16;
    let mut sum = simd_dot16(&a[..body], &b[..body]);
    for (x, y) in a[body..].iter().zip(&b[body..]) {
        sum += x * y;
    }
    sum
}

/// Dot product of two slices whose length is a multiple of 16, with four independent 4-lane accumulators.
#[cfg(target_arch = "x86_64")]
#[inline]
#[allow(unsafe_code)]
fn simd_dot16(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE is in the x86-64 baseline; every load reads 4 floats inside the slices, whose length is a
    // multiple of 16 (checked by the chunking below, not assumed).
    unsafe {
        let mut acc = [_mm_setzero_ps(); 4];
        for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
            for (g, acc) in acc.iter_mut().enumerate() {
                let xv = _mm_loadu_ps(x[4 * g..].as_ptr());
                let yv = _mm_loadu_ps(y[4 * g..].as_ptr());
                *acc = _mm_add_ps(*acc, _mm_mul_ps(xv, yv));
            }
        }
        let v = _mm_add_ps(_mm_add_ps(acc[0], acc[1]), _mm_add_ps(acc[2], acc[3]));
        let mut lanes = [0f32; 4];
        _mm_storeu_ps(lanes.as_mut_ptr(), v);
        (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    }
}

/// Dot product of two slices whose length is a multiple of 16, with four independent 4-lane accumulators.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
fn simd_dot16(a: &[f32], b: &[f32]) -> f32 {
    use core::arch::wasm32::*;
    let mut acc = [f32x4_splat(0.0); 4];
    for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        for (g, acc) in acc.iter_mut().enumerate() {
            let xv = f32x4(x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]);
            let yv = f32x4(y[4 * g], y[4 * g + 1], y[4 * g + 2], y[4 * g + 3]);
            *acc = f32x4_add(*acc, f32x4_mul(xv, yv));
        }
    }
    let v = f32x4_add(f32x4_add(acc[0], acc[1]), f32x4_add(acc[2], acc[3]));
    (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v))
        + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
}

/// Dot product of two slices whose length is a multiple of 16 (targets without 128-bit SIMD).
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
#[inline]
fn simd_dot16(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        for l in 0..16 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum()
}
