//! The decoder's hyper-parameters, read from GGUF metadata (`{arch}.block_count`, …) or from a Hugging Face
//! `config.json`, and the per-architecture facts that the files do not state (which norms and biases exist).

use crate::io::Gguf;
use crate::{Error, Result};
use serde::Deserialize;

/// The decoder families this model covers. They differ only in the rows of [`Arch::traits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// Llama 2/3.x and SmolLM (`llama` in GGUF, `LlamaForCausalLM`).
    Llama,
    /// Qwen2 and Qwen2.5: biases on q/k/v.
    Qwen2,
    /// Qwen3: RMS norm on each head of q and k, no biases.
    Qwen3,
}

/// What an architecture has that the metadata does not say.
#[derive(Debug, Clone, Copy)]
pub struct ArchTraits {
    /// q/k/v projections carry biases.
    pub qkv_bias: bool,
    /// q and k are RMS-normalised per head before the rotation.
    pub qk_norm: bool,
}

impl Arch {
    /// The architecture named by GGUF's `general.architecture` or HF's `model_type`.
    pub fn from_name(name: &str) -> Result<Arch> {
        match name {
            "llama" => Ok(Arch::Llama),
            "qwen2" => Ok(Arch::Qwen2),
            "qwen3" => Ok(Arch::Qwen3),
            other => Err(Error::invalid(
                "load model",
                format!(
                    "the model's architecture is `{other}`; Offgrid's chat runs llama (Llama, SmolLM), \
                     qwen2 and qwen3 models"
                ),
            )),
        }
    }

    /// The rows of the architecture table.
    pub fn traits(self) -> ArchTraits {
        match self {
            Arch::Llama => ArchTraits {
                qkv_bias: false,
                qk_norm: false,
            },
            Arch::Qwen2 => ArchTraits {
                qkv_bias: true,
                qk_norm: false,
            },
            Arch::Qwen3 => ArchTraits {
                qkv_bias: false,
                qk_norm: true,
            },
        }
    }
}

/// Llama 3.1's frequency-dependent RoPE scaling (`rope_scaling.rope_type = "llama3"`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Llama3RopeScaling {
    pub factor: f32,
    pub low_freq_factor: f32,
    pub high_freq_factor: f32,
    pub original_max_position_embeddings: usize,
}

/// Hyper-parameters of one decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    pub arch: Arch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rms_eps: f32,
    pub rope_theta: f32,
    /// Llama 3.1 scaling for HF checkpoints (GGUF files carry the same as a `rope_freqs` tensor instead).
    pub rope_scaling: Option<Llama3RopeScaling>,
    /// Rotate pairs `(2i, 2i+1)` instead of `(i, i + d/2)`: llama.cpp's converter permutes Llama's q/k rows so
    /// that its "normal" RoPE applies; Qwen GGUFs and every HF checkpoint use the half split.
    pub rope_interleaved: bool,
    /// The context the model was trained for.
    pub context_length: usize,
    /// The output head shares the embedding table.
    pub tied_embeddings: bool,
}

fn meta_u(g: &Gguf, key: &str) -> Result<usize> {
    g.get(key)
        .and_then(|v| v.as_u64())
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| Error::Malformed(format!("GGUF metadata `{key}` is missing or not a count")))
}

fn meta_f(g: &Gguf, key: &str) -> Result<f32> {
    g.get(key)
        .and_then(|v| v.as_f64())
        .map(|v| v as f32)
        .ok_or_else(|| {
            Error::Malformed(format!("GGUF metadata `{key}` is missing or not a number"))
        })
}

