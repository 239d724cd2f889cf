//! Blocked f32 GEMM in "A times B-transposed" form: `out[m×n] = a[m×k] · bᵀ` with `b` stored `[n×k]`, the layout of
//! a linear layer's weight. B comes from an [`RowSource`] (f32, f16 or quantized rows), unpacked panel by panel into
//! an f32 buffer that stays in cache while every row of A passes over it.

use crate::{DType, Result};
use half::f16;

/// Depth of one panel (a multiple of every quantized block length, so quantized rows unpack on block boundaries).
const KC: usize = 512;
/// Rows of B in one panel.
const NB: usize = 64;
/// From this many rows of A on, the packed outer-product kernel (`packed.rs`) is used.
const PACKED_FROM_ROWS: usize = 16;
/// Micro-kernel tile: rows of A by rows of B.
const MR: usize = 4;
const NR: usize = 3;
/// Lanes of each accumulator: 8 fills an AVX2 register (split in two by the compiler on SSE2). On wasm32 one
/// simd128 register holds 4, and 12 accumulators of 8 would need 24 registers where the browser's JIT has 16
/// (it spills them): 4 lanes measured 1.6× faster for a 512 GEMM in Chromium.
#[cfg(not(target_arch = "wasm32"))]
const LANES: usize = 8;
#[cfg(target_arch = "wasm32")]
const LANES: usize = 4;

/// The rows of B (`n` rows of `k` values), in whatever form they are stored.
#[derive(Clone, Copy)]
pub enum RowSource<'a> {
    F32(&'a [f32]),
    F16(&'a [f16]),
    /// GGUF blocks; `k` is a multiple of the block length.
    Quantized {
        dtype: DType,
        bytes: &'a [u8],
    },
    /// The im2col matrix of a 1-D convolution, never built: row `r` (an output position) is the receptive field
    /// `x[c][r + t·dilation − padding]` over channels `c` and taps `t` (zero outside the input), read from `x`
    /// (`[channels, len]`) where the GEMM packs it.
    Conv1d(Conv1dRows<'a>),
    /// The im2col matrix of a 2-D convolution, never built: row `r` is output position `(r / ow, r % ow)`, its
    /// receptive field `x[c][oy·sy + ky·dy − py][ox·sx + kx·dx − px]` over channels, kernel rows and columns
    /// (zero outside the input), read from `x` (`[channels, h, w]`) where the GEMM packs it.
    Conv2d(Conv2dRows<'a>),
}

/// See [`RowSource::Conv1d`].
#[derive(Clone, Copy, Debug)]
pub struct Conv1dRows<'a> {
    pub x: &'a [f32],
    pub len: usize,
    pub taps: usize,
    pub dilation: usize,
    pub padding: usize,
}

impl Conv1dRows<'_> {
    /// Writes entry `kk` (channel `kk / taps`, tap `kk % taps`) of rows `first..first + dst.len()`.
    #[inline]
    pub(super) fn column(&self, kk: usize, first: usize, dst: &mut [f32]) {
        let (c, t) = (kk / self.taps, kk % self.taps);
        let row = &self.x[c * self.len..][..self.len];
        let start = (first + t * self.dilation) as isize - self.padding as isize;
        if start >= 0 && start as usize + dst.len() <= self.len {
            dst.copy_from_slice(&row[start as usize..][..dst.len()]);
        } else {
            for (w, d) in dst.iter_mut().enumerate() {
                let i = start + w as isize;
                *d = if i >= 0 && (i as usize) < self.len {
                    row[i as usize]
                } else {
                    0.0
                };
            }
        }
    }
}

/// See [`RowSource::Conv2d`].
#[derive(Clone, Copy, Debug)]
pub struct Conv2dRows<'a> {
    pub x: &'a [f32],
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    /// Output width: positions wrap to the next output row after `ow`.
    pub ow: usize,
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
}

