//! The streaming speech scanner (resample → frames → Silero VAD → segmenter) against the batch helpers on
//! the espeak-ng fixture, fed in blocks of every kind of size; the audio it keeps for segments; the cut of
//! over-long segments; and the bounded probability trace. Weights as in `vad_silero.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::audio::{
    read_wav, resample, segmenter, FrameSpan, ProbTrace, ScanOutput, SegmenterSettings, Speech,
    SpeechScanner,
};
use offgrid_engine::models::silero_vad::{SileroVad, FRAME_SAMPLES};
use std::path::PathBuf;

const WAV: &[u8] = include_bytes!("fixtures/vad_speech_16k.wav");

fn vad() -> SileroVad {
    let dir = std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"));
    let path = dir.join("silero-vad/silero_vad_16k.safetensors");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "Silero VAD weights not found at {} ({e}); run scripts/fetch-test-weights.sh first",
            path.display()
        )
    });
    SileroVad::load(bytes).unwrap()
}

fn settings() -> SegmenterSettings {
    SegmenterSettings::from_ms(0.5, 0.35, 256.0, 96.0, 128.0, 32.0)
}

fn scan(scanner: &mut SpeechScanner, samples: &[f32], block: usize) -> ScanOutput {
    let mut all = ScanOutput::default();
    let mut out = ScanOutput::default();
    for b in samples.chunks(block.max(1)) {
        scanner.push(b, &mut out);
        all.probs.append(&mut out.probs);
        all.speech.append(&mut out.speech);
    }
    scanner.finish(&mut all);
    all
}

#[test]
fn scanning_in_blocks_equals_the_batch_helpers() {
    let samples = read_wav(WAV).unwrap().samples;
    let mut model = vad();
    let probs = model.probabilities(&samples);
    let spans = segmenter::segments(&probs, settings());
    assert_eq!(spans.len(), 2, "the fixture has two phrases");
    for block in [1, 100, 512, 513, 4096, samples.len()] {
        let mut scanner = SpeechScanner::new(model.fresh(), settings(), 16_000).unwrap();
        let got = scan(&mut scanner, &samples, block);
        assert_eq!(got.probs, probs, "blocks of {block}");
        let got_spans: Vec<FrameSpan> = got.speech.iter().map(|s| s.span).collect();
        assert_eq!(got_spans, spans, "blocks of {block}");
        assert!(got.speech.iter().all(|s| s.audio.is_none()));
        assert_eq!(scanner.frames(), probs.len() as u64);
    }
}

#[test]
fn other_rates_are_resampled_as_they_stream() {
    let samples = read_wav(WAV).unwrap().samples;
    let up = resample(&samples, 16_000, 44_100).unwrap();
    let mut model = vad();
    // The batch path: the whole signal resampled back down at once.
    let down = resample(&up, 44_100, 16_000).unwrap();
    let probs = model.probabilities(&down);
    let mut scanner = SpeechScanner::new(model.fresh(), settings(), 44_100).unwrap();
    let got = scan(&mut scanner, &up, 10_000);
    assert_eq!(got.probs.len(), probs.len());
    for (a, b) in got.probs.iter().zip(&probs) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn kept_audio_is_each_segment_s_own_samples() {
    let samples = read_wav(WAV).unwrap().samples;
    let mut scanner = SpeechScanner::new(vad(), settings(), 16_000)
        .unwrap()
        .keeping_audio(600.0);
    let got = scan(&mut scanner, &samples, 1000);
    assert_eq!(got.speech.len(), 2);
    for Speech { span, audio } in &got.speech {
        let audio = audio.as_ref().expect("audio kept");
        let from = span.start_frame as usize * FRAME_SAMPLES;
        let to = (span.end_frame as usize * FRAME_SAMPLES).min(samples.len());
        assert_eq!(audio.len(), span.end_frame as usize * FRAME_SAMPLES - from);
        assert_eq!(&audio[..to - from], &samples[from..to]);
    }
}

#[test]
fn long_segments_are_cut_so_kept_audio_stays_bounded() {
    let samples = read_wav(WAV).unwrap().samples;
    let mut model = vad();
    let whole = segmenter::segments(&model.probabilities(&samples), settings());
    // At most 0.5 s (15 frames) per piece.
    let mut scanner = SpeechScanner::new(model.fresh(), settings(), 16_000)
        .unwrap()
        .keeping_audio(0.5);
    let got = scan(&mut scanner, &samples, 700);
    assert!(
        got.speech.len() > whole.len() * 2,
        "{} pieces",
        got.speech.len()
    );
    for s in &got.speech {
        let frames = s.span.end_frame - s.span.start_frame;
        assert!(frames <= 15, "{:?} is {frames} frames", s.span);
        assert_eq!(
            s.audio.as_ref().unwrap().len(),
            frames as usize * FRAME_SAMPLES
        );
    }
    // The pieces of each phrase follow one another and cover it.
    for w in &whole {
        let pieces: Vec<_> = got
            .speech
            .iter()
            .filter(|s| s.span.start_frame >= w.start_frame && s.span.end_frame <= w.end_frame)
            .collect();
        assert_eq!(pieces.first().unwrap().span.start_frame, w.start_frame);
        assert!(pieces
            .windows(2)
            .all(|p| p[0].span.end_frame == p[1].span.start_frame));
    }
}

#[test]
fn the_probability_trace_stays_small_and_keeps_peaks() {
    let mut trace = ProbTrace::new(100);
    // 100,000 frames (53 minutes) of silence with one speech frame at 77,777.
    for i in 0..100_000u32 {
        trace.push(if i == 77_777 { 0.9 } else { 0.01 });
    }
    let step = trace.step();
    let (values, step_out) = trace.finish();
    assert_eq!(step, step_out);
    assert!(values.len() < 200, "{} values", values.len());
    assert_eq!(values.len(), 100_000usize.div_ceil(step as usize));
    let peak = 77_777 / step as usize;
    assert_eq!(values[peak], 0.9);
    assert!(values
        .iter()
        .enumerate()
        .all(|(i, &v)| i == peak || v == 0.01));
    // Short input is kept frame by frame.
    let mut short = ProbTrace::new(100);
    for p in [0.1, 0.7, 0.2] {
        short.push(p);
    }
    assert_eq!(short.finish(), (vec![0.1, 0.7, 0.2], 1));
}