impl LlamaConfig {
    /// Reads the config from a GGUF file's metadata (llama.cpp's key names).
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let name = g
            .get("general.architecture")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                Error::Malformed("GGUF metadata has no `general.architecture`".into())
            })?;
        let arch = Arch::from_name(name)?;
        let key = |k: &str| format!("{name}.{k}");
        let hidden_size = meta_u(g, &key("embedding_length"))?;
        let num_heads = meta_u(g, &key("attention.head_count"))?;
        let head_dim = match meta_u(g, &key("attention.key_length")) {
            Ok(d) => d,
            Err(_) if num_heads > 0 => hidden_size / num_heads,
            Err(e) => return Err(e),
        };
        let vocab_size = match meta_u(g, &key("vocab_size")) {
            Ok(v) => v,
            // Older files leave it out: the embedding table says it.
            Err(_) => g
                .info("token_embd.weight")
                .map(|i| i.shape[0])
                .ok_or_else(|| Error::MissingWeight("token_embd.weight".into()))?,
        };
        let config = LlamaConfig {
            arch,
            vocab_size,
            hidden_size,
            intermediate_size: meta_u(g, &key("feed_forward_length"))?,
            num_layers: meta_u(g, &key("block_count"))?,
            num_heads,
            num_kv_heads: meta_u(g, &key("attention.head_count_kv")).unwrap_or(num_heads),
            head_dim,
            rms_eps: meta_f(g, &key("attention.layer_norm_rms_epsilon"))?,
            rope_theta: meta_f(g, &key("rope.freq_base")).unwrap_or(10_000.0),
            rope_scaling: None,
            rope_interleaved: arch == Arch::Llama,
            context_length: meta_u(g, &key("context_length"))?,
            tied_embeddings: g.info("output.weight").is_none(),
        };
        config.validate()
    }

    /// Reads the config from a Hugging Face `config.json`.
    pub fn from_hf_json(json: &[u8]) -> Result<Self> {
        let raw: HfConfig = serde_json::from_slice(json)?;
        let arch = Arch::from_name(&raw.model_type)?;
        let num_heads = raw.num_attention_heads;
        let rope_scaling = match raw.rope_scaling {
            Some(s) if s.rope_type.as_deref() == Some("llama3") => Some(Llama3RopeScaling {
                factor: s.factor.unwrap_or(1.0),
                low_freq_factor: s.low_freq_factor.unwrap_or(1.0),
                high_freq_factor: s.high_freq_factor.unwrap_or(4.0),
                original_max_position_embeddings: s
                    .original_max_position_embeddings
                    .unwrap_or(8192),
            }),
            Some(s) => {
                return Err(Error::invalid(
                    "load model",
                    format!(
                        "RoPE scaling `{}` is not supported (only llama3)",
                        s.rope_type.unwrap_or_default()
                    ),
                ))
            }
            None => None,
        };
        let config = LlamaConfig {
            arch,
            vocab_size: raw.vocab_size,
            hidden_size: raw.hidden_size,
            intermediate_size: raw.intermediate_size,
            num_layers: raw.num_hidden_layers,
            num_heads,
            num_kv_heads: raw.num_key_value_heads.unwrap_or(num_heads),
            head_dim: raw.head_dim.unwrap_or(raw.hidden_size / num_heads.max(1)),
            rms_eps: raw.rms_norm_eps,
            rope_theta: raw.rope_theta.unwrap_or(10_000.0),
            rope_scaling,
            rope_interleaved: false,
            context_length: raw.max_position_embeddings,
            tied_embeddings: raw.tie_word_embeddings.unwrap_or(false),
        };
        config.validate()
    }

    /// Rejects configs that would index out of range or divide by zero.
    fn validate(self) -> Result<Self> {
        let ok = self.num_heads > 0
            && self.num_kv_heads > 0
            && self.num_heads.is_multiple_of(self.num_kv_heads)
            && self.head_dim > 0
            && self.head_dim.is_multiple_of(2)
            && self.hidden_size > 0
            && self.vocab_size > 0
            && self.num_layers > 0;
        if ok {
            Ok(self)
        } else {
            Err(Error::Malformed(format!(
                "the model's hyper-parameters do not fit together: {self:?}"
            )))
        }
    }
}

#[derive(Deserialize)]
struct HfRopeScaling {
    rope_type: Option<String>,
    factor: Option<f32>,
    low_freq_factor: Option<f32>,
    high_freq_factor: Option<f32>,
    original_max_position_embeddings: Option<usize>,
}

#[derive(Deserialize)]
struct HfConfig {
    model_type: String,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: f32,
    rope_theta: Option<f32>,
    rope_scaling: Option<HfRopeScaling>,
    max_position_embeddings: usize,
    tie_word_embeddings: Option<bool>,
}
