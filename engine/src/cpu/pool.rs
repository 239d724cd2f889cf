//! Pooling and resizing kernels (NCHW, one plane at a time).

use crate::cpu::{float_out, for_chunks, output, values};
use crate::ops::pool::Window;
use crate::{Result, Tensor};

/// Max pooling (`avg == None`) or average pooling (`avg == Some(count_include_pad)`).
pub fn pool2d(x: &Tensor, win: Window, avg: Option<bool>) -> Result<Tensor> {
    let [n, c, h, w] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let (oh, ow) = win.out;
    let xv = values(x)?;
    let mut out = vec![0.0f32; n * c * oh * ow];
    for_chunks(&mut out, oh * ow, |plane, o| {
        let src = &xv[plane * h * w..(plane + 1) * h * w];
        for oy in 0..oh {
            // Window bounds as PyTorch computes them: clipped to the padded input for the divisor, then to the input.
            let y0 = (oy * win.stride.0) as isize - win.padding.0 as isize;
            let y1 = (y0 + win.kernel.0 as isize).min((h + win.padding.0) as isize);
            for ox in 0..ow {
                let x0 = (ox * win.stride.1) as isize - win.padding.1 as isize;
                let x1 = (x0 + win.kernel.1 as isize).min((w + win.padding.1) as isize);
                let padded_size = ((y1 - y0) * (x1 - x0)) as f32;
                let (ya, yb) = (y0.max(0) as usize, (y1.min(h as isize)).max(0) as usize);
                let (xa, xb) = (x0.max(0) as usize, (x1.min(w as isize)).max(0) as usize);
                let value = match avg {
                    None => {
                        let mut m = f32::NEG_INFINITY;
                        for yy in ya..yb {
                            for &v in &src[yy * w + xa..yy * w + xb] {
                                if v > m || v.is_nan() {
                                    m = v;
                                }
                            }
                        }
                        m
                    }
                    Some(include_pad) => {
                        let mut s = 0.0;
                        for yy in ya..yb {
                            s += src[yy * w + xa..yy * w + xb].iter().sum::<f32>();
                        }
                        let count = if include_pad {
                            padded_size
                        } else {
                            ((yb - ya) * (xb - xa)) as f32
                        };
                        s / count
                    }
                };
                o[oy * ow + ox] = value;
            }
        }
    });
    output(out, [n, c, oh, ow], float_out(x.dtype()))
}

/// Source coordinate, lower index, upper index and weight of the upper one, for each output index.
fn taps(in_len: usize, out_len: usize, align_corners: bool) -> Vec<(usize, usize, f32)> {
    (0..out_len)
        .map(|o| {
            let src = if align_corners {
                if out_len > 1 {
                    o as f32 * (in_len - 1) as f32 / (out_len - 1) as f32
                } else {
                    0.0
                }
            } else {
                ((o as f32 + 0.5) * in_len as f32 / out_len as f32 - 0.5).max(0.0)
            };
            let lo = (src.floor() as usize).min(in_len - 1);
            let hi = (lo + 1).min(in_len - 1);
            (lo, hi, src - lo as f32)
        })
        .collect()
}

/// Bilinear resize.
pub fn resize_bilinear(x: &Tensor, oh: usize, ow: usize, align_corners: bool) -> Result<Tensor> {
    let [n, c, h, w] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let xv = values(x)?;
    let ty = taps(h, oh, align_corners);
    let tx = taps(w, ow, align_corners);
    let mut out = vec![0.0f32; n * c * oh * ow];
    for_chunks(&mut out, oh * ow, |plane, o| {
        let src = &xv[plane * h * w..(plane + 1) * h * w];
        for (oy, &(y0, y1, fy)) in ty.iter().enumerate() {
            for (ox, &(x0, x1, fx)) in tx.iter().enumerate() {
                let top = src[y0 * w + x0] * (1.0 - fx) + src[y0 * w + x1] * fx;
                let bottom = src[y1 * w + x0] * (1.0 - fx) + src[y1 * w + x1] * fx;
                o[oy * ow + ox] = top * (1.0 - fy) + bottom * fy;
            }
        }
    });
    output(out, [n, c, oh, ow], float_out(x.dtype()))
}
