//! Shared helpers for the tests on real weights: where `scripts/fetch-test-weights.sh` put the files, the
//! committed recordings, and faster-whisper's segments as its fixture scripts write them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses a different subset

use offgrid_engine::audio::read_wav;
use offgrid_engine::models::whisper::Segment;
use serde::Deserialize;
use std::path::PathBuf;

/// The folder of one model's test weights (`$OFFGRID_WEIGHTS/<model>` or `<repo>/.cache/weights/<model>`).
pub fn weights_dir(model: &str) -> PathBuf {
    std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"))
        .join(model)
}

/// The bytes of one weight file, with a message saying how to get it when it is missing.
pub fn weight_file(model: &str, name: &str) -> Vec<u8> {
    let path = weights_dir(model).join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{} not found ({e}); run scripts/fetch-test-weights.sh first",
            path.display()
        )
    })
}

/// A committed recording under `engine/tests/fixtures`, as 16 kHz samples.
pub fn fixture_wav(name: &str) -> Vec<f32> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    read_wav(&std::fs::read(path).expect("recording"))
        .expect("wav")
        .samples
}

/// One segment as faster-whisper returned it.
#[derive(Deserialize, Clone)]
pub struct FasterWhisperSegment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub tokens: Vec<u32>,
}

/// Every segment's tokens, text and times (within 1 ms) equal to faster-whisper's.
pub fn assert_same_segments(got: &[Segment], want: &[FasterWhisperSegment], what: &str) {
    let texts: Vec<&str> = got.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(got.len(), want.len(), "{what}: segments {texts:?}");
    for (g, w) in got.iter().zip(want) {
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
