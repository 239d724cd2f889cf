//! [`SentenceEncoder`]: tokenizer + [`BertModel`] + pooling + L2 normalisation, as sentence-transformers'
//! `Transformer → Pooling → Normalize` pipeline.

use super::{BertModel, Config};
use crate::io::VarBuilder;
use crate::text::TextTokenizer;
use crate::{Device, Error, Result, Tensor};
use serde::Deserialize;

/// How token states become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean of the non-padding tokens (all-MiniLM, e5).
    Mean,
    /// The first (`[CLS]`) token (bge).
    Cls,
}

/// sentence-transformers' `1_Pooling/config.json`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PoolingConfig {
    /// Output width.
    #[serde(default)]
    pub word_embedding_dimension: Option<usize>,
    /// `[CLS]` pooling.
    #[serde(default)]
    pub pooling_mode_cls_token: bool,
    /// Mean pooling.
    #[serde(default)]
    pub pooling_mode_mean_tokens: bool,
    /// Max pooling (not supported).
    #[serde(default)]
    pub pooling_mode_max_tokens: bool,
    /// Mean × √len pooling (not supported).
    #[serde(default)]
    pub pooling_mode_mean_sqrt_len_tokens: bool,
}

impl PoolingConfig {
    /// The one pooling mode this config asks for.
    pub fn pooling(&self) -> Result<Pooling> {
        match (
            self.pooling_mode_cls_token,
            self.pooling_mode_mean_tokens,
            self.pooling_mode_max_tokens || self.pooling_mode_mean_sqrt_len_tokens,
        ) {
            (true, false, false) => Ok(Pooling::Cls),
            (false, true, false) => Ok(Pooling::Mean),
            _ => Err(Error::invalid(
                "pooling config",
                "only one of CLS or mean pooling is supported",
            )),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SentenceBertConfig {
    #[serde(default)]
    max_seq_length: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
struct SentenceTransformersConfig {
    #[serde(default)]
    prompts: std::collections::BTreeMap<String, String>,
}

/// The bytes of a sentence-transformers model folder that the encoder reads besides the weights.
#[derive(Debug, Clone, Copy)]
pub struct EncoderFiles<'a> {
    /// `config.json`.
    pub config: &'a [u8],
    /// `tokenizer.json`.
    pub tokenizer: &'a [u8],
    /// `1_Pooling/config.json`; mean pooling when absent.
    pub pooling: Option<&'a [u8]>,
    /// `sentence_bert_config.json` (its `max_seq_length`); the model's positions when absent.
    pub sentence_bert_config: Option<&'a [u8]>,
    /// `config_sentence_transformers.json` (its `prompts.query` / `prompts.passage`).
    pub sentence_transformers_config: Option<&'a [u8]>,
}

/// Texts to vectors: owns the tokenizer, the model and the pooling.
#[derive(Debug, Clone)]
pub struct SentenceEncoder {
    tokenizer: TextTokenizer,
    model: BertModel,
    pooling: Pooling,
    normalize: bool,
    query_prefix: String,
    passage_prefix: String,
    batch_size: usize,
}

/// SentenceEmbeddings of a list of texts and which of them were truncated.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceEmbeddings {
    /// One vector per text, in input order.
    pub vectors: Vec<Vec<f32>>,
    /// Per text: whether it was cut at the model's max length.
    pub truncated: Vec<bool>,
}

impl SentenceEncoder {
    /// Builds an encoder from its parts.
    pub fn new(tokenizer: TextTokenizer, model: BertModel, pooling: Pooling) -> Self {
        SentenceEncoder {
            tokenizer,
            model,
            pooling,
            normalize: true,
            query_prefix: String::new(),
            passage_prefix: String::new(),
            batch_size: 32,
        }
    }

    /// Loads a model folder's files; the weights come from `vb` (its device and dtype policy apply).
    pub fn from_files(files: &EncoderFiles<'_>, vb: &VarBuilder) -> Result<Self> {
        let config: Config = crate::io::parse_config(files.config)?;
        let pooling = match files.pooling {
            Some(bytes) => crate::io::parse_config::<PoolingConfig>(bytes)?.pooling()?,
            None => Pooling::Mean,
        };
        let sbert: SentenceBertConfig = match files.sentence_bert_config {
            Some(bytes) => crate::io::parse_config(bytes)?,
            None => SentenceBertConfig::default(),
        };
        let max_len = sbert
            .max_seq_length
            .unwrap_or(config.max_position_embeddings)
            .min(config.max_position_embeddings);
        let tokenizer = TextTokenizer::from_bytes(files.tokenizer, max_len)?;
        let model = BertModel::load(vb, &config)?;
        let mut enc = SentenceEncoder::new(tokenizer, model, pooling);
        if let Some(bytes) = files.sentence_transformers_config {
            let st: SentenceTransformersConfig = crate::io::parse_config(bytes)?;
            enc.query_prefix = st.prompts.get("query").cloned().unwrap_or_default();
            enc.passage_prefix = st.prompts.get("passage").cloned().unwrap_or_default();
        }
        Ok(enc)
    }

    /// Loads a model folder on disk (CLI and tests).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_folder(folder: &crate::io::ModelFolder, vb: &VarBuilder) -> Result<Self> {
        let optional = |f: &str| folder.read(f).ok();
        let (config, tokenizer) = (folder.read("config.json")?, folder.read("tokenizer.json")?);
        let pooling = optional("1_Pooling/config.json");
        let sbert = optional("sentence_bert_config.json");
        let st = optional("config_sentence_transformers.json");
        Self::from_files(
            &EncoderFiles {
                config: &config,
                tokenizer: &tokenizer,
                pooling: pooling.as_deref(),
                sentence_bert_config: sbert.as_deref(),
                sentence_transformers_config: st.as_deref(),
            },
            vb,
        )
    }

    /// Sets the prefixes that [`SentenceEncoder::encode_queries`] and [`SentenceEncoder::encode_passages`] add
    /// (e5: "query: " / "passage: "; bge: an instruction for queries only).
    pub fn with_prefixes(mut self, query: impl Into<String>, passage: impl Into<String>) -> Self {
        self.query_prefix = query.into();
        self.passage_prefix = passage.into();
        self
    }

    /// Sets how many texts go through the model at once.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Turns L2 normalisation of the output on or off (on by default).
    pub fn with_normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The model.
    pub fn model(&self) -> &BertModel {
        &self.model
    }

    /// The pooling mode.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Width of the output vectors.
    pub fn dim(&self) -> usize {
        self.model.config().hidden_size
    }

    /// Query and passage prefixes.
    pub fn prefixes(&self) -> (&str, &str) {
        (&self.query_prefix, &self.passage_prefix)
    }

    /// Embeds texts as they are (no prefix).
    pub async fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(self.encode_detailed(texts).await?.vectors)
    }

