//! Chat in the worker: loads a GGUF chat model from the model cache (downloading it first if needed), keeps
//! one conversation's KV cache between turns, and streams each reply token by token as `Partial` text,
//! yielding to the event loop between tokens so that Cancel (Stop) is seen at once.

use crate::protocol::{
    Backend, ChatRole, ChatSettings, ChatTurn, ErrorKind, JobResult, ModelChoice, Progress, Stage,
    WorkerError,
};
use crate::selftest::engine_error;
use crate::store::{self, CancelFlag};
use offgrid_catalog::{Catalog, ModelVariant};
use offgrid_engine::generation::{SamplingParams, StopReason};
use offgrid_engine::models::llama::{ChatModel, ChatSession, GenerateOptions};
use offgrid_engine::text::{ChatMessage, Role};
use std::cell::RefCell;
use std::rc::Rc;

/// Tokens one conversation can hold in the app (prompt and replies): the KV cache is sized for it.
pub const CONTEXT_TOKENS: usize = 2048;

/// The loaded chat model and the cache of the conversation it served last.
#[derive(Default)]
pub struct ChatState {
    model: Option<(String, Backend, Rc<ChatModel>)>,
    session: Option<ChatSession>,
}

/// Shared handle on the chat state.
pub type SharedChat = Rc<RefCell<ChatState>>;

fn bad_input(msg: impl Into<String>) -> WorkerError {
    WorkerError::new(ErrorKind::BadInput, msg)
}

/// The one .gguf file of a chat variant.
fn gguf_path(variant: &ModelVariant) -> Result<&str, WorkerError> {
    variant
        .files
        .iter()
        .map(|f| f.path.as_str())
        .find(|p| p.ends_with(".gguf"))
        .ok_or_else(|| bad_input(format!("{} has no .gguf file to run.", variant.title)))
}

async fn load(
    state: &SharedChat,
    variant: &ModelVariant,
    choice: &ModelChoice,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<Rc<ChatModel>, WorkerError> {
    if let Some((id, backend, model)) = &state.borrow().model {
        if *id == variant.id && *backend == choice.backend {
            return Ok(model.clone());
        }
    }
    store::download_variant(variant, choice.mirror.as_deref(), cancel, report).await?;
    report(Progress::steps(Stage::Loading, 0, 1));
    let bytes = store::read_cached(variant, gguf_path(variant)?).await?;
    let device = crate::selftest::device_for(choice.backend).await?;
    let model = Rc::new(ChatModel::from_gguf(bytes, &device).map_err(engine_error)?);
    let mut s = state.borrow_mut();
    s.model = Some((variant.id.clone(), choice.backend, model.clone()));
    // A cache belongs to the model that filled it.
    s.session = None;
    Ok(model)
}

fn to_engine(turn: &ChatTurn) -> ChatMessage {
    let role = match turn.role {
        ChatRole::System => Role::System,
        ChatRole::User => Role::User,
        ChatRole::Assistant => Role::Assistant,
    };
    ChatMessage::new(role, turn.content.clone())
}

fn options(settings: &ChatSettings) -> GenerateOptions {
    GenerateOptions {
        sampling: SamplingParams {
            temperature: settings.temperature,
            top_k: settings.top_k as usize,
            top_p: settings.top_p,
            min_p: settings.min_p,
            repetition_penalty: settings.repeat_penalty,
            seed: settings.seed,
            ..SamplingParams::default()
        },
        max_tokens: settings.max_tokens.clamp(1, (CONTEXT_TOKENS / 2) as u32) as usize,
        stop_strings: Vec::new(),
    }
}

fn stop_name(stop: StopReason) -> &'static str {
    match stop {
        StopReason::EndOfTurn => "end_of_turn",
        StopReason::StopString => "stop_string",
        StopReason::MaxTokens => "max_tokens",
        StopReason::ContextFull => "context_full",
        StopReason::Cancelled => "cancelled",
    }
}

/// Answers the last user message of `messages`, streaming the reply through `emit_text`.
#[allow(clippy::too_many_arguments)] // the request's fields, passed through
pub async fn reply(
    state: &SharedChat,
    catalog: &Catalog,
    choice: ModelChoice,
    messages: Vec<ChatTurn>,
    settings: ChatSettings,
    emit_text: &dyn Fn(String),
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    match messages.last() {
        Some(m) if m.role == ChatRole::User && !m.content.trim().is_empty() => {}
        _ => return Err(bad_input("Type a message first.")),
    }
    let variant = catalog
        .get(&choice.variant_id)
        .filter(|v| v.task == offgrid_catalog::Task::Chat)
        .ok_or_else(|| {
            bad_input(format!(
                "\"{}\" is not a chat model in the catalog. Pick one on the Device page.",
                choice.variant_id
            ))
        })?;
    let model = load(state, variant, &choice, cancel, report).await?;
    let opts = options(&settings);
    let messages: Vec<ChatMessage> = messages.iter().map(to_engine).collect();
    let (prompt, dropped) = model
        .prompt_for(&messages, CONTEXT_TOKENS, opts.max_tokens)
        .map_err(|e| bad_input(e.to_string()))?;
    report(Progress::steps(Stage::Running, 0, prompt.len() as u64));
    // The conversation's cache leaves the shared state while it is used, so another job cannot touch it.
    let taken = state.borrow_mut().session.take();
    let mut session = match taken {
        Some(s) => s,
        None => model.new_session(CONTEXT_TOKENS).map_err(engine_error)?,
    };
    let result = stream_reply(&model, &mut session, &prompt, &opts, emit_text, cancel).await;
    let context_used = session.cached_tokens().len() as u32;
    state.borrow_mut().session = Some(session);
    let reply = result?;
    Ok(JobResult::ChatReply {
        prefill_tok_s: reply.prefill_tok_s(),
        decode_tok_s: reply.decode_tok_s(),
        text: reply.text,
        stop: stop_name(reply.stop).to_string(),
        prompt_tokens: reply.prompt_tokens as u32,
        reused_tokens: reply.reused_tokens as u32,
        dropped_messages: dropped as u32,
        context_used,
        context_len: CONTEXT_TOKENS as u32,
        backend: choice.backend,
    })
}

async fn stream_reply(
    model: &ChatModel,
    session: &mut ChatSession,
    prompt: &[u32],
    opts: &GenerateOptions,
    emit_text: &dyn Fn(String),
    cancel: &CancelFlag,
) -> Result<offgrid_engine::models::llama::Reply, WorkerError> {
    let mut generation = model
        .start(session, prompt, opts)
        .await
        .map_err(engine_error)?;
    while let Some(text) = generation.next_text().await.map_err(engine_error)? {
        if !text.is_empty() {
            emit_text(text);
        }
        // A turn of the event loop: Cancel arrives as a message.
        gloo_timers::future::TimeoutFuture::new(0).await;
        if cancel.get() {
            generation.cancel();
        }
    }
    Ok(generation.finish())
}
