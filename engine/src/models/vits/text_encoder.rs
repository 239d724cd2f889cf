//! VITS's text encoder: phoneme embeddings through a post-norm Transformer whose attention adds learned
//! *relative* position terms (Shaw et al.) for keys and values within a window, then a 1×1 projection to the
//! prior's mean and log-std per phoneme. Activations are time-major `[len, channels]`: the 1×1 convolutions
//! are linear layers and layer norm runs over the last axis.
//!
//! One sentence at a time (batch 1, no padding), so every mask of the reference is all ones and is left out.

use super::config::VitsConfig;
use crate::io::VarBuilder;
use crate::nn::{as_f32, Conv1dK3, LayerNorm, Linear};
use crate::{Result, Tensor};

const LN_EPS: f32 = 1e-5;

/// A `nn.Conv1d(kernel_size=1)` weight `[out, in, 1]` as a linear layer.
pub(super) fn pointwise(vb: &VarBuilder, out_c: usize, in_c: usize) -> Result<Linear> {
    let w = as_f32(vb.get_float("weight", [out_c, in_c, 1])?)?.reshape([out_c, in_c])?;
    let b = as_f32(vb.get_float("bias", [out_c])?)?;
    Ok(Linear::from_weight(w, Some(b)))
}

/// Multi-head self-attention with relative position embeddings shared by all heads.
struct RelativeAttention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    /// `[2·window + 1, head_dim]`: the key and value terms for offsets −window … +window.
    rel_k: Tensor,
    rel_v: Tensor,
    heads: usize,
    window: usize,
}

impl RelativeAttention {
    fn load(vb: &VarBuilder, c: &VitsConfig) -> Result<Self> {
        let d = c.hidden / c.heads;
        let table = |name: &str| -> Result<Tensor> {
            as_f32(vb.get_float(name, [1, 2 * c.window + 1, d])?)?.reshape([2 * c.window + 1, d])
        };
        Ok(RelativeAttention {
            q: pointwise(&vb.pp("conv_q"), c.hidden, c.hidden)?,
            k: pointwise(&vb.pp("conv_k"), c.hidden, c.hidden)?,
            v: pointwise(&vb.pp("conv_v"), c.hidden, c.hidden)?,
            o: pointwise(&vb.pp("conv_o"), c.hidden, c.hidden)?,
            rel_k: table("emb_rel_k")?,
            rel_v: table("emb_rel_v")?,
            heads: c.heads,
            window: c.window,
        })
    }

    /// The table widened to every offset −(len−1) … len−1 (zeros beyond the window): `[2·len − 1, d]`.
    fn offsets(&self, table: &Tensor, len: usize) -> Result<Tensor> {
        let pad = len.saturating_sub(self.window + 1);
        let start = (self.window + 1).saturating_sub(len);
        table.pad(0, pad, pad, 0.0)?.narrow(0, start, 2 * len - 1)
    }

    /// `[h, len, 2·len − 1]` indexed by offset → `[h, len, len]` indexed by key position (row i, column j
    /// reads offset j − i), by the pad-and-reshape skew of the reference.
    fn relative_to_absolute(x: &Tensor, len: usize) -> Result<Tensor> {
        let h = x.dims()[0];
        let flat = x.pad(2, 0, 1, 0.0)?.reshape([h, 2 * len * len])?;
        flat.pad(1, 0, len - 1, 0.0)?
            .reshape([h, len + 1, 2 * len - 1])?
            .narrow(1, 0, len)?
            .narrow(2, len - 1, len)
    }

