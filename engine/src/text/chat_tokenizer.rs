//! The tokenizer of a chat model: built from a GGUF file's vocabulary (`tokenizer.ggml.*`) or read from a
//! `tokenizer.json`, with the special tokens a chat needs (BOS, end of text, end of turn).
//!
//! GGUF's gpt2-style BPE is rebuilt as the `tokenizers` crate's byte-level BPE, with the pre-tokenizer that
//! `tokenizer.ggml.pre` names (the same regexes llama.cpp's `llama-vocab.cpp` and the models' own
//! `tokenizer.json` use). Control and user-defined tokens (`<|im_start|>`) are matched whole in the text, as
//! llama.cpp does with `parse_special`.

use crate::io::{Gguf, MetadataArray};
use crate::{Error, Result};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

/// Qwen2's split (its `tokenizer.json`; llama.cpp's `LLAMA_VOCAB_PRE_TYPE_QWEN2`): single digits.
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Llama 3's split (`llama-bpe`): digits in runs of up to three.
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// GGUF token types (`llama_token_type`).
const TOKEN_CONTROL: i32 = 3;
const TOKEN_USER_DEFINED: i32 = 4;

fn tok_err(e: impl std::fmt::Display) -> Error {
    Error::invalid("tokenizer", e.to_string())
}

/// A chat model's tokenizer and its special tokens.
#[derive(Debug, Clone)]
pub struct ChatTokenizer {
    inner: Tokenizer,
    bos: Option<u32>,
    eos: Option<u32>,
    /// Whether prompts start with BOS (GGUF `tokenizer.ggml.add_bos_token`).
    add_bos: bool,
    /// Tokens that end the assistant's turn (EOS, `<|im_end|>`, `<|eot_id|>`, …).
    end_of_turn: Vec<u32>,
}

fn byte_level_pre(pre: &str) -> Result<Sequence> {
    let split = |re: &str| {
        Split::new(
            SplitPattern::Regex(re.into()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(tok_err)
    };
    let bytes_only = ByteLevel::new(false, false, false);
    Ok(match pre {
        "default" | "gpt2" | "gpt-2" => Sequence::new(vec![ByteLevel::new(false, false, true).into()]),
        "smollm" | "starcoder" | "refact" => Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, false, true).into(),
        ]),
        "qwen2" => Sequence::new(vec![split(QWEN2_SPLIT)?.into(), bytes_only.into()]),
        "llama-bpe" | "llama3" => Sequence::new(vec![split(LLAMA3_SPLIT)?.into(), bytes_only.into()]),
        other => {
            return Err(Error::invalid(
                "tokenizer",
                format!("the model's pre-tokenizer `{other}` is not supported (gpt2, smollm, qwen2, llama-bpe are)"),
            ))
        }
    })
}

fn meta_strings<'a>(g: &'a Gguf, key: &str) -> Result<&'a [String]> {
    g.get(key)
        .and_then(|v| v.as_array())
        .and_then(|a| a.as_strings())
        .ok_or_else(|| Error::Malformed(format!("GGUF metadata `{key}` is missing or not strings")))
}

fn meta_id(g: &Gguf, key: &str) -> Option<u32> {
    g.get(key)
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
}

