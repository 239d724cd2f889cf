//! Whisper's text prompts against faster-whisper on the same files (real `Systran/faster-whisper-tiny.en`,
//! fixture: scripts/fixtures/whisper_prompt_fixtures.py): a person's `initial_prompt`, and long-form audio
//! (about a minute, several 30-second windows) with `condition_on_previous_text` on and off. Greedy with
//! timestamps, on the CPU: every token, time and text must be the reference's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on bad fixtures

mod real_common;

use offgrid_engine::models::whisper::{Task, TranscribeOptions, WhisperTranscriber};
use offgrid_engine::Device;
use real_common::{
    assert_same_segments, fixture_wav, weight_file, FasterWhisperSegment as Segment,
};
use serde::Deserialize;

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
    let read = |f: &str| weight_file("faster-whisper-tiny.en", f);
    WhisperTranscriber::from_ctranslate2(
        &read("model.bin"),
        &read("config.json"),
        &read("tokenizer.json"),
        &Device::Cpu,
        Ok,
    )
    .expect("loads from model.bin")
}

fn options(initial_prompt: Option<String>, condition: bool) -> TranscribeOptions {
    TranscribeOptions {
        language: Some("en".into()),
        task: Task::Transcribe,
        timestamps: true,
        max_new_tokens: None,
        initial_prompt,
        condition_on_previous_text: condition,
        ..Default::default()
    }
}

#[test]
fn an_initial_prompt_changes_the_words_as_it_does_in_faster_whisper() {
    let fx = fixture().initial_prompt;
    let tr = model();
    let samples = fixture_wav(&fx.file);
    let prompted =
        pollster::block_on(tr.transcribe(&samples, &options(Some(fx.prompt), false))).unwrap();
    assert_same_segments(&prompted.segments, &fx.segments, "with the prompt");
    let plain = pollster::block_on(tr.transcribe(&samples, &options(None, false))).unwrap();
    assert_same_segments(&plain.segments, &fx.without, "without it");
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
            samples.extend(fixture_wav(piece));
            samples.extend_from_slice(&gap);
        }
    }
    assert_eq!(samples.len(), fx.num_samples);
    let tr = model();
    let conditioned = pollster::block_on(tr.transcribe(&samples, &options(None, true))).unwrap();
    assert_same_segments(
        &conditioned.segments,
        &fx.conditioned,
        "conditioned on the previous text",
    );
    let unconditioned = pollster::block_on(tr.transcribe(&samples, &options(None, false))).unwrap();
    assert_same_segments(
        &unconditioned.segments,
        &fx.unconditioned,
        "each window on its own",
    );
}
