//! The GEMM path for many rows of A (prefill, encoders): A and B are packed into the order the micro-kernel reads
//! them, and the micro-kernel accumulates an `MR × NR` tile of the output as outer products, one step of k at a
//! time: NR/lanes vector loads of B and MR broadcasts of A feed MR·NR/lanes multiply-adds, all accumulators stay
//! in registers and no horizontal sums are needed at the end (the dot-product kernel of `gemm.rs` needs them,
//! which is fine for the few rows of decode, where this packing would not pay).
//!
//! Packed B: slivers of NR rows of B, each laid out `[p][c]` (k-step `p`, column `c`), padded with zeros.
//! Packed A: strips of MR rows, each laid out `[p][r]`, padded with zeros.

use super::gemm::{Operands, RowSource};
use crate::Result;
#[cfg(target_arch = "wasm32")]
use tiles::wasm;
#[cfg(target_arch = "x86_64")]
use tiles::x86;

mod tiles;

/// Depth of one panel (a multiple of every quantized block length, so quantized rows unpack on block boundaries).
/// Deep enough that the k of most layers (384–512) fits in one: every panel past the first reads the output back
/// and adds to it, a pass over memory that costs as much as the arithmetic for these shapes.
const KC: usize = 512;
/// Rows of B packed at once. Every block of A is packed once per panel of B, so the panel is wide: the k of most
/// layers times up to 2048 rows (4 MB at most). Each block of A then reads the whole panel once, sliver by sliver,
/// from L2/L3 — a few GB/s against the arithmetic, where re-packing A for narrow panels cost 5–10% of a forward.
const NC: usize = 2048;
/// Rows of A packed at once (a multiple of every MR below: 4, 6, 8): 48 × 512 f32 = 96 KB, which stays in L2 while every
/// sliver of B passes over it.
const MC: usize = 48;

/// Writes `out[rows × cols] = a[rows] · b[cols]ᵀ (+ bias[cols])` (row stride `ld`, origin `(rows.start, cols.start)`).
pub fn gemm_block(
    ops: Operands<'_>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    out: &mut [f32],
    ld: usize,
    threads: usize,
) -> Result<()> {
    let job = Job {
        a: ops.a,
        b: ops.b,
        rows,
        cols,
        k: ops.k,
        bias: ops.bias,
    };
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return job.run::<{ x86::MR512 }, { x86::NR512 }>(out, ld, threads, |kc, a, b, acc| {
            // SAFETY: the CPU was just checked for AVX-512F, the only requirement of `tile512`.
            #[allow(unsafe_code)]
            unsafe {
                x86::tile512(kc, a, b, acc)
            }
        });
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return job.run::<{ x86::MR }, { x86::NR }>(out, ld, threads, |kc, a, b, acc| {
            // SAFETY: the CPU was just checked for AVX2 and FMA, the only requirement of `tile`.
            #[allow(unsafe_code)]
            unsafe {
                x86::tile(kc, a, b, acc)
            }
        });
    }
    #[cfg(target_arch = "wasm32")]
    {
        job.run::<{ wasm::MR }, { wasm::NR }>(out, ld, threads, wasm::tile)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        job.run::<4, 8>(out, ld, threads, tiles::portable_tile::<4, 8>)
    }
}

thread_local! {
    static B_PACK: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
    static A_PACK: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A packing buffer kept by its thread between products: allocating and zeroing a fresh megabyte for every
/// call cost ~10% of a 512³ product on 16 threads. `pack` writes every value the tiles read (padding too), so
/// the old contents never matter. A nested product on the same thread finds the slot empty and allocates.
struct Scratch {
    buf: Vec<f32>,
    len: usize,
    slot: &'static std::thread::LocalKey<std::cell::Cell<Vec<f32>>>,
}

impl Scratch {
    fn take(
        slot: &'static std::thread::LocalKey<std::cell::Cell<Vec<f32>>>,
        len: usize,
    ) -> Scratch {
        let mut buf = slot.with(std::cell::Cell::take);
        if buf.len() < len {
            buf.resize(len, 0.0);
        }
        Scratch { buf, len, slot }
    }
}

impl std::ops::Deref for Scratch {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.buf[..self.len]
    }
}

impl std::ops::DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buf[..self.len]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.slot.with(|s| s.set(buf));
    }
}

struct Job<'a> {
    a: &'a [f32],
    b: RowSource<'a>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    k: usize,
    /// Added to every row (indexed by the absolute column), with the first panel's store.
    bias: Option<&'a [f32]>,
}

