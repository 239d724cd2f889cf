//! The decoder's layers, one struct each, mirroring transformers' `modeling_llama.py` (`LlamaAttention`,
//! `LlamaMLP`, `LlamaDecoderLayer`, `LlamaModel`, `LlamaForCausalLM`) with Qwen2's q/k/v biases and Qwen3's
//! per-head q/k norms as rows of the architecture table. Weight names come from [`WeightNames`]: llama.cpp's
//! GGUF names or the HF safetensors names, one table each.

use super::config::LlamaConfig;
use crate::io::{DTypePolicy, VarBuilder};
use crate::nn::{as_f32, Embedding, Linear, RmsNorm};
use crate::ops::KvCache;
use crate::{DType, Device, Error, Result, Tensor};

/// Where each weight lives in one file layout.
struct WeightNames {
    embed: &'static str,
    layer: fn(usize) -> String,
    attn_norm: &'static str,
    q: &'static str,
    k: &'static str,
    v: &'static str,
    o: &'static str,
    q_norm: &'static str,
    k_norm: &'static str,
    ffn_norm: &'static str,
    gate: &'static str,
    up: &'static str,
    down: &'static str,
    final_norm: &'static str,
    head: &'static str,
}

/// llama.cpp's tensor names (`src/llama-arch.cpp`).
const GGUF_NAMES: WeightNames = WeightNames {
    embed: "token_embd",
    layer: |i| format!("blk.{i}"),
    attn_norm: "attn_norm",
    q: "attn_q",
    k: "attn_k",
    v: "attn_v",
    o: "attn_output",
    q_norm: "attn_q_norm",
    k_norm: "attn_k_norm",
    ffn_norm: "ffn_norm",
    gate: "ffn_gate",
    up: "ffn_up",
    down: "ffn_down",
    final_norm: "output_norm",
    head: "output",
};

/// transformers' parameter names.
const HF_NAMES: WeightNames = WeightNames {
    embed: "model.embed_tokens",
    layer: |i| format!("model.layers.{i}"),
    attn_norm: "input_layernorm",
    q: "self_attn.q_proj",
    k: "self_attn.k_proj",
    v: "self_attn.v_proj",
    o: "self_attn.o_proj",
    q_norm: "self_attn.q_norm",
    k_norm: "self_attn.k_norm",
    ffn_norm: "post_attention_layernorm",
    gate: "mlp.gate_proj",
    up: "mlp.up_proj",
    down: "mlp.down_proj",
    final_norm: "model.norm",
    head: "lm_head",
};

/// Self-attention with grouped-query heads (`LlamaAttention`).
struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    /// Qwen3's per-head RMS norms of q and k.
    qk_norm: Option<(RmsNorm, RmsNorm)>,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    interleaved: bool,
}

impl Attention {
    fn load(vb: &VarBuilder, names: &WeightNames, c: &LlamaConfig) -> Result<Self> {
        let t = c.arch.traits();
        let (q_out, kv_out) = (c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim);
        let qk_norm = if t.qk_norm {
            Some((
                RmsNorm::load(&vb.pp(names.q_norm), c.head_dim, c.rms_eps)?,
                RmsNorm::load(&vb.pp(names.k_norm), c.head_dim, c.rms_eps)?,
            ))
        } else {
            None
        };
        Ok(Attention {
            q: Linear::load(&vb.pp(names.q), q_out, c.hidden_size, t.qkv_bias)?,
            k: Linear::load(&vb.pp(names.k), kv_out, c.hidden_size, t.qkv_bias)?,
            v: Linear::load(&vb.pp(names.v), kv_out, c.hidden_size, t.qkv_bias)?,
            o: Linear::load(&vb.pp(names.o), c.hidden_size, q_out, false)?,
            qk_norm,
            heads: c.num_heads,
            kv_heads: c.num_kv_heads,
            head_dim: c.head_dim,
            interleaved: c.rope_interleaved,
        })
    }

    /// `[t, d]` → `[1, heads, t, head_dim]`.
    fn split_heads(x: &Tensor, heads: usize, head_dim: usize) -> Result<Tensor> {
        let t = x.dims()[0];
        x.reshape([1, t, heads, head_dim])?.transpose(1, 2)
    }

