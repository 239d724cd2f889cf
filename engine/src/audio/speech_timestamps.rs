//! Speech timestamps from Silero VAD probabilities by the rules of the `silero-vad` package's
//! `get_speech_timestamps` (threshold and a lower exit threshold, a minimum speech length, a minimum silence
//! before a segment ends, padding split between close segments), so a whole file gives the spans a person
//! would get from Silero's own tooling. The live pages use [`super::Segmenter`] (vad-web's rules, decided
//! frame by frame); this is the whole-file statement of the package's rules, checked against it in
//! `engine/tests/vad_package.rs`. Without a maximum speech length (the package's default is none).

use crate::models::silero_vad::{FRAME_SAMPLES, SAMPLE_RATE};

/// The package's parameters, in its units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimestampRules {
    /// A frame at or above this is speech.
    pub threshold: f32,
    /// While in speech, a frame below this is silence (the package's default: `threshold - 0.15`, at least 0.01).
    pub neg_threshold: Option<f32>,
    /// Shorter speech is dropped (strictly longer is kept).
    pub min_speech_ms: u32,
    /// Silence this long ends a segment.
    pub min_silence_ms: u32,
    /// Added on each side of a segment; between two segments closer than twice this, the gap is split.
    pub speech_pad_ms: u32,
}

impl Default for TimestampRules {
    fn default() -> Self {
        TimestampRules {
            threshold: 0.5,
            neg_threshold: None,
            min_speech_ms: 250,
            min_silence_ms: 100,
            speech_pad_ms: 30,
        }
    }
}

/// Samples in `ms` milliseconds at 16 kHz.
fn samples(ms: u32) -> usize {
    (SAMPLE_RATE as usize * ms as usize) / 1000
}

/// Speech spans `[start, end)` in samples of the 16 kHz audio, from one probability per 512-sample frame
/// (fresh state, last frame zero-padded) of audio `audio_len` samples long.
pub fn speech_timestamps(
    probs: &[f32],
    audio_len: usize,
    rules: TimestampRules,
) -> Vec<(usize, usize)> {
    let neg = rules
        .neg_threshold
        .unwrap_or((rules.threshold - 0.15).max(0.01));
    let (min_speech, min_silence) = (samples(rules.min_speech_ms), samples(rules.min_silence_ms));
    let mut spans = Vec::new();
    // The start of the speech being followed, and where the silence inside it began (if it has).
    let mut start: Option<usize> = None;
    let mut silence_from: Option<usize> = None;
    for (i, &p) in probs.iter().enumerate() {
        let at = i * FRAME_SAMPLES;
        if p >= rules.threshold {
            // Speech again: a silence that had begun inside the segment did not last.
            silence_from = None;
            if start.is_none() {
                start = Some(at);
                continue;
            }
        }
        let Some(s) = start else { continue };
        if p < neg {
            let from = *silence_from.get_or_insert(at);
            if at - from >= min_silence {
                if from - s > min_speech {
                    spans.push((s, from));
                }
                start = None;
                silence_from = None;
            }
        }
    }
    if let Some(s) = start {
        if audio_len.saturating_sub(s) > min_speech {
            spans.push((s, audio_len));
        }
    }
    pad(&mut spans, samples(rules.speech_pad_ms), audio_len);
    spans
}

/// Widens each span by `pad` samples; two spans closer than `2 * pad` share the gap between them, half each.
fn pad(spans: &mut [(usize, usize)], pad: usize, audio_len: usize) {
    let n = spans.len();
    for i in 0..n {
        if i == 0 {
            spans[0].0 = spans[0].0.saturating_sub(pad);
        }
        if i + 1 < n {
            let gap = spans[i + 1].0.saturating_sub(spans[i].1);
            if gap < 2 * pad {
                spans[i].1 += gap / 2;
                spans[i + 1].0 = spans[i + 1].0.saturating_sub(gap / 2);
            } else {
                spans[i].1 = (spans[i].1 + pad).min(audio_len);
                spans[i + 1].0 = spans[i + 1].0.saturating_sub(pad);
            }
        } else {
            spans[i].1 = (spans[i].1 + pad).min(audio_len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(pattern: &str) -> Vec<f32> {
        pattern
            .chars()
            .map(|c| match c {
                'S' => 0.9,
                'm' => 0.4, // between the exit threshold and the threshold: neither starts nor ends speech
                _ => 0.05,
            })
            .collect()
    }

    #[test]
    fn a_short_dip_does_not_end_speech_and_a_long_one_does() {
        let rules = TimestampRules {
            speech_pad_ms: 0,
            min_speech_ms: 0,
            ..TimestampRules::default()
        };
        // 100 ms is 3.125 frames: silence ends a segment once a frame 4 frames after its first silent one is
        // still silent (the first 3-frame dip is tolerated), and the segment ends where the silence began.
        let p = frames("..SSSS...SSSS.....SS");
        let spans = speech_timestamps(&p, p.len() * FRAME_SAMPLES, rules);
        assert_eq!(spans, [(2 * 512, 13 * 512), (18 * 512, 20 * 512)]);
        // A middle value neither starts nor ends speech.
        let p = frames("..SSmmmmmmSS......");
        let spans = speech_timestamps(&p, p.len() * FRAME_SAMPLES, rules);
        assert_eq!(spans, [(2 * 512, 12 * 512)]);
    }

    #[test]
    fn short_speech_is_dropped_and_padding_splits_a_small_gap() {
        let rules = TimestampRules {
            min_speech_ms: 250,
            speech_pad_ms: 100,
            ..TimestampRules::default()
        };
        // 3 frames (96 ms) of speech is under 250 ms: dropped. Then speech at frames 12..22 and 29..39.
        let p = frames("..SSS.......SSSSSSSSSS.......SSSSSSSSSS......");
        let len = p.len() * FRAME_SAMPLES;
        let spans = speech_timestamps(&p, len, rules);
        // The gap (7 frames, 3584 samples) is more than twice the 1600-sample pad: each side gets the pad.
        assert_eq!(
            spans,
            [
                (12 * 512 - 1600, 22 * 512 + 1600),
                (29 * 512 - 1600, 39 * 512 + 1600)
            ]
        );
        let rules = TimestampRules {
            speech_pad_ms: 200,
            ..rules
        };
        let spans = speech_timestamps(&p, len, rules);
        // Now the gap is under twice the pad: each side gets half of it; the end stops at the audio's end.
        assert_eq!(
            spans,
            [(12 * 512 - 3200, 22 * 512 + 1792), (29 * 512 - 1792, len)]
        );
    }
}
