//! A chat model (decoder, tokenizer and chat template from one GGUF file) and the conversation state that
//! keeps its KV cache across turns, so each turn prefills only the tokens the cache does not already hold.

use super::model::{Llama, LlamaCache, Logits};
use crate::generation::{Sampler, SamplingParams, StopReason, StopStrings};
use crate::io::VarBuilder;
use crate::microbench::now_ms;
use crate::text::chat_template::TEMPLATE_OUTPUT_BYTES;
use crate::text::{ChatMessage, ChatTemplate, ChatTokenizer, Role, TokenStream};
use crate::{Device, Error, Result};
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
            // Text this long fits no context (32k tokens at most, four bytes a token on average) and would
            // pass the template's output cap: drop turns before rendering it.
            let text_bytes: usize = kept.iter().map(|m| m.content.len()).sum();
            if text_bytes > TEMPLATE_OUTPUT_BYTES / 2 {
                continue;
            }
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

    /// Prefills `prompt` (token ids) in `session`, reusing every cached token the prompt starts with, and
    /// returns the reply to draw text from with [`Generation::next_text`].
    pub async fn start<'a>(
        &'a self,
        session: &'a mut ChatSession,
        prompt: &[u32],
        opts: &GenerateOptions,
    ) -> Result<Generation<'a>> {
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
        let sampler = Sampler::new(opts.sampling)?;
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
        let logits = logits.to_vec_f32_async().await?;
        session.ids.extend_from_slice(&prompt[common..]);
        let prefill_ms = now_ms() - t0;
        Ok(Generation {
            model: self,
            session,
            sampler,
            stops: StopStrings::new(opts.stop_strings.iter().cloned()),
            stream: TokenStream::new(),
            history: prompt.to_vec(),
            logits,
            max_tokens: opts.max_tokens,
            reply: Reply {
                text: String::new(),
                tokens: Vec::new(),
                prompt_tokens: prompt.len(),
                reused_tokens: common,
                stop: StopReason::MaxTokens,
                prefill_ms,
                decode_ms: 0.0,
            },
            decode_start: now_ms(),
            finished: false,
        })
    }

    /// Generates a whole reply; `on_text` receives it as it grows and returns `false` to stop it.
    pub async fn generate(
        &self,
        session: &mut ChatSession,
        prompt: &[u32],
        opts: &GenerateOptions,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Reply> {
        let mut generation = self.start(session, prompt, opts).await?;
        while let Some(text) = generation.next_text().await? {
            if !text.is_empty() && !on_text(&text) {
                generation.cancel();
            }
        }
        Ok(generation.finish())
    }
}

/// A reply being generated: one token per [`Generation::next_text`], so the caller can stream it, yield to
/// its event loop and stop it between tokens.
pub struct Generation<'a> {
    model: &'a ChatModel,
    session: &'a mut ChatSession,
    sampler: Sampler,
    stops: StopStrings,
    stream: TokenStream,
    history: Vec<u32>,
    /// Logits for the next token.
    logits: Vec<f32>,
    max_tokens: usize,
    reply: Reply,
    decode_start: f64,
    finished: bool,
}

impl std::fmt::Debug for Generation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("reply", &self.reply)
            .finish()
    }
}

impl Generation<'_> {
    /// Picks the next token and returns the text it completes (possibly empty), or `None` once the reply is
    /// over ([`Generation::finish`] says why).
    pub async fn next_text(&mut self) -> Result<Option<String>> {
        if self.finished {
            return Ok(None);
        }
        let cache_full = self.session.cache.len() >= self.session.cache.max_len();
        if self.reply.tokens.len() >= self.max_tokens || cache_full {
            let stop = if cache_full {
                StopReason::ContextFull
            } else {
                StopReason::MaxTokens
            };
            return self.end(stop).map(Some);
        }
        let id = self.sampler.sample(&mut self.logits, &self.history)?;
        self.reply.tokens.push(id);
        self.history.push(id);
        let tokenizer = &self.model.tokenizer;
        if tokenizer.end_of_turn().contains(&id) {
            return self.end(StopReason::EndOfTurn).map(Some);
        }
        let (shown, hit_stop) = self.stops.push(&self.stream.push(tokenizer, id)?);
        self.reply.text.push_str(&shown);
        if hit_stop {
            self.finished = true;
            self.reply.stop = StopReason::StopString;
            return Ok(Some(shown));
        }
        // Feed the token now so that its keys and values are cached however the reply ends.
        let next = self
            .model
            .model
            .forward(&[id], &mut self.session.cache, Logits::Last)?;
        self.logits = next.to_vec_f32_async().await?;
        self.session.ids.push(id);
        Ok(Some(shown))
    }

    /// Stops the reply before the next token.
    pub fn cancel(&mut self) {
        if !self.finished {
            self.finished = true;
            self.reply.stop = StopReason::Cancelled;
        }
    }

    /// The reply so far and why it ended.
    pub fn finish(mut self) -> Reply {
        self.reply.decode_ms = now_ms() - self.decode_start;
        self.reply
    }

    /// Ends the reply with `stop` and returns the text held back until now.
    fn end(&mut self, stop: StopReason) -> Result<String> {
        self.finished = true;
        self.reply.stop = stop;
        let (rest, _) = self.stops.push(&self.stream.finish(&self.model.tokenizer)?);
        let rest = rest + &self.stops.flush();
        self.reply.text.push_str(&rest);
        Ok(rest)
    }
}
