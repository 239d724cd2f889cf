//! VITS's normalising flow, run backwards: the prior's sample `[1, latent, frames]` goes through affine
//! coupling layers (mean only: half the channels are shifted by a WaveNet's prediction from the other half),
//! with the channels reversed before each one.

use super::config::VitsConfig;
use crate::io::VarBuilder;
use crate::nn::{Conv1d, Conv1dParams};
use crate::{Device, Result, Tensor};

/// WaveNet without conditioning: gated dilated convolutions with residual and skip outputs.
struct WaveNet {
    /// Per layer: the gate convolution (`hidden → 2·hidden`) and the residual/skip one.
    layers: Vec<(Conv1d, Conv1d)>,
    hidden: usize,
}

impl WaveNet {
    fn load(vb: &VarBuilder, c: &VitsConfig) -> Result<Self> {
        let h = c.wn_hidden;
        let mut layers = Vec::with_capacity(c.wn_layers);
        for i in 0..c.wn_layers {
            let dilation = c.wn_dilation_rate.pow(i as u32);
            let last = i + 1 == c.wn_layers;
            layers.push((
                Conv1d::load(
                    &vb.pp(format!("in_layers.{i}")),
                    2 * h,
                    h,
                    c.wn_kernel,
                    true,
                    Conv1dParams::same(c.wn_kernel, dilation),
                )?,
                Conv1d::load(
                    &vb.pp(format!("res_skip_layers.{i}")),
                    if last { h } else { 2 * h },
                    h,
                    1,
                    true,
                    Conv1dParams::same(1, 1),
                )?,
            ));
        }
        Ok(WaveNet { layers, hidden: h })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.hidden;
        let mut x = x.clone();
        let mut skip: Option<Tensor> = None;
        for (i, (gate, res_skip)) in self.layers.iter().enumerate() {
            let a = gate.forward(&x)?;
            let acts = a
                .narrow(1, 0, h)?
                .tanh()?
                .mul(&a.narrow(1, h, h)?.sigmoid()?)?;
            let rs = res_skip.forward(&acts)?;
            let s = if i + 1 < self.layers.len() {
                x = x.add(&rs.narrow(1, 0, h)?)?;
                rs.narrow(1, h, h)?
            } else {
                rs
            };
            skip = Some(match skip {
                Some(total) => total.add(&s)?,
                None => s.contiguous()?,
            });
        }
        skip.ok_or_else(|| crate::Error::Malformed("a WaveNet without layers".into()))
    }
}

struct Coupling {
    pre: Conv1d,
    wn: WaveNet,
    post: Conv1d,
    half: usize,
}

impl Coupling {
    fn load(vb: &VarBuilder, c: &VitsConfig) -> Result<Self> {
        let half = c.latent / 2;
        let one = Conv1dParams::same(1, 1);
        Ok(Coupling {
            pre: Conv1d::load(&vb.pp("pre"), c.wn_hidden, half, 1, true, one)?,
            wn: WaveNet::load(&vb.pp("enc"), c)?,
            post: Conv1d::load(&vb.pp("post"), half, c.wn_hidden, 1, true, one)?,
            half,
        })
    }

    /// `[x0, x1] → [x0, x1 − m(x0)]`.
    fn reverse(&self, x: &Tensor) -> Result<Tensor> {
        let x0 = x.narrow(1, 0, self.half)?;
        let x1 = x.narrow(1, self.half, self.half)?;
        let m = self
            .post
            .forward(&self.wn.forward(&self.pre.forward(&x0)?)?)?;
        Tensor::concat(&[&x0, &x1.sub(&m)?], 1)
    }
}

pub struct Flow {
    couplings: Vec<Coupling>,
    /// Channel indices in reverse order (`torch.flip` over the channels).
    reversed: Tensor,
}

impl Flow {
    pub fn load(vb: &VarBuilder, c: &VitsConfig, device: &Device) -> Result<Self> {
        let reversed: Vec<u32> = (0..c.latent as u32).rev().collect();
        Ok(Flow {
            couplings: c
                .couplings
                .iter()
                .map(|i| Coupling::load(&vb.pp(format!("flows.{i}")), c))
                .collect::<Result<_>>()?,
            reversed: Tensor::from_u32(reversed, [c.latent], device)?,
        })
    }

    /// The prior's sample `[1, latent, frames]` → the decoder's input.
    pub fn reverse(&self, z: &Tensor) -> Result<Tensor> {
        let mut z = z.clone();
        for coupling in &self.couplings {
            z = coupling.reverse(&z.index_select(&self.reversed, 1)?)?;
        }
        Ok(z)
    }
}
