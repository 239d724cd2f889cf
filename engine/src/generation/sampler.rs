//! Picking the next token from logits: penalties on recent tokens, then top-k, top-p and min-p on the
//! probabilities, then temperature, in llama.cpp's default order (`common/sampling.cpp`); temperature 0 is
//! greedy (the highest logit after penalties).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// How the next token is chosen. The defaults are llama.cpp's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    /// 0 picks the most likely token; higher spreads the choice.
    pub temperature: f32,
    /// Keep only the k most likely tokens (0: all).
    pub top_k: usize,
    /// Keep the most likely tokens whose probabilities add up to p (1: all).
    pub top_p: f32,
    /// Drop tokens less likely than min_p × the most likely one (0: none).
    pub min_p: f32,
    /// Divide positive logits (multiply negative ones) of recent tokens by this (1: off).
    pub repetition_penalty: f32,
    /// Subtract from the logit of every recent token (0: off).
    pub presence_penalty: f32,
    /// Subtract × the count of each recent token (0: off).
    pub frequency_penalty: f32,
    /// How many recent tokens the penalties look at.
    pub penalty_last_n: usize,
    /// Seed of the random choice (same seed, same text).
    pub seed: u64,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repetition_penalty: 1.0,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            penalty_last_n: 64,
            seed: 0,
        }
    }
}

impl SamplingParams {
    /// Always the most likely token.
    pub fn greedy() -> Self {
        SamplingParams {
            temperature: 0.0,
            ..Default::default()
        }
    }

    /// Rejects values that make no sense (negative temperature, p outside 0..=1, NaN).
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::invalid("sampling", what.to_string()));
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return bad("temperature must be 0 or more");
        }
        if !(0.0..=1.0).contains(&self.top_p) || !(0.0..=1.0).contains(&self.min_p) {
            return bad("top-p and min-p must be between 0 and 1");
        }
        if !(self.repetition_penalty > 0.0 && self.repetition_penalty.is_finite()) {
            return bad("the repetition penalty must be above 0");
        }
        if !self.presence_penalty.is_finite() || !self.frequency_penalty.is_finite() {
            return bad("penalties must be finite numbers");
        }
        Ok(())
    }
}

/// SplitMix64: a tiny, seedable generator (the same sequence on every platform).
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Chooses tokens with one [`SamplingParams`] and its own random stream.
#[derive(Debug, Clone)]
pub struct Sampler {
    params: SamplingParams,
    rng: SplitMix64,
}

