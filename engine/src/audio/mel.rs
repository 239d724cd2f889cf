//! Whisper's log-mel front end, equal to transformers' `WhisperFeatureExtractor`
//! (`feature_extraction_whisper.py`): 400-point periodic Hann window, hop 160, reflect padding as
//! `torch.stft(center=True)`, power spectrum, Slaney mel filters, `log10`, clamp to `max − 8`, `(x + 4) / 4`.

use crate::{Error, Result};

/// Sampling rate Whisper expects.
pub const SAMPLE_RATE: usize = 16_000;
/// FFT size (25 ms at 16 kHz).
pub const N_FFT: usize = 400;
/// Hop between frames (10 ms at 16 kHz).
pub const HOP_LENGTH: usize = 160;
/// Samples in one 30-second window.
pub const N_SAMPLES: usize = 30 * SAMPLE_RATE;
/// Frames in one 30-second window.
pub const N_FRAMES: usize = N_SAMPLES / HOP_LENGTH;
const N_FREQS: usize = N_FFT / 2 + 1;

/// Log-mel features `[n_mels, n_frames]`, row-major (one row per mel bin).
#[derive(Debug, Clone, PartialEq)]
pub struct MelFeatures {
    /// Values, `n_mels * n_frames`.
    pub data: Vec<f32>,
    /// Number of mel bins (rows).
    pub n_mels: usize,
    /// Number of 10 ms frames (columns).
    pub n_frames: usize,
}

impl MelFeatures {
    /// Frames `[start, start + len)` of every bin, zero-padded past the end (Whisper's per-window slice).
    pub fn window(&self, start: usize, len: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.n_mels * len];
        let avail = self.n_frames.saturating_sub(start).min(len);
        for (m, row) in out.chunks_exact_mut(len).enumerate() {
            let src = &self.data[m * self.n_frames + start..m * self.n_frames + start + avail];
            row[..avail].copy_from_slice(src);
        }
        out
    }
}

/// The log-mel spectrogram computer for one bin count (80 for most Whisper models, 128 for large-v3).
#[derive(Debug, Clone)]
pub struct MelSpectrogram {
    n_mels: usize,
    /// `[n_mels, N_FREQS]` Slaney-normalised triangular filters.
    filters: Vec<f64>,
    window: Vec<f64>,
    twiddles: Vec<(f64, f64)>,
}

fn hertz_to_mel(f: f64) -> f64 {
    // Slaney scale: linear below 1 kHz, logarithmic above (librosa / transformers `mel_scale="slaney"`).
    let logstep = 27.0 / 6.4f64.ln();
    if f >= 1000.0 {
        15.0 + (f / 1000.0).ln() * logstep
    } else {
        3.0 * f / 200.0
    }
}

fn mel_to_hertz(m: f64) -> f64 {
    let logstep = 6.4f64.ln() / 27.0;
    if m >= 15.0 {
        1000.0 * (logstep * (m - 15.0)).exp()
    } else {
        200.0 * m / 3.0
    }
}

/// Slaney-normalised mel filter bank `[n_mels, n_freqs]` from 0 Hz to `sr / 2` (transformers' `mel_filter_bank`).
fn mel_filters(n_mels: usize, n_freqs: usize, sr: f64) -> Vec<f64> {
    let (lo, hi) = (hertz_to_mel(0.0), hertz_to_mel(sr / 2.0));
    let edges: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hertz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let fft_freq = |k: usize| (sr / 2.0).floor() * k as f64 / (n_freqs - 1) as f64;
    let mut out = vec![0.0; n_mels * n_freqs];
    for m in 0..n_mels {
        let enorm = 2.0 / (edges[m + 2] - edges[m]);
        for k in 0..n_freqs {
            let f = fft_freq(k);
            let down = (f - edges[m]) / (edges[m + 1] - edges[m]);
            let up = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1]);
            out[m * n_freqs + k] = down.min(up).max(0.0) * enorm;
        }
    }
    out
}

/// Mixed-radix decimation-in-time FFT of `n` points read from `x[off + i * stride]`, written to `out[..n]`.
/// `tw[j * tw_step]` is `exp(-2πi j / n)`.
fn fft(
    x: &[f64],
    off: usize,
    stride: usize,
    out: &mut [(f64, f64)],
    tw: &[(f64, f64)],
    tw_step: usize,
) {
    let n = out.len();
    if n == 1 {
        out[0] = (x[off], 0.0);
        return;
    }
    let p = (2..=n).find(|p| n.is_multiple_of(*p)).unwrap_or(n);
    let m = n / p;
    for r in 0..p {
        fft(
            x,
            off + r * stride,
            stride * p,
            &mut out[r * m..(r + 1) * m],
            tw,
            tw_step * p,
        );
    }
    let mut y = [(0.0, 0.0); 8];
    let mut big = Vec::new();
    let y: &mut [(f64, f64)] = if p <= 8 {
        &mut y[..p]
    } else {
        big.resize(p, (0.0, 0.0));
        &mut big
    };
    for k in 0..m {
        for (r, v) in y.iter_mut().enumerate() {
            *v = out[r * m + k];
        }
        for q in 0..p {
            let (mut re, mut im) = (0.0, 0.0);
            for (r, &(yr, yi)) in y.iter().enumerate() {
                let (wr, wi) = tw[((r * (k + q * m)) % n) * tw_step];
                re += yr * wr - yi * wi;
                im += yr * wi + yi * wr;
            }
            out[q * m + k] = (re, im);
        }
    }
}