impl Job<'_> {
    /// The product on `threads` threads (natively; 1 on wasm32): each panel of B is packed once, sliver by
    /// sliver across the threads, then the panel's output is cut into one block per thread (rows × slivers,
    /// see [`Split`]) and the blocks run in parallel.
    #[cfg_attr(target_arch = "wasm32", allow(unused_variables))]
    fn run<const MR: usize, const NR: usize>(
        &self,
        out: &mut [f32],
        ld: usize,
        threads: usize,
        tile: impl Fn(usize, &[f32], &[f32], &mut [[f32; NR]; MR]) + Sync,
    ) -> Result<()> {
        let k = self.k;
        let depth = KC.min(k);
        // Buffers sized to this product, not to the block constants: small products stay cheap.
        let panel_rows = NC.min(self.cols.len());
        let mut b_pack = Scratch::take(&B_PACK, panel_rows.next_multiple_of(NR) * depth);
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for j0 in self.cols.clone().step_by(NC) {
                let nb = NC.min(self.cols.end - j0);
                let panel = Panel { k0, kc, j0, nb };
                let slivers = nb.div_ceil(NR);
                // The panel's columns of every output row: what the blocks below cut up.
                let col = j0 - self.cols.start;
                let out_rows = out
                    .chunks_mut(ld)
                    .take(self.rows.len())
                    .map(|row| &mut row[col..col + nb]);
                #[cfg(not(target_arch = "wasm32"))]
                if threads > 1 {
                    use rayon::prelude::*;
                    b_pack[..slivers * NR * kc]
                        .par_chunks_mut(NR * kc)
                        .enumerate()
                        .try_for_each(|(s, dst)| self.pack_sliver::<NR>(&panel, s, dst))?;
                    let split = Split::new(self.rows.len(), slivers, threads, MR, NR);
                    let b_pack = &b_pack;
                    split
                        .blocks(out_rows)
                        .into_par_iter()
                        .for_each(|mut block| {
                            let rows = self.rows.start + block.rows.start
                                ..self.rows.start + block.rows.end;
                            let width = block.out.first().map_or(0, |row| row.len());
                            let slivers =
                                block.first_sliver..block.first_sliver + width.div_ceil(NR);
                            self.block_against_panel(
                                rows,
                                slivers,
                                &panel,
                                b_pack,
                                &mut block.out,
                                &tile,
                            );
                        });
                    continue;
                }
                for (s, dst) in b_pack[..slivers * NR * kc].chunks_mut(NR * kc).enumerate() {
                    self.pack_sliver::<NR>(&panel, s, dst)?;
                }
                let mut block: Vec<&mut [f32]> = out_rows.collect();
                self.block_against_panel(
                    self.rows.clone(),
                    0..slivers,
                    &panel,
                    &b_pack,
                    &mut block,
                    &tile,
                );
            }
        }
        Ok(())
    }

    /// Packs sliver `s` of the panel (rows `j0 + s·NR ..` of B, `kc` deep from `k0`).
    fn pack_sliver<const NR: usize>(&self, p: &Panel, s: usize, dst: &mut [f32]) -> Result<()> {
        let first = p.j0 + s * NR;
        let live = NR.min(p.j0 + p.nb - first);
        match self.b {
            RowSource::F32(v) => pack::<NR>(&v[first * self.k + p.k0..], self.k, live, p.kc, dst),
            // A 1-D convolution's receptive fields: each k-step of the sliver is `live` consecutive input values.
            RowSource::Conv1d(conv) => {
                for (step, d) in dst.chunks_exact_mut(NR).take(p.kc).enumerate() {
                    conv.column(p.k0 + step, first, &mut d[..live]);
                    d[live..].fill(0.0);
                }
            }
            // Likewise for 2-D: each k-step is a run of `live` output positions (split where an output row ends).
            RowSource::Conv2d(conv) => {
                for (step, d) in dst.chunks_exact_mut(NR).take(p.kc).enumerate() {
                    conv.column(p.k0 + step, first, &mut d[..live]);
                    d[live..].fill(0.0);
                }
            }
            b => {
                let mut rows = vec![0.0f32; live * p.kc];
                b.unpack(self.k, first..first + live, p.k0, p.kc, &mut rows)?;
                pack::<NR>(&rows, p.kc, live, p.kc, dst);
            }
        }
        Ok(())
    }

    /// Rows `rows` of A against slivers `slivers` of a packed panel of B. `out[r]` is output row
    /// `rows.start + r` from the first of those slivers' columns on.
    fn block_against_panel<const MR: usize, const NR: usize>(
        &self,
        rows: std::ops::Range<usize>,
        slivers: std::ops::Range<usize>,
        p: &Panel,
        b_pack: &[f32],
        out: &mut [&mut [f32]],
        tile: &impl Fn(usize, &[f32], &[f32], &mut [[f32; NR]; MR]),
    ) {
        let (k, kc) = (self.k, p.kc);
        let mut a_pack = Scratch::take(&A_PACK, MC.min(rows.len()).next_multiple_of(MR) * kc);
        for i0 in rows.clone().step_by(MC) {
            let mb = MC.min(rows.end - i0);
            pack::<MR>(&self.a[i0 * k + p.k0..], k, mb, kc, &mut a_pack);
            // Each sliver of B (NR × kc, L1-sized) meets every strip of the packed A block.
            for s in slivers.clone() {
                let nr = NR.min(p.nb - s * NR);
                let sliver = &b_pack[s * NR * kc..][..NR * kc];
                let col = (s - slivers.start) * NR;
                let bias = match self.bias {
                    Some(v) if p.k0 == 0 => Some(&v[p.j0 + s * NR..][..nr]),
                    _ => None,
                };
                for t in 0..mb.div_ceil(MR) {
                    let mr = MR.min(mb - t * MR);
                    let mut acc = [[0.0f32; NR]; MR];
                    tile(kc, &a_pack[t * MR * kc..][..MR * kc], sliver, &mut acc);
                    let row0 = i0 - rows.start + t * MR;
                    for (r, acc_row) in acc.iter().enumerate().take(mr) {
                        let dst = &mut out[row0 + r][col..][..nr];
                        match (p.k0 == 0, bias) {
                            (true, Some(bias)) => {
                                for ((d, a), b) in dst.iter_mut().zip(acc_row).zip(bias) {
                                    *d = a + b;
                                }
                            }
                            (true, None) => dst.copy_from_slice(&acc_row[..nr]),
                            _ => dst.iter_mut().zip(acc_row).for_each(|(d, v)| *d += v),
                        }
                    }
                }
            }
        }
    }
}

