//! A chat model (decoder, tokenizer and chat template from one GGUF file) and the conversation state that
//! keeps its KV cache across turns, so each turn prefills only the tokens the cache does not already hold.

use super::model::{Llama, LlamaCache, Logits};
use crate::generation::{Sampler, SamplingParams, StopReason, StopStrings};
use crate::io::VarBuilder;
use crate::microbench::now_ms;
use crate::text::{ChatMessage, ChatTemplate, ChatTokenizer, Role, TokenStream};
use crate::{Device, Error, Result, Tensor};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Used when a GGUF file carries no template: ChatML, which SmolLM and Qwen use.
const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// What one reply may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerateOptions {
    pub sampling: SamplingParams,
    /// The most tokens the reply may have.
    pub max_tokens: usize,
    /// Text that ends the reply when it appears (it is not shown).
    pub stop_strings: Vec<String>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            sampling: SamplingParams::default(),
            max_tokens: 512,
            stop_strings: Vec::new(),
        }
    }
}

/// One finished reply and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    /// Generated token ids (an end-of-turn token included if the model wrote one).
    pub tokens: Vec<u32>,
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys and values were already cached (not run again).
    pub reused_tokens: usize,
    pub stop: StopReason,
    pub prefill_ms: f64,
    pub decode_ms: f64,
}

impl Reply {
    /// Prompt tokens run per second (the reused ones not counted).
    pub fn prefill_tok_s(&self) -> f64 {
        (self.prompt_tokens - self.reused_tokens) as f64 / (self.prefill_ms / 1e3).max(1e-9)
    }
    /// Generated tokens per second after the first.
    pub fn decode_tok_s(&self) -> f64 {
        self.tokens.len().saturating_sub(1) as f64 / (self.decode_ms / 1e3).max(1e-9)
    }
}

/// One conversation's cache and the tokens it holds.
#[derive(Debug)]
pub struct ChatSession {
    cache: LlamaCache,
    ids: Vec<u32>,
}

impl ChatSession {
    /// Tokens whose keys and values are cached.
    pub fn cached_tokens(&self) -> &[u32] {
        &self.ids
    }
    /// The most tokens the conversation can hold.
    pub fn context_len(&self) -> usize {
        self.cache.max_len()
    }
}

/// A decoder with its tokenizer and chat template.
#[derive(Debug)]
pub struct ChatModel {
    model: Llama,
    tokenizer: ChatTokenizer,
    template: ChatTemplate,
}

impl ChatModel {
    /// Loads everything from one GGUF file.
    pub fn from_gguf(bytes: impl Into<Arc<[u8]>>, device: &Device) -> Result<Self> {
        let vb = VarBuilder::from_gguf(bytes, device)?;
        let gguf = vb
            .gguf()
            .ok_or_else(|| Error::invalid("load model", "expected a GGUF file"))?;
        let tokenizer = ChatTokenizer::from_gguf(gguf)?;
        let source = gguf
            .get("tokenizer.chat_template")
            .and_then(|v| v.as_str())
            .unwrap_or(CHATML)
            .to_string();
        let text_of = |id: Option<u32>| id.and_then(|i| tokenizer.token(i)).unwrap_or_default();
        let template = ChatTemplate::new(
            &source,
            &text_of(tokenizer.bos()),
            &text_of(tokenizer.eos()),
        )?;
        let model = Llama::from_gguf(&vb)?;
        Ok(ChatModel {
            model,
            tokenizer,
            template,
        })
    }

    /// The decoder.
    pub fn model(&self) -> &Llama {
        &self.model
    }
    /// The tokenizer.
    pub fn tokenizer(&self) -> &ChatTokenizer {
        &self.tokenizer
    }
    /// The chat template.
    pub fn template(&self) -> &ChatTemplate {
        &self.template
    }

    /// A new conversation holding up to `context_len` tokens (at most the model's trained context).
    pub fn new_session(&self, context_len: usize) -> Result<ChatSession> {
        Ok(ChatSession {
            cache: self.model.new_cache(context_len)?,
            ids: Vec::new(),
        })
    }

    /// Token ids of a prompt string (BOS added if the model wants it and the text did not write it).
    pub fn encode_prompt(&self, prompt: &str) -> Result<Vec<u32>> {
        let mut ids = self.tokenizer.encode(prompt)?;
        if let Some(bos) = self.tokenizer.bos().filter(|_| self.tokenizer.add_bos()) {
            if ids.first() != Some(&bos) {
                ids.insert(0, bos);
            }
        }
        Ok(ids)
    }