    fn forward(&self, x: &Tensor, rope: &(Tensor, Tensor), cache: &mut KvCache) -> Result<Tensor> {
        let t = x.dims()[0];
        let mut q = self.q.forward(x)?;
        let mut k = self.k.forward(x)?;
        if let Some((qn, kn)) = &self.qk_norm {
            q = qn.forward(&q.reshape([t, self.heads, self.head_dim])?)?;
            k = kn.forward(&k.reshape([t, self.kv_heads, self.head_dim])?)?;
        }
        let q = Self::split_heads(&q, self.heads, self.head_dim)?.contiguous()?;
        let k = Self::split_heads(&k, self.kv_heads, self.head_dim)?.contiguous()?;
        let v =
            Self::split_heads(&self.v.forward(x)?, self.kv_heads, self.head_dim)?.contiguous()?;
        let q = q.rope(&rope.0, &rope.1, self.interleaved)?;
        let k = k.rope(&rope.0, &rope.1, self.interleaved)?;
        let (k_all, v_all) = cache.append(&k, &v)?;
        let scale = 1.0 / (self.head_dim as f32).sqrt();
        let out = q.attention(&k_all, &v_all, None, true, scale)?;
        let out = out
            .transpose(1, 2)?
            .contiguous()?
            .reshape([t, self.heads * self.head_dim])?;
        self.o.forward(&out)
    }
}

/// The gated feed-forward block (`LlamaMLP`): `down(silu(gate(x)) · up(x))`.
struct Mlp {
    gate: Linear,
    up: Linear,
    down: Linear,
}

impl Mlp {
    fn load(vb: &VarBuilder, names: &WeightNames, c: &LlamaConfig) -> Result<Self> {
        Ok(Mlp {
            gate: Linear::load(
                &vb.pp(names.gate),
                c.intermediate_size,
                c.hidden_size,
                false,
            )?,
            up: Linear::load(&vb.pp(names.up), c.intermediate_size, c.hidden_size, false)?,
            down: Linear::load(
                &vb.pp(names.down),
                c.hidden_size,
                c.intermediate_size,
                false,
            )?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let gated = self.gate.forward(x)?.silu()?.mul(&self.up.forward(x)?)?;
        self.down.forward(&gated)
    }
}

/// One pre-norm block (`LlamaDecoderLayer`).
struct DecoderLayer {
    attn_norm: RmsNorm,
    attn: Attention,
    ffn_norm: RmsNorm,
    mlp: Mlp,
}

impl DecoderLayer {
    fn load(vb: &VarBuilder, names: &WeightNames, c: &LlamaConfig) -> Result<Self> {
        Ok(DecoderLayer {
            attn_norm: RmsNorm::load(&vb.pp(names.attn_norm), c.hidden_size, c.rms_eps)?,
            attn: Attention::load(vb, names, c)?,
            ffn_norm: RmsNorm::load(&vb.pp(names.ffn_norm), c.hidden_size, c.rms_eps)?,
            mlp: Mlp::load(vb, names, c)?,
        })
    }

    fn forward(&self, x: &Tensor, rope: &(Tensor, Tensor), cache: &mut KvCache) -> Result<Tensor> {
        let x = x.add(
            &self
                .attn
                .forward(&self.attn_norm.forward(x)?, rope, cache)?,
        )?;
        x.add(&self.mlp.forward(&self.ffn_norm.forward(&x)?)?)
    }
}

/// Keys and values of every layer for one conversation. Holding it apart from the weights lets one loaded
/// model serve several conversations, and lets a conversation keep its prefix across turns.
#[derive(Debug)]
pub struct LlamaCache {
    layers: Vec<KvCache>,
}

impl LlamaCache {
    /// Positions held.
    pub fn len(&self) -> usize {
        self.layers.first().map_or(0, KvCache::len)
    }
    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The most positions it can hold.
    pub fn max_len(&self) -> usize {
        self.layers.first().map_or(0, KvCache::max_len)
    }
    /// Forgets every position after the first `len` (a conversation edited or regenerated from there).
    pub fn truncate(&mut self, len: usize) {
        for layer in &mut self.layers {
            layer.truncate(len);
        }
    }
}

/// Which positions' logits [`Llama::forward`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logits {
    /// The last position only (generation).
    Last,
    /// Every position (teacher forcing, scoring).
    All,
}

/// A Llama-family decoder with its output head (`LlamaForCausalLM`).
pub struct Llama {
    config: LlamaConfig,
    embed: Embedding,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    head: Linear,
    /// `θ_i` of each rotated pair, after any frequency scaling.
    inv_freq: Vec<f32>,
    device: Device,
}

impl std::fmt::Debug for Llama {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llama")
            .field("config", &self.config)
            .finish()
    }
}

impl Llama {
    /// Loads a GGUF file's decoder (config from its metadata).
    pub fn from_gguf(vb: &VarBuilder) -> Result<Self> {
        let gguf = vb
            .gguf()
            .ok_or_else(|| Error::invalid("load model", "expected a GGUF file"))?;
        let config = LlamaConfig::from_gguf(gguf)?;
        Self::load(vb, config)
    }

