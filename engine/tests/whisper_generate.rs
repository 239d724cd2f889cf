//! Tiny-random Whisper against transformers' `generate` (greedy; fixture: scripts/fixtures/whisper_fixtures.py).
//! The same test body runs on the CPU and on the GPU (lavapipe natively).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::models::whisper::{Task, TranscribeOptions, WhisperTranscriber};
use offgrid_engine::Device;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Case {
    name: String,
    pcm: Vec<i32>,
    task: String,
    language: Option<String>,
    detected_language: Option<String>,
    init_tokens: Vec<u32>,
    no_timestamps: Vec<u32>,
    timestamps: Vec<u32>,
    segments: Vec<SegmentRef>,
}

#[derive(Deserialize)]
struct SegmentRef {
    start: f64,
    end: f64,
    tokens: Vec<u32>,
}

#[derive(Deserialize)]
struct LongForm {
    seconds: usize,
    language: String,
    timestamps: Vec<u32>,
    segments: Vec<SegmentRef>,
}

#[derive(Deserialize)]
struct Fixture {
    max_new_tokens: usize,
    cases: Vec<Case>,
    long_form: LongForm,
}

fn fixture() -> Fixture {
    match serde_json::from_str(include_str!("fixtures/whisper_generate.json")) {
        Ok(f) => f,
        Err(e) => panic!("whisper_generate.json does not parse: {e}"),
    }
}

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/whisper_tiny")
}

fn samples(pcm: &[i32]) -> Vec<f32> {
    pcm.iter().map(|&v| v as f32 / 32768.0).collect()
}

fn gpu() -> Device {
    match pollster::block_on(GpuDevice::new()) {
        Ok(g) => Device::Gpu(g),
        Err(e) => panic!("no GPU adapter (install mesa-vulkan-drivers for lavapipe): {e}"),
    }
}

fn check_segments(
    name: &str,
    got: &[offgrid_engine::models::whisper::Segment],
    want: &[SegmentRef],
) {
    assert_eq!(got.len(), want.len(), "{name}: segment count");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.tokens, w.tokens, "{name}: segment tokens");
        assert!(
            (g.start - w.start).abs() < 1e-6 && (g.end - w.end).abs() < 1e-6,
            "{name}: times"
        );
    }
}

fn short_form_matches_transformers(device: &Device) {
    let fx = fixture();
    let tr = WhisperTranscriber::from_folder(model_dir(), device).expect("load tiny whisper");
    for case in &fx.cases {
        let audio = samples(&case.pcm);
        let task = if case.task == "translate" {
            Task::Translate
        } else {
            Task::Transcribe
        };
        let mut opts = TranscribeOptions {
            language: case.language.clone(),
            task,
            timestamps: false,
            max_new_tokens: Some(fx.max_new_tokens),
            initial_prompt: None,
            condition_on_previous_text: false,
            ..Default::default()
        };
        let plain = pollster::block_on(tr.transcribe(&audio, &opts)).expect("transcribe");
        let lang = case.language.clone().or(case.detected_language.clone());
        assert_eq!(plain.language, lang, "{}: language", case.name);
        assert_eq!(
            tr.generation_config()
                .language_token(lang.as_deref().unwrap_or(""))
                .ok(),
            Some(case.init_tokens[1]),
            "{}: prompt language token",
            case.name
        );
        assert_eq!(
            plain.tokens, case.no_timestamps,
            "{}: tokens without timestamps",
            case.name
        );
        opts.timestamps = true;
        let timed = pollster::block_on(tr.transcribe(&audio, &opts)).expect("transcribe");
        assert_eq!(
            timed.tokens, case.timestamps,
            "{}: tokens with timestamps",
            case.name
        );
        check_segments(&case.name, &timed.segments, &case.segments);
    }
}

fn long_form_matches_transformers(device: &Device) {
    let fx = fixture();
    let lf = &fx.long_form;
    let tr = WhisperTranscriber::from_folder(model_dir(), device).expect("load tiny whisper");
    let speech = samples(&fx.cases[0].pcm);
    let audio: Vec<f32> = speech
        .iter()
        .copied()
        .cycle()
        .take(lf.seconds * 16_000)
        .collect();
    let opts = TranscribeOptions {
        language: Some(lf.language.clone()),
        task: Task::Transcribe,
        timestamps: true,
        max_new_tokens: Some(fx.max_new_tokens),
        initial_prompt: None,
        condition_on_previous_text: false,
        ..Default::default()
    };
    let out = pollster::block_on(tr.transcribe(&audio, &opts)).expect("transcribe");
    assert_eq!(out.tokens, lf.timestamps, "long-form tokens");
    check_segments("long-form", &out.segments, &lf.segments);
    assert!(
        out.segments.last().is_some_and(|s| s.end > 30.0),
        "the second window was decoded"
    );
}

#[test]
fn cpu_short_form_matches_transformers() {
    short_form_matches_transformers(&Device::Cpu);
}

#[test]
fn cpu_long_form_matches_transformers() {
    long_form_matches_transformers(&Device::Cpu);
}

#[test]
fn gpu_short_form_matches_transformers() {
    short_form_matches_transformers(&gpu());
}

#[test]
fn gpu_long_form_matches_transformers() {
    long_form_matches_transformers(&gpu());
}

#[test]
fn tokenizer_decodes_byte_level_text_and_skips_specials() {
    let bytes = std::fs::read(model_dir().join("tokenizer.json")).expect("tokenizer.json");
    let tok = offgrid_engine::models::whisper::WhisperTokenizer::from_json(&bytes).expect("parse");
    // ids 258 = "Ġthe" (space + "the"), 321 = <|startoftranscript|>, 104/105 = "h"/"i" in the byte alphabet.
    let text = tok.decode(&[321, 258]);
    assert_eq!(text, " the");
    assert_eq!(tok.special_token(321), Some("<|startoftranscript|>"));
}

/// A set cancel flag stops transcription with `Error::Cancelled` (the worker's Cancel sets it while Whisper
/// decodes; the e2e runtime test cancels a running decode), and a clear one does not change the output.
#[test]
fn cancel_flag_stops_transcription() {
    let fx = fixture();
    let tr = WhisperTranscriber::from_folder(model_dir(), &Device::Cpu).expect("load tiny whisper");
    let speech = samples(&fx.cases[0].pcm);
    let opts = TranscribeOptions {
        language: Some("en".into()),
        max_new_tokens: Some(fx.max_new_tokens),
        ..TranscribeOptions::default()
    };
    let full = pollster::block_on(tr.transcribe(&speech, &opts)).expect("transcribe");
    assert!(!full.tokens.is_empty(), "the checkpoint writes tokens");
    opts.cancel.set(true);
    let stopped = pollster::block_on(tr.transcribe(&speech, &opts));
    assert!(
        matches!(stopped, Err(offgrid_engine::Error::Cancelled)),
        "{stopped:?}"
    );
}