    /// The prompt for `messages` that leaves `reserve` tokens of `context_len` for the reply: the system
    /// message is kept and the oldest turns are dropped until it fits. Returns the ids and how many
    /// messages were dropped.
    pub fn prompt_for(
        &self,
        messages: &[ChatMessage],
        context_len: usize,
        reserve: usize,
    ) -> Result<(Vec<u32>, usize)> {
        let budget = context_len.saturating_sub(reserve);
        let system: Vec<ChatMessage> = messages
            .iter()
            .take_while(|m| m.role == Role::System)
            .cloned()
            .collect();
        let turns = &messages[system.len()..];
        for dropped in 0..turns.len().max(1) {
            // Start the kept turns on a user message, as templates expect.
            if turns.get(dropped).is_some_and(|m| m.role != Role::User) {
                continue;
            }
            let kept: Vec<ChatMessage> = system
                .iter()
                .chain(&turns[dropped.min(turns.len())..])
                .cloned()
                .collect();
            let ids = self.encode_prompt(&self.template.render(&kept, true)?)?;
            if ids.len() <= budget {
                return Ok((ids, dropped));
            }
        }
        Err(Error::invalid(
            "chat",
            format!(
                "the message is too long for the model's context ({context_len} tokens with {reserve} kept for \
                 the reply): shorten it or start a new conversation"
            ),
        ))
    }

    async fn last_logits(&self, logits: Tensor) -> Result<Vec<f32>> {
        logits.to_vec_f32_async().await
    }

    /// Generates a reply to `prompt` (token ids) in `session`, reusing every cached token the prompt starts
    /// with. `on_text` receives the reply as it grows and returns `false` to stop it.
    pub async fn generate(
        &self,
        session: &mut ChatSession,
        prompt: &[u32],
        opts: &GenerateOptions,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Reply> {
        if prompt.is_empty() {
            return Err(Error::invalid("chat", "the prompt is empty"));
        }
        if prompt.len() >= session.cache.max_len() {
            return Err(Error::invalid(
                "chat",
                format!(
                    "the prompt has {} tokens but the context holds {}",
                    prompt.len(),
                    session.cache.max_len()
                ),
            ));
        }
        let mut sampler = Sampler::new(opts.sampling)?;
        // Reuse the cached prefix, but run at least the last prompt token: its logits pick the first reply token.
        let common = session
            .ids
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count()
            .min(prompt.len() - 1);
        session.cache.truncate(common);
        session.ids.truncate(common);
        let t0 = now_ms();
        let logits = self
            .model
            .forward(&prompt[common..], &mut session.cache, Logits::Last)?;
        let mut logits = self.last_logits(logits).await?;
        session.ids.extend_from_slice(&prompt[common..]);
        let prefill_ms = now_ms() - t0;

        let t1 = now_ms();
        let mut history: Vec<u32> = prompt.to_vec();
        let (mut tokens, mut text) = (Vec::new(), String::new());
        let mut stream = TokenStream::new();
        let mut stops = StopStrings::new(opts.stop_strings.iter().cloned());
        let stop = loop {
            if tokens.len() >= opts.max_tokens {
                break StopReason::MaxTokens;
            }
            let id = sampler.sample(&mut logits, &history)?;
            tokens.push(id);
            history.push(id);
            if self.tokenizer.end_of_turn().contains(&id) {
                break StopReason::EndOfTurn;
            }
            let (shown, hit_stop) = stops.push(&stream.push(&self.tokenizer, id)?);
            text.push_str(&shown);
            if !shown.is_empty() && !on_text(&shown) {
                break StopReason::Cancelled;
            }
            if hit_stop {
                break StopReason::StopString;
            }
            if session.cache.len() >= session.cache.max_len() {
                break StopReason::ContextFull;
            }
            let next = self
                .model
                .forward(&[id], &mut session.cache, Logits::Last)?;
            logits = self.last_logits(next).await?;
            session.ids.push(id);
        };
        if matches!(
            stop,
            StopReason::MaxTokens | StopReason::ContextFull | StopReason::EndOfTurn
        ) {
            let (rest, _) = stops.push(&stream.finish(&self.tokenizer)?);
            let rest = rest + &stops.flush();
            if !rest.is_empty() {
                on_text(&rest);
                text.push_str(&rest);
            }
        }
        Ok(Reply {
            text,
            tokens,
            prompt_tokens: prompt.len(),
            reused_tokens: common,
            stop,
            prefill_ms,
            decode_ms: now_ms() - t1,
        })
    }
}
