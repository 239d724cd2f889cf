//! Silero VAD against the `silero-vad` package's own ONNX model run by onnxruntime, on espeak-ng speech.
//! Fixtures: `scripts/fixtures/vad_fixtures.py`. Weights: `scripts/fetch-test-weights.sh` (real
//! `silero_vad_16k.safetensors` from PyPI), found under `$OFFGRID_WEIGHTS` or `<repo>/.cache/weights`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod real_common;

use offgrid_engine::audio::{read_wav, segmenter, SegmenterSettings};
use offgrid_engine::models::silero_vad::{SileroVad, FRAME_SAMPLES};
use serde_json::Value;

const WAV: &[u8] = include_bytes!("fixtures/vad_speech_16k.wav");
const EXPECTED: &str = include_str!("fixtures/vad_expected.json");

fn weights() -> Vec<u8> {
    weight_file("silero_vad_16k.safetensors")
}

fn weight_file(name: &str) -> Vec<u8> {
    real_common::weight_file("silero-vad", name)
}

fn expected() -> Value {
    serde_json::from_str(EXPECTED).expect("vad_expected.json parses")
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn settings(v: &Value) -> SegmenterSettings {
    let f = |k: &str| v[k].as_f64().expect(k);
    SegmenterSettings {
        positive_threshold: f("positive_threshold") as f32,
        negative_threshold: f("negative_threshold") as f32,
        redemption_frames: f("redemption_frames") as u32,
        pre_speech_pad_frames: f("pre_speech_pad_frames") as u32,
        min_speech_frames: f("min_speech_frames") as u32,
    }
}

fn spans(v: &Value) -> Vec<(u64, u64)> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|p| (p[0].as_u64().expect("u64"), p[1].as_u64().expect("u64")))
        .collect()
}

#[test]
fn probabilities_match_onnxruntime_on_every_frame() {
    let exp = expected();
    let audio = read_wav(WAV).expect("fixture WAV decodes");
    assert_eq!(audio.sample_rate, 16_000);
    assert_eq!(
        audio.samples.len() as u64,
        exp["num_samples"].as_u64().unwrap()
    );
    let mut vad = SileroVad::load(weights()).expect("weights load");
    let ours = vad.probabilities(&audio.samples);
    assert_close(&ours, &f32s(&exp["probs"]));
}

/// Every frame within 0.01; the fixture holds speech and silence, so both ends of the range are covered.
fn assert_close(ours: &[f32], reference: &[f32]) {
    assert_eq!(ours.len(), reference.len());
    let mut worst = (0.0f32, 0usize);
    for (i, (a, b)) in ours.iter().zip(reference).enumerate() {
        let d = (a - b).abs();
        if d > worst.0 {
            worst = (d, i);
        }
    }
    assert!(
        worst.0 < 0.01,
        "frame {} differs by {} (ours {}, onnxruntime {})",
        worst.1,
        worst.0,
        ours[worst.1],
        reference[worst.1]
    );
    eprintln!(
        "max |ours - onnxruntime| = {} at frame {}",
        worst.0, worst.1
    );
    assert!(reference.iter().any(|&p| p > 0.99) && reference.iter().any(|&p| p < 0.01));
}

#[test]
fn onnx_weights_match_the_stock_package_model() {
    // The package's ONNX holds a newer checkpoint than its safetensors; loading those weights must
    // reproduce the stock `silero_vad.onnx` exactly as the package runs it.
    let exp = expected();
    let audio = read_wav(WAV).expect("fixture WAV decodes");
    let mut vad = SileroVad::load_onnx(&weight_file("silero_vad_op18_ifless.onnx"))
        .expect("ONNX weights load");
    let probs = vad.probabilities(&audio.samples);
    assert_close(&probs, &f32s(&exp["probs_package"]));
    let got: Vec<(u64, u64)> = segmenter::segments(&probs, settings(&exp["settings"]))
        .iter()
        .map(|s| (s.start_frame, s.end_frame))
        .collect();
    assert_eq!(got, spans(&exp["segment_frames_package"]));
    assert!(
        SileroVad::load_onnx(&weights()).is_err(),
        "safetensors bytes are not ONNX"
    );
}

#[test]
fn segments_match_the_reference() {
    let exp = expected();
    let audio = read_wav(WAV).expect("fixture WAV decodes");
    let mut vad = SileroVad::load(weights()).expect("weights load");
    let probs = vad.probabilities(&audio.samples);
    let got: Vec<(u64, u64)> = segmenter::segments(&probs, settings(&exp["settings"]))
        .iter()
        .map(|s| (s.start_frame, s.end_frame))
        .collect();
    assert_eq!(got, spans(&exp["segment_frames"]));
    let secs = exp["segments"].as_array().unwrap();
    for (span, s) in segmenter::segments(&probs, settings(&exp["settings"]))
        .iter()
        .zip(secs)
    {
        let [a, b] = span.seconds(FRAME_SAMPLES, 16_000);
        assert!((a - s[0].as_f64().unwrap()).abs() < 1e-6);
        assert!((b - s[1].as_f64().unwrap()).abs() < 1e-6);
    }
}

#[test]
fn state_carries_across_frames_and_reset_restores_it() {
    let audio = read_wav(WAV).expect("fixture WAV decodes");
    let mut vad = SileroVad::load(weights()).expect("weights load");
    let all = vad.probabilities(&audio.samples);
    // Streaming frame by frame gives the same numbers as the batch helper.
    vad.reset();
    let n = 40;
    for (i, chunk) in audio
        .samples
        .chunks_exact(FRAME_SAMPLES)
        .take(n)
        .enumerate()
    {
        let p = vad.process(chunk).expect("512 samples");
        assert_eq!(p, all[i], "frame {i}");
    }
    // Without reset, the same frame after speech gives a different value than from a fresh state:
    // the LSTM state and context matter.
    let speech_frame = &audio.samples[20 * FRAME_SAMPLES..21 * FRAME_SAMPLES];
    let carried = vad.process(speech_frame).unwrap();
    vad.reset();
    let fresh = vad.process(speech_frame).unwrap();
    assert_ne!(carried, fresh);
    assert!(vad.process(&speech_frame[..100]).is_err());
}

#[test]
fn wrong_weights_are_an_error_not_a_panic() {
    assert!(SileroVad::load(b"not a safetensors file".to_vec()).is_err());
    let mut truncated = weights();
    truncated.truncate(truncated.len() / 2);
    assert!(SileroVad::load(truncated).is_err());
}
