//! Greedy decoding as transformers' `WhisperGenerationMixin.generate`: forced prompt (sot, language, task,
//! notimestamps), `suppress_tokens`, `begin_suppress_tokens`, the timestamp rules of
//! `WhisperTimeStampLogitsProcessor`, and the seek loop over 30-second windows that cuts segments at
//! timestamp pairs (`_retrieve_segment`).

use super::GenerationConfig;

/// Whether to transcribe in the spoken language or translate to English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    #[default]
    Transcribe,
    Translate,
}

impl Task {
    /// The name used in `generation_config.json`'s `task_to_id`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Transcribe => "transcribe",
            Task::Translate => "translate",
        }
    }
}

/// Masks logits in place before the argmax of one step; `generated` are the tokens after the prompt.
pub fn apply_logit_rules(
    logits: &mut [f32],
    generated: &[u32],
    gen: &GenerationConfig,
    timestamps: bool,
) {
    let neg = f32::NEG_INFINITY;
    let vocab = logits.len();
    let mask = |range: std::ops::Range<usize>, logits: &mut [f32]| {
        let (a, b) = (range.start.min(vocab), range.end.min(vocab));
        if a < b {
            logits[a..b].fill(neg);
        }
    };
    if generated.is_empty() {
        for &t in &gen.begin_suppress_tokens {
            if let Some(l) = logits.get_mut(t as usize) {
                *l = neg;
            }
        }
    }
    for &t in &gen.suppress_tokens {
        if let Some(l) = logits.get_mut(t as usize) {
            *l = neg;
        }
    }
    if !timestamps {
        return;
    }
    let ts_begin = gen.timestamp_begin() as usize;
    let eos = gen.eos_token_id as usize;
    if let Some(l) = logits.get_mut(gen.no_timestamps_token_id as usize) {
        *l = neg;
    }
    let n = generated.len();
    let is_ts = |t: u32| t as usize >= ts_begin;
    let last_was_ts = n >= 1 && is_ts(generated[n - 1]);
    let penultimate_was_ts = n < 2 || is_ts(generated[n - 2]);
    if last_was_ts {
        if penultimate_was_ts {
            mask(ts_begin..vocab, logits);
        } else {
            mask(0..eos, logits);
        }
    }
    // Timestamps never decrease; after a closed pair they must strictly increase.
    if let Some(&last_ts) = generated.iter().rev().find(|&&t| is_ts(t)) {
        let bound = if last_was_ts && !penultimate_was_ts {
            last_ts as usize
        } else {
            last_ts as usize + 1
        };
        mask(ts_begin..bound, logits);
    }
    if n == 0 {
        mask(0..ts_begin, logits);
        if let Some(m) = gen.max_initial_timestamp_index {
            mask(ts_begin + m as usize + 1..vocab, logits);
        }
    }
    // If the timestamps together are likelier than any single text token, a timestamp it is.
    let split = ts_begin.min(vocab);
    let max_text = logits[..split]
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max) as f64;
    let ts_max = logits[split..]
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max) as f64;
    if ts_max.is_finite() {
        let sum: f64 = logits[split..]
            .iter()
            .map(|&v| (v as f64 - ts_max).exp())
            .sum();
        if ts_max + sum.ln() > max_text {
            mask(0..ts_begin, logits);
        }
    }
}

/// Index of the largest value (the first one on ties, as `torch.argmax`).
pub fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best as u32
}

/// One stretch of speech with its tokens (timestamp tokens included, as transformers returns them).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Segment {
    /// Start in seconds from the beginning of the audio.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// Token ids of the segment.
    pub tokens: Vec<u32>,
    /// Decoded text (special tokens left out); empty without a tokenizer.
    pub text: String,
    /// How its window's decode was judged (every segment of a window has the same figures); zero when the
    /// transcription did not score windows ([`super::TranscribeOptions::quality`] off).
    pub scores: super::WindowScores,
}

/// Whose rules cut a window into segments. The two reference runtimes differ in two details, and a model's
/// segments follow the runtime it is compared with (transformers for safetensors, faster-whisper for
/// CTranslate2 files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SegmentRules {
    /// transformers' `_retrieve_segment`: the last segment before a closing pair keeps the pair's second
    /// timestamp; a window without a usable timestamp ends at its length rounded down to 0.02 s.
    #[default]
    Transformers,
    /// faster-whisper's `generate_segments`: segments end at the pair's first timestamp; a window without a
    /// usable timestamp ends at its length (10 ms frames).
    FasterWhisper,
}