/// How the threads share one panel's output: a grid of blocks, `rows` rows (whole tiles) by `slivers` slivers
/// of B each, one block per thread. Each block reads its rows of A and its slivers of B, so the grid is the one
/// that makes those fewest. Cutting the rows alone would give each of 16 threads 32 of 512 rows, and every
/// thread would read the whole panel of B for them.
#[cfg(not(target_arch = "wasm32"))]
struct Split {
    rows: usize,
    slivers: usize,
    /// Columns per sliver.
    nr: usize,
}

#[cfg(not(target_arch = "wasm32"))]
impl Split {
    fn new(rows: usize, slivers: usize, threads: usize, mr: usize, nr: usize) -> Split {
        let threads = threads.max(1);
        (1..=threads.min(slivers))
            .filter(|c| threads.is_multiple_of(*c))
            .map(|c| Split {
                rows: rows.div_ceil(threads / c).next_multiple_of(mr).max(mr),
                slivers: slivers.div_ceil(c),
                nr,
            })
            // Ties go to the fewest column cuts (the first): whole rows of output stay with one thread.
            .min_by_key(|s| s.rows + s.slivers * nr)
            .unwrap_or(Split { rows, slivers, nr })
    }

    /// Cuts the panel's output rows into the blocks, in row-major order of the grid.
    fn blocks<'o>(&self, out_rows: impl Iterator<Item = &'o mut [f32]>) -> Vec<OutBlock<'o>> {
        let width = self.slivers * self.nr;
        let mut blocks: Vec<OutBlock<'o>> = Vec::new();
        let mut band_start = 0;
        for (r, row) in out_rows.enumerate() {
            if r % self.rows == 0 {
                band_start = blocks.len();
            }
            for (c, piece) in row.chunks_mut(width).enumerate() {
                if r % self.rows == 0 {
                    blocks.push(OutBlock {
                        rows: r..r,
                        first_sliver: c * self.slivers,
                        out: Vec::with_capacity(self.rows),
                    });
                }
                if let Some(block) = blocks.get_mut(band_start + c) {
                    block.rows.end = r + 1;
                    block.out.push(piece);
                }
            }
        }
        blocks
    }
}

/// One thread's share of a panel's output: rows `rows` (within the product), slivers from `first_sliver`, and
/// the row pieces it writes (each starts at the first sliver's first column).
#[cfg(not(target_arch = "wasm32"))]
struct OutBlock<'o> {
    rows: std::ops::Range<usize>,
    first_sliver: usize,
    out: Vec<&'o mut [f32]>,
}

/// One panel of B: `nb` rows from `j0`, `kc` deep from `k0`.
struct Panel {
    k0: usize,
    kc: usize,
    j0: usize,
    nb: usize,
}