/// The index of the largest value (the first of equals); `None` for an empty or all-NaN slice.
pub fn argmax(values: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in values.iter().enumerate() {
        if !v.is_nan() && best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

impl Sampler {
    /// A sampler; the parameters must pass [`SamplingParams::validate`].
    pub fn new(params: SamplingParams) -> Result<Self> {
        params.validate()?;
        Ok(Sampler {
            params,
            rng: SplitMix64(params.seed),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &SamplingParams {
        &self.params
    }

    /// Picks the next token from `logits` (changed in place by the penalties) after `history`.
    pub fn sample(&mut self, logits: &mut [f32], history: &[u32]) -> Result<u32> {
        let p = self.params;
        self.penalize(logits, history);
        let pick = if p.temperature == 0.0 {
            argmax(logits)
        } else {
            self.sample_filtered(logits)
        };
        pick.map(|i| i as u32)
            .ok_or_else(|| Error::invalid("sampling", "the model produced no usable logits (NaN)"))
    }

    fn penalize(&self, logits: &mut [f32], history: &[u32]) {
        let p = self.params;
        let off =
            p.repetition_penalty == 1.0 && p.presence_penalty == 0.0 && p.frequency_penalty == 0.0;
        if off || p.penalty_last_n == 0 {
            return;
        }
        let recent = &history[history.len().saturating_sub(p.penalty_last_n)..];
        let mut counts: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
        for &t in recent {
            *counts.entry(t).or_default() += 1;
        }
        for (&t, &n) in &counts {
            let Some(l) = logits.get_mut(t as usize) else {
                continue;
            };
            *l = if *l > 0.0 {
                *l / p.repetition_penalty
            } else {
                *l * p.repetition_penalty
            };
            *l -= n as f32 * p.frequency_penalty + p.presence_penalty;
        }
    }

    fn sample_filtered(&mut self, logits: &[f32]) -> Option<usize> {
        let p = self.params;
        let mut cand: Vec<(usize, f32)> = logits
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, l)| !l.is_nan())
            .collect();
        cand.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        if p.top_k > 0 {
            cand.truncate(p.top_k);
        }
        let max = cand.first()?.1;
        let probs = |c: &[(usize, f32)], t: f32| -> Vec<f64> {
            let e: Vec<f64> = c
                .iter()
                .map(|&(_, l)| (((l - max) / t) as f64).exp())
                .collect();
            let sum: f64 = e.iter().sum();
            e.into_iter().map(|x| x / sum).collect()
        };
        let pr = probs(&cand, 1.0);
        if p.top_p < 1.0 {
            let mut acc = 0.0;
            let keep = pr
                .iter()
                .position(|&x| {
                    acc += x;
                    acc >= p.top_p as f64
                })
                .map_or(cand.len(), |i| i + 1);
            cand.truncate(keep.max(1));
        }
        if p.min_p > 0.0 {
            let floor = pr[0] * p.min_p as f64;
            let keep = pr
                .iter()
                .take(cand.len())
                .take_while(|&&x| x >= floor)
                .count();
            cand.truncate(keep.max(1));
        }
        let pr = probs(&cand, p.temperature);
        let mut r = self.rng.next_f64();
        for (&(i, _), &x) in cand.iter().zip(&pr) {
            if r < x {
                return Some(i);
            }
            r -= x;
        }
        cand.last().map(|&(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn greedy_takes_the_highest_logit_after_penalties() {
        let mut s = Sampler::new(SamplingParams {
            repetition_penalty: 2.0,
            ..SamplingParams::greedy()
        })
        .unwrap();
        let mut logits = vec![0.1, 3.0, 2.0, -1.0];
        assert_eq!(s.sample(&mut logits.clone(), &[]).unwrap(), 1);
        // Token 1 was just said: 3.0 / 2 = 1.5 < 2.0.
        assert_eq!(s.sample(&mut logits, &[1]).unwrap(), 2);
    }

    #[test]
    fn top_k_one_is_greedy_and_seeds_repeat() {
        let logits: Vec<f32> = (0..100).map(|i| ((i * 37) % 11) as f32 * 0.3).collect();
        let mut k1 = Sampler::new(SamplingParams {
            temperature: 1.5,
            top_k: 1,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            k1.sample(&mut logits.clone(), &[]).unwrap() as usize,
            argmax(&logits).unwrap()
        );
        let run = |seed| {
            let mut s = Sampler::new(SamplingParams {
                temperature: 1.0,
                top_k: 0,
                top_p: 1.0,
                min_p: 0.0,
                seed,
                ..Default::default()
            })
            .unwrap();
            (0..20)
                .map(|_| s.sample(&mut logits.clone(), &[]).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn min_p_and_top_p_keep_only_likely_tokens() {
        // Probabilities ≈ 0.64, 0.24, 0.09, 0.03: min-p 0.2 keeps two, top-p 0.5 keeps one.
        let logits = [3.0f32, 2.0, 1.0, 0.0];
        for (params, allowed) in [
            (
                SamplingParams {
                    min_p: 0.2,
                    top_p: 1.0,
                    top_k: 0,
                    temperature: 5.0,
                    ..Default::default()
                },
                2,
            ),
            (
                SamplingParams {
                    min_p: 0.0,
                    top_p: 0.5,
                    top_k: 0,
                    temperature: 5.0,
                    ..Default::default()
                },
                1,
            ),
        ] {
            let mut s = Sampler::new(params).unwrap();
            for _ in 0..200 {
                assert!((s.sample(&mut logits.to_vec(), &[]).unwrap() as usize) < allowed);
            }
        }
    }

    #[test]
    fn bad_params_are_refused() {
        for p in [
            SamplingParams {
                temperature: -1.0,
                ..Default::default()
            },
            SamplingParams {
                top_p: 1.5,
                ..Default::default()
            },
            SamplingParams {
                repetition_penalty: 0.0,
                ..Default::default()
            },
        ] {
            assert!(Sampler::new(p).is_err());
        }
    }
}
