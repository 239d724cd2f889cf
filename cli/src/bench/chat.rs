//! `offgrid bench chat`: prefill and decode tokens/s of a GGUF chat model, timed as a conversation runs them
//! (one prompt prefilled in batches, then one token per step with a readback of its logits), on a fresh
//! session each run after a warm-up run, greedy so every run does the same work. Prints the generated token
//! ids too, so a peer's output can be checked against ours before the figures are compared
//! (`scripts/bench/chat_bench.py` runs llama.cpp the same way).

use clap::Args;
use offgrid_engine::generation::SamplingParams;
use offgrid_engine::models::llama::GenerateOptions;
use serde::Serialize;
use std::path::PathBuf;

/// `offgrid bench chat` arguments.
#[derive(Debug, Args)]
pub struct ChatBenchArgs {
    /// A .gguf file, or a folder holding one.
    #[arg(long)]
    pub model: PathBuf,
    /// The prompt, sent as it is (no chat template).
    #[arg(long)]
    pub prompt: String,
    /// Tokens to generate per run.
    #[arg(long, default_value_t = 64)]
    pub gen: usize,
    /// Timed runs after the warm-up run.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// cpu or gpu.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// What `offgrid bench chat` prints.
#[derive(Debug, Serialize)]
pub struct ChatBenchReport {
    pub device: String,
    pub threads: usize,
    pub prompt_tokens: usize,
    pub tokens: Vec<u32>,
    /// Medians over the timed runs, and every run's figure.
    pub prefill_tok_s: f64,
    pub decode_tok_s: f64,
    pub prefill_runs: Vec<f64>,
    pub decode_runs: Vec<f64>,
    /// Milliseconds to the first generated token: the prefill and the readback of its logits.
    pub time_to_first_token_ms: f64,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs the benchmark and prints JSON.
pub fn command(args: ChatBenchArgs) -> Result<(), String> {
    let model = crate::chat::load(&args.model, &args.device)?;
    let prompt = model
        .encode_prompt(&args.prompt)
        .map_err(|e| e.to_string())?;
    let opts = GenerateOptions {
        sampling: SamplingParams::greedy(),
        max_tokens: args.gen,
        stop_strings: Vec::new(),
    };
    let (mut prefill, mut decode, mut first) = (Vec::new(), Vec::new(), Vec::new());
    let mut tokens = Vec::new();
    for run in 0..=args.runs.max(1) {
        let mut session = model
            .new_session(prompt.len() + args.gen + 1)
            .map_err(|e| e.to_string())?;
        let reply = pollster::block_on(model.generate(&mut session, &prompt, &opts, &mut |_| true))
            .map_err(|e| e.to_string())?;
        if run == 0 {
            tokens = reply.tokens.clone();
            continue;
        }
        if reply.tokens != tokens {
            return Err("two greedy runs gave different tokens".into());
        }
        prefill.push(reply.prefill_tok_s());
        decode.push(reply.decode_tok_s());
        first.push(reply.prefill_ms);
    }
    let report = ChatBenchReport {
        device: args.device,
        threads: rayon_threads(),
        prompt_tokens: prompt.len(),
        tokens,
        prefill_tok_s: median(&prefill),
        decode_tok_s: median(&decode),
        prefill_runs: prefill,
        decode_runs: decode,
        time_to_first_token_ms: median(&first),
    };
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

pub(crate) fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
