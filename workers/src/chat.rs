//! Chat in the worker: loads a GGUF chat model from the model cache (downloading it first if needed), keeps
//! one conversation's KV cache between turns, and streams each reply token by token as `Partial` text,
//! yielding to the event loop between tokens so that Cancel (Stop) is seen at once.

use crate::job::{engine_error, JobCtx};
use crate::protocol::{
    ChatRequest, ChatRole, ChatSettings, ChatTurn, ErrorKind, JobResult, ModelChoice, Progress,
    Stage, WorkerError,
};
use crate::registry::LoadTarget;
use offgrid_catalog::Task;
use offgrid_engine::generation::{SamplingParams, StopReason};
use offgrid_engine::models::llama::{ChatModel, ChatSession, GenerateOptions};
use offgrid_engine::text::{ChatMessage, Role};
use std::rc::{Rc, Weak};

/// Tokens one conversation can hold in the app (prompt and replies): the KV cache is sized for it.
pub const CONTEXT_TOKENS: usize = 2048;

/// The cache of the conversation served last, and the model that filled it (not kept alive by it: the
/// registry decides how long a model stays).
#[derive(Default)]
pub struct ChatState {
    session: Option<(Weak<ChatModel>, ChatSession)>,
}

fn bad_input(msg: impl Into<String>) -> WorkerError {
    WorkerError::new(ErrorKind::BadInput, msg)
}

/// The chat model for `choice`, from the registry.
async fn load(ctx: &JobCtx, choice: &ModelChoice) -> Result<Rc<ChatModel>, WorkerError> {
    ctx.registry
        .load(ctx, Task::Chat, choice, async |target: LoadTarget<'_>| {
            let path = target.files.path_ending(".gguf")?;
            let bytes = target.files.read(path).await?;
            ChatModel::from_gguf(bytes, &target.device).map_err(engine_error)
        })
        .await
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

/// Answers the last user message of the request's conversation, streaming the reply as `Partial` text.
pub async fn run(ctx: &JobCtx, request: ChatRequest) -> Result<JobResult, WorkerError> {
    let ChatRequest {
        model: choice,
        messages,
        settings,
    } = request;
    match messages.last() {
        Some(m) if m.role == ChatRole::User && !m.content.trim().is_empty() => {}
        _ => return Err(bad_input("Type a message first.")),
    }
    let model = load(ctx, &choice).await?;
    let state = ctx.tasks.get::<ChatState>();
    let opts = options(&settings);
    let messages: Vec<ChatMessage> = messages.iter().map(to_engine).collect();
    let (prompt, dropped) = model
        .prompt_for(&messages, CONTEXT_TOKENS, opts.max_tokens)
        .map_err(|e| bad_input(e.to_string()))?;
    ctx.progress(Progress::steps(Stage::Running, 0, prompt.len() as u64));
    // The conversation's cache leaves the shared state while it is used, so another job cannot touch it.
    // A cache filled by another model (or an earlier load of this one) is useless.
    let taken = state.borrow_mut().session.take();
    let mut session = match taken {
        Some((filled_by, s)) if filled_by.upgrade().is_some_and(|m| Rc::ptr_eq(&m, &model)) => s,
        _ => model.new_session(CONTEXT_TOKENS).map_err(engine_error)?,
    };
    let result = stream_reply(ctx, &model, &mut session, &prompt, &opts).await;
    let context_used = session.cached_tokens().len() as u32;
    state.borrow_mut().session = Some((Rc::downgrade(&model), session));
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
    ctx: &JobCtx,
    model: &ChatModel,
    session: &mut ChatSession,
    prompt: &[u32],
    opts: &GenerateOptions,
) -> Result<offgrid_engine::models::llama::Reply, WorkerError> {
    let mut generation = model
        .start(session, prompt, opts)
        .await
        .map_err(engine_error)?;
    while let Some(text) = generation.next_text().await.map_err(engine_error)? {
        if !text.is_empty() {
            ctx.partial(text);
        }
        // A turn of the event loop: Cancel arrives as a message.
        gloo_timers::future::TimeoutFuture::new(0).await;
        if ctx.is_cancelled() {
            generation.cancel();
        }
    }
    Ok(generation.finish())
}
