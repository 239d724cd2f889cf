//! Log-mel front end against transformers' `WhisperFeatureExtractor` (fixture: scripts/fixtures/whisper_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_engine::audio::mel::{MelSpectrogram, N_FRAMES};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    n_mels: usize,
    pcm: Vec<i32>,
    frames: Vec<usize>,
    window_30s: Vec<Vec<f32>>,
    longest_frames: usize,
    longest_head: Vec<Vec<f32>>,
}

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

fn fixture() -> Fixture {
    let text = include_str!("fixtures/whisper_mel.json");
    match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => panic!("whisper_mel.json does not parse: {e}"),
    }
}

fn pcm_to_f32(pcm: &[i32]) -> Vec<f32> {
    pcm.iter().map(|&v| v as f32 / 32768.0).collect()
}

#[test]
fn thirty_second_window_matches_whisper_feature_extractor() {
    let fx = fixture();
    assert_eq!(fx.cases.len(), 4);
    for case in &fx.cases {
        let mel = MelSpectrogram::new(case.n_mels).expect("mel");
        let out = mel.window_30s(&pcm_to_f32(&case.pcm));
        assert_eq!((out.n_mels, out.n_frames), (case.n_mels, N_FRAMES));
        let mut worst = 0.0f32;
        for (col, &frame) in case.frames.iter().enumerate() {
            for m in 0..case.n_mels {
                let got = out.data[m * out.n_frames + frame];
                let want = case.window_30s[col][m];
                worst = worst.max((got - want).abs());
            }
        }
        assert!(
            worst < 1e-4,
            "{} ({} bins): max |diff| {worst}",
            case.name,
            case.n_mels
        );
    }
}

#[test]
fn whole_input_matches_longest_padding() {
    for case in &fixture().cases {
        let mel = MelSpectrogram::new(case.n_mels).expect("mel");
        let out = mel.compute(&pcm_to_f32(&case.pcm));
        assert_eq!(out.n_frames, case.longest_frames, "{}", case.name);
        for (t, row) in case.longest_head.iter().enumerate() {
            for (m, &want) in row.iter().enumerate() {
                let got = out.data[m * out.n_frames + t];
                assert!(
                    (got - want).abs() < 1e-4,
                    "{} bin {m} frame {t}: {got} vs {want}",
                    case.name
                );
            }
        }
    }
}

#[test]
fn window_slices_and_zero_pads() {
    let mel = MelSpectrogram::new(80).expect("mel");
    let feats = mel.compute(&vec![0.1f32; 16_000]);
    let w = feats.window(90, 20);
    assert_eq!(w.len(), 80 * 20);
    assert_eq!(w[5], feats.data[95]);
    assert_eq!(
        w[15], 0.0,
        "frames past the end are zero, as transformers pads the segment"
    );
}

#[test]
fn rejects_silly_bin_counts() {
    assert!(MelSpectrogram::new(0).is_err());
}