impl Conv2dRows<'_> {
    /// Writes entry `kk` (channel `kk / (kh·kw)`, kernel row, kernel column) of rows `first..first + dst.len()`:
    /// within one output row the values are one strided run of an input row (contiguous at stride 1).
    #[inline]
    pub(super) fn column(&self, kk: usize, first: usize, dst: &mut [f32]) {
        let taps = self.kh * self.kw;
        let (c, ky, kx) = (kk / taps, (kk % taps) / self.kw, kk % self.kw);
        let plane = &self.x[c * self.h * self.w..][..self.h * self.w];
        let mut pos = first;
        let mut rest = dst;
        while !rest.is_empty() {
            let (oy, ox) = (pos / self.ow, pos % self.ow);
            let run = (self.ow - ox).min(rest.len());
            let (seg, tail) = std::mem::take(&mut rest).split_at_mut(run);
            let iy = (oy * self.stride.0 + ky * self.dilation.0) as isize - self.padding.0 as isize;
            if iy < 0 || iy as usize >= self.h {
                seg.fill(0.0);
            } else {
                let row = &plane[iy as usize * self.w..][..self.w];
                let x0 =
                    (ox * self.stride.1 + kx * self.dilation.1) as isize - self.padding.1 as isize;
                if self.stride.1 == 1 && x0 >= 0 && x0 as usize + run <= self.w {
                    seg.copy_from_slice(&row[x0 as usize..][..run]);
                } else {
                    for (i, v) in seg.iter_mut().enumerate() {
                        let ix = x0 + (i * self.stride.1) as isize;
                        *v = if ix >= 0 && (ix as usize) < self.w {
                            row[ix as usize]
                        } else {
                            0.0
                        };
                    }
                }
            }
            pos += run;
            rest = tail;
        }
    }
}

impl RowSource<'_> {
    /// Writes rows `rows` of B, columns `k0..k0 + kc`, as f32 into `dst` (`rows.len() × kc`).
    pub(super) fn unpack(
        &self,
        k: usize,
        rows: std::ops::Range<usize>,
        k0: usize,
        kc: usize,
        dst: &mut [f32],
    ) -> Result<()> {
        for (r, d) in rows.zip(dst.chunks_exact_mut(kc)) {
            let start = r * k + k0;
            match self {
                RowSource::F32(b) => d.copy_from_slice(&b[start..start + kc]),
                RowSource::F16(b) => {
                    #[cfg(target_arch = "x86_64")]
                    if std::arch::is_x86_feature_detected!("f16c") {
                        // SAFETY: the CPU was just checked for F16C (which implies AVX).
                        #[allow(unsafe_code)]
                        unsafe {
                            avx2::f16_to_f32(&b[start..start + kc], d)
                        };
                        continue;
                    }
                    for (o, h) in d.iter_mut().zip(&b[start..start + kc]) {
                        *o = f16_to_f32(h.to_bits());
                    }
                }
                RowSource::Conv1d(conv) => {
                    for (j, v) in d.iter_mut().enumerate() {
                        conv.column(k0 + j, r, std::slice::from_mut(v));
                    }
                }
                RowSource::Conv2d(conv) => {
                    for (j, v) in d.iter_mut().enumerate() {
                        conv.column(k0 + j, r, std::slice::from_mut(v));
                    }
                }
                RowSource::Quantized { dtype, bytes } => {
                    let per_block = dtype.block_bytes();
                    let from = start / dtype.block_len() * per_block;
                    let to = (start + kc) / dtype.block_len() * per_block;
                    crate::quant::dequantize_into(*dtype, &bytes[from..to], d)?;
                }
            }
        }
        Ok(())
    }
}

/// f16 bits to f32 without branches, so that the unpacking loop vectorises (the `half` crate converts one value
/// at a time here): shift exponent and mantissa into place and rescale by 2¹¹², which also handles subnormals;
/// infinities and NaNs are patched with a select.
#[inline(always)]
fn f16_to_f32(h: u16) -> f32 {
    let h = h as u32;
    let sign = (h & 0x8000) << 16;
    let rest = h & 0x7fff;
    let scaled = f32::from_bits(rest << 13) * f32::from_bits(0x7780_0000); // 2^112
    let special = 0x7f80_0000 | ((rest & 0x03ff) << 13);
    let bits = if rest >= 0x7c00 {
        special
    } else {
        scaled.to_bits()
    };
    f32::from_bits(sign | bits)
}

