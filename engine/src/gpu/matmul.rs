//! Matrix products on the GPU: batched `matmul` over strided operands (no copies for transposes or broadcast
//! batches of rank ≤ 2) and `linear` with F32/F16/Q8_0/Q4_0/Q4_K/Q6_K weights: a tiled GEMM, or a GEMV for
//! the few-row case of token-by-token decoding.

use super::context::Binding;
use super::elementwise::{as_f32, binary, cast, contiguous, parts, u32_of, wrap, Binary};
use super::kernels::{Kernel, Storage as Kind};
use super::row_chunks::row_chunks;
use super::GpuStorage;
use crate::{DType, Error, Result, Shape, Tensor};

/// Output tile of one GEMM workgroup (must match `matmul.wgsl`'s BM and BN).
const GEMM_TILE_M: usize = 128;
const GEMM_TILE_N: usize = 64;

/// Rows up to which `linear` uses the matrix-vector kernel.
const GEMV_MAX_ROWS: usize = 4;

/// Whether `linear` of `m` rows of length `k` takes the matrix-vector kernel.
fn takes_gemv(m: usize, k: usize) -> bool {
    m <= GEMV_MAX_ROWS && k.is_multiple_of(8)
}

/// The kind code of a float activation (f32 or f16).
fn act_kind(t: &Tensor) -> Result<Kind> {
    match t.dtype() {
        DType::F32 => Ok(Kind::F32),
        DType::F16 => Ok(Kind::F16),
        dtype => Err(Error::UnsupportedDType {
            op: "matmul",
            dtype,
        }),
    }
}

/// A weight as the kernels read it: a bound byte range of its buffer, its storage type, and the element
/// offset of its first value inside that range.
#[derive(Clone, Copy)]
struct WeightArg<'a> {
    binding: Binding<'a>,
    dtype: DType,
    offset: usize,
}

impl<'a> WeightArg<'a> {
    /// A tensor's whole buffer.
    fn whole(w: &'a Tensor) -> Result<WeightArg<'a>> {
        let (_, st) = parts(w)?;
        Ok(WeightArg {
            binding: Binding::whole(st.buffer()),
            dtype: w.dtype(),
            offset: w.layout().offset(),
        })
    }

    fn kind(&self, op: &'static str) -> Result<Kind> {
        Kind::of(self.dtype).ok_or(Error::UnsupportedDType {
            op,
            dtype: self.dtype,
        })
    }
}

/// `a[..., m, k] @ b[..., k, n]` with broadcast batch axes; f32 result (f16 when both inputs are f16).
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (ra, rb) = (a.rank(), b.rank());
    if ra < 2 || rb < 2 {
        return Err(Error::invalid("matmul", "operands need rank >= 2"));
    }
    let (m, k) = (a.dims()[ra - 2], a.dims()[ra - 1]);
    let (k2, n) = (b.dims()[rb - 2], b.dims()[rb - 1]);
    if k != k2 {
        return Err(Error::ShapeMismatch {
            op: "matmul",
            lhs: a.shape().clone(),
            rhs: b.shape().clone(),
        });
    }
    let batch =
        Shape::from(&a.dims()[..ra - 2]).broadcast(&Shape::from(&b.dims()[..rb - 2]), "matmul")?;
    let with = |base: &[usize], last: [usize; 2]| -> Shape {
        let mut d = base.to_vec();
        d.extend_from_slice(&last);
        d.into()
    };
    let mut ab = a.broadcast_as(with(batch.dims(), [m, k]))?;
    let mut bb = b.broadcast_as(with(batch.dims(), [k, n]))?;
    if batch.rank() > 2 {
        // Deeper batches are flattened through contiguous copies.
        ab = contiguous(&ab)?;
        bb = contiguous(&bb)?;
    }
    let (b0, b1, sa, sb) = match batch.rank() {
        0 => (1, 1, [0, 0], [0, 0]),
        1 => (
            1,
            batch.dims()[0],
            [0, ab.layout().strides()[0]],
            [0, bb.layout().strides()[0]],
        ),
        2 => (
            batch.dims()[0],
            batch.dims()[1],
            [ab.layout().strides()[0], ab.layout().strides()[1]],
            [bb.layout().strides()[0], bb.layout().strides()[1]],
        ),
        r => {
            let inner = batch.dims()[r - 1];
            (
                batch.elem_count() / inner.max(1),
                inner,
                [inner * m * k, m * k],
                [inner * k * n, k * n],
            )
        }
    };
    let (al, bl) = (ab.layout().strides(), bb.layout().strides());
    let (r2, r1) = (ab.rank() - 2, ab.rank() - 1);
    let out = gemm(
        &ab,
        WeightArg::whole(&bb)?,
        GemmShape { m, n, k, b0, b1 },
        [ab.layout().offset(), sa[0], sa[1], al[r2], al[r1]],
        [bb.layout().offset(), sb[0], sb[1], bl[r2], bl[r1]],
    )?;
    let mut dims = batch.dims().to_vec();
    dims.extend_from_slice(&[m, n]);
    let out = out.reshape(dims)?;
    if a.dtype() == DType::F16 && b.dtype() == DType::F16 {
        cast(&out, DType::F16)
    } else {
        Ok(out)
    }
}