impl ChatTokenizer {
    /// Builds the tokenizer from a GGUF file's `tokenizer.ggml.*` metadata.
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let model = g
            .get("tokenizer.ggml.model")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if model != "gpt2" {
            return Err(Error::invalid(
                "tokenizer",
                format!(
                    "the model's tokenizer is `{model}`; Offgrid reads byte-level BPE (`gpt2`) vocabularies \
                     from GGUF files (SentencePiece ones are not supported yet)"
                ),
            ));
        }
        let tokens = meta_strings(g, "tokenizer.ggml.tokens")?;
        let merges = meta_strings(g, "tokenizer.ggml.merges")?;
        let types: Vec<i32> = match g
            .get("tokenizer.ggml.token_type")
            .and_then(|v| v.as_array())
        {
            Some(MetadataArray::I32(t)) => t.clone(),
            _ => vec![1; tokens.len()],
        };
        if types.len() != tokens.len() {
            return Err(Error::Malformed(format!(
                "{} token types for {} tokens",
                types.len(),
                tokens.len()
            )));
        }
        let vocab: Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let merges = merges
            .iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .ok_or_else(|| Error::Malformed(format!("BPE merge `{m}` has no space")))
            })
            .collect::<Result<Vec<_>>>()?;
        let pre = g
            .get("tokenizer.ggml.pre")
            .and_then(|v| v.as_str())
            .unwrap_or("default");
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            // Llama 3's vocabulary holds whole words that its merges cannot reach; HF skips the merges for them.
            .ignore_merges(matches!(pre, "llama-bpe" | "llama3"))
            .build()
            .map_err(tok_err)?;
        let mut inner = Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(byte_level_pre(pre)?));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        let specials: Vec<AddedToken> = tokens
            .iter()
            .zip(&types)
            .filter(|(_, &ty)| ty == TOKEN_CONTROL || ty == TOKEN_USER_DEFINED)
            .map(|(t, &ty)| AddedToken::from(t.clone(), ty == TOKEN_CONTROL))
            .collect();
        inner.add_special_tokens(&specials);
        let bos = meta_id(g, "tokenizer.ggml.bos_token_id");
        let eos = meta_id(g, "tokenizer.ggml.eos_token_id");
        let eot = meta_id(g, "tokenizer.ggml.eot_token_id");
        let mut tok = Self::with_specials(inner, bos, eos, eot);
        tok.add_bos = g
            .get("tokenizer.ggml.add_bos_token")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        Ok(tok)
    }

    /// Reads a Hugging Face `tokenizer.json`, with the BOS/EOS tokens named by `tokenizer_config.json`.
    pub fn from_tokenizer_json(json: &[u8], bos: Option<&str>, eos: Option<&str>) -> Result<Self> {
        let inner = super::tokenizer_json::read_tokenizer(json)?;
        let bos = bos.and_then(|t| inner.token_to_id(t));
        let eos = eos.and_then(|t| inner.token_to_id(t));
        Ok(Self::with_specials(inner, bos, eos, None))
    }

    fn with_specials(
        inner: Tokenizer,
        bos: Option<u32>,
        eos: Option<u32>,
        eot: Option<u32>,
    ) -> Self {
        let mut end_of_turn: Vec<u32> = [eos, eot].into_iter().flatten().collect();
        // Chat formats whose end-of-turn token the file does not flag as EOS.
        for name in [
            "<|im_end|>",
            "<|eot_id|>",
            "<|end|>",
            "<end_of_turn>",
            "<|endoftext|>",
        ] {
            if let Some(id) = inner.token_to_id(name) {
                if !end_of_turn.contains(&id) {
                    end_of_turn.push(id);
                }
            }
        }
        ChatTokenizer {
            inner,
            bos,
            eos,
            add_bos: false,
            end_of_turn,
        }
    }

    /// Token ids of `text`, special tokens in it matched whole; no BOS is added (chat templates write it).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self
            .inner
            .encode_fast(text, false)
            .map_err(tok_err)?
            .get_ids()
            .to_vec())
    }

    /// The text of `ids`, special tokens included.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(tok_err)
    }

    /// The text of one token as the vocabulary stores it.
    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The id of a token written out (`<|im_end|>`).
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The beginning-of-sequence token, if the model has one.
    pub fn bos(&self) -> Option<u32> {
        self.bos
    }

    /// Whether prompts must start with the BOS token.
    pub fn add_bos(&self) -> bool {
        self.add_bos && self.bos.is_some()
    }

    /// The end-of-sequence token, if the model has one.
    pub fn eos(&self) -> Option<u32> {
        self.eos
    }

    /// Tokens after which the assistant's turn is over.
    pub fn end_of_turn(&self) -> &[u32] {
        &self.end_of_turn
    }

    /// Number of tokens, added ones included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}

/// Turns a stream of token ids into text without ever emitting half a UTF-8 character: a token that ends
/// inside a character is held back until the next one completes it.
#[derive(Debug, Clone, Default)]
pub struct TokenStream {
    ids: Vec<u32>,
    /// Bytes of text already emitted (decoding from the start is what keeps BPE's byte pieces whole).
    emitted: usize,
}

impl TokenStream {
    /// An empty stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one token and returns the text that is now complete (possibly empty).
    pub fn push(&mut self, tokenizer: &ChatTokenizer, id: u32) -> Result<String> {
        self.ids.push(id);
        let text = tokenizer.decode(&self.ids)?;
        // An unfinished character decodes to U+FFFD at the end: wait for the bytes that complete it.
        if text.ends_with('\u{FFFD}') || text.len() < self.emitted {
            return Ok(String::new());
        }
        let new = text.get(self.emitted..).unwrap_or_default().to_string();
        self.emitted = text.len();
        Ok(new)
    }

    /// The text held back (an unfinished character at the end), emitted as it is.
    pub fn finish(&mut self, tokenizer: &ChatTokenizer) -> Result<String> {
        let text = tokenizer.decode(&self.ids)?;
        let rest = text.get(self.emitted..).unwrap_or_default().to_string();
        self.emitted = text.len();
        Ok(rest)
    }

    /// The ids pushed so far.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }
}
