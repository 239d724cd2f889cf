//! BERT-family sentence encoders (all-MiniLM-L6-v2, bge-small, e5-small).
//!
//! Mirrors `transformers/models/bert/modeling_bert.py` (`BertEmbeddings`, `BertSelfAttention`, `BertSelfOutput`,
//! `BertIntermediate`, `BertOutput`, `BertLayer`, `BertEncoder`) and sentence-transformers' `Pooling` and
//! `Normalize` modules. One code path for F32, F16 and quantized weights: the weight's dtype picks the kernel.

mod encoder;

pub use encoder::{
    l2_normalize, EncoderFiles, Pooling, PoolingConfig, SentenceEmbeddings, SentenceEncoder,
};

use crate::io::VarBuilder;
use crate::nn::{as_f32, Activation, LayerNorm, Linear};
use crate::{DType, Error, Result, Tensor};
use serde::Deserialize;

/// `config.json` of a BERT checkpoint, with the original field names.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Config {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Number of encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Feed-forward activation ("gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", …).
    #[serde(default = "default_act")]
    pub hidden_act: Activation,
    /// Number of learned positions.
    pub max_position_embeddings: usize,
    /// Number of segment types.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// Layer-norm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    #[serde(default)]
    pub pad_token_id: usize,
    /// Only "absolute" is supported.
    #[serde(default = "default_pos_type")]
    pub position_embedding_type: String,
    /// "bert" for the models this file loads.
    #[serde(default)]
    pub model_type: Option<String>,
}

fn default_act() -> Activation {
    Activation::Gelu
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_pos_type() -> String {
    "absolute".into()
}

impl Config {
    fn validate(&self) -> Result<()> {
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(Error::invalid(
                "bert config",
                format!(
                    "hidden_size {} is not a multiple of num_attention_heads {}",
                    self.hidden_size, self.num_attention_heads
                ),
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Err(Error::invalid(
                "bert config",
                format!(
                    "position_embedding_type `{}` is not supported (only absolute)",
                    self.position_embedding_type
                ),
            ));
        }
        Ok(())
    }
}

/// `BertEmbeddings`: word + absolute position + segment embeddings, then LayerNorm.
#[derive(Debug, Clone)]
struct Embeddings {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    norm: LayerNorm,
}

impl Embeddings {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        let d = c.hidden_size;
        Ok(Embeddings {
            // The word table stays as stored (F16 halves its memory); rows are cast after lookup.
            word: vb.get_float("word_embeddings.weight", [c.vocab_size, d])?,
            position: as_f32(
                vb.get_float("position_embeddings.weight", [c.max_position_embeddings, d])?,
            )?,
            token_type: as_f32(
                vb.get_float("token_type_embeddings.weight", [c.type_vocab_size, d])?,
            )?,
            norm: LayerNorm::load(&vb.pp("LayerNorm"), d, c.layer_norm_eps as f32)?,
        })
    }

    fn forward(&self, ids: &Tensor, token_types: Option<&Tensor>) -> Result<Tensor> {
        let (b, t) = (ids.dims()[0], ids.dims()[1]);
        let d = self.word.dims()[1];
        if t > self.position.dims()[0] {
            return Err(Error::invalid(
                "bert",
                format!(
                    "{t} tokens exceed the model's {} positions; truncate the input",
                    self.position.dims()[0]
                ),
            ));
        }
        let mut x = self.word.embedding(ids)?;
        if x.dtype() != DType::F32 {
            x = x.cast(DType::F32)?;
        }
        // Position ids are 0..t for every row (HF's default `position_ids` buffer).
        let pos = self.position.narrow(0, 0, t)?.reshape([1, t, d])?;
        x = x.add(&pos)?;
        x = match token_types {
            Some(tt) => x.add(&self.token_type.embedding(tt)?)?,
            None => x.add(&self.token_type.narrow(0, 0, 1)?.reshape([1, 1, d])?)?,
        };
        debug_assert_eq!(x.dims(), [b, t, d]);
        self.norm.forward(&x)
    }
}

/// `BertSelfAttention` followed by `BertSelfOutput` (dense + residual + LayerNorm).
#[derive(Debug, Clone)]
struct Attention {
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    norm: LayerNorm,
    heads: usize,
}

impl Attention {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        let d = c.hidden_size;
        let s = vb.pp("self");
        let o = vb.pp("output");
        Ok(Attention {
            query: Linear::load(&s.pp("query"), d, d, true)?,
            key: Linear::load(&s.pp("key"), d, d, true)?,
            value: Linear::load(&s.pp("value"), d, d, true)?,
            output: Linear::load(&o.pp("dense"), d, d, true)?,
            norm: LayerNorm::load(&o.pp("LayerNorm"), d, c.layer_norm_eps as f32)?,
            heads: c.num_attention_heads,
        })
    }

    /// `x` `[b, t, d]`, `mask` additive `[b, 1, 1, t]`.
    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, d) = (x.dims()[0], x.dims()[1], x.dims()[2]);
        let (h, dh) = (self.heads, d / self.heads);
        let split = |y: Tensor| -> Result<Tensor> {
            y.reshape([b, t, h, dh])?
                .permute(&[0, 2, 1, 3])?
                .contiguous()
        };
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let ctx = q.attention(&k, &v, Some(mask), false, 1.0 / (dh as f32).sqrt())?;
        let ctx = ctx
            .permute(&[0, 2, 1, 3])?
            .contiguous()?
            .reshape([b, t, d])?;
        self.norm.forward(&self.output.forward(&ctx)?.add(x)?)
    }
}

