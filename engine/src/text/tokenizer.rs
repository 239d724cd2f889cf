//! A wrapper over the `tokenizers` crate for encoder models: loads a HF `tokenizer.json` from bytes, truncates at
//! the model's max length (and says so), and pads batches with an attention mask.

use crate::{Error, Result};
use tokenizers::{PaddingDirection, PaddingParams, PaddingStrategy, TruncationParams};

fn tok_err(e: tokenizers::Error) -> Error {
    Error::invalid("tokenize", e.to_string())
}

/// One encoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids, special tokens included.
    pub ids: Vec<u32>,
    /// Segment (token type) ids.
    pub type_ids: Vec<u32>,
    /// Whether the text was cut at the max length.
    pub truncated: bool,
}

/// A padded batch, row-major `[batch, seq_len]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBatch {
    /// Token ids, padded with the pad id.
    pub ids: Vec<u32>,
    /// Segment ids.
    pub type_ids: Vec<u32>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<u32>,
    /// Number of texts.
    pub batch: usize,
    /// Padded length of every row.
    pub seq_len: usize,
    /// Per text: whether it was cut at the max length.
    pub truncated: Vec<bool>,
}

/// A tokenizer from `tokenizer.json` with the model's max length.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    untruncated: tokenizers::Tokenizer,
    max_len: usize,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("max_len", &self.max_len)
            .finish_non_exhaustive()
    }
}

impl TextTokenizer {
    /// Parses `tokenizer.json` bytes; texts longer than `max_len` tokens (special tokens included) are truncated.
    /// The file's own padding/truncation settings are replaced (sentence-transformers does the same).
    pub fn from_bytes(json: &[u8], max_len: usize) -> Result<Self> {
        if max_len < 3 {
            return Err(Error::invalid(
                "tokenizer",
                format!("max length {max_len} is too short"),
            ));
        }
        let mut base = super::tokenizer_json::read_tokenizer(json)?;
        base.with_padding(None);
        base.with_truncation(None).map_err(tok_err)?;
        let untruncated = base.clone();
        let mut inner = base;
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..Default::default()
            }))
            .map_err(tok_err)?;
        let pad_id = inner
            .token_to_id("[PAD]")
            .or_else(|| inner.token_to_id("<pad>"))
            .unwrap_or(0);
        let pad_token = inner.id_to_token(pad_id).unwrap_or_default();
        inner.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id,
            pad_type_id: 0,
            pad_token,
        }));
        Ok(TextTokenizer {
            inner,
            untruncated,
            max_len,
        })
    }

    /// The max length in tokens, special tokens included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Encodes one text with special tokens, truncated at the max length.
    pub fn encode(&self, text: &str) -> Result<Encoded> {
        let e = self.inner.encode(text, true).map_err(tok_err)?;
        Ok(Encoded {
            ids: e.get_ids().to_vec(),
            type_ids: e.get_type_ids().to_vec(),
            truncated: !e.get_overflowing().is_empty(),
        })
    }

    /// Token ids without truncation or special tokens (for splitting passages by length).
    pub fn ids_untruncated(&self, text: &str) -> Result<Vec<u32>> {
        let e = self.untruncated.encode(text, false).map_err(tok_err)?;
        Ok(e.get_ids().to_vec())
    }

    /// Byte offsets `(start, end)` in `text` of each token, without special tokens or truncation.
    pub fn offsets(&self, text: &str) -> Result<Vec<(usize, usize)>> {
        let e = self.untruncated.encode(text, false).map_err(tok_err)?;
        Ok(e.get_offsets().to_vec())
    }

    /// Encodes texts into one batch padded to its longest row.
    pub fn encode_batch(&self, texts: &[&str]) -> Result<EncodedBatch> {
        let encs = self
            .inner
            .encode_batch(texts.to_vec(), true)
            .map_err(tok_err)?;
        let seq_len = encs.iter().map(|e| e.len()).max().unwrap_or(0);
        let mut out = EncodedBatch {
            ids: Vec::with_capacity(texts.len() * seq_len),
            type_ids: Vec::with_capacity(texts.len() * seq_len),
            attention_mask: Vec::with_capacity(texts.len() * seq_len),
            batch: texts.len(),
            seq_len,
            truncated: Vec::with_capacity(texts.len()),
        };
        for e in &encs {
            if e.len() != seq_len {
                return Err(Error::invalid("tokenize", "batch rows differ in length"));
            }
            out.ids.extend_from_slice(e.get_ids());
            out.type_ids.extend_from_slice(e.get_type_ids());
            out.attention_mask.extend_from_slice(e.get_attention_mask());
            out.truncated.push(!e.get_overflowing().is_empty());
        }
        Ok(out)
    }

    /// Decodes ids back to text, skipping special tokens.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, true).map_err(tok_err)
    }
}
