//! Convolution kernels: im2col followed by the blocked GEMM, per batch item and group.

use crate::cpu::gemm::{gemm_nt, transpose, RowSource};
use crate::cpu::{float_out, output, values};
use crate::ops::Conv2dParams;
use crate::{Result, Tensor};

/// 2-D convolution; `(oh, ow)` is the checked output size.
pub fn conv2d(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    p: Conv2dParams,
    (oh, ow): (usize, usize),
) -> Result<Tensor> {
    let [n, c_in, h, wd] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let [c_out, cg, kh, kw] = [w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]];
    let g = p.groups;
    let og = c_out / g;
    let xv = values(x)?;
    let wv = values(w)?;
    let bv = b.map(values).transpose()?;
    let kk = cg * kh * kw;
    let positions = oh * ow;
    let mut out = vec![0.0f32; n * c_out * positions];
    // One row of `cols` per output position: the receptive field of that position, zero where padded.
    let mut cols = vec![0.0f32; positions * kk];
    for ni in 0..n {
        for gi in 0..g {
            for (pos, col) in cols.chunks_exact_mut(kk.max(1)).enumerate() {
                let (oy, ox) = (pos / ow, pos % ow);
                for c in 0..cg {
                    let plane = &xv[((ni * c_in) + gi * cg + c) * h * wd..][..h * wd];
                    for ky in 0..kh {
                        let iy =
                            (oy * p.stride.0 + ky * p.dilation.0) as isize - p.padding.0 as isize;
                        for kx in 0..kw {
                            let ix = (ox * p.stride.1 + kx * p.dilation.1) as isize
                                - p.padding.1 as isize;
                            col[(c * kh + ky) * kw + kx] =
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < wd {
                                    plane[iy as usize * wd + ix as usize]
                                } else {
                                    0.0
                                };
                        }
                    }
                }
            }
            let dst = &mut out[(ni * c_out + gi * og) * positions..][..og * positions];
            let wg = &wv[gi * og * kk..(gi + 1) * og * kk];
            gemm_nt(wg, RowSource::F32(&cols), og, positions, kk, dst)?;
            if let Some(bv) = &bv {
                for (o, row) in dst.chunks_exact_mut(positions.max(1)).enumerate() {
                    row.iter_mut().for_each(|v| *v += bv[gi * og + o]);
                }
            }
        }
    }
    output(out, [n, c_out, oh, ow], float_out(x.dtype()))
}

/// Transposed 1-D convolution: per group, `cols[l, (o, k)] = xᵀ · w`, then each column is added at its output
/// position (col2im).
pub fn conv_transpose1d(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    (stride, padding, dilation, groups): (usize, usize, usize, usize),
    out_len: usize,
) -> Result<Tensor> {
    let [n, c_in, l] = [x.dims()[0], x.dims()[1], x.dims()[2]];
    let [og, k] = [w.dims()[1], w.dims()[2]];
    let cg = c_in / groups;
    let c_out = og * groups;
    let xv = values(x)?;
    let wv = values(w)?;
    let bv = b.map(values).transpose()?;
    let mut out = vec![0.0f32; n * c_out * out_len];
    let mut cols = vec![0.0f32; l * og * k];
    for gi in 0..groups {
        // Weight of this group as rows of (o, k) over the input channels.
        let wg = transpose(&wv[gi * cg * og * k..(gi + 1) * cg * og * k], cg, og * k);
        for ni in 0..n {
            let xg = transpose(&xv[(ni * c_in + gi * cg) * l..][..cg * l], cg, l);
            gemm_nt(&xg, RowSource::F32(&wg), l, og * k, cg, &mut cols)?;
            for (li, row) in cols.chunks_exact(og * k).enumerate() {
                for o in 0..og {
                    let dst = &mut out[(ni * c_out + gi * og + o) * out_len..][..out_len];
                    for ki in 0..k {
                        let pos = (li * stride + ki * dilation) as isize - padding as isize;
                        if pos >= 0 && (pos as usize) < out_len {
                            dst[pos as usize] += row[o * k + ki];
                        }
                    }
                }
            }
        }
    }
    if let Some(bv) = &bv {
        for (i, row) in out.chunks_exact_mut(out_len).enumerate() {
            row.iter_mut().for_each(|v| *v += bv[i % c_out]);
        }
    }
    output(out, [n, c_out, out_len], float_out(x.dtype()))
}
