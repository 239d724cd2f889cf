//! SmolLM2-135M-Instruct with the REAL weights (the published Q4_1 GGUF) against llama.cpp and transformers
//! (`scripts/fixtures/chat_fixtures.py` wrote `fixtures/chat_smollm2.json`): tokenizer ids, chat-template
//! prompts, greedy replies and teacher-forced top-1 tokens, on the CPU and on the GPU.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::generation::SamplingParams;
use offgrid_engine::generation::StopReason;
use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::models::llama::{ChatModel, GenerateOptions, Logits};
use offgrid_engine::text::{ChatMessage, TokenStream};
use offgrid_engine::Device;
use serde_json::Value;
use std::path::PathBuf;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/chat_smollm2.json")).unwrap()
}

fn gguf_bytes() -> Vec<u8> {
    let root = std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"));
    let path = root.join("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "real SmolLM2 weights missing at {} ({e}): run scripts/fetch-test-weights.sh (or set OFFGRID_WEIGHTS)",
            path.display()
        )
    })
}

fn ids(v: &Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

fn load(device: &Device) -> ChatModel {
    ChatModel::from_gguf(gguf_bytes(), device).expect("load SmolLM2")
}

#[test]
fn tokenizer_and_template_match_llama_cpp_and_transformers() {
    let fx = fixture();
    let model = load(&Device::Cpu);
    let tok = model.tokenizer();
    for case in fx["texts"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        assert_eq!(
            tok.encode(text).unwrap(),
            ids(&case["ids"]),
            "ids of {text:?}"
        );
        // Decoding gives the text back, and the streaming decoder emits the same text in whole characters.
        let want = ids(&case["ids"]);
        assert_eq!(tok.decode(&want).unwrap(), text);
        let mut stream = TokenStream::new();
        let mut streamed = String::new();
        for &id in &want {
            let piece = stream.push(tok, id).unwrap();
            assert!(
                !piece.contains('\u{FFFD}'),
                "half a character emitted for {text:?}"
            );
            streamed.push_str(&piece);
        }
        streamed.push_str(&stream.finish(tok).unwrap());
        assert_eq!(streamed, text);
    }
    for chat in fx["chats"].as_array().unwrap() {
        let messages: Vec<ChatMessage> = serde_json::from_value(chat["messages"].clone()).unwrap();
        let prompt = model.template().render(&messages, true).unwrap();
        assert_eq!(prompt, chat["prompt"].as_str().unwrap());
        let (prompt_ids, dropped) = model.prompt_for(&messages, 2048, 64).unwrap();
        assert_eq!(dropped, 0);
        assert_eq!(prompt_ids, ids(&chat["prompt_ids"]));
    }
}

/// A top-2 logit gap below this is a near tie: llama.cpp's logits on these prompts are 0.1-0.9 (mean |Δ|, max 2.0) away
/// from an exact f64 forward of the same dequantized weights, ours 0.04-0.07 (BENCHMARKS.md, "Chat: agreement"),
/// so where llama.cpp's top two are closer than this its choice is not a reference for ours.
const NEAR_TIE: f32 = 1.0;

/// Greedy replies against llama.cpp's: equal token for token until the first step where llama.cpp's own top two
/// logits were within [`NEAR_TIE`]; after a near tie the texts may part. Returns the replies equal throughout
/// and the tokens compared.
fn greedy_agreement(device: &Device, prompts: usize) -> (usize, usize) {
    let fx = fixture();
    let model = load(device);
    let opts = GenerateOptions {
        sampling: SamplingParams::greedy(),
        max_tokens: 32,
        stop_strings: Vec::new(),
    };
    let (mut equal, mut compared) = (0, 0);
    for chat in fx["chats"].as_array().unwrap().iter().take(prompts) {
        let prompt = ids(&chat["prompt_ids"]);
        let want = ids(&chat["greedy"]);
        let gaps: Vec<f32> = serde_json::from_value(chat["greedy_top2_gap"].clone()).unwrap();
        let mut session = model.new_session(512).unwrap();
        let mut streamed = String::new();
        let reply = pollster::block_on(model.generate(&mut session, &prompt, &opts, &mut |t| {
            streamed.push_str(t);
            true
        }))
        .unwrap();
        assert_eq!(streamed, reply.text, "the stream and the reply agree");
        match reply.tokens.iter().zip(&want).position(|(a, b)| a != b) {
            None if reply.tokens.len() == want.len() => {
                equal += 1;
                compared += want.len();
                let ended = model
                    .tokenizer()
                    .end_of_turn()
                    .contains(want.last().unwrap());
                let stop = if ended {
                    StopReason::EndOfTurn
                } else {
                    StopReason::MaxTokens
                };
                assert_eq!(reply.stop, stop);
            }
            first => {
                let j = first.unwrap_or(reply.tokens.len().min(want.len()));
                compared += j;
                eprintln!(
                    "{}: parted from llama.cpp at token {j} (llama.cpp's top-2 gap there {:?})",
                    device.name(),
                    gaps.get(j)
                );
                assert!(
                    gaps.get(j).is_some_and(|&g| g < NEAR_TIE),
                    "{}: reply parted from llama.cpp's at token {j} where llama.cpp was not near a tie \
                     (gap {:?}):\n ours {:?}\n llama.cpp {:?}",
                    device.name(),
                    gaps.get(j),
                    reply.tokens,
                    want
                );
            }
        }
    }
    (equal, compared)
}

#[test]
fn greedy_replies_match_llama_cpp_on_cpu() {
    let (equal, compared) = greedy_agreement(&Device::Cpu, 10);
    eprintln!(
        "cpu: {equal} of 10 replies equal throughout, {compared} tokens equal before any near tie"
    );
    assert!(
        compared >= 80,
        "only {compared} tokens agreed before the first near tie"
    );
}

#[test]
fn teacher_forced_top1_matches_llama_cpp() {
    let fx = fixture();
    let model = load(&Device::Cpu);
    let (mut agree, mut total) = (0, 0);
    for case in fx["teacher_forced"].as_array().unwrap() {
        let tokens = ids(&case["ids"]);
        let want = ids(&case["top1"]);
        let mut cache = model.model().new_cache(tokens.len()).unwrap();
        let logits = model
            .model()
            .forward(&tokens, &mut cache, Logits::All)
            .unwrap();
        let vocab = model.model().config().vocab_size;
        assert_eq!(logits.dims(), [tokens.len(), vocab]);
        let values = logits.to_vec_f32().unwrap();
        for (row, &w) in values.chunks_exact(vocab).zip(&want) {
            let top = offgrid_engine::generation::argmax(row).unwrap() as u32;
            agree += usize::from(top == w);
            total += 1;
        }
    }
    let rate = agree as f64 / total as f64;
    assert!(
        rate >= 0.98,
        "teacher-forced top-1 agreement {agree}/{total}"
    );
}

#[test]
fn a_second_turn_prefills_only_its_new_tokens() {
    let model = load(&Device::Cpu);
    let opts = GenerateOptions {
        sampling: SamplingParams::greedy(),
        max_tokens: 8,
        stop_strings: Vec::new(),
    };
    let mut messages = vec![ChatMessage::new(
        offgrid_engine::text::Role::User,
        "Say hello.",
    )];
    let mut session = model.new_session(512).unwrap();
    let (first, _) = model.prompt_for(&messages, 512, 8).unwrap();
    let r1 =
        pollster::block_on(model.generate(&mut session, &first, &opts, &mut |_| true)).unwrap();
    assert_eq!(r1.reused_tokens, 0);
    messages.push(ChatMessage::new(
        offgrid_engine::text::Role::Assistant,
        r1.text.clone(),
    ));
    messages.push(ChatMessage::new(offgrid_engine::text::Role::User, "Again."));
    let (second, _) = model.prompt_for(&messages, 512, 8).unwrap();
    let r2 =
        pollster::block_on(model.generate(&mut session, &second, &opts, &mut |_| true)).unwrap();
    // Everything up to the first reply's text was cached; the reply in the new prompt is re-tokenized from its
    // text, so reuse reaches at least the first prompt.
    assert!(
        r2.reused_tokens >= first.len(),
        "reused {} of {}",
        r2.reused_tokens,
        first.len()
    );
    // Running a prompt's tail after its cached head gives the logits of running it whole. Not bit for bit: a
    // short tail takes the few-query attention path and the whole prompt the GEMM path, which sum in another
    // order; over 30 layers that moves logits of magnitude ~30 by ~1e-4.
    let llama = model.model();
    let head = first.len();
    let mut cached = llama.new_cache(512).unwrap();
    llama
        .forward(&second[..head], &mut cached, Logits::Last)
        .unwrap();
    let tail = llama
        .forward(&second[head..], &mut cached, Logits::Last)
        .unwrap();
    let mut whole_cache = llama.new_cache(512).unwrap();
    let whole = llama
        .forward(&second, &mut whole_cache, Logits::Last)
        .unwrap();
    let (tail, whole) = (tail.to_vec_f32().unwrap(), whole.to_vec_f32().unwrap());
    let worst = tail
        .iter()
        .zip(&whole)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        worst < 2e-3,
        "cached head + tail vs whole prompt: max |Δlogit| {worst}"
    );
    let mut fresh = model.new_session(512).unwrap();
    // Cancelling from the stream stops after the first piece of text.
    let mut pieces = 0;
    let r4 = pollster::block_on(model.generate(&mut fresh, &second, &opts, &mut |_| {
        pieces += 1;
        false
    }))
    .unwrap();
    assert_eq!(r4.stop, StopReason::Cancelled);
    assert_eq!(pieces, 1);
}