/// `out = a · bᵀ` (overwrites `out`, whatever it held); `a` is `m×k` row-major, B has `n` rows of `k`.
pub fn gemm_nt(
    a: &[f32],
    b: RowSource<'_>,
    m: usize,
    n: usize,
    k: usize,
    out: &mut [f32],
) -> Result<()> {
    gemm_nt_bias(a, b, m, n, k, None, out)
}

/// `out = a · bᵀ + bias` (a row of `n` added to every row of the product): a linear layer. The bias is added
/// where the kernels first write the output, not in a pass of its own.
pub fn gemm_nt_bias(
    a: &[f32],
    b: RowSource<'_>,
    m: usize,
    n: usize,
    k: usize,
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<()> {
    if bias.is_some_and(|v| v.len() < n) {
        return Err(crate::Error::invalid(
            "linear",
            "the bias is shorter than the output rows",
        ));
    }
    if m == 0 || n == 0 || k == 0 {
        for row in out[..m * n].chunks_exact_mut(n.max(1)) {
            start_row(row, bias, 0);
        }
        return Ok(());
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let threads = rayon::current_num_threads();
        if threads > 1 && m * n * k >= 1 << 18 {
            return gemm_parallel(Operands { a, b, k, bias }, m, n, out, threads);
        }
    }
    gemm_block(Operands { a, b, k, bias }, 0..m, 0..n, out, n)
}

/// The inputs of one product: A (`m×k` row-major), the rows of B, and an optional bias row.
#[derive(Clone, Copy)]
pub(super) struct Operands<'a> {
    pub a: &'a [f32],
    pub b: RowSource<'a>,
    pub k: usize,
    pub bias: Option<&'a [f32]>,
}

/// Sets an output row segment starting at column `col` to the bias (or zero), the value accumulation starts from.
fn start_row(row: &mut [f32], bias: Option<&[f32]>, col: usize) {
    match bias {
        Some(v) => row.copy_from_slice(&v[col..col + row.len()]),
        None => row.fill(0.0),
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn gemm_parallel(
    ops: Operands<'_>,
    m: usize,
    n: usize,
    out: &mut [f32],
    threads: usize,
) -> Result<()> {
    use rayon::prelude::*;
    if m >= PACKED_FROM_ROWS {
        // The packed kernel packs each panel of B once, across the threads, then cuts the output into one block of
        // rows × columns per thread. (Until it cut columns too, products of fewer than 48 rows a thread took the
        // column strips below, each task packing all of A for itself: 512³ on 16 threads ran at half the speed
        // of 8 threads.)
        return super::packed::gemm_block(ops, 0..m, 0..n, &mut out[..m * n], n, threads);
    }
    // Few rows (decode): split the rows of B; each task fills a column strip, copied into place after.
    let per = n.div_ceil(threads * 4).next_multiple_of(NR).max(NB);
    let strips: Vec<(usize, Vec<f32>)> = (0..n.div_ceil(per))
        .into_par_iter()
        .map(|s| {
            let cols = s * per..((s + 1) * per).min(n);
            let mut strip = vec![0.0; m * cols.len()];
            let width = cols.len();
            gemm_block(ops, 0..m, cols.clone(), &mut strip, width).map(|()| (cols.start, strip))
        })
        .collect::<Result<_>>()?;
    for (c0, strip) in strips {
        let width = strip.len() / m;
        for (row, src) in strip.chunks_exact(width).enumerate() {
            out[row * n + c0..row * n + c0 + width].copy_from_slice(src);
        }
    }
    Ok(())
}

/// Writes rows `rows` × columns `cols` of the product into `out` (row stride `ld`, origin at
/// `(rows.start, cols.start)`).
fn gemm_block(
    ops: Operands<'_>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    out: &mut [f32],
    ld: usize,
) -> Result<()> {
    if rows.len() >= PACKED_FROM_ROWS {
        return super::packed::gemm_block(ops, rows, cols, out, ld, 1);
    }
    let Operands { a, b, k, bias } = ops;
    // The dot-product kernel below adds into the output: start it at the bias or zero (the packed one stores
    // its first panel with the bias, so the large outputs are not cleared in a separate pass).
    for r in 0..rows.len() {
        start_row(&mut out[r * ld..r * ld + cols.len()], bias, cols.start);
    }
    let mut panel = vec![0.0f32; NB * KC.min(k)];
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        for j0 in cols.clone().step_by(NB) {
            let nb = NB.min(cols.end - j0);
            // For a few rows of A (decode), f32 rows of B are read in place; otherwise they are copied into a
            // compact panel, since rows a power-of-two apart in memory would evict each other from the cache.
            let (rows_of_b, ldb) = match b {
                RowSource::F32(v) if rows.len() <= MR => (&v[j0 * k + k0..], k),
                _ => {
                    b.unpack(k, j0..j0 + nb, k0, kc, &mut panel[..nb * kc])?;
                    (&panel[..nb * kc], kc)
                }
            };
            let tile = Tile {
                a,
                k,
                k0,
                kc,
                panel: rows_of_b,
                ldb,
            };
            tile.run(
                rows.clone(),
                nb,
                &mut out[j0 - cols.start..],
                ld,
                rows.start,
            );
        }
    }
    Ok(())
}

/// One panel of B against a range of rows of A.
struct Tile<'a> {
    a: &'a [f32],
    k: usize,
    k0: usize,
    kc: usize,
    panel: &'a [f32],
    /// Distance between consecutive rows of B in `panel`.
    ldb: usize,
}

