//! Whisper's text prompts against faster-whisper on the same files (real `Systran/faster-whisper-tiny.en`,
//! fixture: scripts/fixtures/whisper_prompt_fixtures.py): a person's `initial_prompt`, and long-form audio
//! (about a minute, several 30-second windows) with `condition_on_previous_text` on and off. Greedy with
//! timestamps, on the CPU: every token, time and text must be the reference's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on bad fixtures

use offgrid_engine::audio::read_wav;
use offgrid_engine::models::whisper::{Task, TranscribeOptions, Transcript, WhisperTranscriber};
use offgrid_engine::Device;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Segment {
    start: f64,
    end: f64,
    text: String,
    tokens: Vec<u32>,
}

#[derive(Deserialize)]
struct InitialPrompt {
    file: String,
    prompt: String,
    segments: Vec<Segment>,
    without: Vec<Segment>,
}

#[derive(Deserialize)]
struct LongForm {
    pieces: Vec<String>,
    repeat: usize,
    gap_s: f64,
    num_samples: usize,
    conditioned: Vec<Segment>,
    unconditioned: Vec<Segment>,
}

#[derive(Deserialize)]
struct Fixture {
    initial_prompt: InitialPrompt,
    long_form: LongForm,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/whisper_prompts_tiny_en.json"))
        .expect("fixture parses")
}

fn model() -> WhisperTranscriber {
    let dir = std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"))
        .join("faster-whisper-tiny.en");
    let read = |f: &str| {
        std::fs::read(dir.join(f)).unwrap_or_else(|e| {
            panic!(
                "{} ({e}); run scripts/fetch-test-weights.sh first",
                dir.join(f).display()
            )
        })
    };
    WhisperTranscriber::from_ctranslate2(
        &read("model.bin"),
        &read("config.json"),
        &read("tokenizer.json"),
        &Device::Cpu,
        Ok,
    )
    .expect("loads from model.bin")
}

fn audio(file: &str) -> Vec<f32> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    read_wav(&std::fs::read(path).expect("recording"))
        .expect("wav")
        .samples
}

fn options(initial_prompt: Option<String>, condition: bool) -> TranscribeOptions {
    TranscribeOptions {
        language: Some("en".into()),
        task: Task::Transcribe,
        timestamps: true,
        max_new_tokens: None,
        initial_prompt,
        condition_on_previous_text: condition,
    }
}

fn assert_same(got: &Transcript, want: &[Segment], what: &str) {
    let texts: Vec<&str> = got.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(got.segments.len(), want.len(), "{what}: segments {texts:?}");
    for (g, w) in got.segments.iter().zip(want) {
        assert_eq!(g.tokens, w.tokens, "{what}: tokens of {:?}", w.text);
        assert_eq!(g.text, w.text, "{what}: text");
        assert!(
            (g.start - w.start).abs() < 1e-3 && (g.end - w.end).abs() < 1e-3,
            "{what}: times {}–{} vs {}–{}",
            g.start,
            g.end,
            w.start,
            w.end
        );
    }
}

#[test]
fn an_initial_prompt_changes_the_words_as_it_does_in_faster_whisper() {
    let fx = fixture().initial_prompt;
    let tr = model();
    let samples = audio(&fx.file);
    let prompted =
        pollster::block_on(tr.transcribe(&samples, &options(Some(fx.prompt), false))).unwrap();
    assert_same(&prompted, &fx.segments, "with the prompt");
    let plain = pollster::block_on(tr.transcribe(&samples, &options(None, false))).unwrap();
    assert_same(&plain, &fx.without, "without it");
    assert_ne!(
        prompted.text, plain.text,
        "the prompt makes a difference here"
    );
}

#[test]
fn long_form_audio_with_and_without_the_previous_text_as_prompt() {
    let fx = fixture().long_form;
    let gap = vec![0.0f32; (fx.gap_s * 16_000.0).round() as usize];
    let mut samples = Vec::new();
    for _ in 0..fx.repeat {
        for piece in &fx.pieces {
            samples.extend(audio(piece));
            samples.extend_from_slice(&gap);
        }
    }
    assert_eq!(samples.len(), fx.num_samples);
    let tr = model();
    let conditioned = pollster::block_on(tr.transcribe(&samples, &options(None, true))).unwrap();
    assert_same(
        &conditioned,
        &fx.conditioned,
        "conditioned on the previous text",
    );
    let unconditioned = pollster::block_on(tr.transcribe(&samples, &options(None, false))).unwrap();
    assert_same(&unconditioned, &fx.unconditioned, "each window on its own");
}
