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
    let (qv, kv, vv) = (values(q)?, values(k)?, values(v)?);
    let mv = match mask {
        Some(m) => Some(values(&m.broadcast_as([b, hq, tq, tk])?)?.into_owned()),
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
                let mrow = mv
                    .as_ref()
                    .map(|m| &m[((bi * hq + h) * tq + i) * tk..][..tk]);
                for (j, s) in row.iter_mut().enumerate() {
                    *s *= scale;
                    if let Some(m) = mrow {
                        *s += m[j];
                    }
                    if causal && j > tk - tq + i {
                        *s = f32::NEG_INFINITY;
                    }
                }
            }
            softmax_rows(&mut scores, tk);
            let dst = &mut out[(bi * hq + h) * tq * d..][..tq * d];
            gemm_nt(&scores, RowSource::F32(&vt[kvh]), tq, d, tk, dst)?;
        }
    }
    output(out, q.shape().clone(), float_out(q.dtype()))
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
