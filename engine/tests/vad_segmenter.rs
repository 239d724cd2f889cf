//! The vad-web segmenting rules on hand-made probability sequences, one rule per test.
//! (The same rules on real model output are checked against the Python reference in `vad_silero.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures

use offgrid_engine::audio::segmenter::segments;
use offgrid_engine::audio::{FrameSpan, SegmentEvent, Segmenter, SegmenterSettings};

fn settings() -> SegmenterSettings {
    SegmenterSettings {
        positive_threshold: 0.5,
        negative_threshold: 0.35,
        redemption_frames: 3,
        pre_speech_pad_frames: 2,
        min_speech_frames: 2,
    }
}

fn span(start_frame: u64, end_frame: u64) -> FrameSpan {
    FrameSpan {
        start_frame,
        end_frame,
    }
}

#[test]
fn events_of_one_segment() {
    let probs = [0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1];
    let mut seg = Segmenter::new(settings());
    let events: Vec<SegmentEvent> = probs.iter().map(|&p| seg.push(p)).collect();
    assert_eq!(events[4], SegmentEvent::SpeechStart { frame: 4 });
    // Third frame below the negative threshold (frame 9) ends it; padding starts 2 frames before 4.
    assert_eq!(events[9], SegmentEvent::SpeechEnd(span(2, 10)));
    let others = events
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 4 && *i != 9)
        .all(|(_, e)| *e == SegmentEvent::None);
    assert!(others);
    assert!(!seg.is_speaking());
}

#[test]
fn in_between_frames_neither_end_nor_count() {
    // 0.4 lies between the thresholds: it does not count towards redemption, so speech goes on.
    let probs = [0.9, 0.9, 0.4, 0.4, 0.4, 0.4, 0.1, 0.1, 0.1];
    assert_eq!(segments(&probs, settings()), vec![span(0, 9)]);
}

#[test]
fn a_positive_frame_redeems_the_silence() {
    let probs = [0.9, 0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.0, 0.0];
    assert_eq!(segments(&probs, settings()), vec![span(0, 8)]);
}

#[test]
fn short_bursts_are_misfires() {
    let probs = [0.0, 0.9, 0.1, 0.1, 0.1, 0.0];
    let mut seg = Segmenter::new(settings());
    let events: Vec<SegmentEvent> = probs.iter().map(|&p| seg.push(p)).collect();
    assert_eq!(events[4], SegmentEvent::Misfire(span(0, 5)));
    assert!(segments(&probs, settings()).is_empty());
}

#[test]
fn padding_never_reaches_into_the_previous_segment() {
    // Second segment starts one frame after the first ended: its padding is only that one frame.
    let probs = [0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.1];
    assert_eq!(segments(&probs, settings()), vec![span(0, 5), span(5, 11)]);
}

#[test]
fn open_segment_is_closed_at_the_end_of_the_stream() {
    let probs = [0.1, 0.1, 0.1, 0.9, 0.9, 0.9];
    assert_eq!(segments(&probs, settings()), vec![span(1, 6)]);
    let mut seg = Segmenter::new(settings());
    for p in probs {
        seg.push(p);
    }
    assert!(seg.is_speaking());
    assert_eq!(seg.finish(), SegmentEvent::SpeechEnd(span(1, 6)));
    assert_eq!(seg.frames(), 0, "finish resets");
}

#[test]
fn silence_only_gives_no_segments_and_constant_state() {
    let seg_probs = vec![0.01f32; 200_000];
    assert!(segments(&seg_probs, settings()).is_empty());
}

#[test]
fn settings_from_milliseconds_round_to_frames() {
    let s = SegmenterSettings::from_ms(0.5, 0.35, 1400.0, 800.0, 400.0, 32.0);
    assert_eq!(
        (
            s.redemption_frames,
            s.pre_speech_pad_frames,
            s.min_speech_frames
        ),
        (44, 25, 13)
    );
    assert_eq!(SegmenterSettings::default(), s);
    let [a, b] = span(2, 10).seconds(512, 16_000);
    assert!(
        (a - 0.064).abs() < 1e-12 && (b - 0.32).abs() < 1e-12,
        "{a} {b}"
    );
}

#[test]
fn split_cuts_open_speech_and_segment_start_tracks_what_audio_is_still_needed() {
    let mut seg = Segmenter::new(settings());
    assert_eq!(seg.split(), SegmentEvent::None, "nothing to cut in silence");
    for p in [0.1, 0.1, 0.1, 0.1] {
        seg.push(p);
    }
    // Outside speech only the padding (2 frames) is still needed.
    assert_eq!(seg.segment_start(), 2);
    for p in [0.9, 0.9, 0.9] {
        seg.push(p);
    }
    // Speaking since frame 4, padded from 2: cut at frame 7, speech goes on from there.
    assert_eq!(seg.split(), SegmentEvent::SpeechEnd(span(2, 7)));
    assert!(seg.is_speaking());
    assert_eq!(seg.segment_start(), 7);
    // A cut with too little speech since the last one is a misfire.
    seg.push(0.9);
    assert_eq!(seg.split(), SegmentEvent::Misfire(span(7, 8)));
    // The rest ends as usual: three quiet frames after speech.
    seg.push(0.9);
    seg.push(0.9);
    let ends: Vec<SegmentEvent> = [0.1, 0.1, 0.1].iter().map(|&p| seg.push(p)).collect();
    assert_eq!(ends[2], SegmentEvent::SpeechEnd(span(8, 13)));
}