    /// The inverse skew: `[h, len, len]` → `[h, len, 2·len − 1]`.
    fn absolute_to_relative(x: &Tensor, len: usize) -> Result<Tensor> {
        let h = x.dims()[0];
        let flat = x
            .pad(2, 0, len - 1, 0.0)?
            .reshape([h, len * (2 * len - 1)])?;
        flat.pad(1, len, 0, 0.0)?
            .reshape([h, len, 2 * len])?
            .narrow(2, 1, 2 * len - 1)
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (len, c) = (x.dims()[0], x.dims()[1]);
        let d = c / self.heads;
        let split = |t: Tensor| -> Result<Tensor> {
            t.reshape([len, self.heads, d])?
                .permute(&[1, 0, 2])?
                .contiguous()
        };
        let q = split(self.q.forward(x)?.mul_scalar(1.0 / (d as f32).sqrt())?)?;
        let k = split(self.k.forward(x)?)?;
        let v = split(self.v.forward(x)?)?;
        let rel_k = self.offsets(&self.rel_k, len)?.unsqueeze(0)?;
        let rel_logits = q.matmul(&rel_k.t()?)?;
        let scores = q
            .matmul(&k.t()?)?
            .add(&Self::relative_to_absolute(&rel_logits, len)?)?;
        let p = scores.softmax(-1)?;
        let rel_v = self.offsets(&self.rel_v, len)?.unsqueeze(0)?;
        let out = p
            .matmul(&v)?
            .add(&Self::absolute_to_relative(&p, len)?.matmul(&rel_v)?)?;
        let out = out.permute(&[1, 0, 2])?.contiguous()?.reshape([len, c])?;
        self.o.forward(&out)
    }
}

/// One encoder layer: `x = LN(x + attention(x))`, `x = LN(x + ffn(x))`; the FFN is two "same" convolutions
/// with a ReLU between them.
struct EncoderLayer {
    attn: RelativeAttention,
    norm1: LayerNorm,
    ffn_in: Conv1dK3,
    ffn_out: Conv1dK3,
    norm2: LayerNorm,
}

impl EncoderLayer {
    fn load(vb: &VarBuilder, i: usize, c: &VitsConfig) -> Result<Self> {
        if c.ffn_kernel != 3 {
            return Err(crate::Error::Unsupported(format!(
                "VITS feed-forward kernels of size {} are not supported (3 is)",
                c.ffn_kernel
            )));
        }
        let ffn = vb.pp(format!("ffn_layers.{i}"));
        Ok(EncoderLayer {
            attn: RelativeAttention::load(&vb.pp(format!("attn_layers.{i}")), c)?,
            norm1: LayerNorm::load_gamma_beta(
                &vb.pp(format!("norm_layers_1.{i}")),
                c.hidden,
                LN_EPS,
            )?,
            ffn_in: Conv1dK3::load(&ffn.pp("conv_1"), c.filter, c.hidden, 1)?,
            ffn_out: Conv1dK3::load(&ffn.pp("conv_2"), c.hidden, c.filter, 1)?,
            norm2: LayerNorm::load_gamma_beta(
                &vb.pp(format!("norm_layers_2.{i}")),
                c.hidden,
                LN_EPS,
            )?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = self.norm1.forward(&x.add(&self.attn.forward(x)?)?)?;
        let y = self.ffn_out.forward(&self.ffn_in.forward(&x)?.relu()?)?;
        self.norm2.forward(&x.add(&y)?)
    }
}

/// What the encoder gives the rest of the model, time-major.
pub struct Encoded {
    /// The Transformer's output `[len, hidden]` (conditions the duration predictor).
    pub hidden: Tensor,
    /// The prior's mean and log-std per phoneme, `[len, latent]` each.
    pub mean: Tensor,
    pub log_std: Tensor,
}

pub struct TextEncoder {
    embedding: Tensor,
    layers: Vec<EncoderLayer>,
    proj: Linear,
    hidden: usize,
    latent: usize,
}

impl TextEncoder {
    pub fn load(vb: &VarBuilder, c: &VitsConfig) -> Result<Self> {
        let enc = vb.pp("encoder");
        Ok(TextEncoder {
            embedding: as_f32(vb.get_float("emb.weight", [c.vocab, c.hidden])?)?,
            layers: (0..c.layers)
                .map(|i| EncoderLayer::load(&enc, i, c))
                .collect::<Result<_>>()?,
            proj: pointwise(&vb.pp("proj"), 2 * c.latent, c.hidden)?,
            hidden: c.hidden,
            latent: c.latent,
        })
    }

    /// `ids` (U32 `[len]`) → hidden states and the prior.
    pub fn forward(&self, ids: &Tensor) -> Result<Encoded> {
        let mut x = self
            .embedding
            .embedding(ids)?
            .mul_scalar((self.hidden as f32).sqrt())?;
        for layer in &self.layers {
            x = layer.forward(&x)?;
        }
        let stats = self.proj.forward(&x)?;
        Ok(Encoded {
            mean: stats.narrow(1, 0, self.latent)?.contiguous()?,
            log_std: stats.narrow(1, self.latent, self.latent)?.contiguous()?,
            hidden: x,
        })
    }
}
