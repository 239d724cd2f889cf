//! CPU matmul against block-quantized weights: `out[m×n] = x[m×k] · Wᵀ`, W stored as n rows of k values.
//!
//! As llama.cpp does, the activations are quantized once to 8-bit blocks of 32 so that each block product is
//! an integer dot product (i8 × i8 → i32, which vectorises natively and with simd128 on wasm) scaled once.
//! Natively, rayon splits the weight rows; on wasm it runs on one thread.

use super::k_quants::{q4_k_scale_min, Q4_K_BYTES, Q6_K_BYTES};
use crate::{DType, Error, Result};
use half::f16;
#[cfg(not(target_arch = "wasm32"))]
use rayon::prelude::*;

/// Activation rows quantized to blocks of 32: codes, one f32 scale and the sum of codes per block.
struct QuantizedActs {
    qs: Vec<i8>,
    d: Vec<f32>,
    sums: Vec<i32>,
}

impl QuantizedActs {
    fn new(x: &[f32]) -> Self {
        let blocks = x.len() / 32;
        let mut acts = QuantizedActs {
            qs: Vec::with_capacity(x.len()),
            d: Vec::with_capacity(blocks),
            sums: Vec::with_capacity(blocks),
        };
        for block in x.as_chunks::<32>().0 {
            let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = amax / 127.0;
            let id = if d == 0.0 { 0.0 } else { 1.0 / d };
            let start = acts.qs.len();
            acts.qs.extend(block.iter().map(|v| (v * id).round() as i8));
            acts.d.push(d);
            acts.sums
                .push(acts.qs[start..].iter().map(|&q| q as i32).sum());
        }
        acts
    }

    /// Codes, scales and sums of activation row `i` of `k` values.
    fn row(&self, i: usize, k: usize) -> (&[[i8; 32]], &[f32], &[i32]) {
        let b = k / 32;
        (
            self.qs[i * k..(i + 1) * k].as_chunks::<32>().0,
            &self.d[i * b..(i + 1) * b],
            &self.sums[i * b..(i + 1) * b],
        )
    }
}

fn f16_le(b: [u8; 2]) -> f32 {
    f16::from_le_bytes(b).to_f32()
}

/// Σ w·x over 32 lanes; eight i32 lane accumulators so LLVM emits widening SIMD multiplies (SSE2/AVX2
/// natively, simd128 on wasm) instead of a serial add chain.
#[inline(always)]
fn dot32(w: &[i8; 32], x: &[i8; 32]) -> i32 {
    let mut lanes = [0i32; 8];
    for c in 0..4 {
        for l in 0..8 {
            lanes[l] += w[c * 8 + l] as i32 * x[c * 8 + l] as i32;
        }
    }
    lanes.iter().sum()
}

fn dot_q8_0(row: &[u8], xq: &[[i8; 32]], xd: &[f32]) -> f32 {
    let mut acc = 0f32;
    for ((blk, xq), &xd) in row.as_chunks::<34>().0.iter().zip(xq).zip(xd) {
        let [d0, d1, w @ ..] = blk;
        let w: [i8; 32] = w.map(|b| b as i8);
        acc += f16_le([*d0, *d1]) * xd * dot32(&w, xq) as f32;
    }
    acc
}

fn dot_q4_0(row: &[u8], xq: &[[i8; 32]], xd: &[f32], xs: &[i32]) -> f32 {
    let mut acc = 0f32;
    for (((blk, xq), &xd), &xs) in row.as_chunks::<18>().0.iter().zip(xq).zip(xd).zip(xs) {
        let [d0, d1, q @ ..] = blk;
        // Unpack to codes 0..15 in value order: low nibbles are values 0..16, high nibbles 16..32.
        let mut w = [0i8; 32];
        for j in 0..16 {
            w[j] = (q[j] & 0x0F) as i8;
            w[j + 16] = (q[j] >> 4) as i8;
        }
        // Codes are stored +8: subtract 8 × the activation codes' sum once per block.
        acc += f16_le([*d0, *d1]) * xd * (dot32(&w, xq) - 8 * xs) as f32;
    }
    acc
}

fn dot_q4_1(row: &[u8], xq: &[[i8; 32]], xd: &[f32], xs: &[i32]) -> f32 {
    let mut acc = 0f32;
    for (((blk, xq), &xd), &xs) in row.as_chunks::<20>().0.iter().zip(xq).zip(xd).zip(xs) {
        let (d, m) = (f16_le([blk[0], blk[1]]), f16_le([blk[2], blk[3]]));
        // Σ (q·d + m)·x = d·Σq·x + m·Σx, with Σx = xd·Σ(activation codes) as llama.cpp's Q8_1 keeps it.
        acc += xd * (d * dot32(&super::q4_1::codes(blk), xq) as f32 + m * xs as f32);
    }
    acc
}

