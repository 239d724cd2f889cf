//! Whisper's window judgement against faster-whisper's: `Systran/faster-whisper-tiny.en` (real weights, fetched
//! by scripts/fetch-test-weights.sh) scores each 30-second window by the average log-probability of its tokens,
//! the compression ratio of its text and the no-speech probability at the start of the transcript, skips the
//! windows that are silence and decodes unsure or repetitive ones again at higher temperatures
//! (fixture: scripts/fixtures/whisper_quality_fixtures.py, faster-whisper with its default thresholds and
//! temperature 0). The re-decoding itself is checked on the tiny-random checkpoint, which always repeats itself.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on bad fixtures

mod real_common;

use offgrid_engine::models::whisper::{QualityRules, Task, TranscribeOptions, WhisperTranscriber};
use offgrid_engine::Device;
use real_common::{assert_same_segments, fixture_wav, weight_file, FasterWhisperSegment};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Scored {
    #[serde(flatten)]
    segment: FasterWhisperSegment,
    avg_logprob: f64,
    compression_ratio: f64,
    no_speech_prob: f64,
}

#[derive(Deserialize)]
struct Case {
    input: String,
    segments: Vec<Scored>,
    /// For the inputs faster-whisper skipped: the no-speech probability of their window.
    no_speech_prob: Option<f64>,
}

#[derive(Deserialize)]
struct Fixture {
    results: Vec<Case>,
}

const TINY_EN: &str = "faster-whisper-tiny.en";

fn load() -> WhisperTranscriber {
    WhisperTranscriber::from_ctranslate2(
        &weight_file(TINY_EN, "model.bin"),
        &weight_file(TINY_EN, "config.json"),
        &weight_file(TINY_EN, "tokenizer.json"),
        &Device::Cpu,
        Ok,
    )
    .expect("tiny.en loads")
}

/// The fixture's inputs: committed recordings, or silence and a quiet tone made as the script makes them.
fn audio(input: &str) -> Vec<f32> {
    match input {
        "silence" => vec![0.0; 5 * 16_000],
        "tone440" => (0..5 * 16_000)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                let v = (0.05 * (2.0 * std::f64::consts::PI * 440.0 * t).sin() * 32767.0).round();
                v as f32 / 32768.0
            })
            .collect(),
        name => fixture_wav(name),
    }
}

fn options(rules: QualityRules) -> TranscribeOptions {
    TranscribeOptions {
        language: Some("en".into()),
        task: Task::Transcribe,
        timestamps: true,
        quality: Some(rules),
        ..TranscribeOptions::default()
    }
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/whisper_quality_tiny_en.json"))
        .expect("fixture parses")
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got} vs faster-whisper's {want}"
    );
}

#[test]
fn window_scores_and_the_silence_rule_match_faster_whisper() {
    let tr = load();
    // Temperature 0 only, faster-whisper's thresholds: the fixture's settings.
    let opts = options(QualityRules::greedy_only());
    for case in fixture().results {
        let got =
            pollster::block_on(tr.transcribe(&audio(&case.input), &opts)).expect("transcribe");
        let want: Vec<FasterWhisperSegment> =
            case.segments.iter().map(|s| s.segment.clone()).collect();
        assert_same_segments(&got.segments, &want, &case.input);
        for (g, w) in got.segments.iter().zip(&case.segments) {
            let what = format!("{}: {:?}", case.input, g.text);
            close(
                &format!("{what} avg_logprob"),
                g.scores.avg_logprob,
                w.avg_logprob,
                0.01,
            );
            // miniz, not zlib: the sizes agree within a few percent (see quality.rs).
            let cr = g.scores.compression_ratio / w.compression_ratio;
            assert!(
                (cr - 1.0).abs() < 0.06,
                "{what} compression ratio {} vs faster-whisper's {}",
                g.scores.compression_ratio,
                w.compression_ratio
            );
            let ns = g
                .scores
                .no_speech_prob
                .expect("tiny.en has a no-speech token");
            close(
                &format!("{what} no_speech_prob"),
                ns,
                w.no_speech_prob,
                0.01,
            );
            assert_eq!(g.scores.temperature, 0.0);
        }
        if let Some(want) = case.no_speech_prob {
            // faster-whisper wrote nothing for it, and neither did we (checked above). Its figure: with the
            // silence rule off, the window is decoded and carries it.
            assert!(
                case.segments.is_empty(),
                "{}: skipped by faster-whisper",
                case.input
            );
            let keep_all = options(QualityRules {
                no_speech_threshold: 1.0,
                ..QualityRules::greedy_only()
            });
            let heard = pollster::block_on(tr.transcribe(&audio(&case.input), &keep_all))
                .expect("transcribe");
            let first = heard
                .segments
                .first()
                .expect("decoded without the silence rule");
            close(
                &format!("{} no_speech_prob", case.input),
                first.scores.no_speech_prob.unwrap_or(0.0),
                want,
                0.01,
            );
            assert!(
                first.scores.no_speech_prob.unwrap_or(0.0) > 0.6,
                "{}: judged silence",
                case.input
            );
        }
    }
}

/// The tiny-random checkpoint writes the same few tokens over and over (a compression ratio far above 2.4,
/// log-probabilities far below -1): every temperature is tried, with `best_of` samples each, and the kept
/// decode is the best of them; the seed fixes which.
#[test]
fn unsure_windows_are_decoded_again_hotter() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/whisper_tiny");
    let tr = WhisperTranscriber::from_folder(&dir, &Device::Cpu).expect("load tiny whisper");
    let speech = fixture_wav("vad_speech_16k.wav");
    let short = |rules: QualityRules| TranscribeOptions {
        max_new_tokens: Some(24),
        ..options(rules)
    };
    let greedy = pollster::block_on(tr.transcribe(&speech, &short(QualityRules::greedy_only())))
        .expect("greedy");
    let judged = greedy.segments.first().expect("a segment").scores;
    assert!(
        QualityRules::default().needs_fallback(&judged),
        "the random checkpoint's greedy decode is judged unsure: {judged:?}"
    );
    // Nothing passes at any temperature, so the best try is kept: never worse than greedy.
    let rules = QualityRules {
        temperatures: vec![0.0, 0.5, 1.0],
        best_of: 2,
        ..QualityRules::default()
    };
    let judged_all = pollster::block_on(tr.transcribe(&speech, &short(rules))).expect("fallback");
    let kept = judged_all.segments.first().expect("a segment").scores;
    assert!(
        kept.avg_logprob >= judged.avg_logprob,
        "{kept:?} vs greedy {judged:?}"
    );
    // Hot only: the kept decode is sampled, and the seed decides which words.
    let hot_rules = |seed| QualityRules {
        temperatures: vec![1.0],
        best_of: 2,
        seed,
        ..QualityRules::default()
    };
    let hot = pollster::block_on(tr.transcribe(&speech, &short(hot_rules(7)))).expect("sampled");
    assert_eq!(
        hot.segments.first().expect("a segment").scores.temperature,
        1.0
    );
    assert_ne!(
        hot.tokens, greedy.tokens,
        "sampling at temperature 1 leaves the greedy path"
    );
    let again = pollster::block_on(tr.transcribe(&speech, &short(hot_rules(7)))).expect("sampled");
    assert_eq!(again.tokens, hot.tokens, "same seed, same words");
    let other = pollster::block_on(tr.transcribe(&speech, &short(hot_rules(8)))).expect("sampled");
    assert_ne!(other.tokens, hot.tokens, "another seed, other words");
}
