//! Rotary position embeddings: the op is [`crate::Tensor::rope`] (in `attention.rs`, beside its only user); this
//! module builds the cos/sin tables.

use crate::{Device, Result, Tensor};

/// `cos` and `sin` tables `[t, d/2]` for positions `start..start + t` with frequencies `base^(-2i/d)`.
pub fn rope_tables(
    start: usize,
    t: usize,
    d: usize,
    base: f32,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let half = d / 2;
    let mut cos = Vec::with_capacity(t * half);
    let mut sin = Vec::with_capacity(t * half);
    for p in start..start + t {
        for i in 0..half {
            let inv = 1.0 / (base as f64).powf(2.0 * i as f64 / d as f64);
            let angle = p as f64 * inv;
            cos.push(angle.cos() as f32);
            sin.push(angle.sin() as f32);
        }
    }
    Ok((
        Tensor::from_f32(cos, [t, half], device)?,
        Tensor::from_f32(sin, [t, half], device)?,
    ))
}