fn dot_q5_0(row: &[u8], xq: &[[i8; 32]], xd: &[f32], xs: &[i32]) -> f32 {
    let mut acc = 0f32;
    for (((blk, xq), &xd), &xs) in row.as_chunks::<22>().0.iter().zip(xq).zip(xd).zip(xs) {
        // Codes are stored +16: subtract 16 × the activation codes' sum once per block.
        let dot = dot32(&super::q5_0::codes(blk), xq) - 16 * xs;
        acc += f16_le([blk[0], blk[1]]) * xd * dot as f32;
    }
    acc
}

/// A K-quant weight row unpacked to signed codes with one scale per 16 values and one min per 32.
struct DecodedRow {
    codes: Vec<[i8; 32]>,
    scales: Vec<[f32; 2]>,
    mins: Vec<f32>,
}

impl DecodedRow {
    fn new(k: usize) -> Self {
        DecodedRow {
            codes: vec![[0; 32]; k / 32],
            scales: vec![[0.0; 2]; k / 32],
            mins: vec![0.0; k / 32],
        }
    }

    fn load_q4_k(&mut self, row: &[u8]) {
        for (s, blk) in row.as_chunks::<Q4_K_BYTES>().0.iter().enumerate() {
            let (d, dmin) = (f16_le([blk[0], blk[1]]), f16_le([blk[2], blk[3]]));
            for (c, q) in blk[16..].as_chunks::<32>().0.iter().enumerate() {
                for h in 0..2 {
                    let g = s * 8 + 2 * c + h;
                    let (sc, m) = q4_k_scale_min(2 * c + h, &blk[4..16]);
                    self.scales[g] = [d * sc as f32; 2];
                    self.mins[g] = dmin * m as f32;
                    for (o, &b) in self.codes[g].iter_mut().zip(q) {
                        *o = ((b >> (4 * h)) & 0x0F) as i8;
                    }
                }
            }
        }
    }

    fn load_q6_k(&mut self, row: &[u8]) {
        for (s, blk) in row.as_chunks::<Q6_K_BYTES>().0.iter().enumerate() {
            let d = f16_le([blk[208], blk[209]]);
            for half in 0..2 {
                let ql = &blk[64 * half..64 * half + 64];
                let qh = &blk[128 + 32 * half..128 + 32 * half + 32];
                let sc = &blk[192 + 8 * half..192 + 8 * half + 8];
                // Group t of 32 takes nibble t/2 of ql[l + 32 (t odd)] and bit pair t of qh[l].
                for t in 0..4 {
                    let g = s * 8 + half * 4 + t;
                    let off = 32 * (t & 1);
                    for l in 0..32 {
                        let lo = (ql[l + off] >> (4 * (t >> 1))) & 0x0F;
                        let hi = (qh[l] >> (2 * t)) & 3;
                        self.codes[g][l] = (lo | (hi << 4)) as i8 - 32;
                    }
                    self.scales[g] = [d * sc[2 * t] as i8 as f32, d * sc[2 * t + 1] as i8 as f32];
                    self.mins[g] = 0.0;
                }
            }
        }
    }

    fn dot(&self, xq: &[[i8; 32]], xd: &[f32], xs: &[i32]) -> f32 {
        let mut acc = 0f32;
        let groups = self.codes.iter().zip(&self.scales).zip(&self.mins);
        for ((((w, sc), &mn), xq), (&xd, &xs)) in groups.zip(xq).zip(xd.iter().zip(xs)) {
            let (mut l0, mut l1) = ([0i32; 8], [0i32; 8]);
            for c in 0..2 {
                for l in 0..8 {
                    l0[l] += w[c * 8 + l] as i32 * xq[c * 8 + l] as i32;
                    l1[l] += w[16 + c * 8 + l] as i32 * xq[16 + c * 8 + l] as i32;
                }
            }
            let (s0, s1) = (l0.iter().sum::<i32>(), l1.iter().sum::<i32>());
            acc += xd * (sc[0] * s0 as f32 + sc[1] * s1 as f32 - mn * xs as f32);
        }
        acc
    }
}

/// Activation rows handled together per weight row, so their codes stay in cache while W streams.
const ACT_TILE: usize = 16;

/// Fills `part[(j - first) * m + i]` for a run of weight rows with `fill(row_bytes, i_range, outs)`.
fn weight_rows<F>(rows: &[u8], row_bytes: usize, m: usize, part: &mut [f32], fill: &F)
where
    F: Fn(&[u8], std::ops::Range<usize>, &mut [f32]) + Sync,
{
    for i0 in (0..m).step_by(ACT_TILE) {
        let i1 = (i0 + ACT_TILE).min(m);
        for (row, outs) in rows.chunks_exact(row_bytes).zip(part.chunks_exact_mut(m)) {
            fill(row, i0..i1, &mut outs[i0..i1]);
        }
    }
}