impl MelSpectrogram {
    /// A front end with `n_mels` bins (Whisper uses 80, or 128 for large-v3).
    pub fn new(n_mels: usize) -> Result<Self> {
        if n_mels == 0 || n_mels > 512 {
            return Err(Error::invalid(
                "log-mel",
                format!("{n_mels} mel bins is not a Whisper configuration (80 or 128)"),
            ));
        }
        let window = (0..N_FFT)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos())
            .collect();
        let twiddles = (0..N_FFT)
            .map(|j| {
                let a = -2.0 * std::f64::consts::PI * j as f64 / N_FFT as f64;
                (a.cos(), a.sin())
            })
            .collect();
        Ok(MelSpectrogram {
            n_mels,
            filters: mel_filters(n_mels, N_FREQS, SAMPLE_RATE as f64),
            window,
            twiddles,
        })
    }

    /// Number of mel bins.
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Features of one 30-second window: `samples` (16 kHz mono) zero-padded or truncated to 30 s, giving
    /// `[n_mels, 3000]` exactly as `WhisperFeatureExtractor(samples, sampling_rate=16000)`.
    pub fn window_30s(&self, samples: &[f32]) -> MelFeatures {
        let mut padded = vec![0.0f32; N_SAMPLES];
        let n = samples.len().min(N_SAMPLES);
        padded[..n].copy_from_slice(&samples[..n]);
        self.compute(&padded)
    }

    /// Features of all of `samples` (16 kHz mono): `len / 160` frames, normalised over the whole input, as
    /// `WhisperFeatureExtractor(..., padding="longest", truncation=False)` does for long-form audio.
    pub fn compute(&self, samples: &[f32]) -> MelFeatures {
        let n_frames = samples.len() / HOP_LENGTH;
        let half = N_FFT / 2;
        // Reflect padding (without repeating the edge sample), as torch.stft(center=True, pad_mode="reflect").
        let len = samples.len() as isize;
        let at = |i: isize| -> f64 {
            if len == 0 {
                return 0.0;
            }
            let mut j = i;
            // Reflection is defined for pads shorter than the signal; fold repeatedly for tiny inputs.
            while j < 0 || j >= len {
                if len == 1 {
                    return samples[0] as f64;
                }
                j = if j < 0 { -j } else { 2 * (len - 1) - j };
            }
            samples[j as usize] as f64
        };
        let mut log_spec = vec![0.0f64; self.n_mels * n_frames];
        let mut frame = vec![0.0f64; N_FFT];
        let mut spec = vec![(0.0f64, 0.0f64); N_FFT];
        let mut power = vec![0.0f64; N_FREQS];
        for t in 0..n_frames {
            let start = (t * HOP_LENGTH) as isize - half as isize;
            for (i, f) in frame.iter_mut().enumerate() {
                *f = at(start + i as isize) * self.window[i];
            }
            fft(&frame, 0, 1, &mut spec, &self.twiddles, 1);
            for (p, &(re, im)) in power.iter_mut().zip(&spec[..N_FREQS]) {
                *p = re * re + im * im;
            }
            for m in 0..self.n_mels {
                let row = &self.filters[m * N_FREQS..(m + 1) * N_FREQS];
                let e: f64 = row.iter().zip(&power).map(|(a, b)| a * b).sum();
                log_spec[m * n_frames + t] = e.max(1e-10).log10();
            }
        }
        let max = log_spec.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let data = log_spec
            .iter()
            .map(|&v| ((v.max(max - 8.0) + 4.0) / 4.0) as f32)
            .collect();
        MelFeatures {
            data,
            n_mels: self.n_mels,
            n_frames,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_matches_a_direct_dft() {
        let x: Vec<f64> = (0..N_FFT)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let tw: Vec<(f64, f64)> = (0..N_FFT)
            .map(|j| {
                let a = -2.0 * std::f64::consts::PI * j as f64 / N_FFT as f64;
                (a.cos(), a.sin())
            })
            .collect();
        let mut out = vec![(0.0, 0.0); N_FFT];
        fft(&x, 0, 1, &mut out, &tw, 1);
        for k in [0, 1, 7, 200, 399] {
            let (mut re, mut im) = (0.0, 0.0);
            for (i, v) in x.iter().enumerate() {
                let (c, s) = tw[(i * k) % N_FFT];
                re += v * c;
                im += v * s;
            }
            assert!(
                (out[k].0 - re).abs() < 1e-9 && (out[k].1 - im).abs() < 1e-9,
                "bin {k}"
            );
        }
    }
}
