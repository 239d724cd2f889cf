//! `config.json` and `generation_config.json` of an `openai/whisper-*` checkpoint, with Hugging Face's field names.

use crate::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Model hyper-parameters (`WhisperConfig` in transformers).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub num_mel_bins: usize,
    pub d_model: usize,
    pub encoder_layers: usize,
    pub encoder_attention_heads: usize,
    pub encoder_ffn_dim: usize,
    pub decoder_layers: usize,
    pub decoder_attention_heads: usize,
    pub decoder_ffn_dim: usize,
    pub max_source_positions: usize,
    pub max_target_positions: usize,
    #[serde(default = "default_activation")]
    pub activation_function: String,
    #[serde(default)]
    pub scale_embedding: bool,
}

fn default_activation() -> String {
    "gelu".to_string()
}

impl Config {
    /// Checks what the model code relies on (head sizes divide, GELU activation).
    pub fn validate(&self) -> Result<()> {
        let bad = self.d_model == 0
            || self.encoder_attention_heads == 0
            || self.decoder_attention_heads == 0
            || !self.d_model.is_multiple_of(self.encoder_attention_heads)
            || !self.d_model.is_multiple_of(self.decoder_attention_heads);
        if bad {
            return Err(Error::invalid(
                "whisper config",
                format!(
                    "d_model {} does not split into {}/{} heads",
                    self.d_model, self.encoder_attention_heads, self.decoder_attention_heads
                ),
            ));
        }
        if self.activation_function != "gelu" {
            return Err(Error::invalid(
                "whisper config",
                format!(
                    "activation `{}` is not supported (Whisper uses gelu)",
                    self.activation_function
                ),
            ));
        }
        Ok(())
    }
}

/// Decoding settings (`generation_config.json`): special token ids, suppressed tokens, languages and tasks.
#[derive(Debug, Clone, Deserialize)]
pub struct GenerationConfig {
    pub decoder_start_token_id: u32,
    pub eos_token_id: u32,
    pub no_timestamps_token_id: u32,
    #[serde(default)]
    pub suppress_tokens: Vec<u32>,
    #[serde(default)]
    pub begin_suppress_tokens: Vec<u32>,
    #[serde(default)]
    pub is_multilingual: bool,
    /// `"<|en|>" -> id`.
    #[serde(default)]
    pub lang_to_id: BTreeMap<String, u32>,
    /// `"transcribe" | "translate" -> id`.
    #[serde(default)]
    pub task_to_id: BTreeMap<String, u32>,
    #[serde(default)]
    pub max_initial_timestamp_index: Option<u32>,
    #[serde(default)]
    pub max_length: Option<usize>,
    /// `<|startofprev|>`: the text after it, up to the start token, is a prompt (earlier text, or a person's
    /// words that set the spelling and style).
    #[serde(default)]
    pub prev_sot_token_id: Option<u32>,
}

impl GenerationConfig {
    /// The first timestamp token, `<|0.00|>`.
    pub fn timestamp_begin(&self) -> u32 {
        self.no_timestamps_token_id + 1
    }

    /// The token of language code `code` ("en", "fr", …).
    pub fn language_token(&self, code: &str) -> Result<u32> {
        self.lang_to_id.get(&format!("<|{code}|>")).copied().ok_or_else(|| {
            Error::invalid(
                "whisper language",
                format!("this model does not know the language `{code}` (use a code such as en, fr, de)"),
            )
        })
    }

    /// The language code of token `id`, if it is a language token.
    pub fn language_code(&self, id: u32) -> Option<String> {
        self.lang_to_id
            .iter()
            .find(|(_, &v)| v == id)
            .map(|(k, _)| {
                k.trim_start_matches("<|")
                    .trim_end_matches("|>")
                    .to_string()
            })
    }
}