/// Runs `fill` over all weight rows (in parallel natively) and writes `out[i * n + j]`.
fn drive<F>(w: &[u8], row_bytes: usize, n: usize, m: usize, out: &mut [f32], fill: F)
where
    F: Fn(&[u8], std::ops::Range<usize>, &mut [f32]) + Sync,
{
    #[cfg(not(target_arch = "wasm32"))]
    let chunk = (n / (rayon::current_num_threads() * 8)).clamp(8, 256);
    #[cfg(target_arch = "wasm32")]
    let chunk = n.max(1);
    if m == 1 {
        // One activation row: the output row is laid out like the weight rows, so write in place.
        #[cfg(not(target_arch = "wasm32"))]
        let it = out
            .par_chunks_mut(chunk)
            .zip(w.par_chunks(chunk * row_bytes));
        #[cfg(target_arch = "wasm32")]
        let it = out.chunks_mut(chunk).zip(w.chunks(chunk * row_bytes));
        it.for_each(|(o, rows)| weight_rows(rows, row_bytes, 1, o, &fill));
        return;
    }
    #[cfg(not(target_arch = "wasm32"))]
    let it = w.par_chunks(chunk * row_bytes);
    #[cfg(target_arch = "wasm32")]
    let it = w.chunks(chunk * row_bytes);
    let parts: Vec<Vec<f32>> = it
        .map(|rows| {
            let mut part = vec![0f32; rows.len() / row_bytes * m];
            weight_rows(rows, row_bytes, m, &mut part, &fill);
            part
        })
        .collect();
    for (c, part) in parts.iter().enumerate() {
        for (r, vals) in part.chunks_exact(m).enumerate() {
            let j = c * chunk + r;
            for (i, &v) in vals.iter().enumerate() {
                out[i * n + j] = v;
            }
        }
    }
}

/// Computes `out[m×n] = x[m×k] · Wᵀ` for W of `n` rows of `k` values stored as `dtype` blocks (Q8_0, Q4_0,
/// Q4_1, Q5_0, Q4_K, Q6_K). `m` is `x.len() / k`.
pub fn matmul_t(
    dtype: DType,
    w_bytes: &[u8],
    n: usize,
    k: usize,
    x: &[f32],
    out: &mut [f32],
) -> Result<()> {
    let op = "matmul_t";
    if !dtype.is_quantized() {
        return Err(Error::UnsupportedDType { op, dtype });
    }
    let row_bytes = dtype.storage_bytes(k).filter(|_| k > 0).ok_or_else(|| {
        Error::invalid(
            op,
            format!(
                "k = {k} is not a positive multiple of {dtype:?}'s block of {}",
                dtype.block_len()
            ),
        )
    })?;
    if n.checked_mul(row_bytes) != Some(w_bytes.len()) {
        return Err(Error::invalid(
            op,
            format!(
                "{n} rows of {k} {dtype:?} values need {row_bytes} bytes each, got {} bytes",
                w_bytes.len()
            ),
        ));
    }
    let m = x.len() / k;
    if !x.len().is_multiple_of(k) || m.checked_mul(n) != Some(out.len()) {
        return Err(Error::invalid(
            op,
            format!(
                "x has {} values (k = {k}) and out {} (n = {n})",
                x.len(),
                out.len()
            ),
        ));
    }
    if n == 0 || m == 0 {
        return Ok(());
    }
    let acts = QuantizedActs::new(x);
    match dtype {
        DType::Q8_0 => drive(w_bytes, row_bytes, n, m, out, |row, is, outs| {
            for (i, o) in is.zip(outs) {
                let (xq, xd, _) = acts.row(i, k);
                *o = dot_q8_0(row, xq, xd);
            }
        }),
        DType::Q4_0 => drive(w_bytes, row_bytes, n, m, out, |row, is, outs| {
            for (i, o) in is.zip(outs) {
                let (xq, xd, xs) = acts.row(i, k);
                *o = dot_q4_0(row, xq, xd, xs);
            }
        }),
        DType::Q4_1 => drive(w_bytes, row_bytes, n, m, out, |row, is, outs| {
            for (i, o) in is.zip(outs) {
                let (xq, xd, xs) = acts.row(i, k);
                *o = dot_q4_1(row, xq, xd, xs);
            }
        }),
        DType::Q5_0 => drive(w_bytes, row_bytes, n, m, out, |row, is, outs| {
            for (i, o) in is.zip(outs) {
                let (xq, xd, xs) = acts.row(i, k);
                *o = dot_q5_0(row, xq, xd, xs);
            }
        }),
        DType::Q4_K | DType::Q6_K => drive(w_bytes, row_bytes, n, m, out, |row, is, outs| {
            let mut dec = DecodedRow::new(k);
            if dtype == DType::Q4_K {
                dec.load_q4_k(row);
            } else {
                dec.load_q6_k(row);
            }
            for (i, o) in is.zip(outs) {
                let (xq, xd, xs) = acts.row(i, k);
                *o = dec.dot(xq, xd, xs);
            }
        }),
        other => return Err(Error::UnsupportedDType { op, dtype: other }),
    }
    Ok(())
}
