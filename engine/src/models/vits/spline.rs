//! The inverse of a monotonic rational-quadratic spline (Durkan et al., "Neural Spline Flows", 2019) with
//! linear tails, as VITS's duration predictor uses it: on `[-bound, bound]` the map is made of `bins` pieces,
//! each a ratio of quadratics fixed by the bin's width, height and the derivatives at its knots; outside, the
//! identity. The arithmetic follows the reference's order in f32, so durations (a `ceil` of its output) agree.

/// Softmax of `v` in place.
fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    v.iter_mut().for_each(|x| *x /= sum);
}

/// Knot positions from unnormalised sizes: `bins + 1` values from `-bound` to `bound`, no bin below `min`.
fn knots(unnormalised: &[f32], bound: f32, min: f32) -> Vec<f32> {
    let mut sizes = unnormalised.to_vec();
    softmax(&mut sizes);
    let bins = sizes.len() as f32;
    let mut out = Vec::with_capacity(sizes.len() + 1);
    out.push(-bound);
    let mut cum = 0.0f32;
    for s in &sizes {
        cum += min + (1.0 - min * bins) * s;
        out.push(2.0 * bound * cum - bound);
    }
    if let Some(last) = out.last_mut() {
        *last = bound;
    }
    out
}

fn softplus(x: f32) -> f32 {
    // torch's threshold: above 20 the result is x itself to f32 precision.
    if x > 20.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

/// The spline's inverse at `y`. `widths` and `heights` hold `bins` unnormalised values, `derivatives` the
/// `bins − 1` inner knots' unnormalised derivatives (the two outer ones are 1, to meet the linear tails).
pub fn inverse(
    y: f32,
    widths: &[f32],
    heights: &[f32],
    derivatives: &[f32],
    bound: f32,
    min: f32,
) -> f32 {
    if !(-bound..=bound).contains(&y) {
        return y;
    }
    let xs = knots(widths, bound, min);
    let ys = knots(heights, bound, min);
    // softplus(c) = 1 − min, so the outer derivatives are exactly 1.
    let edge = ((1.0 - min).exp() - 1.0).ln();
    let d = |k: usize| -> f32 {
        let u = if k == 0 || k == widths.len() {
            edge
        } else {
            derivatives[k - 1]
        };
        min + softplus(u)
    };
    // The bin whose output range holds y (the last knot nudged up so y = bound falls in the last bin).
    let bins = widths.len();
    let mut bin = 0;
    for (k, &knot) in ys.iter().enumerate().take(bins + 1) {
        let knot = if k == bins { knot + 1e-6 } else { knot };
        if y >= knot {
            bin = k;
        }
    }
    let bin = bin.min(bins - 1);
    let (x0, w) = (xs[bin], xs[bin + 1] - xs[bin]);
    let (y0, h) = (ys[bin], ys[bin + 1] - ys[bin]);
    let delta = h / w;
    let (d0, d1) = (d(bin), d(bin + 1));
    // Solve the quadratic for θ ∈ [0, 1] in its numerically stable form.
    let t = y - y0;
    let a = t * (d0 + d1 - 2.0 * delta) + h * (delta - d0);
    let b = h * d0 - t * (d0 + d1 - 2.0 * delta);
    let c = -delta * t;
    let disc = b * b - 4.0 * a * c;
    let theta = (2.0 * c) / (-b - disc.max(0.0).sqrt());
    theta * w + x0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The forward spline, written from the paper's formula, to check the inverse against.
    fn forward(x: f32, widths: &[f32], heights: &[f32], derivatives: &[f32]) -> f32 {
        let (bound, min) = (5.0, 1e-3);
        let xs = knots(widths, bound, min);
        let ys = knots(heights, bound, min);
        let edge = ((1.0f32 - min).exp() - 1.0).ln();
        let d = |k: usize| {
            let u = if k == 0 || k == widths.len() {
                edge
            } else {
                derivatives[k - 1]
            };
            min + softplus(u)
        };
        let bin = (0..widths.len()).rfind(|&k| x >= xs[k]).unwrap_or(0);
        let (w, h) = (xs[bin + 1] - xs[bin], ys[bin + 1] - ys[bin]);
        let s = h / w;
        let th = (x - xs[bin]) / w;
        let (d0, d1) = (d(bin), d(bin + 1));
        let num = h * (s * th * th + d0 * th * (1.0 - th));
        let den = s + (d0 + d1 - 2.0 * s) * th * (1.0 - th);
        ys[bin] + num / den
    }

    #[test]
    fn inverse_undoes_the_forward_spline_and_tails_are_the_identity() {
        let widths = [0.3, -1.0, 0.5, 2.0, 0.0, 0.1, -0.4, 1.2, 0.7, -2.0];
        let heights = [1.0, 0.2, -0.5, 0.0, 0.3, -1.1, 0.9, 0.4, -0.2, 0.6];
        let derivs = [0.5, -0.3, 1.0, 0.0, 2.0, -1.0, 0.2, 0.8, -0.6];
        for i in 0..=40 {
            let x = -4.9 + i as f32 * 0.245;
            let y = forward(x, &widths, &heights, &derivs);
            let back = inverse(y, &widths, &heights, &derivs, 5.0, 1e-3);
            assert!((back - x).abs() < 1e-4, "x {x} → y {y} → {back}");
        }
        assert_eq!(inverse(7.5, &widths, &heights, &derivs, 5.0, 1e-3), 7.5);
        assert_eq!(inverse(-5.01, &widths, &heights, &derivs, 5.0, 1e-3), -5.01);
    }
}
