//! Whisper's layers, one struct each, mirroring transformers' `modeling_whisper.py`
//! (`WhisperAttention`, `WhisperEncoderLayer`, `WhisperDecoderLayer`, `WhisperEncoder`, `WhisperDecoder`).
//! Weight names are those of the `openai/whisper-*` safetensors; `proj_out` is tied to `embed_tokens`.

use super::Config;
use crate::io::VarBuilder;
use crate::nn::{as_f32, Conv1dK3, LayerNorm, Linear};
use crate::ops::KvCache;
use crate::{DType, Result, Tensor};

const LN_EPS: f32 = 1e-5;

/// Multi-head attention (`WhisperAttention`): `k_proj` has no bias.
struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn load(vb: &VarBuilder, d: usize, heads: usize) -> Result<Self> {
        Ok(Attention {
            q: Linear::load(&vb.pp("q_proj"), d, d, true)?,
            k: Linear::load(&vb.pp("k_proj"), d, d, false)?,
            v: Linear::load(&vb.pp("v_proj"), d, d, true)?,
            o: Linear::load(&vb.pp("out_proj"), d, d, true)?,
            heads,
            head_dim: d / heads,
        })
    }

    /// `[t, d]` → `[1, heads, t, head_dim]`, contiguous.
    fn split(&self, x: &Tensor) -> Result<Tensor> {
        let t = x.dims()[0];
        x.reshape([t, self.heads, self.head_dim])?
            .permute(&[1, 0, 2])?
            .contiguous()?
            .unsqueeze(0)
    }

    fn merge(&self, x: &Tensor) -> Result<Tensor> {
        let t = x.dims()[2];
        x.squeeze(0)?
            .permute(&[1, 0, 2])?
            .contiguous()?
            .reshape([t, self.heads * self.head_dim])
    }

    fn scale(&self) -> f32 {
        (self.head_dim as f32).powf(-0.5)
    }

    /// Keys and values of `x` (the encoder output, for cross-attention).
    fn key_values(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((
            self.split(&self.k.forward(x)?)?,
            self.split(&self.v.forward(x)?)?,
        ))
    }

    /// Self-attention over `x` `[t, d]`; with a cache, causal over everything held so far.
    fn forward_self(&self, x: &Tensor, cache: Option<&mut KvCache>) -> Result<Tensor> {
        let q = self.split(&self.q.forward(x)?)?;
        let (k, v) = self.key_values(x)?;
        let out = match cache {
            Some(cache) => {
                let (k, v) = cache.append(&k, &v)?;
                q.attention(&k, &v, None, true, self.scale())?
            }
            None => q.attention(&k, &v, None, false, self.scale())?,
        };
        self.o.forward(&self.merge(&out)?)
    }

    fn forward_cross(&self, x: &Tensor, k: &Tensor, v: &Tensor) -> Result<Tensor> {
        let q = self.split(&self.q.forward(x)?)?;
        let out = q.attention(k, v, None, false, self.scale())?;
        self.o.forward(&self.merge(&out)?)
    }
}

struct FeedForward {
    fc1: Linear,
    fc2: Linear,
}