    /// Embeds search queries (with the query prefix).
    pub async fn encode_queries(&self, texts: &[&str]) -> Result<SentenceEmbeddings> {
        self.encode_prefixed(&self.query_prefix, texts).await
    }

    /// Embeds passages to be searched (with the passage prefix).
    pub async fn encode_passages(&self, texts: &[&str]) -> Result<SentenceEmbeddings> {
        self.encode_prefixed(&self.passage_prefix, texts).await
    }

    async fn encode_prefixed(&self, prefix: &str, texts: &[&str]) -> Result<SentenceEmbeddings> {
        if prefix.is_empty() {
            return self.encode_detailed(texts).await;
        }
        let owned: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        self.encode_detailed(&refs).await
    }

    /// Embeds texts and reports which were truncated. Texts are batched by length (less padding), results are
    /// returned in input order.
    pub async fn encode_detailed(&self, texts: &[&str]) -> Result<SentenceEmbeddings> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        // Longest first, like sentence-transformers: batches of similar lengths waste little on padding.
        let lens = texts.iter().map(|t| t.len()).collect::<Vec<_>>();
        order.sort_by_key(|&i| std::cmp::Reverse(lens[i]));
        let mut vectors = vec![Vec::new(); texts.len()];
        let mut truncated = vec![false; texts.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            let (vs, tr) = self.encode_batch(&batch).await?;
            for ((&i, v), t) in chunk.iter().zip(vs).zip(tr) {
                vectors[i] = v;
                truncated[i] = t;
            }
        }
        Ok(SentenceEmbeddings { vectors, truncated })
    }

    async fn encode_batch(&self, texts: &[&str]) -> Result<(Vec<Vec<f32>>, Vec<bool>)> {
        let device = self.device();
        let enc = self.tokenizer.encode_batch(texts)?;
        let (b, t) = (enc.batch, enc.seq_len);
        if b == 0 || t == 0 {
            return Ok((vec![Vec::new(); b], enc.truncated));
        }
        let ids = Tensor::from_u32(enc.ids, [b, t], &device)?;
        let mask_f: Vec<f32> = enc.attention_mask.iter().map(|&m| m as f32).collect();
        let mask = Tensor::from_f32(mask_f, [b, t], &device)?;
        let hidden = self.model.forward(&ids, &mask)?;
        let d = hidden.dims()[2];
        let pooled = match self.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.contiguous()?.reshape([b, d])?,
            Pooling::Mean => {
                let summed = hidden.mul(&mask.reshape([b, t, 1])?)?.sum(1, false)?;
                let counts =
                    mask.sum(1, true)?
                        .maximum(&Tensor::from_f32(vec![1e-9], [1, 1], &device)?)?;
                summed.div(&counts)?
            }
        };
        let flat = pooled.to_vec_f32_async().await?;
        let mut out: Vec<Vec<f32>> = flat.chunks(d).map(<[f32]>::to_vec).collect();
        if self.normalize {
            out.iter_mut().for_each(|v| l2_normalize(v));
        }
        Ok((out, enc.truncated))
    }

    fn device(&self) -> Device {
        self.model.embeddings.word.device().clone()
    }
}

/// Scales `v` to unit length (left as is when it is all zeros), like `torch.nn.functional.normalize`.
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}
