//! VITS's stochastic duration predictor, run backwards as at inference: noise `[2, len]` (scaled by noise_w)
//! goes through spline flows conditioned on the text, and the first channel is each phoneme's log-duration.
//! Activations are channel-major `[1, channels, len]`; the spline itself runs on the CPU (two numbers per
//! phoneme), see [`super::spline`].

use super::config::{VitsConfig, SPLINE_MIN, SPLINE_TAIL_BOUND};
use super::spline;
use crate::io::VarBuilder;
use crate::nn::{as_f32, Conv1d, Conv1dParams, LayerNorm};
use crate::{Device, Result, Tensor};

const LN_EPS: f32 = 1e-5;

/// Layer norm over the channels of `[1, c, len]`.
fn channel_norm(norm: &LayerNorm, x: &Tensor) -> Result<Tensor> {
    let y = norm.forward(&x.squeeze(0)?.t()?.contiguous()?)?;
    y.t()?.contiguous()?.unsqueeze(0)
}

/// Dilated depthwise-separable convolutions: per layer i, a depthwise convolution at dilation kernelⁱ, norm,
/// GELU, 1×1, norm, GELU, residual.
struct DdsConv {
    layers: Vec<(Conv1d, LayerNorm, Conv1d, LayerNorm)>,
}

impl DdsConv {
    fn load(vb: &VarBuilder, channels: usize, kernel: usize, n: usize) -> Result<Self> {
        let mut layers = Vec::with_capacity(n);
        for i in 0..n {
            let dilation = kernel.pow(i as u32);
            let sep = Conv1dParams {
                groups: channels,
                ..Conv1dParams::same(kernel, dilation)
            };
            layers.push((
                Conv1d::load(
                    &vb.pp(format!("convs_sep.{i}")),
                    channels,
                    channels,
                    kernel,
                    true,
                    sep,
                )?,
                LayerNorm::load_gamma_beta(&vb.pp(format!("norms_1.{i}")), channels, LN_EPS)?,
                Conv1d::load(
                    &vb.pp(format!("convs_1x1.{i}")),
                    channels,
                    channels,
                    1,
                    true,
                    Conv1dParams::same(1, 1),
                )?,
                LayerNorm::load_gamma_beta(&vb.pp(format!("norms_2.{i}")), channels, LN_EPS)?,
            ));
        }
        Ok(DdsConv { layers })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        for (sep, norm1, pointwise, norm2) in &self.layers {
            let y = channel_norm(norm1, &sep.forward(&x)?)?.gelu()?;
            let y = channel_norm(norm2, &pointwise.forward(&y)?)?.gelu()?;
            x = x.add(&y)?;
        }
        Ok(x)
    }
}

/// A coupling layer whose second channel goes through a rational-quadratic spline predicted from the first.
struct ConvFlow {
    pre: Conv1d,
    convs: DdsConv,
    proj: Conv1d,
    bins: usize,
    filter: usize,
}

impl ConvFlow {
    fn load(vb: &VarBuilder, c: &VitsConfig) -> Result<Self> {
        let f = c.dp_filter;
        let one = Conv1dParams::same(1, 1);
        Ok(ConvFlow {
            pre: Conv1d::load(&vb.pp("pre"), f, 1, 1, true, one)?,
            convs: DdsConv::load(&vb.pp("convs"), f, c.dp_kernel, c.dp_layers)?,
            proj: Conv1d::load(&vb.pp("proj"), 3 * c.spline_bins - 1, f, 1, true, one)?,
            bins: c.spline_bins,
            filter: f,
        })
    }

    /// `z` `[2, len]` on the CPU → the flow's inverse.
    async fn reverse(&self, z: &mut [f32], len: usize, cond: &Tensor) -> Result<()> {
        let first = Tensor::from_f32(z[..len].to_vec(), [1, 1, len], cond.device())?;
        let h = self.convs.forward(&self.pre.forward(&first)?.add(cond)?)?;
        // [1, 3·bins − 1, len] → per position, the unnormalised widths, heights and inner derivatives.
        let params = self.proj.forward(&h)?.to_vec_f32_async().await?;
        let per = 3 * self.bins - 1;
        let scale = 1.0 / (self.filter as f32).sqrt();
        let mut row = vec![0.0f32; per];
        for t in 0..len {
            for (p, r) in row.iter_mut().enumerate() {
                *r = params[p * len + t];
            }
            let (w, rest) = row.split_at_mut(self.bins);
            let (h, d) = rest.split_at_mut(self.bins);
            w.iter_mut().for_each(|v| *v *= scale);
            h.iter_mut().for_each(|v| *v *= scale);
            z[len + t] = spline::inverse(z[len + t], w, h, d, SPLINE_TAIL_BOUND, SPLINE_MIN);
        }
        Ok(())
    }
}

/// The predictor.
pub struct DurationPredictor {
    pre: Conv1d,
    convs: DdsConv,
    proj: Conv1d,
    flows: Vec<ConvFlow>,
    /// The first flow, elementwise affine: `(z − m) · exp(−logs)` per channel.
    mean: [f32; 2],
    log_scale: [f32; 2],
}

impl DurationPredictor {
    pub fn load(vb: &VarBuilder, c: &VitsConfig) -> Result<Self> {
        let f = c.dp_filter;
        let one = Conv1dParams::same(1, 1);
        let pair = |name: &str| -> Result<[f32; 2]> {
            let v = as_f32(vb.on_device(&Device::Cpu).get_float(name, [2, 1])?)?.to_vec_f32()?;
            Ok([v[0], v[1]])
        };
        Ok(DurationPredictor {
            pre: Conv1d::load(&vb.pp("pre"), f, c.hidden, 1, true, one)?,
            convs: DdsConv::load(&vb.pp("convs"), f, c.dp_kernel, c.dp_layers)?,
            proj: Conv1d::load(&vb.pp("proj"), f, f, 1, true, one)?,
            flows: c
                .dp_flows
                .iter()
                .map(|i| ConvFlow::load(&vb.pp(format!("flows.{i}")), c))
                .collect::<Result<_>>()?,
            mean: pair("flows.0.m")?,
            log_scale: pair("flows.0.logs")?,
        })
    }

    /// Log-durations per phoneme from the encoder's hidden states `[len, hidden]` and noise `[2·len]`
    /// (already scaled by noise_w).
    pub async fn log_durations(&self, hidden: &Tensor, mut z: Vec<f32>) -> Result<Vec<f32>> {
        let len = hidden.dims()[0];
        let x = hidden.t()?.contiguous()?.unsqueeze(0)?;
        let cond = self
            .proj
            .forward(&self.convs.forward(&self.pre.forward(&x)?)?)?;
        // Reverse order: flip, spline flow, flip, …, flip, affine.
        for flow in &self.flows {
            flip_channels(&mut z, len);
            flow.reverse(&mut z, len, &cond).await?;
        }
        flip_channels(&mut z, len);
        for (ch, (m, logs)) in self.mean.iter().zip(self.log_scale).enumerate() {
            let scale = (-logs).exp();
            for v in &mut z[ch * len..(ch + 1) * len] {
                *v = (*v - m) * scale;
            }
        }
        z.truncate(len);
        Ok(z)
    }
}

/// `torch.flip(z, [1])` for two channels: swaps them.
fn flip_channels(z: &mut [f32], len: usize) {
    let (a, b) = z.split_at_mut(len);
    a.swap_with_slice(&mut b[..len]);
}