impl FeedForward {
    fn load(vb: &VarBuilder, d: usize, ffn: usize) -> Result<Self> {
        Ok(FeedForward {
            fc1: Linear::load(&vb.pp("fc1"), ffn, d, true)?,
            fc2: Linear::load(&vb.pp("fc2"), d, ffn, true)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc2.forward(&self.fc1.forward(x)?.gelu()?)
    }
}

/// `WhisperEncoderLayer`: pre-norm self-attention and MLP, both residual.
struct EncoderLayer {
    attn: Attention,
    attn_ln: LayerNorm,
    mlp: FeedForward,
    mlp_ln: LayerNorm,
}

impl EncoderLayer {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        Ok(EncoderLayer {
            attn: Attention::load(&vb.pp("self_attn"), c.d_model, c.encoder_attention_heads)?,
            attn_ln: LayerNorm::load(&vb.pp("self_attn_layer_norm"), c.d_model, LN_EPS)?,
            mlp: FeedForward::load(vb, c.d_model, c.encoder_ffn_dim)?,
            mlp_ln: LayerNorm::load(&vb.pp("final_layer_norm"), c.d_model, LN_EPS)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.add(&self.attn.forward_self(&self.attn_ln.forward(x)?, None)?)?;
        x.add(&self.mlp.forward(&self.mlp_ln.forward(&x)?)?)
    }
}

/// `WhisperEncoder`: two convolutions with GELU, positions, layers, final norm.
pub(super) struct Encoder {
    conv1: Conv1dK3,
    conv2: Conv1dK3,
    positions: Tensor,
    layers: Vec<EncoderLayer>,
    ln: LayerNorm,
}

impl Encoder {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        let layers = (0..c.encoder_layers)
            .map(|i| EncoderLayer::load(&vb.pp(format!("layers.{i}")), c))
            .collect::<Result<_>>()?;
        Ok(Encoder {
            conv1: Conv1dK3::load(&vb.pp("conv1"), c.d_model, c.num_mel_bins, 1)?,
            conv2: Conv1dK3::load(&vb.pp("conv2"), c.d_model, c.d_model, 2)?,
            positions: as_f32(vb.get_float(
                "embed_positions.weight",
                [c.max_source_positions, c.d_model],
            )?)?,
            layers,
            ln: LayerNorm::load(&vb.pp("layer_norm"), c.d_model, LN_EPS)?,
        })
    }

    /// `[n_mels, frames]` log-mel → `[frames / 2, d_model]`.
    pub(super) fn forward(&self, mel: &Tensor) -> Result<Tensor> {
        let x = self.conv1.forward(&mel.t()?.contiguous()?)?.gelu()?;
        let x = self.conv2.forward(&x)?.gelu()?;
        let len = x.dims()[0];
        if len > self.positions.dims()[0] {
            return Err(crate::Error::invalid(
                "whisper encoder",
                format!(
                    "{len} positions exceed the model's {}",
                    self.positions.dims()[0]
                ),
            ));
        }
        let mut x = x.add(&self.positions.narrow(0, 0, len)?)?;
        for layer in &self.layers {
            x = layer.forward(&x)?;
        }
        self.ln.forward(&x)
    }
}

/// `WhisperDecoderLayer`: causal self-attention, cross-attention to the encoder, MLP.
struct DecoderLayer {
    attn: Attention,
    attn_ln: LayerNorm,
    cross: Attention,
    cross_ln: LayerNorm,
    mlp: FeedForward,
    mlp_ln: LayerNorm,
}

impl DecoderLayer {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        let h = c.decoder_attention_heads;
        Ok(DecoderLayer {
            attn: Attention::load(&vb.pp("self_attn"), c.d_model, h)?,
            attn_ln: LayerNorm::load(&vb.pp("self_attn_layer_norm"), c.d_model, LN_EPS)?,
            cross: Attention::load(&vb.pp("encoder_attn"), c.d_model, h)?,
            cross_ln: LayerNorm::load(&vb.pp("encoder_attn_layer_norm"), c.d_model, LN_EPS)?,
            mlp: FeedForward::load(vb, c.d_model, c.decoder_ffn_dim)?,
            mlp_ln: LayerNorm::load(&vb.pp("final_layer_norm"), c.d_model, LN_EPS)?,
        })
    }
}

/// Per-window decoder state: self-attention caches and the cross-attention keys/values, computed once.
pub struct DecoderState {
    caches: Vec<KvCache>,
    cross: Vec<(Tensor, Tensor)>,
}

impl DecoderState {
    /// Number of decoder positions processed so far.
    pub fn len(&self) -> usize {
        self.caches.first().map_or(0, KvCache::len)
    }

    /// Whether no position has been processed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `WhisperDecoder` with the tied output projection.
pub(super) struct Decoder {
    embed_tokens: Tensor,
    positions: Tensor,
    layers: Vec<DecoderLayer>,
    ln: LayerNorm,
    heads: usize,
    max_len: usize,
}

impl Decoder {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        let layers = (0..c.decoder_layers)
            .map(|i| DecoderLayer::load(&vb.pp(format!("layers.{i}")), c))
            .collect::<Result<_>>()?;
        Ok(Decoder {
            embed_tokens: vb.get("embed_tokens.weight", [c.vocab_size, c.d_model])?,
            positions: as_f32(vb.get_float(
                "embed_positions.weight",
                [c.max_target_positions, c.d_model],
            )?)?,
            layers,
            ln: LayerNorm::load(&vb.pp("layer_norm"), c.d_model, LN_EPS)?,
            heads: c.decoder_attention_heads,
            max_len: c.max_target_positions,
        })
    }

    pub(super) fn start(&self, encoded: &Tensor) -> Result<DecoderState> {
        let d = self.positions.dims()[1];
        let caches = (0..self.layers.len())
            .map(|_| {
                KvCache::new(
                    1,
                    self.heads,
                    self.max_len,
                    d / self.heads,
                    DType::F32,
                    encoded.device(),
                )
            })
            .collect::<Result<_>>()?;
        let cross = self
            .layers
            .iter()
            .map(|l| l.cross.key_values(encoded))
            .collect::<Result<_>>()?;
        Ok(DecoderState { caches, cross })
    }

