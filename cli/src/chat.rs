//! `offgrid chat`: a conversation with a GGUF chat model. With `--prompt`, one reply (printed as it is
//! generated, or as JSON with `--json`); without, an interactive conversation on stdin whose turns reuse the
//! KV cache (only each turn's new tokens are run).

use crate::transcribe::open_device;
use clap::Args;
use offgrid_engine::generation::SamplingParams;
use offgrid_engine::models::llama::{ChatModel, ChatSession, GenerateOptions, Reply};
use offgrid_engine::text::{ChatMessage, Role};
use serde::Serialize;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// `offgrid chat` arguments.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// A .gguf file, or a folder holding exactly one.
    #[arg(long)]
    pub model: PathBuf,
    /// System prompt.
    #[arg(long)]
    pub system: Option<String>,
    /// One message to answer (else: a conversation on stdin, one message per line).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Send the prompt as it is, without the chat template.
    #[arg(long)]
    pub raw: bool,
    /// The most tokens a reply may have.
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,
    /// 0 is greedy (always the most likely token).
    #[arg(long, default_value_t = 0.8)]
    pub temperature: f32,
    #[arg(long, default_value_t = 40)]
    pub top_k: usize,
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f32,
    #[arg(long, default_value_t = 0.05)]
    pub min_p: f32,
    #[arg(long, default_value_t = 1.0)]
    pub repeat_penalty: f32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Tokens the conversation may hold (prompt and replies).
    #[arg(long, default_value_t = 4096)]
    pub context: usize,
    /// cpu or gpu.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Print {"text", "tokens", "prompt_tokens", "prefill_tok_s", "decode_tok_s"} instead of the text.
    #[arg(long)]
    pub json: bool,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
pub struct ChatJson {
    pub text: String,
    pub tokens: Vec<u32>,
    pub prompt_tokens: usize,
    pub prompt_ids: Vec<u32>,
    pub stop: offgrid_engine::generation::StopReason,
    pub prefill_tok_s: f64,
    pub decode_tok_s: f64,
}

/// The GGUF file for `--model`: the file, or the only .gguf in a folder.
pub fn gguf_file(model: &Path) -> Result<PathBuf, String> {
    if !model.is_dir() {
        return Ok(model.to_path_buf());
    }
    let entries = std::fs::read_dir(model).map_err(|e| format!("{}: {e}", model.display()))?;
    let ggufs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "gguf"))
        .collect();
    match ggufs.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no .gguf file in {}", model.display())),
        _ => Err(format!(
            "{} holds several .gguf files: name one",
            model.display()
        )),
    }
}

/// Reads and loads the model.
pub fn load(model: &Path, device: &str) -> Result<ChatModel, String> {
    let path = gguf_file(model)?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    ChatModel::from_gguf(bytes, &open_device(device)?)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn options(args: &ChatArgs) -> GenerateOptions {
    GenerateOptions {
        sampling: SamplingParams {
            temperature: args.temperature,
            top_k: args.top_k,
            top_p: args.top_p,
            min_p: args.min_p,
            repetition_penalty: args.repeat_penalty,
            seed: args.seed,
            ..SamplingParams::default()
        },
        max_tokens: args.max_tokens,
        stop_strings: Vec::new(),
    }
}

fn reply(
    model: &ChatModel,
    session: &mut ChatSession,
    ids: &[u32],
    opts: &GenerateOptions,
    stream: bool,
) -> Result<Reply, String> {
    let mut out = std::io::stdout().lock();
    let mut on_text = |t: &str| {
        if stream {
            // A closed pipe ends the reply rather than the program with an error.
            write!(out, "{t}").and_then(|_| out.flush()).is_ok()
        } else {
            true
        }
    };
    let r = pollster::block_on(model.generate(session, ids, opts, &mut on_text))
        .map_err(|e| e.to_string())?;
    if stream {
        let _ = writeln!(out);
    }
    Ok(r)
}

/// Runs `offgrid chat`.
pub fn command(args: ChatArgs) -> Result<(), String> {
    let model = load(&args.model, &args.device)?;
    let opts = options(&args);
    let mut session = model.new_session(args.context).map_err(|e| e.to_string())?;
    let mut messages: Vec<ChatMessage> = args
        .system
        .iter()
        .map(|s| ChatMessage::new(Role::System, s.clone()))
        .collect();
    let context = session.context_len();
    if let Some(prompt) = &args.prompt {
        let ids = if args.raw {
            model.encode_prompt(prompt).map_err(|e| e.to_string())?
        } else {
            messages.push(ChatMessage::new(Role::User, prompt.clone()));
            model
                .prompt_for(&messages, context, args.max_tokens.min(context / 2))
                .map_err(|e| e.to_string())?
                .0
        };
        let r = reply(&model, &mut session, &ids, &opts, !args.json)?;
        if args.json {
            let json = ChatJson {
                prefill_tok_s: r.prefill_tok_s(),
                decode_tok_s: r.decode_tok_s(),
                text: r.text,
                tokens: r.tokens,
                prompt_tokens: r.prompt_tokens,
                prompt_ids: ids,
                stop: r.stop,
            };
            let text = serde_json::to_string(&json).map_err(|e| e.to_string())?;
            println!("{text}");
        }
        return Ok(());
    }
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        messages.push(ChatMessage::new(Role::User, line));
        let (ids, dropped) = model
            .prompt_for(&messages, context, args.max_tokens.min(context / 2))
            .map_err(|e| e.to_string())?;
        if dropped > 0 {
            eprintln!("(the conversation is longer than the context: the oldest {dropped} messages are left out)");
        }
        let r = reply(&model, &mut session, &ids, &opts, true)?;
        eprintln!(
            "({} prompt tokens, {} reused; {:.1} tok/s prefill, {:.1} tok/s decode)",
            r.prompt_tokens,
            r.reused_tokens,
            r.prefill_tok_s(),
            r.decode_tok_s()
        );
        messages.push(ChatMessage::new(Role::Assistant, r.text));
    }
    Ok(())
}
