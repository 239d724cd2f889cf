//! How a decoded 30-second window is judged, as faster-whisper judges it: the average log-probability of its
//! tokens, how well its text compresses (a model stuck repeating itself writes text that compresses very well)
//! and the probability of the no-speech token at the start of the transcript. A window that looks like
//! silence is skipped (no invented words over silence, music or noise); one that looks unsure or repetitive
//! is decoded again at a higher temperature, keeping the best try.

use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};

/// faster-whisper's rules and defaults (`WhisperModel.transcribe`).
#[derive(Debug, Clone, PartialEq)]
pub struct QualityRules {
    /// Tried in order until a decode passes; 0 is greedy, above 0 samples `best_of` candidates.
    pub temperatures: Vec<f32>,
    /// Candidates sampled at each temperature above 0; the one with the best score is kept.
    pub best_of: usize,
    /// Text whose zlib compression ratio is above this is too repetitive.
    pub compression_ratio_threshold: f64,
    /// A decode whose average log-probability is below this is unsure.
    pub log_prob_threshold: f64,
    /// A window whose no-speech probability is above this, and whose decode is unsure, is silence.
    pub no_speech_threshold: f64,
    /// Seed of the sampling at temperatures above 0 (the same audio gives the same words).
    pub seed: u64,
}

impl Default for QualityRules {
    fn default() -> Self {
        QualityRules {
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            best_of: 5,
            compression_ratio_threshold: 2.4,
            log_prob_threshold: -1.0,
            no_speech_threshold: 0.6,
            seed: 0,
        }
    }
}

impl QualityRules {
    /// Only the silence rule: one greedy decode per window, no re-decoding (the cheap setting).
    pub fn greedy_only() -> Self {
        QualityRules {
            temperatures: vec![0.0],
            ..QualityRules::default()
        }
    }

    /// Whether a decode should be tried again at the next temperature.
    pub fn needs_fallback(&self, s: &WindowScores) -> bool {
        let too_repetitive = s.compression_ratio > self.compression_ratio_threshold;
        let unsure = s.avg_logprob < self.log_prob_threshold;
        // Silence is not retried: it is skipped.
        (too_repetitive || unsure) && !self.is_silence(s)
    }

    /// Whether the window is silence: the no-speech token is likely and the words are unsure.
    pub fn is_silence(&self, s: &WindowScores) -> bool {
        s.no_speech_prob.is_some_and(|p| {
            p > self.no_speech_threshold && s.avg_logprob <= self.log_prob_threshold
        })
    }
}

/// The figures one decode of a window is judged by (faster-whisper's segment fields of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct WindowScores {
    /// Sum of the chosen tokens' log-probabilities (end of text included) over the tokens plus one.
    pub avg_logprob: f64,
    /// Bytes of the text over bytes of its zlib compression.
    pub compression_ratio: f64,
    /// Probability of the no-speech token at the start-of-transcript position (`None` when the model has
    /// no such token).
    pub no_speech_prob: Option<f64>,
    /// The temperature of the decode that was kept.
    pub temperature: f32,
}

/// Bytes of `text` over bytes of its zlib (level 6) compression, as faster-whisper's `get_compression_ratio`.
/// zlib packs each block with fixed or dynamic Huffman codes, whichever is smaller; miniz always builds
/// dynamic codes for a block this size, so both are tried and the smaller counts. miniz still finds a few
/// more or fewer short matches than zlib: sizes agree within a few percent (tested), which moves no decision
/// but one that sits right at the 2.4 threshold.
pub fn compression_ratio(text: &str) -> f64 {
    use miniz_oxide::deflate::core::deflate_flags::TDEFL_FORCE_ALL_STATIC_BLOCKS;
    let bytes = text.as_bytes();
    let flags = create_comp_flags_from_zip_params(6, 15, 0);
    let packed = [flags, flags | TDEFL_FORCE_ALL_STATIC_BLOCKS]
        .into_iter()
        .filter_map(|f| zlib_len(bytes, f))
        .min()
        .unwrap_or(bytes.len());
    bytes.len() as f64 / packed.max(1) as f64
}

