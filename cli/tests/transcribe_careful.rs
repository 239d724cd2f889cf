//! `offgrid transcribe --careful`: faster-whisper's judgement of each window (the app's default) from the CLI,
//! on real weights (`Systran/faster-whisper-tiny.en`, fetched by scripts/fetch-test-weights.sh). Silence gives
//! no lines; speech gives its words. The engine test `whisper_quality` checks the scores against faster-whisper.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{offgrid, test_weights, wav_header_16k_mono, TempDir};
use std::path::Path;

/// A 16 kHz mono 16-bit WAV of `samples`.
fn wav(samples: &[i16]) -> Vec<u8> {
    let mut out = wav_header_16k_mono(samples.len() * 2);
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// The JSON transcript of `file` with `--careful`.
fn careful(file: &Path) -> serde_json::Value {
    let model = test_weights("faster-whisper-tiny.en", "model.bin");
    let out = offgrid(
        &[
            "transcribe",
            "--model",
            model.to_str().unwrap(),
            "--careful",
            "--json",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON transcript")
}

#[test]
fn careful_decoding_skips_silence_and_keeps_speech() {
    let dir = TempDir::new("transcribe-careful");
    let silence = dir.write("silence.wav", &wav(&vec![0; 5 * 16_000]));
    let quiet = careful(&silence);
    assert_eq!(
        quiet["segments"].as_array().map(Vec::len),
        Some(0),
        "{quiet}"
    );
    let kitchen = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/tests/fixtures/speech/kitchen_en_f.wav");
    let heard = careful(&kitchen);
    let text = heard["text"].as_str().unwrap_or_default().to_lowercase();
    assert!(text.contains("milk back in the fridge"), "{heard}");
    let scores = &heard["segments"][0]["scores"];
    assert!(
        scores["avg_logprob"].as_f64().is_some_and(|v| v > -1.0),
        "{scores}"
    );
    assert_eq!(
        scores["temperature"].as_f64(),
        Some(0.0),
        "confident speech needs one pass"
    );
}