struct GemmShape {
    m: usize,
    n: usize,
    k: usize,
    b0: usize,
    b1: usize,
}

/// Records the tiled GEMM; `a`/`b` strides are [offset, batch0, batch1, row, col] in elements.
fn gemm(a: &Tensor, w: WeightArg, s: GemmShape, sa: [usize; 5], sb: [usize; 5]) -> Result<Tensor> {
    let (dev, a_st) = parts(a)?;
    let wk = w.kind("matmul")?;
    let (tiles_m, tiles_n) = (s.m.div_ceil(GEMM_TILE_M), s.n.div_ceil(GEMM_TILE_N));
    let mut p = vec![
        u32_of("matmul", s.m)?,
        u32_of("matmul", s.n)?,
        u32_of("matmul", s.k)?,
        u32_of("matmul", s.b1)?,
    ];
    for v in sa.iter().chain(sb.iter()) {
        p.push(u32_of("matmul", *v)?);
    }
    p.push(u32_of("matmul", tiles_n)?);
    p.push(u32_of("matmul", tiles_m)?);
    let elems = s.b0 * s.b1 * s.m * s.n;
    let out = GpuStorage::alloc(dev, DType::F32, elems)?;
    let groups = u32_of("matmul", tiles_m * tiles_n * s.b0 * s.b1)?;
    dev.dispatch_bound(
        Kernel::Gemm {
            a: act_kind(a)?,
            w: wk,
        },
        &p,
        &[
            Binding::whole(a_st.buffer()),
            w.binding,
            Binding::whole(out.buffer()),
        ],
        groups,
    )?;
    Ok(wrap(dev, out, Shape::from(vec![s.b0 * s.b1, s.m, s.n])))
}

/// `x[..., k] @ weightᵀ + bias` with `weight` `[n, k]` in any weight type; f16 inputs give f16.
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    if weight.rank() != 2 || x.rank() == 0 || x.shape().last_dim() != weight.dims()[1] {
        return Err(Error::ShapeMismatch {
            op: "linear",
            lhs: x.shape().clone(),
            rhs: weight.shape().clone(),
        });
    }
    let (n, k) = (weight.dims()[0], weight.dims()[1]);
    let quantized = weight.dtype().is_quantized();
    let rows_contiguous = weight.layout().strides() == [k, 1];
    if quantized && !rows_contiguous {
        return Err(Error::invalid(
            "linear",
            "quantized weights must be row-major [out, in]",
        ));
    }
    let xc = contiguous(x)?;
    let m = x.elem_count() / k.max(1);
    let mut out_dims = x.dims().to_vec();
    *out_dims.last_mut().unwrap_or(&mut 0) = n;
    // The GEMV reads rows of the weight: a transposed view is copied first.
    let copied = if takes_gemv(m, k) && !rows_contiguous {
        Some(contiguous(weight)?)
    } else {
        None
    };
    let weight = copied.as_ref().unwrap_or(weight);
    let (dev, w_st) = parts(weight)?;
    let y = match row_chunks(dev, weight, w_st.buffer().size())? {
        None => linear_rows(
            &xc,
            WeightArg::whole(weight)?,
            weight.layout().strides(),
            m,
            n,
            k,
        )?,
        Some(chunks) => {
            // Too large to bind whole: one product per run of rows, joined along the output features.
            let pieces = chunks
                .iter()
                .map(|c| {
                    let w = WeightArg {
                        binding: c.binding(w_st.buffer()),
                        dtype: weight.dtype(),
                        offset: 0,
                    };
                    linear_rows(&xc, w, &[k, 1], m, c.rows, k)
                })
                .collect::<Result<Vec<_>>>()?;
            Tensor::concat(&pieces.iter().collect::<Vec<_>>(), 1)?
        }
    };
    let mut y = y.reshape(out_dims)?;
    if let Some(b) = bias {
        y = binary(&y, &as_f32(b)?, Binary::Add)?;
    }
    if x.dtype() == DType::F16 {
        cast(&y, DType::F16)
    } else {
        Ok(y)
    }
}

/// `x[m, k] · wᵀ` for a weight `[n, k]` with element strides `ws`: the GEMV for a few rows, else the GEMM.
fn linear_rows(
    x: &Tensor,
    w: WeightArg,
    ws: &[usize],
    m: usize,
    n: usize,
    k: usize,
) -> Result<Tensor> {
    if takes_gemv(m, k) {
        return gemv(x, w, m, n, k);
    }
    gemm(
        x,
        w,
        GemmShape {
            m,
            n,
            k,
            b0: 1,
            b1: 1,
        },
        [x.layout().offset(), 0, 0, k, 1],
        [w.offset, 0, 0, ws[1], ws[0]],
    )?
    .reshape([m, n])
}

