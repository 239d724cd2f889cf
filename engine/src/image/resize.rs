//! Bilinear resizing with half-pixel centres (`align_corners=False`, no antialias): the convention of
//! PyTorch's `interpolate` and ONNX's `Resize`, and of the IS-Net fixtures (`scripts/fixtures/isnet_fixtures.py`
//! restates it).

/// For each output index along one axis: the two source indices and the weight of the second.
fn axis(n_out: usize, n_in: usize) -> Vec<(usize, usize, f64)> {
    let scale = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|i| {
            let s = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (s.floor() as usize).min(n_in - 1);
            let i1 = (i0 + 1).min(n_in - 1);
            (i0, i1, s - i0 as f64)
        })
        .collect()
}

/// Resizes interleaved 8-bit pixels (`channels` per pixel), in f64, rounding half up.
pub fn resize_u8(
    src: &[u8],
    (w, h): (usize, usize),
    channels: usize,
    (out_w, out_h): (usize, usize),
) -> Vec<u8> {
    let xs = axis(out_w, w);
    let ys = axis(out_h, h);
    let mut out = vec![0u8; out_w * out_h * channels];
    let px = |y: usize, x: usize, c: usize| f64::from(src[(y * w + x) * channels + c]);
    for (oy, &(y0, y1, fy)) in ys.iter().enumerate() {
        for (ox, &(x0, x1, fx)) in xs.iter().enumerate() {
            for c in 0..channels {
                let top = (1.0 - fx) * px(y0, x0, c) + fx * px(y0, x1, c);
                let bottom = (1.0 - fx) * px(y1, x0, c) + fx * px(y1, x1, c);
                let v = (1.0 - fy) * top + fy * bottom;
                out[(oy * out_w + ox) * channels + c] = (v + 0.5).floor().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Resizes one f32 plane.
pub fn resize_plane(
    src: &[f32],
    (w, h): (usize, usize),
    (out_w, out_h): (usize, usize),
) -> Vec<f32> {
    let xs = axis(out_w, w);
    let mut out = Vec::with_capacity(out_w * out_h);
    let mut row = vec![0.0f32; out_w];
    for &(y0, y1, fy) in &axis(out_h, h) {
        interpolate_row(src, w, (y0, y1, fy as f32), &xs, &mut row);
        out.extend_from_slice(&row);
    }
    out
}

/// One output row of a bilinear resize of the plane `src` (width `w`), from precomputed source positions.
pub(super) fn interpolate_row(
    src: &[f32],
    w: usize,
    (y0, y1, fy): (usize, usize, f32),
    xs: &[(usize, usize, f64)],
    row: &mut [f32],
) {
    let (top, bottom) = (&src[y0 * w..][..w], &src[y1 * w..][..w]);
    for (o, &(x0, x1, fx)) in row.iter_mut().zip(xs) {
        let fx = fx as f32;
        let t = top[x0] + fx * (top[x1] - top[x0]);
        let b = bottom[x0] + fx * (bottom[x1] - bottom[x0]);
        *o = t + fy * (b - t);
    }
}

/// Source positions along an axis, for [`interpolate_row`].
pub(super) fn positions(n_out: usize, n_in: usize) -> Vec<(usize, usize, f64)> {
    axis(n_out, n_in)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_follows_the_half_pixel_rule() {
        // ×2 upsampling of [0, 100]: out[2i] = 0.75·x[i] + 0.25·x[i-1] (clamped at the edge).
        let out = resize_u8(&[0, 100], (2, 1), 1, (4, 1));
        assert_eq!(out, [0, 25, 75, 100]);
        let plane = resize_plane(&[0.0, 1.0], (2, 1), (4, 1));
        assert_eq!(plane, [0.0, 0.25, 0.75, 1.0]);
    }

    #[test]
    fn same_size_is_the_identity() {
        let src: Vec<u8> = (0..48).collect();
        assert_eq!(resize_u8(&src, (4, 4), 3, (4, 4)), src);
    }
}
