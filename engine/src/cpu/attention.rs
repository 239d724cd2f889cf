//! Attention and rotary-embedding kernels.

use crate::cpu::gemm::{gemm_nt, transpose, RowSource};
use crate::cpu::reduce::{dot, softmax_rows};
use crate::cpu::{float_out, output, values};
use crate::{Result, Tensor};

/// Queries up to this many are answered row by row from V (no transposed copy of V): decoding runs one.
const DIRECT_QUERIES: usize = 4;

/// Fused SDPA, one (batch, head) at a time: scores by GEMM, mask, softmax, then the weighted sum (a GEMM against
/// Vᵀ for many queries, a sum over V's rows for a few).
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
    // A KV cache's keys and values are a view of its preallocated buffers: read them in place.
    let (kh_rows, vh_rows) = (HeadRows::new(k)?, HeadRows::new(v)?);
    // The mask is read through broadcast strides instead of being expanded to [b, hq, tq, tk].
    let mask = match mask {
        Some(m) => Some(MaskRows::new(m, [b, hq, tq, tk])?),
        None => None,
    };
    let mut out = vec![0.0f32; b * hq * tq * d];
    let mut scores = vec![0.0f32; tq * tk];
    // Vᵀ of each kv head, so the second product is also in the kernel's layout (many queries only).
    let vt: Vec<Vec<f32>> = if tq > DIRECT_QUERIES {
        (0..b * hkv)
            .map(|i| transpose(vh_rows.head(i), tk, d))
            .collect()
    } else {
        Vec::new()
    };
    for bi in 0..b {
        for h in 0..hq {
            let kvh = bi * hkv + h / group;
            let qh = &qv[(bi * hq + h) * tq * d..][..tq * d];
            let kh = kh_rows.head(kvh);
            if tq > DIRECT_QUERIES {
                gemm_nt(qh, RowSource::F32(kh), tq, tk, d, &mut scores)?;
            } else {
                // A few queries: plain dot products, without packing K for the GEMM kernel.
                for (qi, row) in qh
                    .chunks_exact(d.max(1))
                    .zip(scores.chunks_exact_mut(tk.max(1)))
                {
                    for (s, kj) in row.iter_mut().zip(kh.chunks_exact(d.max(1))) {
                        *s = dot(qi, kj);
                    }
                }
            }
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
            if tq > DIRECT_QUERIES {
                gemm_nt(&scores, RowSource::F32(&vt[kvh]), tq, d, tk, dst)?;
            } else {
                weighted_rows(&scores, vh_rows.head(kvh), d, dst);
            }
        }
    }
    output(out, q.shape().clone(), float_out(q.dtype()))
}

/// `dst[i] = Σ_j p[i][j] · v[j]` for `p` of `dst.len() / d` rows of `v.len() / d` weights.
fn weighted_rows(p: &[f32], v: &[f32], d: usize, dst: &mut [f32]) {
    let tk = v.len() / d.max(1);
    for (row, out) in p
        .chunks_exact(tk.max(1))
        .zip(dst.chunks_exact_mut(d.max(1)))
    {
        out.fill(0.0);
        for (&w, vj) in row.iter().zip(v.chunks_exact(d.max(1))) {
            if w != 0.0 {
                out.iter_mut().zip(vj).for_each(|(o, &x)| *o += w * x);
            }
        }
    }
}

/// The `[t, d]` rows of each (batch, head) of a `[b, h, t, d]` tensor: borrowed from storage when each head's
/// rows lie back to back (a contiguous tensor, or the KV cache narrowed to its filled positions), else copied.
struct HeadRows<'a> {
    data: std::borrow::Cow<'a, [f32]>,
    starts: Vec<usize>,
    len: usize,
}

impl<'a> HeadRows<'a> {
    fn new(t: &'a Tensor) -> Result<Self> {
        let [b, h, rows, d] = [t.dims()[0], t.dims()[1], t.dims()[2], t.dims()[3]];
        let len = rows * d;
        if let crate::storage::Storage::Cpu(crate::storage::CpuStorage::F32(v)) = t.storage() {
            let s = t.layout().strides();
            let offset = t.layout().offset();
            if (s[3] == 1 || d <= 1) && (s[2] == d || rows <= 1) {
                let starts: Vec<usize> = (0..b * h)
                    .map(|i| offset + (i / h.max(1)) * s[0] + (i % h.max(1)) * s[1])
                    .collect();
                let data: &[f32] = v;
                if starts.iter().all(|&st| st + len <= data.len()) {
                    return Ok(HeadRows {
                        data: std::borrow::Cow::Borrowed(data),
                        starts,
                        len,
                    });
                }
            }
        }
        Ok(HeadRows {
            data: values(t)?,
            starts: (0..b * h).map(|i| i * len).collect(),
            len,
        })
    }

    fn head(&self, i: usize) -> &[f32] {
        &self.data[self.starts[i]..][..self.len]
    }
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