/// Longest row (in blocks of 32) whose quantized activations fit the integer-dot GEMV's shared memory
/// (`gemv_q.wgsl`'s MAX_BLOCKS); longer rows take the f32 GEMV.
const GEMV_Q_MAX_BLOCKS: usize = 352;

/// Threads that share one output row of the integer-dot GEMV (`gemv_q.wgsl`'s TPR): the fewest of 8, 16, 32
/// that give at least 32,768 threads in all. A decode GEMV is bound by how many weight loads are in flight,
/// so few long rows (896 or 1,536 outputs) need more threads per row; with many rows more threads per row
/// only means more workgroups quantizing the activations again. Measured on an H200 with each product
/// waiting for the one before (`engine/examples/gemv_lab.rs`), q8_0 / q4_0: 8 → 32 threads took 896×4864
/// from 12.3 / 13.5 to 8.5 / 8.3 µs and 1536×8960 from 19.0 / 21.0 to 12.0 / 13.8 µs; 8 stayed the fastest
/// from 4,864 rows up.
fn gemv_q_threads_per_row(rows: usize) -> usize {
    match rows {
        r if r * 8 >= 32_768 => 8,
        r if r * 16 >= 32_768 => 16,
        _ => 32,
    }
}

/// Row groups one workgroup of the integer-dot GEMV takes in turn: one until there are 400 groups, so at
/// least ~200 workgroups keep a large GPU (132 SMs) busy, then more, so one quantization of the
/// activations serves more rows. Measured (H200, as above): 8960×1536 ran 17% faster as 280 workgroups of one
/// pass than as 140 of two, 14336×4096 11% faster as 224 of two than as 448 of one.
fn gemv_q_passes(row_groups: usize) -> usize {
    (row_groups / 200).max(1)
}

/// GEMV for Q8_0/Q4_0 weights: each workgroup quantizes the activation row to 8-bit blocks (as the CPU path
/// does), then every block product is integer dot products of packed bytes.
fn gemv_quantized(x: &Tensor, w: WeightArg, m: usize, n: usize, k: usize) -> Result<Tensor> {
    let threads_per_row = gemv_q_threads_per_row(n);
    let row_groups = n.div_ceil(256 / threads_per_row);
    let passes = gemv_q_passes(row_groups);
    let groups = row_groups.div_ceil(passes);
    let p = [
        u32_of("linear", m)?,
        u32_of("linear", n)?,
        u32_of("linear", k)?,
        u32_of("linear", w.offset)?,
        u32_of("linear", row_groups)?,
        u32_of("linear", passes)?,
    ];
    record_gemv(
        x,
        w,
        Kernel::GemvQ {
            a: act_kind(x)?,
            w: w.kind("linear")?,
            threads_per_row: threads_per_row as u32,
        },
        &p,
        m * groups,
        [m, n],
        // `gemv_q.wgsl` reads Q8_0 as 16-byte vectors and Q4_0 as words: the weights again, as words.
        Some(w.binding),
    )
}

/// Records one GEMV kernel over `x` and `w` (and `extra`, bound after the output) into a new f32 `[m, n]`
/// output.
fn record_gemv(
    x: &Tensor,
    w: WeightArg,
    kernel: Kernel,
    params: &[u32],
    groups: usize,
    [m, n]: [usize; 2],
    extra: Option<Binding>,
) -> Result<Tensor> {
    let (dev, x_st) = parts(x)?;
    let out = GpuStorage::alloc(dev, DType::F32, m * n)?;
    let mut bindings = vec![
        Binding::whole(x_st.buffer()),
        w.binding,
        Binding::whole(out.buffer()),
    ];
    bindings.extend(extra);
    dev.dispatch_bound(kernel, params, &bindings, u32_of("linear", groups)?)?;
    Ok(wrap(dev, out, Shape::from(vec![m, n])))
}

fn gemv(x: &Tensor, w: WeightArg, m: usize, n: usize, k: usize) -> Result<Tensor> {
    let whole_blocks =
        k.is_multiple_of(32) && k / 32 <= GEMV_Q_MAX_BLOCKS && w.offset.is_multiple_of(32);
    if matches!(w.dtype, DType::Q8_0 | DType::Q4_0) && whole_blocks {
        return gemv_quantized(x, w, m, n, k);
    }
    let per_row = n.div_ceil(4);
    let p = [
        u32_of("linear", m)?,
        u32_of("linear", n)?,
        u32_of("linear", k)?,
        u32_of("linear", w.offset)?,
        u32_of("linear", per_row)?,
    ];
    record_gemv(
        x,
        w,
        Kernel::Gemv {
            a: act_kind(x)?,
            w: w.kind("linear")?,
        },
        &p,
        m * per_row,
        [m, n],
        None,
    )
}
