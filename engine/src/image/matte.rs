//! From a low-resolution mask to a cut-out at the photo's full resolution.
//!
//! The model sees the photo at 1024² and its mask is soft at that scale: upsampled to a 12-megapixel photo,
//! an edge is a ramp several pixels wide that does not follow the hair or fur in the photo. Two steps fix that,
//! both computed at a capped working size (so a 64-megapixel photo costs no more memory than one copy of
//! itself) and applied at full resolution pixel by pixel:
//!
//! 1. **Edge-aware alpha**: a guided filter (He, Sun and Tang, "Guided Image Filtering", 2010/2013) with the
//!    photo's luminance as guide fits `alpha ≈ a·I + b` in every window; `a` and `b` vary slowly, so they are
//!    computed at the working size and upsampled ("Fast Guided Filter", He and Sun 2015), then applied to the
//!    full-resolution luminance — the alpha's edge lands where the photo's edge is.
//! 2. **Foreground colours**: where alpha is between 0 and 1 the pixel mixes foreground and old background
//!    (`I = αF + (1−α)B`); keeping `I` as the colour leaves a halo of the old background. The blur-fusion
//!    estimate (Forte and Pitié, "Approximate Fast Foreground Colour Estimation", ICIP 2021) solves for `F`
//!    from local means of foreground and background: `F = F̄ + α(I − αF̄ − (1−α)B̄)`.
//!
//! Written from the papers' equations.

use super::decode::Photo;
use super::resize::{interpolate_row, positions, resize_plane};

/// Longest side of the working size.
const WORK_MAX_SIDE: usize = 2048;
/// Guided filter regularisation (intensities in 0–1): larger keeps the mask, smaller follows the photo.
const GUIDED_EPS: f32 = 1e-4;

/// What to do after upsampling the mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refinement {
    /// Bilinear upsampling only; colours kept as they are.
    None,
    /// Guided-filter edges and foreground colour estimation.
    Edges,
}

/// The cut-out: the photo's pixels with alpha, at its resolution.
#[derive(Debug, Clone)]
pub struct Cutout {
    pub width: usize,
    pub height: usize,
    /// RGBA8, straight alpha.
    pub rgba: Vec<u8>,
}

impl Cutout {
    /// The alpha channel alone (the mask at full resolution).
    pub fn alpha(&self) -> Vec<u8> {
        self.rgba.chunks_exact(4).map(|p| p[3]).collect()
    }
}

/// Mean over a `(2r+1)²` window clamped to the image (each pixel divided by its own window's size): two
/// passes of running sums, O(1) per pixel whatever the radius.
pub fn box_mean(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let pass = |src: &[f32], len: usize, count: usize, stride: usize, step: usize| -> Vec<f32> {
        // Mean along one axis: `count` lines of `len` values, values `step` apart, lines `stride` apart.
        let mut out = vec![0.0f32; src.len()];
        let mut line = vec![0.0f64; len + 1];
        for l in 0..count {
            for i in 0..len {
                line[i + 1] = line[i] + f64::from(src[l * stride + i * step]);
            }
            for i in 0..len {
                let (lo, hi) = (i.saturating_sub(r), (i + r + 1).min(len));
                out[l * stride + i * step] = ((line[hi] - line[lo]) / (hi - lo) as f64) as f32;
            }
        }
        out
    };
    let rows = pass(src, w, h, w, 1);
    pass(&rows, h, w, 1, w)
}

/// Guided filter of `p` with guide `guide` (both `w × h`): the smoothed coefficients `(ā, b̄)` such that
/// the filtered value at a pixel is `ā·I + b̄`.
pub fn guided_filter(
    guide: &[f32],
    p: &[f32],
    w: usize,
    h: usize,
    r: usize,
    eps: f32,
) -> (Vec<f32>, Vec<f32>) {
    let mean_i = box_mean(guide, w, h, r);
    let mean_p = box_mean(p, w, h, r);
    let ii: Vec<f32> = guide.iter().map(|v| v * v).collect();
    let ip: Vec<f32> = guide.iter().zip(p).map(|(a, b)| a * b).collect();
    let corr_i = box_mean(&ii, w, h, r);
    let corr_ip = box_mean(&ip, w, h, r);
    let mut a = vec![0.0f32; w * h];
    let mut b = vec![0.0f32; w * h];
    for k in 0..w * h {
        let var = (corr_i[k] - mean_i[k] * mean_i[k]).max(0.0);
        let cov = corr_ip[k] - mean_i[k] * mean_p[k];
        a[k] = cov / (var + eps);
        b[k] = mean_p[k] - a[k] * mean_i[k];
    }
    (box_mean(&a, w, h, r), box_mean(&b, w, h, r))
}

