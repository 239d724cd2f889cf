//! exp and erf in f32 without branches or calls, so that loops over slices vectorise (simd128 on wasm32, SSE/AVX
//! natively). libm's `expf` is a call per element that no compiler vectorises, and an erf series in f64 cost 40% of
//! a MiniLM forward on one thread.

use std::f32::consts::{FRAC_2_SQRT_PI, LN_2, LOG2_E};

/// e^x within 3 ulp (4e-7 relative) for x in [-87, 88]; 0 below, +inf above, NaN stays NaN.
///
/// x = n·ln2 + r with |r| ≤ ln2/2; e^r by its Taylor series to r⁷ (truncation error below 6e-9 relative on that
/// interval); 2ⁿ is built in the exponent bits. ln2 is split in a high part with few mantissa bits and a low part,
/// so that n·ln2_hi is exact and r keeps its precision.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75; // ln2 with its last 12 mantissa bits cleared: n · LN2_HI is exact for |n| < 2¹².
    const LN2_LO: f32 = LN_2 - LN2_HI;
    // Adding 1.5·2²³ rounds to the nearest integer (the sum has no bits below 1) and leaves that integer in the
    // low mantissa bits: both n as a float and as an int, without a call to `roundf` or a float-to-int conversion.
    const ROUNDER: f32 = 12_582_912.0;
    let clamped = x.clamp(-87.0, 88.0);
    let shifted = clamped * LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let n_int = shifted.to_bits() as i32 - ROUNDER.to_bits() as i32;
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    let p = 1.0 / 5040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    // n is in [-126, 127] after the clamp, so the biased exponent is in [1, 254].
    let scale = f32::from_bits(((n_int + 127) as u32) << 23);
    let y = p * scale;
    let y = if x < -87.0 { 0.0 } else { y };
    let y = if x > 88.0 { f32::INFINITY } else { y };
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// erf within 3e-7 absolute (and within 2e-7 relative below |x| = 0.75).
///
/// Below 0.75 the Maclaurin series to x¹⁷ (its next term is under 1e-8 there); above, Abramowitz & Stegun 7.1.26
/// (1 − poly(t)·e^(−x²), |error| < 1.5e-7), the same formula as the WGSL kernels. Both are computed and one is
/// selected, which keeps the loop free of branches.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    // Maclaurin: 2/√π · Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n+1)), Horner in x².
    let z = a * a;
    let mut s = -1.0 / (40_320.0 * 17.0);
    s = s * z + 1.0 / (5_040.0 * 15.0);
    s = s * z - 1.0 / (720.0 * 13.0);
    s = s * z + 1.0 / (120.0 * 11.0);
    s = s * z - 1.0 / (24.0 * 9.0);
    s = s * z + 1.0 / (6.0 * 7.0);
    s = s * z - 1.0 / (2.0 * 5.0);
    s = s * z + 1.0 / 3.0;
    s = s * z - 1.0;
    let series = -(s * a) * FRAC_2_SQRT_PI;
    // Abramowitz & Stegun 7.1.26.
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152) * t + 1.421_413_8) * t - 0.284_496_72) * t
        + 0.254_829_6)
        * t;
    let tail = 1.0 - poly * exp(-z);
    let r = if a < 0.75 { series } else { tail };
    r.copysign(x)
}

/// GELU (erf form) for activations: Abramowitz & Stegun 7.1.26 alone, without [`erf`]'s series. Its absolute
/// error (1.5e-7) is scaled by |x|/2 in the output: relative error under 2e-6 where |GELU| > 0.1 (the most
/// where 1 + erf cancels for negative x, as in any f32 evaluation), absolute error under 2e-6·|x| elsewhere.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    let a = (x * std::f32::consts::FRAC_1_SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152) * t + 1.421_413_8) * t - 0.284_496_72) * t
        + 0.254_829_6)
        * t;
    let erf_abs = 1.0 - poly * exp(-a * a);
    0.5 * x * (1.0 + erf_abs.copysign(x))
}

