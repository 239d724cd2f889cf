//! Resampling quality against analytic signals: tones in the pass band come out as the same tone at the
//! new rate (exact time alignment), tones above the new Nyquist frequency are removed, and streaming in
//! blocks of any size equals one call, bit for bit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::audio::{resample, Resampler};
use std::f64::consts::PI;

fn tone(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n)
        .map(|i| (2.0 * PI * freq * i as f64 / f64::from(rate)).sin() as f32 * 0.5)
        .collect()
}

/// Largest error against the exact tone away from the edges (where the input's start and end cut it).
fn max_error_interior(out: &[f32], freq: f64, rate: u32) -> f32 {
    let skip = out.len() / 10;
    out[skip..out.len() - skip]
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let t = (k + skip) as f64 / f64::from(rate);
            (v - (2.0 * PI * freq * t).sin() as f32 * 0.5).abs()
        })
        .fold(0.0, f32::max)
}

fn rms_interior(out: &[f32]) -> f32 {
    let skip = out.len() / 10;
    let s = &out[skip..out.len() - skip];
    (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt()
}

#[test]
fn pass_band_tones_are_kept_and_aligned() {
    for (from, freq) in [
        (8000u32, 440.0),
        (8000, 3000.0),
        (11_025, 1000.0),
        (22_050, 5000.0),
        (44_100, 1000.0),
        (48_000, 6000.0),
        (96_000, 440.0),
        (96_000, 6000.0),
    ] {
        let out = resample(&tone(freq, from, 0.5), from, 16_000).unwrap();
        assert_eq!(out.len(), 8000, "{from} Hz");
        let err = max_error_interior(&out, freq, 16_000);
        assert!(err < 2e-3, "{from} Hz, {freq} Hz tone: max error {err}");
    }
}

#[test]
fn the_transition_band_starts_above_7_khz() {
    // At 7 kHz (0.875 of the new Nyquist frequency) the gain is still within 0.5 dB.
    let out = resample(&tone(7000.0, 96_000, 0.5), 96_000, 16_000).unwrap();
    let gain = rms_interior(&out) / (0.5 / 2f32.sqrt());
    assert!((0.944..1.01).contains(&gain), "gain at 7 kHz: {gain}");
}

#[test]
fn tones_above_the_new_nyquist_are_removed() {
    for (from, freq) in [
        (96_000u32, 9000.0),
        (96_000, 20_000.0),
        (44_100, 12_000.0),
        (48_000, 8600.0),
    ] {
        let out = resample(&tone(freq, from, 0.5), from, 16_000).unwrap();
        let rms = rms_interior(&out);
        // Input RMS is 0.354; require at least 60 dB of attenuation.
        assert!(
            rms < 3.5e-4,
            "{from} Hz, {freq} Hz tone leaks with RMS {rms}"
        );
    }
}

#[test]
fn streaming_in_blocks_of_any_size_equals_one_call() {
    for (from, to) in [
        (44_100u32, 16_000u32),
        (48_000, 16_000),
        (8000, 16_000),
        (96_000, 16_000),
        (44_101, 16_000),
    ] {
        let input = tone(1234.5, from, 0.3);
        let whole = resample(&input, from, to).unwrap();
        assert_eq!(
            whole.len(),
            (input.len() as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize
        );
        // One sample at a time, odd sizes, sizes around the filter length, and irregular sizes: the
        // same samples, bit for bit (file pieces and microphone chunks never line up with anything).
        let sizes: [&[usize]; 5] = [&[1], &[333], &[47, 48, 49], &[4096], &[1, 5000, 2, 777, 13]];
        for pattern in sizes {
            let mut r = Resampler::new(from, to).unwrap();
            let mut out = Vec::new();
            let mut at = 0;
            for &n in pattern.iter().cycle() {
                if at >= input.len() {
                    break;
                }
                let end = (at + n).min(input.len());
                r.process(&input[at..end], &mut out);
                at = end;
            }
            r.flush(&mut out);
            assert_eq!(out, whole, "{from} → {to} in blocks of {pattern:?}");
        }
    }
}

#[test]
fn same_rate_is_identity_and_zero_rate_is_an_error() {
    let input = tone(500.0, 16_000, 0.1);
    assert_eq!(resample(&input, 16_000, 16_000).unwrap(), input);
    assert!(Resampler::new(0, 16_000).is_err());
    assert!(Resampler::new(16_000, 0).is_err());
}