/// Bytes of `bytes` packed as one zlib stream with miniz `flags` (`None` should the output not fit).
fn zlib_len(bytes: &[u8], flags: u32) -> Option<usize> {
    let mut compressor = CompressorOxide::new(flags);
    // Deflate's worst case is 5 bytes per 64 KiB stored block over the input, plus the zlib wrapper.
    let mut out = vec![0u8; bytes.len() + bytes.len() / 1000 * 5 + 64];
    let (status, read, written) = compress(&mut compressor, bytes, &mut out, TDEFLFlush::Finish);
    (status == TDEFLStatus::Done && read == bytes.len()).then_some(written)
}

/// `log_softmax(values)[index]`, in f64 (masked entries are -inf and add nothing).
pub fn log_prob(values: &[f32], index: usize) -> f64 {
    let max = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return f64::NEG_INFINITY;
    }
    let sum: f64 = values.iter().map(|&v| f64::from(v - max).exp()).sum();
    values
        .get(index)
        .map_or(f64::NEG_INFINITY, |&v| f64::from(v - max) - sum.ln())
}

/// `softmax(values)[index]`.
pub fn prob(values: &[f32], index: usize) -> f64 {
    log_prob(values, index).exp()
}

/// The seed of one sampled candidate: distinct per window, temperature and candidate, fixed by the rules' seed.
pub(super) fn candidate_seed(
    rules: &QualityRules,
    window: usize,
    temperature: usize,
    candidate: usize,
) -> u64 {
    rules.seed ^ ((window as u64) << 32) ^ ((temperature as u64) << 16) ^ candidate as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_sizes_are_zlibs() {
        // Python's len(zlib.compress(t.encode())) for each text; miniz's matches differ a little.
        for (text, zlib) in [
            (" Off-grid runs model offline. Voice detection finds each.", 62),
            (" Please put the milk back in the fridge. The kettle is boiling and the toast is ready.", 78),
            (" a", 10),
            ("hello hello hello hello hello hello hello", 17),
        ] {
            let (ratio, want) = (compression_ratio(text), text.len() as f64 / zlib as f64);
            assert!((ratio / want - 1.0).abs() < 0.06, "{text:?}: {ratio} vs zlib's {want}");
        }
        let stuck = " thank you".repeat(20);
        let ratio = compression_ratio(&stuck);
        assert!((ratio / (200.0 / 21.0) - 1.0).abs() < 0.06, "{ratio}");
    }

    #[test]
    fn repetitive_text_compresses_well() {
        let plain = compression_ratio(" The kettle is boiling and the toast is ready.");
        let stuck = compression_ratio(&" thank you".repeat(40));
        assert!(plain < 1.5, "{plain}");
        assert!(stuck > 2.4, "{stuck}");
    }

    #[test]
    fn log_prob_is_a_normalised_log_softmax() {
        let v = [1.0f32, 2.0, f32::NEG_INFINITY, 0.5];
        let total: f64 = (0..v.len()).map(|i| prob(&v, i)).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert_eq!(prob(&v, 2), 0.0);
        assert!(log_prob(&v, 1) > log_prob(&v, 0));
    }

    #[test]
    fn silence_is_skipped_not_retried() {
        let rules = QualityRules::default();
        let silent = WindowScores {
            avg_logprob: -1.5,
            compression_ratio: 1.0,
            no_speech_prob: Some(0.9),
            temperature: 0.0,
        };
        assert!(rules.is_silence(&silent));
        assert!(!rules.needs_fallback(&silent));
        // Sure words are kept even when the no-speech token is likely.
        let sure = WindowScores {
            avg_logprob: -0.3,
            ..silent
        };
        assert!(!rules.is_silence(&sure));
        let stuck = WindowScores {
            compression_ratio: 3.0,
            no_speech_prob: Some(0.1),
            ..sure
        };
        assert!(rules.needs_fallback(&stuck));
    }
}
