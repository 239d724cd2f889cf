//! Normalisation kernels.

use crate::cpu::fastmath::{sum, sum_of_squares};
use crate::cpu::recycle::overwritable;
use crate::cpu::{float_out, for_chunks, output, values};
use crate::{Result, Tensor};

/// Layer norm (`center`) or RMS norm (`!center`) over the last axis.
pub fn layer_norm(
    x: &Tensor,
    w: Option<&Tensor>,
    b: Option<&Tensor>,
    eps: f32,
    center: bool,
) -> Result<Tensor> {
    let d = x.shape().last_dim().max(1);
    let xv = values(x)?;
    let wv = w.map(values).transpose()?;
    let bv = b.map(values).transpose()?;
    let mut out = overwritable(xv.len()); // every value is written below
    for_chunks(&mut out, d, |r, o| {
        let row = &xv[r * d..(r + 1) * d];
        let mean = if center { sum(row) / d as f32 } else { 0.0 };
        // Deviations first (into the output row), then their squares summed in lanes: both loops vectorise.
        o.iter_mut().zip(row).for_each(|(o, &v)| *o = v - mean);
        let var = sum_of_squares(o) / d as f32;
        let inv = 1.0 / (var + eps).sqrt();
        match (&wv, &bv) {
            (Some(w), Some(b)) => {
                for ((o, &w), &b) in o.iter_mut().zip(w.iter()).zip(b.iter()) {
                    *o = *o * inv * w + b;
                }
            }
            (Some(w), None) => o
                .iter_mut()
                .zip(w.iter())
                .for_each(|(o, &w)| *o = *o * inv * w),
            (None, Some(b)) => o
                .iter_mut()
                .zip(b.iter())
                .for_each(|(o, &b)| *o = *o * inv + b),
            (None, None) => o.iter_mut().for_each(|o| *o *= inv),
        }
    });
    output(out, x.shape().clone(), float_out(x.dtype()))
}

/// Group norm of `[n, c, ...]`.
pub fn group_norm(
    x: &Tensor,
    groups: usize,
    w: Option<&Tensor>,
    b: Option<&Tensor>,
    eps: f32,
) -> Result<Tensor> {
    let c = x.dims()[1];
    let spatial: usize = x.dims()[2..].iter().product();
    let per_group = c / groups * spatial;
    let xv = values(x)?;
    let wv = w.map(values).transpose()?;
    let bv = b.map(values).transpose()?;
    let mut out = overwritable(xv.len()); // every value is written below
    for_chunks(&mut out, per_group, |g, o| {
        let src = &xv[g * per_group..g * per_group + o.len()];
        let n = src.len().max(1) as f32;
        let mean = src.iter().sum::<f32>() / n;
        let var = src.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let inv = 1.0 / (var + eps).sqrt();
        let first_channel = (g % groups) * (c / groups);
        for (i, (o, &v)) in o.iter_mut().zip(src).enumerate() {
            let ch = first_channel + i / spatial.max(1);
            let mut y = (v - mean) * inv;
            if let Some(w) = &wv {
                y *= w[ch];
            }
            if let Some(b) = &bv {
                y += b[ch];
            }
            *o = y;
        }
    });
    output(out, x.shape().clone(), float_out(x.dtype()))
}
