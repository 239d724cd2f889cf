//! `offgrid vad`: the streaming pipeline (decode → resample → frames → model → segmenter) against the
//! engine's batch helpers, on the engine's espeak-ng fixture; and the binary's JSON output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_cli::vad::{load_model, run};
use offgrid_engine::audio::{read_wav, resample, segmenter, SegmenterSettings};
use offgrid_engine::models::silero_vad::FRAME_SAMPLES;
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;

const WAV: &[u8] = include_bytes!("../../engine/tests/fixtures/vad_speech_16k.wav");

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"))
        .join("silero-vad");
    assert!(
        dir.join("silero_vad_16k.safetensors").is_file(),
        "Silero VAD weights missing in {}; run scripts/fetch-test-weights.sh first",
        dir.display()
    );
    dir
}

/// Runs `offgrid vad` on `wav`, expects success, and returns its JSON and the process output (for stderr).
fn vad_json(wav: &std::path::Path) -> (serde_json::Value, std::process::Output) {
    let out = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .args(["vad", "--model"])
        .arg(model_dir())
        .arg(wav)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_slice(&out.stdout).unwrap();
    (json, out)
}

fn settings() -> SegmenterSettings {
    SegmenterSettings::from_ms(0.5, 0.35, 256.0, 96.0, 128.0, 32.0)
}

#[test]
fn streaming_run_equals_the_batch_helpers() {
    let mut vad = load_model(&model_dir()).unwrap();
    let report = run(&mut vad, Cursor::new(WAV), settings()).unwrap();
    let samples = read_wav(WAV).unwrap().samples;
    let probs = vad.probabilities(&samples);
    assert_eq!(report.probs, probs);
    let want: Vec<[f64; 2]> = segmenter::segments(&probs, settings())
        .iter()
        .map(|s| s.seconds(FRAME_SAMPLES, 16_000))
        .collect();
    assert_eq!(report.segments, want);
    assert_eq!(want.len(), 2, "the fixture has two phrases");
}

#[test]
fn a_48_khz_stereo_24_bit_file_gives_the_same_segments() {
    let samples = read_wav(WAV).unwrap().samples;
    let up = resample(&samples, 16_000, 48_000).unwrap();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cur = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
    for s in up {
        let v = (s * 8_388_607.0).round() as i32;
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let mut vad = load_model(&model_dir()).unwrap();
    let base = run(&mut vad, Cursor::new(WAV), settings()).unwrap();
    let other = run(&mut vad, Cursor::new(cur.into_inner()), settings()).unwrap();
    assert_eq!(other.segments.len(), base.segments.len());
    for (a, b) in other.segments.iter().zip(&base.segments) {
        // Within two frames: resampling twice changes the waveform slightly, not the speech.
        assert!(
            (a[0] - b[0]).abs() <= 0.065 && (a[1] - b[1]).abs() <= 0.065,
            "{a:?} vs {b:?}"
        );
    }
}

#[test]
fn the_binary_prints_json_reports_a_cut_file_and_fails_cleanly_on_a_bad_one() {
    let dir = std::env::temp_dir().join(format!("offgrid-vad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("speech.wav");
    std::fs::write(&wav, WAV).unwrap();
    let (json, _) = vad_json(&wav);
    let probs = json["probs"].as_array().unwrap();
    assert_eq!(
        probs.len(),
        WAV.len().saturating_sub(44).div_ceil(2 * FRAME_SAMPLES)
    );
    assert!(!json["segments"].as_array().unwrap().is_empty());

    // Cut short: what is there is scanned, and both the JSON and a warning say so.
    let cut = dir.join("cut.wav");
    std::fs::write(&cut, &WAV[..WAV.len() / 3 + 1]).unwrap();
    let (json, out) = vad_json(&cut);
    assert_eq!(json["truncated"], true);
    assert_eq!(
        json["probs"].as_array().unwrap().len(),
        ((WAV.len() / 3 + 1 - 44) / 2).div_ceil(FRAME_SAMPLES)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated"));

    // Not a WAV file at all: a failure that says so.
    let bad = dir.join("bad.wav");
    std::fs::write(&bad, b"this is not audio, just some words in a file").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_offgrid"))
        .args(["vad", "--model"])
        .arg(model_dir())
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a WAV file"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
