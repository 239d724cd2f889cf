//! VITS's decoder, a HiFi-GAN generator: a convolution, then per stage a leaky ReLU, a transposed convolution
//! that upsamples, and the mean of residual blocks with different kernels; a last convolution and tanh give
//! the waveform. Channel-major `[1, channels, samples]`.

use super::config::{ResBlockKind, VitsConfig};
use crate::io::VarBuilder;
use crate::nn::{Conv1d, Conv1dParams, ConvTranspose1d};
use crate::{Result, Tensor};

/// The slope of HiFi-GAN's leaky ReLUs; the one before the last convolution is PyTorch's default, 0.01.
const SLOPE: f32 = 0.1;

/// One residual block: per dilation `x += conv(lrelu(x))` (kind 2) or `x += conv₂(lrelu(conv₁(lrelu(x))))`
/// with the second convolution undilated (kind 1).
struct ResBlock {
    convs: Vec<(Conv1d, Option<Conv1d>)>,
}

impl ResBlock {
    fn load(
        vb: &VarBuilder,
        c: &VitsConfig,
        channels: usize,
        kernel: usize,
        dilations: &[usize],
    ) -> Result<Self> {
        let conv = |name: String, d: usize| {
            Conv1d::load(
                &vb.pp(name),
                channels,
                channels,
                kernel,
                true,
                Conv1dParams::same(kernel, d),
            )
        };
        let convs = dilations
            .iter()
            .enumerate()
            .map(|(j, &d)| match c.resblock {
                ResBlockKind::Two => Ok((conv(format!("convs.{j}"), d)?, None)),
                ResBlockKind::One => Ok((
                    conv(format!("convs1.{j}"), d)?,
                    Some(conv(format!("convs2.{j}"), 1)?),
                )),
            })
            .collect::<Result<_>>()?;
        Ok(ResBlock { convs })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        for (first, second) in &self.convs {
            let mut y = first.forward(&x.leaky_relu(SLOPE)?)?;
            if let Some(second) = second {
                y = second.forward(&y.leaky_relu(SLOPE)?)?;
            }
            x = x.add(&y)?;
        }
        Ok(x)
    }
}

pub struct Decoder {
    conv_pre: Conv1d,
    /// Per stage: the upsampling and its residual blocks.
    stages: Vec<(ConvTranspose1d, Vec<ResBlock>)>,
    conv_post: Conv1d,
}

impl Decoder {
    pub fn load(vb: &VarBuilder, c: &VitsConfig) -> Result<Self> {
        let conv_pre = Conv1d::load(
            &vb.pp("conv_pre"),
            c.upsample_initial,
            c.latent,
            7,
            true,
            Conv1dParams::same(7, 1),
        )?;
        let mut stages = Vec::new();
        let per_stage = c.resblock_kernels.len();
        for (s, u) in c.upsample.iter().enumerate() {
            let up = ConvTranspose1d::load(
                &vb.pp(format!("ups.{s}")),
                u.c_in,
                u.c_out,
                u.kernel,
                u.stride,
                u.padding,
            )?;
            let blocks = c
                .resblock_kernels
                .iter()
                .zip(&c.resblock_dilations)
                .enumerate()
                .map(|(j, (&k, d))| {
                    ResBlock::load(
                        &vb.pp(format!("resblocks.{}", s * per_stage + j)),
                        c,
                        u.c_out,
                        k,
                        d,
                    )
                })
                .collect::<Result<_>>()?;
            stages.push((up, blocks));
        }
        let last = c.upsample.last().map_or(c.upsample_initial, |u| u.c_out);
        let conv_post = Conv1d::load(
            &vb.pp("conv_post"),
            1,
            last,
            7,
            c.post_bias,
            Conv1dParams::same(7, 1),
        )?;
        Ok(Decoder {
            conv_pre,
            stages,
            conv_post,
        })
    }

    /// `z` `[1, latent, frames]` → waveform `[1, 1, frames · hop]` in [-1, 1].
    pub fn forward(&self, z: &Tensor) -> Result<Tensor> {
        let mut x = self.conv_pre.forward(z)?;
        for (up, blocks) in &self.stages {
            x = up.forward(&x.leaky_relu(SLOPE)?)?;
            let mut sum: Option<Tensor> = None;
            for block in blocks {
                let y = block.forward(&x)?;
                sum = Some(match sum {
                    Some(s) => s.add(&y)?,
                    None => y,
                });
            }
            if let Some(sum) = sum {
                x = sum.mul_scalar(1.0 / blocks.len() as f32)?;
            }
        }
        self.conv_post.forward(&x.leaky_relu(0.01)?)?.tanh()
    }
}
