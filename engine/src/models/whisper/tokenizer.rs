//! Whisper's text ↔ token ids from a Hugging Face `tokenizer.json` (byte-level BPE, GPT-2 style).
//!
//! Decoding (every token the model writes) reads the vocabulary and added tokens directly; encoding is only
//! needed for a person's text prompt, and goes through the `tokenizers` crate on the same file.

use crate::{Error, Result};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
    #[serde(default)]
    special: bool,
}

#[derive(Deserialize)]
struct Model {
    vocab: HashMap<String, u32>,
}

#[derive(Deserialize)]
struct TokenizerJson {
    model: Model,
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
}

/// Id → text for Whisper's byte-level BPE vocabulary.
#[derive(Debug, Clone)]
pub struct WhisperTokenizer {
    /// Bytes of each ordinary token, indexed by id.
    tokens: HashMap<u32, Vec<u8>>,
    /// Special tokens (`<|en|>`, timestamps…), never part of the text.
    special: HashMap<u32, String>,
    /// `tokenizer.json` itself, parsed into a full tokenizer only when text is first encoded (a person's
    /// prompt): most transcriptions never need it, and parsing it is most of a model's tokenizer load.
    source: std::sync::Arc<[u8]>,
    /// The full tokenizer, for text → ids (`None` inside if the file is not one the `tokenizers` crate reads).
    encoder: std::sync::OnceLock<Option<Box<tokenizers::Tokenizer>>>,
}

/// GPT-2's reversible byte → printable character table, inverted: character → byte.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut printable: Vec<u32> = (u32::from('!')..=u32::from('~')).collect();
    printable.extend(u32::from('¡')..=u32::from('¬'));
    printable.extend(u32::from('®')..=u32::from('ÿ'));
    let mut map = HashMap::new();
    let mut extra = 0u32;
    for b in 0u32..256 {
        let c = if printable.contains(&b) {
            b
        } else {
            extra += 1;
            255 + extra
        };
        if let (Some(ch), Ok(byte)) = (char::from_u32(c), u8::try_from(b)) {
            map.insert(ch, byte);
        }
    }
    map
}

impl WhisperTokenizer {
    /// Parses the bytes of `tokenizer.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let parsed: TokenizerJson = serde_json::from_slice(bytes).map_err(|e| {
            Error::Malformed(format!(
                "tokenizer.json is not a byte-level BPE tokenizer: {e}"
            ))
        })?;
        let table = unicode_to_byte();
        let mut tokens = HashMap::with_capacity(parsed.model.vocab.len());
        for (piece, id) in parsed.model.vocab {
            let bytes = piece
                .chars()
                .map(|c| table.get(&c).copied())
                .collect::<Option<Vec<u8>>>()
                .unwrap_or_else(|| piece.clone().into_bytes());
            tokens.insert(id, bytes);
        }
        let mut special = HashMap::new();
        for t in parsed.added_tokens {
            if t.special {
                special.insert(t.id, t.content);
            } else {
                tokens.insert(t.id, t.content.into_bytes());
            }
        }
        Ok(WhisperTokenizer {
            tokens,
            special,
            source: bytes.into(),
            encoder: std::sync::OnceLock::new(),
        })
    }

    /// The ids of `text` (no special tokens added), as the model would have written it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoder = self.encoder.get_or_init(|| {
            crate::text::tokenizer_json::read_tokenizer(&self.source)
                .ok()
                .map(Box::new)
        });
        let encoder = encoder.as_ref().ok_or_else(|| {
            Error::invalid("whisper prompt", "this tokenizer.json cannot encode text")
        })?;
        encoder
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| Error::invalid("whisper prompt", format!("cannot encode the prompt: {e}")))
    }

    /// The text of `ids`, special tokens left out (invalid UTF-8 becomes U+FFFD).
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .filter(|id| !self.special.contains_key(id))
            .filter_map(|id| self.tokens.get(id))
            .flatten()
            .copied()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The id of the special token `content` (`<|nocaptions|>`), if the tokenizer has it.
    pub fn special_id(&self, content: &str) -> Option<u32> {
        self.special
            .iter()
            .filter(|(_, c)| c.as_str() == content)
            .map(|(&id, _)| id)
            .min()
    }

    /// The content of a special token (`<|en|>`), if `id` is one.
    pub fn special_token(&self, id: u32) -> Option<&str> {
        self.special.get(&id).map(String::as_str)
    }
}