    /// Runs `ids` (appended after the state's positions) and returns the logits of the last one, `[vocab]`.
    pub(super) fn step(&self, state: &mut DecoderState, ids: &[u32]) -> Result<Tensor> {
        let x = self.hidden(state, ids)?;
        self.logits_at(&x, ids.len() - 1)
    }

    /// As [`Decoder::step`], and also the logits at `ids[at]` (the start-of-transcript position, whose
    /// no-speech probability judges a window). The last logits are computed exactly as `step` computes them.
    pub(super) fn step_also_at(
        &self,
        state: &mut DecoderState,
        ids: &[u32],
        at: usize,
    ) -> Result<(Tensor, Tensor)> {
        if at >= ids.len() {
            return Err(crate::Error::invalid(
                "whisper decoder",
                format!("position {at} is not among the {} tokens fed", ids.len()),
            ));
        }
        let x = self.hidden(state, ids)?;
        Ok((self.logits_at(&x, ids.len() - 1)?, self.logits_at(&x, at)?))
    }

    /// The logits `[vocab]` of row `i` of the decoder's hidden states.
    fn logits_at(&self, x: &Tensor, i: usize) -> Result<Tensor> {
        let row = self.ln.forward(&x.narrow(0, i, 1)?)?;
        row.linear(&self.embed_tokens, None)?
            .reshape([self.embed_tokens.dims()[0]])
    }

    /// The last layer's hidden states `[t, d_model]` of `ids` after the state's positions (cached as it goes).
    fn hidden(&self, state: &mut DecoderState, ids: &[u32]) -> Result<Tensor> {
        let pos = state.len();
        let t = ids.len();
        if t == 0 || pos + t > self.max_len {
            return Err(crate::Error::invalid(
                "whisper decoder",
                format!(
                    "{pos} + {t} tokens do not fit the model's {} positions",
                    self.max_len
                ),
            ));
        }
        let device = self.embed_tokens.device();
        let ids = Tensor::from_u32(ids.to_vec(), [t], device)?;
        let tok = as_f32(self.embed_tokens.embedding(&ids)?)?;
        let mut x = tok.add(&self.positions.narrow(0, pos, t)?)?;
        for ((layer, cache), (k, v)) in self.layers.iter().zip(&mut state.caches).zip(&state.cross)
        {
            x = x.add(
                &layer
                    .attn
                    .forward_self(&layer.attn_ln.forward(&x)?, Some(cache))?,
            )?;
            x = x.add(
                &layer
                    .cross
                    .forward_cross(&layer.cross_ln.forward(&x)?, k, v)?,
            )?;
            x = x.add(&layer.mlp.forward(&layer.mlp_ln.forward(&x)?)?)?;
        }
        Ok(x)
    }
}

/// Whisper's encoder and decoder (`WhisperForConditionalGeneration` without the generation loop).
pub struct Whisper {
    config: Config,
    pub(super) encoder: Encoder,
    pub(super) decoder: Decoder,
}

impl Whisper {
    /// Loads the weights under `model.` of an `openai/whisper-*` checkpoint.
    pub fn load(vb: &VarBuilder, config: Config) -> Result<Self> {
        config.validate()?;
        let vb = vb.pp("model");
        Ok(Whisper {
            encoder: Encoder::load(&vb.pp("encoder"), &config)?,
            decoder: Decoder::load(&vb.pp("decoder"), &config)?,
            config,
        })
    }

    /// The model's hyper-parameters.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Encodes log-mel features `[n_mels, 3000]` into `[1500, d_model]`.
    pub fn encode(&self, mel: &Tensor) -> Result<Tensor> {
        self.encoder.forward(mel)
    }

    /// A fresh decoder state over an encoded window (cross-attention keys/values computed here, once).
    pub fn start(&self, encoded: &Tensor) -> Result<DecoderState> {
        self.decoder.start(encoded)
    }

    /// Feeds `ids` to the decoder and returns the next-token logits `[vocab]` (on the model's device).
    pub fn step(&self, state: &mut DecoderState, ids: &[u32]) -> Result<Tensor> {
        self.decoder.step(state, ids)
    }

    /// As [`Whisper::step`], and also the logits at `ids[at]`.
    pub fn step_also_at(
        &self,
        state: &mut DecoderState,
        ids: &[u32],
        at: usize,
    ) -> Result<(Tensor, Tensor)> {
        self.decoder.step_also_at(state, ids, at)
    }
}
