//! `offgrid transcribe --vad`: a WAV file streamed through Silero VAD and Whisper (the pipeline the app's
//! worker runs), lines printed as each utterance is done, in constant memory. Long recordings are made by
//! repeating the engine's speech fixture; Whisper is the tiny-random test checkpoint (its words are noise,
//! its timing and structure are real).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{offgrid, test_weights, wav_header_16k_mono, TempDir};
use std::path::{Path, PathBuf};

const SPEECH: &[u8] = include_bytes!("../../engine/tests/fixtures/vad_speech_16k.wav");

fn whisper_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/whisper_tiny")
}

/// The fixture's 16-bit samples (after its 44-byte header), repeated to last about `seconds`.
fn long_wav(dir: &TempDir, seconds: f64) -> (PathBuf, f64) {
    let data = &SPEECH[44..];
    let per_copy = data.len() as f64 / 2.0 / 16_000.0;
    let copies = (seconds / per_copy).ceil() as usize;
    let bytes = data.len() * copies;
    let mut wav = wav_header_16k_mono(bytes);
    wav.reserve(bytes);
    for _ in 0..copies {
        wav.extend_from_slice(data);
    }
    let path = dir.write(&format!("speech-{seconds}.wav"), &wav);
    (path, per_copy * copies as f64)
}

struct Run {
    lines: Vec<serde_json::Value>,
    peak_bytes: u64,
}

fn transcribe(wav: &Path) -> Run {
    let vad = test_weights("silero-vad", "silero_vad_16k.safetensors");
    let out = offgrid(
        &[
            "transcribe",
            "--model",
            whisper_dir().to_str().unwrap(),
            "--vad",
            vad.to_str().unwrap(),
            "--language",
            "en",
            "--max-tokens",
            "8",
            "--json",
            "--peak-memory",
            wav.to_str().unwrap(),
        ],
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let peak_bytes = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak memory: "))
        .and_then(|l| l.trim_end_matches(" bytes").parse().ok())
        .expect("the peak memory is reported");
    Run { lines, peak_bytes }
}

fn times(lines: &[serde_json::Value]) -> Vec<(f64, f64)> {
    lines
        .iter()
        .map(|l| (l["start_s"].as_f64().unwrap(), l["end_s"].as_f64().unwrap()))
        .collect()
}

#[test]
fn a_long_recording_streams_through_vad_and_whisper_in_constant_memory() {
    let dir = TempDir::new("transcribe-stream");
    let (short, short_s) = long_wav(&dir, 120.0);
    let (long, long_s) = long_wav(&dir, 1800.0);
    let a = transcribe(&short);
    let b = transcribe(&long);
    // The whole recording is heard: every 2-minute stretch of the long file has lines (random weights
    // write a varying number of lines per utterance, so counts are compared loosely).
    assert!(!a.lines.is_empty(), "the 2-minute file gives lines");
    assert!(
        b.lines.len() > 5 * a.lines.len(),
        "{} vs {}",
        b.lines.len(),
        a.lines.len()
    );
    let starts: Vec<f64> = times(&b.lines).iter().map(|t| t.0).collect();
    for k in 0..15 {
        let window = (k as f64 * 120.0)..((k + 1) as f64 * 120.0);
        assert!(
            starts.iter().any(|s| window.contains(s)),
            "no line in {window:?} of the 30-minute file"
        );
    }
    // Lines are on the recording's clock, in order, inside the audio.
    for (lines, seconds) in [(&a.lines, short_s), (&b.lines, long_s)] {
        let t = times(lines);
        assert!(t
            .iter()
            .all(|&(s, e)| 0.0 <= s && s <= e && e <= seconds + 1e-6));
        assert!(t.windows(2).all(|w| w[0].0 <= w[1].0), "lines in order");
        assert!(lines.iter().all(|l| l["language"] == "en"));
    }
    assert!(
        times(&b.lines).last().unwrap().1 > 1700.0,
        "the end of the long file was transcribed"
    );
    // Constant memory: 15x the audio (57.6 MB of samples as f32 would be 115 MB) costs no more than a
    // few MB of lines and allocator slack.
    let grown = b.peak_bytes.saturating_sub(a.peak_bytes);
    eprintln!(
        "peak RSS: {:.1} MB for {short_s:.0} s, {:.1} MB for {long_s:.0} s",
        a.peak_bytes as f64 / 1e6,
        b.peak_bytes as f64 / 1e6
    );
    assert!(
        grown < 16_000_000,
        "peak memory grew by {grown} bytes from 2 to 30 minutes of audio"
    );
}