fn luminance(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// The photo averaged down to `(ww, wh)` (each output pixel the mean of its source box) as R, G, B planes in
/// 0–1: area averaging, so a large reduction does not alias.
fn working_planes(photo: &Photo, (ww, wh): (usize, usize)) -> Rgb {
    let (w, h) = (photo.width, photo.height);
    let mut planes = [
        vec![0.0f32; ww * wh],
        vec![0.0f32; ww * wh],
        vec![0.0f32; ww * wh],
    ];
    let span = |o: usize, n_out: usize, n_in: usize| {
        let lo = o * n_in / n_out;
        (lo, ((o + 1) * n_in / n_out).max(lo + 1).min(n_in))
    };
    for oy in 0..wh {
        let (y0, y1) = span(oy, wh, h);
        for ox in 0..ww {
            let (x0, x1) = span(ox, ww, w);
            let mut sum = [0u32; 3];
            for y in y0..y1 {
                for px in photo.rgba[(y * w + x0) * 4..(y * w + x1) * 4].chunks_exact(4) {
                    for c in 0..3 {
                        sum[c] += u32::from(px[c]);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as f32 * 255.0;
            for c in 0..3 {
                planes[c][oy * ww + ox] = sum[c] as f32 / n;
            }
        }
    }
    planes
}

/// An image as three f32 planes (R, G, B) in 0–1.
type Rgb = [Vec<f32>; 3];

/// One pass of blur fusion: local foreground and background means `(F̄, B̄)` per channel, and the new
/// foreground estimate.
fn blur_fusion(
    image: &Rgb,
    fg: &Rgb,
    bg: &Rgb,
    alpha: &[f32],
    (w, h): (usize, usize),
    r: usize,
) -> (Rgb, Rgb, Rgb) {
    let blurred_alpha = box_mean(alpha, w, h, r);
    let mut f_mean: Rgb = Default::default();
    let mut b_mean: Rgb = Default::default();
    let mut f_new: Rgb = Default::default();
    for c in 0..3 {
        let fa: Vec<f32> = fg[c].iter().zip(alpha).map(|(f, a)| f * a).collect();
        let ba: Vec<f32> = bg[c]
            .iter()
            .zip(alpha)
            .map(|(b, a)| b * (1.0 - a))
            .collect();
        let fa = box_mean(&fa, w, h, r);
        let ba = box_mean(&ba, w, h, r);
        f_mean[c] = fa
            .iter()
            .zip(&blurred_alpha)
            .map(|(f, a)| f / (a + 1e-5))
            .collect();
        b_mean[c] = ba
            .iter()
            .zip(&blurred_alpha)
            .map(|(b, a)| b / (1.0 - a + 1e-5))
            .collect();
        f_new[c] = (0..w * h)
            .map(|k| {
                let (a, fm, bm) = (alpha[k], f_mean[c][k], b_mean[c][k]);
                (fm + a * (image[c][k] - a * fm - (1.0 - a) * bm)).clamp(0.0, 1.0)
            })
            .collect();
    }
    (f_mean, b_mean, f_new)
}

/// Cuts the photo out with `mask` (`mask_side²` values in 0–1, the model's output), in place: the photo's
/// RGBA buffer becomes the cut-out. The photo's own alpha, if any, is kept (multiplied in).
pub fn cut_out(mut photo: Photo, mask: &[f32], mask_side: usize, refine: Refinement) -> Cutout {
    let (w, h) = (photo.width, photo.height);
    let long = w.max(h);
    let (ww, wh) = if long > WORK_MAX_SIDE {
        (
            (w * WORK_MAX_SIDE / long).max(1),
            (h * WORK_MAX_SIDE / long).max(1),
        )
    } else {
        (w, h)
    };
    let small_mask = resize_plane(mask, (mask_side, mask_side), (ww, wh));
    // Per working pixel: alpha = a·I + b, and the colour correction's two means (3 channels each). Without
    // refinement, a = 0 and b = the mask, and the colours are left alone.
    let (coef_a, coef_b, f_mean, b_mean) = match refine {
        Refinement::None => (vec![0.0; ww * wh], small_mask, None, None),
        Refinement::Edges => {
            let planes = working_planes(&photo, (ww, wh));
            let guide: Vec<f32> = (0..ww * wh)
                .map(|k| luminance(planes[0][k], planes[1][k], planes[2][k]))
                .collect();
            // The window must reach from where the mask puts the edge to where the photo has it: the mask's
            // soft edge is 2–3 of the model's pixels (1/400 of the side); 1/128 of the side leaves room for
            // an edge the model misplaced by a pixel or two.
            let radius = (ww.max(wh) / 128).max(4);
            let (a, b) = guided_filter(&guide, &small_mask, ww, wh, radius, GUIDED_EPS);
            let alpha: Vec<f32> = (0..ww * wh)
                .map(|k| (a[k] * guide[k] + b[k]).clamp(0.0, 1.0))
                .collect();
            // Two passes as the paper suggests: a wide one to reach into the foreground and background,
            // then a narrow one near the edge (radii given for a 2048-pixel side, scaled to ours).
            let scale = |r: usize| (r * ww.max(wh) / WORK_MAX_SIDE).max(1);
            let (_, b1, f1) = blur_fusion(&planes, &planes, &planes, &alpha, (ww, wh), scale(90));
            let (fm, bm, _) = blur_fusion(&planes, &f1, &b1, &alpha, (ww, wh), scale(6));
            (a, b, Some(fm), Some(bm))
        }
    };
    // Full resolution, row by row: interpolate the working-size planes and combine with the photo's pixel.
    let xs = positions(w, ww);
    let ys = positions(h, wh);
    let mut rows = vec![vec![0.0f32; w]; 8];
    for (y, &(y0, y1, fy)) in ys.iter().enumerate() {
        let at = (y0, y1, fy as f32);
        interpolate_row(&coef_a, ww, at, &xs, &mut rows[0]);
        interpolate_row(&coef_b, ww, at, &xs, &mut rows[1]);
        if let (Some(fm), Some(bm)) = (&f_mean, &b_mean) {
            for c in 0..3 {
                interpolate_row(&fm[c], ww, at, &xs, &mut rows[2 + c]);
                interpolate_row(&bm[c], ww, at, &xs, &mut rows[5 + c]);
            }
        }
        let line = &mut photo.rgba[y * w * 4..(y + 1) * w * 4];
        for (x, px) in line.chunks_exact_mut(4).enumerate() {
            let rgb = [px[0], px[1], px[2]].map(|v| f32::from(v) / 255.0);
            let guide = luminance(rgb[0], rgb[1], rgb[2]);
            let alpha = (rows[0][x] * guide + rows[1][x]).clamp(0.0, 1.0);
            if f_mean.is_some() {
                for c in 0..3 {
                    let (fm, bm) = (rows[2 + c][x], rows[5 + c][x]);
                    let f = fm + alpha * (rgb[c] - alpha * fm - (1.0 - alpha) * bm);
                    px[c] = (f.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
                }
            }
            px[3] = (alpha * f32::from(px[3]) + 0.5) as u8;
        }
    }
    Cutout {
        width: w,
        height: h,
        rgba: photo.rgba,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_is_the_window_average() {
        let src = [1.0, 2.0, 3.0, 4.0, 5.0];
        let m = box_mean(&src, 5, 1, 1);
        assert_eq!(m, [1.5, 2.0, 3.0, 4.0, 4.5]);
    }

    /// A photo whose left part (x < edge) is the subject, on a different background: the right alpha is a
    /// step at `edge`. The model's mask is simulated at a quarter of the resolution with a ramp of 2 of its
    /// pixels (the softness of IS-Net's edges), centred 3 photo pixels off the true edge. Upsampled alone,
    /// that is a ramp over 8 pixels in the wrong place; refined, alpha must jump at the photo's edge, and the
    /// subject's partly transparent pixels must carry the subject's colour, not a mix with the background.
    #[test]
    fn refinement_snaps_alpha_to_the_photo_edge() {
        let (w, h, edge) = (400usize, 64usize, 173usize);
        let fg = [220u8, 60, 40];
        let bg = [30u8, 90, 200];
        let mut rgba = Vec::with_capacity(w * h * 4);
        for _ in 0..h {
            for x in 0..w {
                let c = if x < edge { fg } else { bg };
                rgba.extend_from_slice(&[c[0], c[1], c[2], 255]);
            }
        }
        let photo = Photo {
            width: w,
            height: h,
            rgba,
        };
        let side = 100;
        let mask: Vec<f32> = (0..side * side)
            .map(|k| {
                let x = ((k % side) as f32 + 0.5) * w as f32 / side as f32;
                (0.5 - (x - (edge + 3) as f32) / 8.0).clamp(0.0, 1.0)
            })
            .collect();
        // The largest step between neighbours along the middle row: (position, size).
        let largest_jump = |cut: &Cutout| -> (usize, f32) {
            let alpha = cut.alpha();
            let row = &alpha[(h / 2) * w..(h / 2 + 1) * w];
            (1..w)
                .map(|x| (x, (f32::from(row[x - 1]) - f32::from(row[x])) / 255.0))
                .fold((0, 0.0), |best, j| if j.1 > best.1 { j } else { best })
        };
        let plain = cut_out(photo.clone(), &mask, side, Refinement::None);
        let refined = cut_out(photo, &mask, side, Refinement::Edges);
        let (_, plain_jump) = largest_jump(&plain);
        let (at, jump) = largest_jump(&refined);
        assert!(
            plain_jump < 0.2,
            "the simulated mask should be soft ({plain_jump})"
        );
        assert_eq!(at, edge, "refined alpha should jump at the photo's edge");
        assert!(
            jump > 0.3 && jump > 2.5 * plain_jump,
            "refined alpha jumps by {jump} at the edge (unrefined at most {plain_jump})"
        );
        let row = (h / 2) * w * 4;
        let mut checked = 0;
        // Subject pixels the alpha leaves partly transparent must show the subject's colour.
        for x in edge - 8..edge {
            let px = &refined.rgba[row + x * 4..row + x * 4 + 4];
            if px[3] > 25 && px[3] < 250 {
                let distance: i32 = (0..3)
                    .map(|c| (i32::from(px[c]) - i32::from(fg[c])).abs())
                    .sum();
                let distance_bg: i32 = (0..3)
                    .map(|c| (i32::from(px[c]) - i32::from(bg[c])).abs())
                    .sum();
                assert!(
                    distance < distance_bg / 4,
                    "pixel {x} {px:?} carries the background's colour"
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "no partly transparent pixel near the edge");
    }
}