impl Tile<'_> {
    fn run(&self, rows: std::ops::Range<usize>, nb: usize, out: &mut [f32], ld: usize, r0: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU was just checked for AVX2 and FMA, the only requirement of this function.
                #[allow(unsafe_code)]
                unsafe {
                    self.run_avx2(rows, nb, out, ld, r0)
                };
                return;
            }
        }
        self.run_generic::<false>(rows, nb, out, ld, r0);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    #[allow(unsafe_code)]
    unsafe fn run_avx2(
        &self,
        rows: std::ops::Range<usize>,
        nb: usize,
        out: &mut [f32],
        ld: usize,
        r0: usize,
    ) {
        self.run_generic::<true>(rows, nb, out, ld, r0);
    }

    #[inline(always)]
    fn run_generic<const FMA: bool>(
        &self,
        rows: std::ops::Range<usize>,
        nb: usize,
        out: &mut [f32],
        ld: usize,
        r0: usize,
    ) {
        let mut i = rows.start;
        while i < rows.end {
            let mr = MR.min(rows.end - i);
            let mut j = 0;
            while j < nb {
                let nr = NR.min(nb - j);
                match (mr, nr) {
                    (MR, NR) => self.micro::<MR, NR, FMA>(i, j, out, ld, r0),
                    (_, NR) => {
                        (0..mr).for_each(|d| self.micro::<1, NR, FMA>(i + d, j, out, ld, r0))
                    }
                    (MR, _) => {
                        (0..nr).for_each(|d| self.micro::<MR, 1, FMA>(i, j + d, out, ld, r0))
                    }
                    _ => {
                        for di in 0..mr {
                            for dj in 0..nr {
                                self.micro::<1, 1, FMA>(i + di, j + dj, out, ld, r0);
                            }
                        }
                    }
                }
                j += nr;
            }
            i += mr;
        }
    }

    /// Dot products of `R` rows of A (from `i`) with `C` rows of the panel (from `j`), added into `out`.
    #[inline(always)]
    fn micro<const R: usize, const C: usize, const FMA: bool>(
        &self,
        i: usize,
        j: usize,
        out: &mut [f32],
        ld: usize,
        r0: usize,
    ) {
        let kc = self.kc;
        let a: [&[f32]; R] = std::array::from_fn(|r| {
            let s = (i + r) * self.k + self.k0;
            &self.a[s..s + kc]
        });
        let b: [&[f32]; C] = std::array::from_fn(|c| &self.panel[(j + c) * self.ldb..][..kc]);
        #[cfg(target_arch = "x86_64")]
        if FMA {
            // The compiler does not vectorise the portable loop below across lanes reliably; with AVX2 the dot
            // products are written out explicitly.
            // SAFETY: FMA is true only inside `run_avx2`, whose caller checked for AVX2 and FMA.
            #[allow(unsafe_code)]
            let sums = unsafe { avx2::dot::<R, C>(a, b) };
            for (r, row) in sums.iter().enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    out[(i + r - r0) * ld + j + c] += v;
                }
            }
            return;
        }
        let mut acc = [[[0.0f32; LANES]; C]; R];
        let full = kc / LANES * LANES;
        // Whole lanes as arrays of exactly `full / LANES` entries, so the loop below carries no bounds checks.
        let nq = full / LANES;
        let ac: [&[[f32; LANES]]; R] = std::array::from_fn(|r| &a[r].as_chunks::<LANES>().0[..nq]);
        let bc: [&[[f32; LANES]]; C] = std::array::from_fn(|c| &b[c].as_chunks::<LANES>().0[..nq]);
        for q in 0..nq {
            let bv: [[f32; LANES]; C] = std::array::from_fn(|c| bc[c][q]);
            for r in 0..R {
                let av = ac[r][q];
                for c in 0..C {
                    for l in 0..LANES {
                        acc[r][c][l] = fmadd::<FMA>(av[l], bv[c][l], acc[r][c][l]);
                    }
                }
            }
        }
        for r in 0..R {
            for c in 0..C {
                let mut s = acc[r][c].iter().sum::<f32>();
                for p in full..kc {
                    s = fmadd::<FMA>(a[r][p], b[c][p], s);
                }
                out[(i + r - r0) * ld + j + c] += s;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use std::arch::x86_64::*;

    /// Converts f16 to f32 with the F16C instruction.
    ///
    /// # Safety
    /// The CPU must support AVX and F16C.
    #[target_feature(enable = "avx,f16c")]
    pub unsafe fn f16_to_f32(src: &[half::f16], dst: &mut [f32]) {
        let n = src.len().min(dst.len());
        let full = n / 8 * 8;
        for o in (0..full).step_by(8) {
            // SAFETY: `o + 8 <= n` values exist in both slices; f16 is 16 bits wide.
            unsafe {
                let h = _mm_loadu_si128(src.as_ptr().add(o) as *const __m128i);
                _mm256_storeu_ps(dst.as_mut_ptr().add(o), _mm256_cvtph_ps(h));
            }
        }
        for o in full..n {
            dst[o] = src[o].to_f32();
        }
    }

    /// `R×C` dot products of equal-length rows, 8 lanes at a time with FMA.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot<const R: usize, const C: usize>(
        a: [&[f32]; R],
        b: [&[f32]; C],
    ) -> [[f32; C]; R] {
        let kc = a[0].len();
        let nq = kc / 8;
        let mut acc = [[_mm256_setzero_ps(); C]; R];
        for q in 0..nq {
            let o = q * 8;
            // SAFETY: every row holds `kc >= o + 8` values (checked by the slicing in the caller).
            let bv: [__m256; C] =
                std::array::from_fn(|c| unsafe { _mm256_loadu_ps(b[c].as_ptr().add(o)) });
            for r in 0..R {
                let av = unsafe { _mm256_loadu_ps(a[r].as_ptr().add(o)) };
                for c in 0..C {
                    acc[r][c] = _mm256_fmadd_ps(av, bv[c], acc[r][c]);
                }
            }
        }
        let mut out = [[0.0f32; C]; R];
        for r in 0..R {
            for c in 0..C {
                let mut lanes = [0.0f32; 8];
                // SAFETY: `lanes` holds 8 f32.
                unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc[r][c]) };
                let mut s = lanes.iter().sum::<f32>();
                for p in nq * 8..kc {
                    s = a[r][p].mul_add(b[c][p], s);
                }
                out[r][c] = s;
            }
        }
        out
    }
}

#[inline(always)]
fn fmadd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    // Without hardware FMA, mul_add would call a slow libm routine: use a separate multiply and add.
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Transposes a row-major `rows×cols` matrix.
pub fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut dst = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
    dst
}

/// `out = a · b` with `b` stored `[k×n]` (transposed into the kernel's layout first).
pub fn gemm_nn(a: &[f32], b: &[f32], m: usize, n: usize, k: usize, out: &mut [f32]) -> Result<()> {
    let bt = transpose(b, k, n);
    gemm_nt(a, RowSource::F32(&bt), m, n, k, out)
}