#[test]
fn greedy_replies_match_llama_cpp_on_gpu() {
    let device = match pollster::block_on(GpuDevice::new()) {
        Ok(g) => Device::Gpu(g),
        Err(e) => panic!("no GPU adapter for the GPU tests ({e}); install mesa-vulkan-drivers"),
    };
    // Five prompts: lavapipe (CI's GPU) takes ~0.3 s a token.
    let (equal, compared) = greedy_agreement(&device, 5);
    eprintln!(
        "gpu: {equal} of 5 replies equal throughout, {compared} tokens equal before any near tie"
    );
    assert!(
        compared >= 40,
        "only {compared} tokens agreed before the first near tie"
    );
}

/// A conversation whose old turns hold megabytes of text (a pasted log, kept in the page's history): the
/// oldest turns are dropped until the rest fits, without rendering a prompt past the template's output cap;
/// a last message that alone fits no context is refused with the way out.
#[test]
fn a_huge_old_turn_is_dropped_not_rendered() {
    use offgrid_engine::text::Role;
    let model = load(&Device::Cpu);
    let messages = vec![
        ChatMessage::new(Role::User, "log line ".repeat(300_000)),
        ChatMessage::new(Role::Assistant, "That is a long log."),
        ChatMessage::new(Role::User, "Say hello."),
    ];
    let (ids, dropped) = model.prompt_for(&messages, 512, 8).unwrap();
    assert_eq!(dropped, 2, "the long turn and its reply go");
    assert!(ids.len() < 64, "{} tokens", ids.len());
    let huge = vec![ChatMessage::new(Role::User, "log line ".repeat(300_000))];
    let err = model.prompt_for(&huge, 512, 8).unwrap_err().to_string();
    assert!(err.contains("too long for the model's context"), "{err}");
}
