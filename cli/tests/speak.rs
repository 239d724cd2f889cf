//! `offgrid speak` with the real Piper voice (en_US-joe-medium, fetched by scripts/fetch-test-weights.sh): the
//! text is split into sentences, phonemized by our own English phonemizer and spoken; the WAV must equal the
//! committed fixture (engine/tests/fixtures/piper/cli_speech.json, which the browser's export is compared with
//! too), and our Whisper (faster-whisper tiny.en) must hear the typed words in it. `offgrid phonemize` prints one
//! line per sentence; empty text and a file that is not a voice get clear messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{offgrid, test_weights, TempDir};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    text: String,
    samples: usize,
    rms: f64,
}

fn expected() -> Expected {
    serde_json::from_str(include_str!(
        "../../engine/tests/fixtures/piper/cli_speech.json"
    ))
    .unwrap()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn speech_is_the_fixture_and_whisper_hears_the_words() {
    let dir = TempDir::new("speak");
    let wav = dir.path().join("speech.wav");
    let voice = test_weights("piper-joe", "en_US-joe-medium.onnx");
    let want = expected();
    let out = offgrid(
        &[
            "speak",
            "--model",
            voice.to_str().unwrap(),
            "--text",
            &want.text,
            "--seed",
            "0",
            "--out",
            wav.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&wav).unwrap();
    let audio = offgrid_engine::audio::wav::read_wav(&bytes).unwrap();
    assert_eq!(audio.sample_rate, 22_050);
    assert_eq!(audio.samples.len(), want.samples);
    let rms = (audio
        .samples
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum::<f64>()
        / audio.samples.len() as f64)
        .sqrt();
    assert!((rms - want.rms).abs() < 1e-3, "RMS {rms} vs {}", want.rms);
    let heard = offgrid(
        &[
            "transcribe",
            "--model",
            test_weights("faster-whisper-tiny.en", "model.bin")
                .to_str()
                .unwrap(),
            wav.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        heard.status.success(),
        "{}",
        String::from_utf8_lossy(&heard.stderr)
    );
    let heard = String::from_utf8_lossy(&heard.stdout);
    assert_eq!(words(&heard), words(&want.text), "Whisper heard: {heard}");
}

#[test]
fn phonemize_prints_a_line_per_sentence_and_bad_input_is_refused() {
    let out = offgrid(&["phonemize", "--text", "Hello world. It is 7:30!"], "");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["həlˈoʊ wˈɜːld.", "ɪɾ ɪz sˈɛvən θˈɜːɾi!"]
    );
    let voice = test_weights("piper-joe", "en_US-joe-medium.onnx");
    let empty = offgrid(
        &["speak", "--model", voice.to_str().unwrap(), "--text", "  "],
        "",
    );
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("nothing to say"));
    let dir = TempDir::new("speak-bad");
    let bogus = dir.write("voice.onnx", b"not a voice");
    dir.write("voice.onnx.json", b"{}");
    let bad = offgrid(
        &["speak", "--model", bogus.to_str().unwrap(), "--text", "Hi."],
        "",
    );
    assert!(!bad.status.success());
    assert!(!String::from_utf8_lossy(&bad.stderr).is_empty());
}