/// `BertLayer`: attention, then `BertIntermediate` (dense + activation) and `BertOutput` (dense + residual + norm).
#[derive(Debug, Clone)]
struct Layer {
    attention: Attention,
    intermediate: Linear,
    output: Linear,
    norm: LayerNorm,
    act: Activation,
}

impl Layer {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        let (d, ff) = (c.hidden_size, c.intermediate_size);
        Ok(Layer {
            attention: Attention::load(&vb.pp("attention"), c)?,
            intermediate: Linear::load(&vb.pp("intermediate").pp("dense"), ff, d, true)?,
            output: Linear::load(&vb.pp("output").pp("dense"), d, ff, true)?,
            norm: LayerNorm::load(&vb.pp("output").pp("LayerNorm"), d, c.layer_norm_eps as f32)?,
            act: c.hidden_act,
        })
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let a = self.attention.forward(x, mask)?;
        let hidden = self.act.forward(&self.intermediate.forward(&a)?)?;
        self.norm.forward(&self.output.forward(&hidden)?.add(&a)?)
    }
}

/// `BertEncoder`: the stack of layers.
#[derive(Debug, Clone)]
struct Encoder {
    layers: Vec<Layer>,
}

impl Encoder {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        let layers = (0..c.num_hidden_layers)
            .map(|i| Layer::load(&vb.pp(format!("layer.{i}")), c))
            .collect::<Result<Vec<_>>>()?;
        Ok(Encoder { layers })
    }

    fn forward(&self, mut x: Tensor, mask: &Tensor) -> Result<Tensor> {
        for layer in &self.layers {
            x = layer.forward(&x, mask)?;
        }
        Ok(x)
    }
}

/// A BERT encoder (`BertModel` without the pooler head).
#[derive(Debug, Clone)]
pub struct BertModel {
    embeddings: Embeddings,
    encoder: Encoder,
    config: Config,
}

impl BertModel {
    /// Loads weights named as in HF checkpoints, with or without the `bert.` prefix.
    pub fn load(vb: &VarBuilder, config: &Config) -> Result<Self> {
        config.validate()?;
        let vb = if !vb.contains("embeddings.word_embeddings.weight")
            && vb.contains("bert.embeddings.word_embeddings.weight")
        {
            vb.pp("bert")
        } else {
            vb.clone()
        };
        Ok(BertModel {
            embeddings: Embeddings::load(&vb.pp("embeddings"), config)?,
            encoder: Encoder::load(&vb.pp("encoder"), config)?,
            config: config.clone(),
        })
    }

    /// The configuration the model was loaded with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Last hidden states `[b, t, hidden]` for U32 `input_ids` `[b, t]` and an F32 `attention_mask` `[b, t]`
    /// (1 for tokens, 0 for padding), both on the model's device. Segment ids are all 0.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
        self.forward_with_types(input_ids, None, attention_mask)
    }

    /// [`BertModel::forward`] with explicit segment ids `[b, t]` (U32).
    pub fn forward_with_types(
        &self,
        input_ids: &Tensor,
        token_type_ids: Option<&Tensor>,
        attention_mask: &Tensor,
    ) -> Result<Tensor> {
        crate::ops::rank_is("bert", input_ids, 2)?;
        if attention_mask.dims() != input_ids.dims() {
            return Err(Error::invalid(
                "bert",
                format!(
                    "attention mask {:?} does not match input ids {:?}",
                    attention_mask.dims(),
                    input_ids.dims()
                ),
            ));
        }
        let (b, t) = (input_ids.dims()[0], input_ids.dims()[1]);
        let x = self.embeddings.forward(input_ids, token_type_ids)?;
        // Additive mask: 0 where attended, a large negative number at padding (HF uses the dtype's minimum).
        let mask = attention_mask
            .affine(1.0e9, -1.0e9)?
            .reshape([b, 1, 1, t])?;
        self.encoder.forward(x, &mask)
    }
}