/// Packs `rows` rows (`kc` values each, `stride` apart) into groups of W rows, each laid out `[p][w]`; the rows
/// of the last group past `rows` are zeros. Both operands use it: A in strips of MR, B in slivers of NR.
fn pack<const W: usize>(src: &[f32], stride: usize, rows: usize, kc: usize, dst: &mut [f32]) {
    for g in 0..rows.div_ceil(W) {
        let group = &mut dst[g * W * kc..][..W * kc];
        let live = W.min(rows - g * W);
        for w in 0..W {
            // `w < W` and whole chunks of W: the writes below need no bounds checks.
            if w < live {
                let line = &src[(g * W + w) * stride..][..kc];
                for (step, &v) in group.chunks_exact_mut(W).zip(line) {
                    step[w] = v;
                }
            } else {
                group.chunks_exact_mut(W).for_each(|step| step[w] = 0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn split_cuts_few_rows_into_a_grid() {
        // 512 rows and 16 slivers of 32 columns on 16 threads: 4 × 4 blocks of 128 rows by 4 slivers.
        let s = Split::new(512, 16, 16, 8, 32);
        assert_eq!((s.rows, s.slivers), (128, 4));
        // Rows alone where they are many against few columns.
        let s = Split::new(4096, 2, 16, 8, 32);
        assert_eq!((s.rows, s.slivers), (256, 2));
        // One thread: one block.
        let s = Split::new(100, 7, 1, 8, 32);
        assert_eq!((s.rows, s.slivers), (104, 7));
        // The blocks cover every output value once, the last ones ragged.
        let mut out = vec![0.0f32; 21 * 70];
        let s = Split::new(21, 3, 4, 8, 32);
        let blocks = s.blocks(out.chunks_mut(70));
        let mut seen = vec![0u32; 21 * 70];
        for b in &blocks {
            for (r, piece) in b.rows.clone().zip(&b.out) {
                for c in 0..piece.len() {
                    seen[r * 70 + b.first_sliver * 32 + c] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&v| v == 1), "{seen:?}");
    }

    fn reference(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k)
                    .map(|p| a[i * k + p] as f64 * b[j * k + p] as f64)
                    .sum::<f64>() as f32;
            }
        }
        out
    }

    #[test]
    fn packed_matches_reference_on_ragged_shapes() {
        // Odd sizes on every axis: partial tiles in rows and columns, k past one panel with a remainder, and more
        // rows of B than one packed panel holds.
        for &(m, n, k) in &[
            (1, 1, 1),
            (7, 17, 3),
            (13, 130, 300),
            (33, 9, 513),
            (6, 16, 256),
            (50, 300, 1100),
            (20, 2100, 40),
        ] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
                .collect();
            let b: Vec<f32> = (0..n * k)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 24.0)
                .collect();
            let want = reference(&a, &b, m, n, k);
            let mut got = vec![0.0; m * n];
            let ops = |bias| Operands {
                a: &a,
                b: RowSource::F32(&b),
                k,
                bias,
            };
            gemm_block(ops(None), 0..m, 0..n, &mut got, n, 1).unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                    "{m}x{n}x{k}: {g} vs {w}"
                );
            }
            // Every micro-kernel this CPU can run, not only the one the dispatcher picks.
            let job = Job {
                a: &a,
                b: RowSource::F32(&b),
                rows: 0..m,
                cols: 0..n,
                k,
                bias: None,
            };
            let mut results = vec![("portable", vec![0.0; m * n])];
            job.run::<4, 8>(&mut results[0].1, n, 1, tiles::portable_tile::<4, 8>)
                .unwrap();
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            {
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    let mut got = vec![0.0; m * n];
                    job.run::<{ x86::MR }, { x86::NR }>(&mut got, n, 1, |kc, a, b, acc| unsafe {
                        x86::tile(kc, a, b, acc)
                    })
                    .unwrap();
                    results.push(("avx2", got));
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    let mut got = vec![0.0; m * n];
                    job.run::<{ x86::MR512 }, { x86::NR512 }>(
                        &mut got,
                        n,
                        1,
                        |kc, a, b, acc| unsafe { x86::tile512(kc, a, b, acc) },
                    )
                    .unwrap();
                    results.push(("avx512", got));
                }
            }
            // With a bias, added by the first panel's store.
            let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.5 - 3.0).collect();
            let mut with_bias = vec![0.0; m * n];
            gemm_block(ops(Some(&bias)), 0..m, 0..n, &mut with_bias, n, 1).unwrap();
            // Split over threads (natively): the same values, with the rows cut alone (3) and into a grid of
            // rows × slivers (16, where the shape allows).
            for (threads, name) in [(3, "bias, 3 threads"), (16, "bias, 16 threads")] {
                let mut threaded = vec![0.0; m * n];
                gemm_block(ops(Some(&bias)), 0..m, 0..n, &mut threaded, n, threads).unwrap();
                results.push((name, threaded));
            }
            let want_bias: Vec<f32> = want
                .iter()
                .enumerate()
                .map(|(i, w)| w + bias[i % n])
                .collect();
            results.push(("bias", with_bias));
            let wants = |name: &str| {
                if name.starts_with("bias") {
                    &want_bias
                } else {
                    &want
                }
            };
            for (name, got) in results {
                let want = wants(name);
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                        "{name} {m}x{n}x{k}: {g} vs {w}"
                    );
                }
            }
        }
    }
}
