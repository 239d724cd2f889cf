//! Streaming band-limited resampling (Kaiser-windowed sinc, polyphase for rational ratios).
//!
//! Every output sample is placed exactly at its time in the input (no group delay), so segment times
//! computed at 16 kHz map straight back to the source. Input may arrive in blocks of any size; the
//! resampler keeps only the filter's history, so long streams use bounded memory.

use crate::{Error, Result};

/// Zero crossings of the sinc on each side, at the cutoff frequency.
const ZERO_CROSSINGS: f64 = 24.0;
/// Cutoff as a fraction of the lower Nyquist frequency: leaves room for the transition band.
const ROLLOFF: f64 = 0.94;
/// Kaiser window shape (about 85 dB stop-band attenuation).
const KAISER_BETA: f64 = 8.6;
/// Largest number of polyphase phases kept as a table; stranger ratios compute taps per sample.
const MAX_TABLE_PHASES: u64 = 4096;

/// Resamples a mono stream from one rate to another.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    /// Output step in input samples is `m / l`.
    l: u64,
    m: u64,
    half: usize,
    cutoff: f64,
    /// `l` rows of `2 * half` taps, when `l` is small enough.
    table: Option<Vec<f32>>,
    /// Input samples from absolute index `base` on.
    buf: Vec<f32>,
    base: i64,
    /// Next output: centred on input index `pos` plus `phase / l`.
    pos: i64,
    phase: u64,
    consumed: u64,
    produced: u64,
    taps: Vec<f32>,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Zeroth-order modified Bessel function of the first kind, by its power series.
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..64 {
        term *= q / (k as f64 * k as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Result<Self> {
        if from == 0 || to == 0 {
            return Err(Error::invalid(
                "resample",
                format!("sample rates must be positive (got {from} Hz → {to} Hz)"),
            ));
        }
        let g = gcd(u64::from(from), u64::from(to));
        let (l, m) = (u64::from(to) / g, u64::from(from) / g);
        // Low-pass at the lower of the two Nyquist frequencies, in cycles per input sample × 2.
        let cutoff = ROLLOFF * (l as f64 / m as f64).min(1.0);
        let half = (ZERO_CROSSINGS / cutoff).ceil() as usize;
        let mut r = Resampler {
            from,
            to,
            l,
            m,
            half,
            cutoff,
            table: None,
            buf: vec![0.0; half],
            base: -(half as i64),
            pos: 0,
            phase: 0,
            consumed: 0,
            produced: 0,
            taps: vec![0.0; 2 * half],
        };
        if from != to && l <= MAX_TABLE_PHASES {
            let mut table = Vec::with_capacity(l as usize * 2 * half);
            for p in 0..l {
                r.compute_taps(p as f64 / l as f64);
                table.extend_from_slice(&r.taps);
            }
            r.table = Some(table);
        }
        Ok(r)
    }

    /// Input rate in Hz.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// Output rate in Hz.
    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// Taps for an output at fractional offset `frac` ∈ [0, 1) after an input sample; normalised to unit
    /// DC gain so silence stays silent and levels do not drift with the phase.
    fn compute_taps(&mut self, frac: f64) {
        fill_taps(&mut self.taps, self.half, self.cutoff, frac);
    }

    /// Feeds `input` and appends every output sample that is now complete to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.consumed += input.len() as u64;
        if self.from == self.to {
            out.extend_from_slice(input);
            self.produced += input.len() as u64;
            return;
        }
        self.buf.extend_from_slice(input);
        self.run(out, u64::MAX);
    }

    /// Ends the stream: appends the remaining outputs (the input is taken as silent after its end) and
    /// resets for a new stream.
    pub fn flush(&mut self, out: &mut Vec<f32>) {
        if self.from != self.to {
            let total = (self.consumed * self.l).div_ceil(self.m);
            let pad = vec![0.0; self.half + 1];
            while self.produced < total {
                self.buf.extend_from_slice(&pad);
                self.run(out, total);
            }
        }
        self.reset();
    }

    /// Forgets all buffered input.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.buf.resize(self.half, 0.0);
        self.base = -(self.half as i64);
        self.pos = 0;
        self.phase = 0;
        self.consumed = 0;
        self.produced = 0;
    }

    fn run(&mut self, out: &mut Vec<f32>, limit: u64) {
        let n_taps = 2 * self.half;
        let end = self.base + self.buf.len() as i64;
        while self.produced < limit && self.pos + (self.half as i64) < end {
            let start = (self.pos - (self.half as i64 - 1) - self.base) as usize;
            if self.table.is_none() {
                fill_taps(
                    &mut self.taps,
                    self.half,
                    self.cutoff,
                    self.phase as f64 / self.l as f64,
                );
            }
            let window = &self.buf[start..start + n_taps];
            let taps: &[f32] = match &self.table {
                Some(t) => {
                    let p = self.phase as usize;
                    &t[p * n_taps..(p + 1) * n_taps]
                }
                None => &self.taps,
            };
            let mut acc = 0.0f32;
            for (a, b) in window.iter().zip(taps) {
                acc += a * b;
            }
            out.push(acc);
            self.produced += 1;
            self.phase += self.m;
            self.pos += (self.phase / self.l) as i64;
            self.phase %= self.l;
        }
        // Keep only what the next output's window still needs.
        let keep_from = (self.pos - (self.half as i64 - 1) - self.base).max(0) as usize;
        let keep_from = keep_from.min(self.buf.len());
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.base += keep_from as i64;
        }
    }
}

/// Fills `taps` (2 × `half` long) for an output at fractional offset `frac` after an input sample.
fn fill_taps(taps: &mut [f32], half: usize, cutoff: f64, frac: f64) {
    let half = half as f64;
    let norm = bessel_i0(KAISER_BETA);
    let mut sum = 0.0;
    for (k, tap) in taps.iter_mut().enumerate() {
        let x = (k as f64 - (half - 1.0)) - frac;
        let sinc = if x.abs() < 1e-12 {
            1.0
        } else {
            let a = std::f64::consts::PI * cutoff * x;
            a.sin() / a
        };
        let r = x / half;
        let w = if r.abs() >= 1.0 {
            0.0
        } else {
            bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / norm
        };
        let v = cutoff * sinc * w;
        *tap = v as f32;
        sum += v;
    }
    if sum.abs() > 1e-12 {
        for tap in taps.iter_mut() {
            *tap = (f64::from(*tap) / sum) as f32;
        }
    }
}

/// Resamples a whole signal (convenience over [`Resampler`]).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    let mut r = Resampler::new(from, to)?;
    let mut out =
        Vec::with_capacity((samples.len() as u64 * u64::from(to) / u64::from(from)) as usize + 1);
    r.process(samples, &mut out);
    r.flush(&mut out);
    Ok(out)
}
