//! Normalisation: layer norm, RMS norm, group norm, and batch norm folded into a convolution at load time.

use crate::{Device, Error, Result, Tensor};

fn check_vec(op: &'static str, x: &Tensor, t: Option<&Tensor>, len: usize) -> Result<()> {
    if let Some(t) = t {
        crate::ops::same_device(op, &[x, t])?;
        crate::ops::float_input(op, t)?;
        if t.dims() != [len] {
            return Err(Error::invalid(
                op,
                format!("parameter {:?} should be [{len}]", t.dims()),
            ));
        }
    }
    Ok(())
}

impl Tensor {
    /// Layer norm over the last axis: `(x - mean) / sqrt(var + eps) * w + b`.
    pub fn layer_norm(&self, w: &Tensor, b: Option<&Tensor>, eps: f32) -> Result<Tensor> {
        crate::ops::float_input("layer_norm", self)?;
        let d = self.shape().last_dim();
        check_vec("layer_norm", self, Some(w), d)?;
        check_vec("layer_norm", self, b, d)?;
        match self.device() {
            Device::Cpu => crate::cpu::norm::layer_norm(self, Some(w), b, eps, true),
            Device::Gpu(_) => crate::gpu::nn::layer_norm(self, Some(w), b, eps),
        }
    }

    /// RMS norm over the last axis: `x / sqrt(mean(x²) + eps) * w`.
    pub fn rms_norm(&self, w: &Tensor, eps: f32) -> Result<Tensor> {
        crate::ops::float_input("rms_norm", self)?;
        check_vec("rms_norm", self, Some(w), self.shape().last_dim())?;
        match self.device() {
            Device::Cpu => crate::cpu::norm::layer_norm(self, Some(w), None, eps, false),
            Device::Gpu(_) => crate::gpu::nn::rms_norm(self, Some(w), eps),
        }
    }

    /// Group norm of `[n, c, ...]` over `groups` groups of channels, then a per-channel affine.
    pub fn group_norm(
        &self,
        groups: usize,
        w: Option<&Tensor>,
        b: Option<&Tensor>,
        eps: f32,
    ) -> Result<Tensor> {
        crate::ops::float_input("group_norm", self)?;
        if self.rank() < 2 || groups == 0 || !self.dims()[1].is_multiple_of(groups) {
            return Err(Error::invalid(
                "group_norm",
                format!(
                    "{groups} groups do not divide the channels of {:?}",
                    self.dims()
                ),
            ));
        }
        let c = self.dims()[1];
        check_vec("group_norm", self, w, c)?;
        check_vec("group_norm", self, b, c)?;
        match self.device() {
            Device::Cpu => crate::cpu::norm::group_norm(self, groups, w, b, eps),
            Device::Gpu(_) => crate::gpu::nn::group_norm(self, groups, w, b, eps),
        }
    }
}

/// Folds an inference-mode batch norm that follows a convolution into the convolution's weight and bias:
/// `w' = w · γ/√(var+ε)` per output channel, `b' = (b − mean) · γ/√(var+ε) + β`. CPU tensors (load time).
pub fn fold_batch_norm(
    conv_weight: &Tensor,
    conv_bias: Option<&Tensor>,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    eps: f32,
) -> Result<(Tensor, Tensor)> {
    let out_c = *conv_weight
        .dims()
        .first()
        .ok_or_else(|| Error::invalid("fold_batch_norm", "conv weight is a scalar"))?;
    for t in [
        Some(gamma),
        Some(beta),
        Some(running_mean),
        Some(running_var),
        conv_bias,
    ]
    .into_iter()
    .flatten()
    {
        if t.dims() != [out_c] {
            return Err(Error::invalid(
                "fold_batch_norm",
                format!("{:?} does not match {out_c} output channels", t.dims()),
            ));
        }
    }
    let w = conv_weight.to_vec_f32()?;
    let (g, be, mu, var) = (
        gamma.to_vec_f32()?,
        beta.to_vec_f32()?,
        running_mean.to_vec_f32()?,
        running_var.to_vec_f32()?,
    );
    let b = match conv_bias {
        Some(b) => b.to_vec_f32()?,
        None => vec![0.0; out_c],
    };
    let per = w.len() / out_c.max(1);
    let mut w_out = w;
    let mut b_out = vec![0.0; out_c];
    for c in 0..out_c {
        let s = g[c] / (var[c] + eps).sqrt();
        w_out[c * per..(c + 1) * per]
            .iter_mut()
            .for_each(|v| *v *= s);
        b_out[c] = (b[c] - mu[c]) * s + be[c];
    }
    let device = conv_weight.device();
    Ok((
        Tensor::from_f32(w_out, conv_weight.shape().clone(), device)?,
        Tensor::from_f32(b_out, out_c, device)?,
    ))
}