    /// Loads the weights of `config` from a GGUF or HF safetensors [`VarBuilder`].
    pub fn load(vb: &VarBuilder, config: LlamaConfig) -> Result<Self> {
        let names = if vb.gguf().is_some() {
            &GGUF_NAMES
        } else {
            &HF_NAMES
        };
        let c = &config;
        let embed = Embedding::load(&vb.pp(names.embed), c.vocab_size, c.hidden_size)?;
        let layers = (0..c.num_layers)
            .map(|i| DecoderLayer::load(&vb.pp((names.layer)(i)), names, c))
            .collect::<Result<Vec<_>>>()?;
        let head_vb = vb.pp(names.head);
        let head = if c.tied_embeddings || !head_vb.contains("weight") {
            Linear::from_weight(embed.table().clone(), None)
        } else {
            Linear::load(&head_vb, c.vocab_size, c.hidden_size, false)?
        };
        let inv_freq = inv_frequencies(vb, c)?;
        Ok(Llama {
            norm: RmsNorm::load(&vb.pp(names.final_norm), c.hidden_size, c.rms_eps)?,
            embed,
            layers,
            head,
            inv_freq,
            device: vb.device().clone(),
            config,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &LlamaConfig {
        &self.config
    }

    /// The device the weights are on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// An empty cache for up to `max_len` positions (at most the trained context).
    pub fn new_cache(&self, max_len: usize) -> Result<LlamaCache> {
        let c = &self.config;
        let max_len = max_len.clamp(1, c.context_length.max(1));
        let layers = (0..c.num_layers)
            .map(|_| {
                KvCache::new(
                    1,
                    c.num_kv_heads,
                    max_len,
                    c.head_dim,
                    DType::F32,
                    &self.device,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LlamaCache { layers })
    }

    /// Runs `ids` after the positions already in `cache` (appending theirs) and returns logits
    /// `[1 or ids.len(), vocab]`.
    pub fn forward(&self, ids: &[u32], cache: &mut LlamaCache, logits: Logits) -> Result<Tensor> {
        let t = ids.len();
        if t == 0 {
            return Err(Error::invalid("llama forward", "no tokens to run"));
        }
        if cache.layers.len() != self.layers.len() {
            return Err(Error::invalid(
                "llama forward",
                "the cache belongs to another model",
            ));
        }
        let start = cache.len();
        let rope = self.rope_tables(start, t)?;
        let ids = Tensor::from_u32(ids.to_vec(), [t], &self.device)?;
        let mut x = as_f32(self.embed.forward(&ids)?)?;
        for (layer, kv) in self.layers.iter().zip(&mut cache.layers) {
            x = layer.forward(&x, &rope, kv)?;
        }
        if logits == Logits::Last {
            x = x.narrow(0, t - 1, 1)?;
        }
        self.head.forward(&self.norm.forward(&x)?)
    }

    /// cos/sin `[t, head_dim/2]` for positions `start..start + t`.
    fn rope_tables(&self, start: usize, t: usize) -> Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let (mut cos, mut sin) = (Vec::with_capacity(t * half), Vec::with_capacity(t * half));
        for p in start..start + t {
            for &f in &self.inv_freq {
                let angle = p as f64 * f as f64;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        Ok((
            Tensor::from_f32(cos, [t, half], &self.device)?,
            Tensor::from_f32(sin, [t, half], &self.device)?,
        ))
    }
}

/// `θ^(-2i/d)` per pair, divided by GGUF's `rope_freqs` factors or scaled as Llama 3.1's `rope_scaling` says.
fn inv_frequencies(vb: &VarBuilder, c: &LlamaConfig) -> Result<Vec<f32>> {
    let half = c.head_dim / 2;
    let mut inv: Vec<f32> = (0..half)
        .map(|i| (c.rope_theta as f64).powf(-2.0 * i as f64 / c.head_dim as f64) as f32)
        .collect();
    if let Some(g) = vb.gguf().filter(|g| g.info("rope_freqs.weight").is_some()) {
        let factors = g
            .load("rope_freqs.weight", DTypePolicy::F32, &Device::Cpu)?
            .to_vec_f32()?;
        if factors.len() != half {
            return Err(Error::Malformed(format!(
                "rope_freqs has {} factors for {half} rotated pairs",
                factors.len()
            )));
        }
        for (f, k) in inv.iter_mut().zip(factors) {
            *f /= k;
        }
    } else if let Some(s) = c.rope_scaling {
        let low_wavelen = s.original_max_position_embeddings as f32 / s.low_freq_factor;
        let high_wavelen = s.original_max_position_embeddings as f32 / s.high_freq_factor;
        for f in &mut inv {
            let wavelen = 2.0 * std::f32::consts::PI / *f;
            *f = if wavelen < high_wavelen {
                *f
            } else if wavelen > low_wavelen {
                *f / s.factor
            } else {
                let smooth = (s.original_max_position_embeddings as f32 / wavelen
                    - s.low_freq_factor)
                    / (s.high_freq_factor - s.low_freq_factor);
                (1.0 - smooth) * *f / s.factor + smooth * *f
            };
        }
    }
    Ok(inv)
}