/// Splits one window's tokens into segments at timestamp pairs; returns them and how many mel frames to seek.
/// `time_offset` is the window's start in seconds, `seek_frames` the frames of audio the window holds.
pub fn split_segments(
    seq: &[u32],
    ts_begin: u32,
    time_offset: f64,
    seek_frames: usize,
    rules: SegmentRules,
) -> (Vec<Segment>, usize) {
    const TIME_PRECISION: f64 = 0.02;
    const INPUT_STRIDE: usize = 2;
    let is_ts: Vec<bool> = seq.iter().map(|&t| t >= ts_begin).collect();
    let n = seq.len();
    let single_ending = n >= 2 && !is_ts[n - 2] && is_ts[n - 1];
    let mut slices: Vec<usize> = (0..n.saturating_sub(1))
        .filter(|&i| is_ts[i] && is_ts[i + 1])
        .map(|i| i + 1)
        .collect();
    let pos = |t: u32| (t - ts_begin) as f64;
    let segment = |tokens: &[u32], start: f64, end: f64| Segment {
        start,
        end,
        tokens: tokens.to_vec(),
        text: String::new(),
        scores: Default::default(),
    };
    if slices.is_empty() {
        let mut duration = match rules {
            SegmentRules::Transformers => {
                ((seek_frames as f64) * 0.01 / TIME_PRECISION).trunc() * TIME_PRECISION
            }
            SegmentRules::FasterWhisper => seek_frames as f64 * 0.01,
        };
        if let Some(&t) = seq.iter().rev().find(|&&t| t >= ts_begin) {
            if t != ts_begin {
                duration = pos(t) * TIME_PRECISION;
            }
        }
        let seg = segment(seq, time_offset, time_offset + duration);
        return (vec![seg], seek_frames);
    }
    if single_ending {
        slices.push(n);
    } else if let (Some(last), SegmentRules::Transformers) = (slices.last_mut(), rules) {
        *last += 1;
    }
    let mut segments = Vec::with_capacity(slices.len());
    let mut last_slice = 0;
    for (i, &cur) in slices.iter().enumerate() {
        let tokens = &seq[last_slice..cur];
        let is_last = i + 1 == slices.len();
        let end_idx = if !is_last || single_ending || rules == SegmentRules::FasterWhisper {
            tokens.len() - 1
        } else {
            tokens.len() - 2
        };
        // Whisper only starts a slice at a timestamp; `saturating_sub` keeps odd outputs from panicking.
        let start = tokens[0].saturating_sub(ts_begin) as f64;
        let end = tokens[end_idx].saturating_sub(ts_begin) as f64;
        segments.push(segment(
            tokens,
            time_offset + start * TIME_PRECISION,
            time_offset + end * TIME_PRECISION,
        ));
        last_slice = cur;
    }
    // The window's last closed pair: where the next window starts.
    let back = match rules {
        SegmentRules::Transformers => 2,
        SegmentRules::FasterWhisper => 1,
    };
    let offset = if single_ending {
        seek_frames
    } else {
        seq[last_slice - back].saturating_sub(ts_begin) as usize * INPUT_STRIDE
    };
    (segments, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cut_at_pairs_and_seek_to_the_last_closed_one() {
        // ts_begin = 100: tokens >= 100 are timestamps.
        let seq = [100, 5, 110, 110, 6, 120, 120, 7, 130];
        let (segs, offset) = split_segments(&seq, 100, 1.0, 3000, SegmentRules::Transformers);
        // Two closed pairs, plus the trailing [ts, text, ts] that a single-timestamp ending keeps (as
        // transformers' `_retrieve_segment` appends `len(seq)` to the slices).
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[0].tokens, vec![100, 5, 110]);
        assert!((segs[0].end - 1.2).abs() < 1e-9);
        // Single timestamp ending: the whole window is consumed.
        assert_eq!(offset, 3000);
        let (segs, offset) = split_segments(&seq[..7], 100, 0.0, 3000, SegmentRules::Transformers);
        assert_eq!(offset, 20 * 2);
        // transformers keeps the pair's second timestamp in the last segment; faster-whisper does not, and
        // both seek to the pair.
        assert_eq!(segs[1].tokens, vec![110, 6, 120, 120]);
        let (fw, fw_offset) =
            split_segments(&seq[..7], 100, 0.0, 3000, SegmentRules::FasterWhisper);
        assert_eq!(fw[1].tokens, vec![110, 6, 120]);
        assert_eq!(fw_offset, offset);
        assert!((fw[1].end - segs[1].end).abs() < 1e-9);
        // A window without a usable timestamp: its length, rounded down to 0.02 s by transformers only.
        let (t, _) = split_segments(&[5, 6], 100, 0.0, 611, SegmentRules::Transformers);
        let (f, _) = split_segments(&[5, 6], 100, 0.0, 611, SegmentRules::FasterWhisper);
        assert!((t[0].end - 6.10).abs() < 1e-9 && (f[0].end - 6.11).abs() < 1e-9);
    }
}
