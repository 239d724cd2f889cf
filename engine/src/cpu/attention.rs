//! Attention and rotary-embedding kernels.

use crate::cpu::gemm::{gemm_nt, transpose, RowSource};
use crate::cpu::reduce::softmax_rows;
use crate::cpu::{float_out, output, values};
use crate::{Result, Tensor};

/// Fused SDPA, one (batch, head) at a time: scores by GEMM, mask, softmax, then the weighted sum by GEMM.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    causal: bool,
    scale: f32,
) -> Result<Tensor> {
    let (b, hq, tq, d) = (q.dims()[0], q.dims()[1], q.dims()[2], q.dims()[3]);
    let (hkv, tk) = (k.dims()[1], k.dims()[2]);
    let group = hq / hkv;
    // The scale goes into Q (tq × d values) rather than into the scores (tq × tk).
    let qv: Vec<f32> = values(q)?.iter().map(|x| x * scale).collect();
    let (kv, vv) = (values(k)?, values(v)?);
    // The mask is read through broadcast strides instead of being expanded to [b, hq, tq, tk].
    let mask = match mask {
        Some(m) => Some(MaskRows::new(m, [b, hq, tq, tk])?),
        None => None,
    };
    let mut out = vec![0.0f32; b * hq * tq * d];
    let mut scores = vec![0.0f32; tq * tk];
    // Vᵀ of each kv head, so the second product is also in the kernel's layout.
    let vt: Vec<Vec<f32>> = (0..b * hkv)
        .map(|i| transpose(&vv[i * tk * d..(i + 1) * tk * d], tk, d))
        .collect();
    for bi in 0..b {
        for h in 0..hq {
            let kvh = bi * hkv + h / group;
            let qh = &qv[(bi * hq + h) * tq * d..][..tq * d];
            let kh = &kv[kvh * tk * d..][..tk * d];
            gemm_nt(qh, RowSource::F32(kh), tq, tk, d, &mut scores)?;
            for (i, row) in scores.chunks_exact_mut(tk.max(1)).enumerate() {
                if let Some(m) = &mask {
                    m.add_row(bi, h, i, row);
                }
                if causal {
                    // Query i sees keys up to tk - tq + i (its own position, with any cached keys before).
                    row[(tk - tq + i + 1).min(tk)..].fill(f32::NEG_INFINITY);
                }
            }
            softmax_rows(&mut scores, tk);
            let dst = &mut out[(bi * hq + h) * tq * d..][..tq * d];
            gemm_nt(&scores, RowSource::F32(&vt[kvh]), tq, d, tk, dst)?;
        }
    }
    output(out, q.shape().clone(), float_out(q.dtype()))
}

/// An additive mask of any shape that broadcasts to `[b, h, tq, tk]`, read row by row in place.
struct MaskRows {
    values: Vec<f32>,
    /// Strides of the four axes after broadcasting (0 on broadcast axes).
    strides: [usize; 4],
}

impl MaskRows {
    fn new(mask: &Tensor, to: [usize; 4]) -> Result<Self> {
        // Check that it broadcasts (the error names the shapes), then derive the strides of its contiguous values.
        mask.broadcast_as(to)?;
        let dims = mask.dims();
        let lead = 4 - dims.len();
        let mut strides = [0usize; 4];
        let mut step = 1;
        for axis in (0..dims.len()).rev() {
            if dims[axis] != 1 {
                strides[axis + lead] = step;
            }
            step *= dims[axis];
        }
        Ok(MaskRows {
            values: values(mask)?.into_owned(),
            strides,
        })
    }

    /// Adds the mask's row for (batch, head, query) to `row`.
    fn add_row(&self, b: usize, h: usize, i: usize, row: &mut [f32]) {
        let start = b * self.strides[0] + h * self.strides[1] + i * self.strides[2];
        if self.strides[3] == 1 {
            let m = &self.values[start..start + row.len()];
            row.iter_mut().zip(m).for_each(|(s, &m)| *s += m);
        } else {
            let m = self.values[start];
            row.iter_mut().for_each(|s| *s += m);
        }
    }
}

/// Rotary embedding.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, interleaved: bool) -> Result<Tensor> {
    let d = x.shape().last_dim();
    let t = x.dims()[x.rank() - 2];
    let half = d / 2;
    let mut xv = values(x)?.into_owned();
    let (cv, sv) = (values(cos)?, values(sin)?);
    for (r, row) in xv.chunks_exact_mut(d.max(1)).enumerate() {
        let pos = r % t.max(1);
        let (c, s) = (&cv[pos * half..][..half], &sv[pos * half..][..half]);
        for i in 0..half {
            let (a, b) = if interleaved {
                (2 * i, 2 * i + 1)
            } else {
                (i, i + half)
            };
            let (x0, x1) = (row[a], row[b]);
            row[a] = x0 * c[i] - x1 * s[i];
            row[b] = x1 * c[i] + x0 * s[i];
        }
    }
    output(xv, x.shape().clone(), float_out(x.dtype()))
}