/// Sum in 8 independent lanes: a running scalar sum is a chain of dependent adds that cannot vectorise.
#[inline(always)]
pub fn sum(values: &[f32]) -> f32 {
    let (lanes, rest) = values.as_chunks::<8>();
    let mut acc = [0.0f32; 8];
    for chunk in lanes {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// Sum of squares in 8 independent lanes (see [`sum`]).
#[inline(always)]
pub fn sum_of_squares(values: &[f32]) -> f32 {
    let (lanes, rest) = values.as_chunks::<8>();
    let mut acc = [0.0f32; 8];
    for chunk in lanes {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v * v;
        }
    }
    acc.iter().sum::<f32>() + rest.iter().map(|v| v * v).sum::<f32>()
}

/// Applies `f` to `src` into `dst` element by element. A separate function per `f`, so the compiler sees one
/// closure body in the loop and vectorises it.
#[inline(always)]
pub fn map(dst: &mut [f32], src: &[f32], f: impl Fn(f32) -> f32) {
    for (o, &s) in dst.iter_mut().zip(src) {
        *o = f(s);
    }
}

/// Applies `f` to pairs of `a` and `b` into `dst` (see [`map`]).
#[inline(always)]
pub fn map2(dst: &mut [f32], a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) {
    for ((o, &x), &y) in dst.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf in f64 by its series / continued fraction, as the reference.
    fn erf_f64(x: f64) -> f64 {
        let ax = x.abs();
        let r = if ax < 2.5 {
            let (mut term, mut sum, x2) = (ax, ax, ax * ax);
            let mut n = 0.0;
            while term.abs() > 1e-17 * sum.abs() {
                n += 1.0;
                term *= -x2 / n;
                sum += term / (2.0 * n + 1.0);
            }
            sum * std::f64::consts::FRAC_2_SQRT_PI
        } else {
            let mut f = 0.0;
            for n in (1..=60).rev() {
                f = (n as f64 / 2.0) / (ax + f);
            }
            1.0 - (-ax * ax).exp() / (ax + f) / std::f64::consts::PI.sqrt()
        };
        r.copysign(x)
    }

    #[test]
    fn exp_is_within_three_ulp_of_f64() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -87.0 + 175.0 * i as f64 / 200_000.0;
            let want = (x as f32 as f64).exp();
            let got = exp(x as f32) as f64;
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn gelu_is_close_to_the_f64_erf_form() {
        let mut worst = 0.0f64;
        for i in 0..=100_000 {
            let x = (-10.0 + 20.0 * i as f64 / 100_000.0) as f32 as f64;
            let want = 0.5 * x * (1.0 + erf_f64(x / std::f64::consts::SQRT_2));
            let got = gelu(x as f32) as f64;
            // Absolute error up to |x|/2 · 1.5e-7 where GELU is near 0; relative error where it is not.
            let err = (got - want).abs();
            let scaled = if want.abs() > 0.1 {
                err / want.abs()
            } else {
                err / x.abs().max(1.0)
            };
            worst = worst.max(scaled);
        }
        // Where x < 0, 1 + erf cancels (torch's f32 GELU does the same): up to ~1.4e-6 relative.
        assert!(worst < 2e-6, "worst error {worst}");
        assert_eq!(gelu(0.0), 0.0);
        assert_eq!(sum(&[1.0; 21]), 21.0);
    }

    #[test]
    fn erf_is_close_to_f64() {
        let (mut worst_abs, mut worst_small_rel) = (0.0f64, 0.0f64);
        for i in 0..=200_000 {
            let x = -6.0 + 12.0 * i as f64 / 200_000.0;
            let x32 = x as f32;
            let want = erf_f64(x32 as f64);
            let got = erf(x32) as f64;
            worst_abs = worst_abs.max((got - want).abs());
            if x.abs() < 0.75 && want != 0.0 {
                worst_small_rel = worst_small_rel.max(((got - want) / want).abs());
            }
        }
        assert!(worst_abs < 3e-7, "worst absolute error {worst_abs}");
        assert!(
            worst_small_rel < 2e-7,
            "worst relative error below 0.75: {worst_small_rel}"
        );
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(10.0), 1.0);
        assert_eq!(erf(-10.0), -1.0);
    }
}
