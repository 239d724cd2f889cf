//! Row-wise and neural-network kernels: softmax, layer/RMS/group norm, reductions, fused attention, RoPE
//! and embedding lookups. Inputs are made contiguous f32 first; f16 inputs give f16 outputs.

use super::context::Binding;
use super::elementwise::{as_f32, cast, contiguous, parts, u32_of, wrap};
use super::kernels::{Kernel, Storage as Kind};
use super::row_chunks::row_chunks;
use super::GpuStorage;
use crate::{DType, Error, Result, Shape, Tensor};

/// Contiguous f32 copy (or the tensor itself).
fn dense(x: &Tensor) -> Result<Tensor> {
    contiguous(&as_f32(x)?)
}

/// Casts back to f16 when the op's input was f16.
fn like(y: Tensor, x: &Tensor) -> Result<Tensor> {
    if x.dtype() == DType::F16 {
        cast(&y, DType::F16)
    } else {
        Ok(y)
    }
}

/// Softmax over the last axis.
pub fn softmax_last(x: &Tensor) -> Result<Tensor> {
    let xc = dense(x)?;
    let (dev, st) = parts(&xc)?;
    let l = x.shape().last_dim();
    let rows = x.elem_count() / l.max(1);
    let out = GpuStorage::alloc(dev, DType::F32, x.elem_count())?;
    let p = [u32_of("softmax", rows)?, u32_of("softmax", l)?];
    dev.dispatch(
        Kernel::Softmax,
        &p,
        &[st.buffer(), out.buffer()],
        u32_of("softmax", rows)?,
    )?;
    like(wrap(dev, out, x.shape().clone()), x)
}

/// Normalises rows of length `l` (see `norm.wgsl` for how `groups`/`spatial` map channels).
#[allow(clippy::too_many_arguments)]
fn norm(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f32,
    rms: bool,
    l: usize,
    groups: usize,
    spatial: usize,
) -> Result<Tensor> {
    let xc = dense(x)?;
    let (dev, st) = parts(&xc)?;
    let rows = x.elem_count() / l.max(1);
    let w = weight.map(dense).transpose()?;
    let b = bias.map(dense).transpose()?;
    let out = GpuStorage::alloc(dev, DType::F32, x.elem_count())?;
    let p = [
        u32_of("norm", rows)?,
        u32_of("norm", l)?,
        eps.to_bits(),
        w.is_some() as u32,
        b.is_some() as u32,
        u32_of("norm", groups)?,
        u32_of("norm", spatial)?,
    ];
    let wb = match &w {
        Some(t) => parts(t)?.1.buffer(),
        None => st.buffer(),
    };
    let bb = match &b {
        Some(t) => parts(t)?.1.buffer(),
        None => st.buffer(),
    };
    dev.dispatch(
        Kernel::Norm { rms },
        &p,
        &[st.buffer(), wb, bb, out.buffer()],
        u32_of("norm", rows)?,
    )?;
    like(wrap(dev, out, x.shape().clone()), x)
}

/// Layer norm over the last axis.
pub fn layer_norm(
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f32,
) -> Result<Tensor> {
    norm(x, weight, bias, eps, false, x.shape().last_dim(), 1, 1)
}

/// RMS norm over the last axis.
pub fn rms_norm(x: &Tensor, weight: Option<&Tensor>, eps: f32) -> Result<Tensor> {
    norm(x, weight, None, eps, true, x.shape().last_dim(), 1, 1)
}

/// Group norm of `[N, C, ...]` with `groups` groups and per-channel weight/bias.
pub fn group_norm(
    x: &Tensor,
    groups: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f32,
) -> Result<Tensor> {
    if x.rank() < 2 || groups == 0 || !x.dims()[1].is_multiple_of(groups) {
        return Err(Error::invalid(
            "group_norm",
            format!("{groups} groups do not divide {:?}", x.dims()),
        ));
    }
    let c = x.dims()[1];
    let spatial: usize = x.dims()[2..].iter().product();
    norm(
        x,
        weight,
        bias,
        eps,
        false,
        c / groups * spatial,
        groups,
        spatial,
    )
}

/// A reduction over the last axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum = 0,
    Mean = 1,
    Max = 2,
    Min = 3,
    /// Index of the first maximum (u32).
    ArgMax = 4,
    /// Index of the first minimum (u32).
    ArgMin = 5,
}

/// Reduces `axis`; the output drops the axis unless `keepdim`.
pub fn reduce(x: &Tensor, op: Reduce, axis: usize, keepdim: bool) -> Result<Tensor> {
    if axis >= x.rank().max(1) {
        return Err(Error::invalid(
            "reduce",
            format!("axis {axis} out of range"),
        ));
    }
    // Move `axis` last, keeping the others in order, so the output is the rows in order.
    let moved = if x.rank() == 0 {
        x.clone()
    } else {
        let mut perm: Vec<usize> = (0..x.rank()).filter(|&i| i != axis).collect();
        perm.push(axis);
        x.permute(&perm)?
    };
    let xc = dense(&moved)?;
    let (dev, st) = parts(&xc)?;
    let l = moved.shape().last_dim();
    let rows = x.elem_count() / l.max(1);
    let index = matches!(op, Reduce::ArgMax | Reduce::ArgMin);
    let out = GpuStorage::alloc(dev, if index { DType::U32 } else { DType::F32 }, rows)?;
    let p = [u32_of("reduce", rows)?, u32_of("reduce", l)?];
    dev.dispatch(
        Kernel::Reduce(op as u32),
        &p,
        &[st.buffer(), out.buffer()],
        u32_of("reduce", rows)?,
    )?;
    let mut dims = x.dims().to_vec();
    if keepdim {
        dims[axis] = 1;
    } else if !dims.is_empty() {
        dims.remove(axis);
    }
    let y = wrap(dev, out, Shape::from(dims));
    if index {
        Ok(y)
    } else {
        like(y, x)
    }
}

/// Fused attention options.
#[derive(Clone, Copy, Debug)]
pub struct AttentionOpts {
    /// Multiplier of q·k (usually 1/√d).
    pub scale: f32,
    /// Mask keys after each query's position (the last query sees every key).
    pub causal: bool,
}

/// Queries from which attention takes the tiled kernel (`attention_tiled.wgsl`, head size up to 64). It reads
/// each tile of K and V once per 64 queries where the per-query kernel reads them once per query: Whisper
/// tiny's encoder (1,500 queries, 6 heads of 64) spent most of its GPU time in the per-query kernel.
const TILED_ATTENTION_FROM_QUERIES: usize = 16;

/// `softmax(q kᵀ · scale + mask) v` for q `[B, Hq, Lq, D]`, k/v `[B, Hkv, Lk, D]` (strided views allowed,
/// last axis contiguous), an optional additive mask broadcastable to `[B, Hq, Lq, Lk]`; D ≤ 256.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    opts: AttentionOpts,
) -> Result<Tensor> {
    if q.rank() != 4 || k.rank() != 4 || v.rank() != 4 {
        return Err(Error::invalid(
            "attention",
            "q, k and v must be [batch, heads, len, dim]",
        ));
    }
    let [b, hq, lq, d] = [q.dims()[0], q.dims()[1], q.dims()[2], q.dims()[3]];
    let [_, hkv, lk, _] = [k.dims()[0], k.dims()[1], k.dims()[2], k.dims()[3]];
    if d > 256
        || hkv == 0
        || !hq.is_multiple_of(hkv)
        || k.dims() != v.dims()
        || k.dims()[0] != b
        || k.dims()[3] != d
    {
        return Err(Error::invalid(
            "attention",
            format!(
                "unsupported shapes q {:?} k {:?} v {:?}",
                q.dims(),
                k.dims(),
                v.dims()
            ),
        ));
    }
    let row_dense = |t: &Tensor| -> Result<Tensor> {
        let t = as_f32(t)?;
        if t.layout().strides()[3] == 1 {
            Ok(t)
        } else {
            contiguous(&t)
        }
    };
    let (qf, kf, vf) = (row_dense(q)?, row_dense(k)?, row_dense(v)?);
    let (dev, qs) = parts(&qf)?;
    let (_, ks) = parts(&kf)?;
    let (_, vs) = parts(&vf)?;
    let mf = match mask {
        Some(m) => Some(as_f32(m)?.broadcast_as([b, hq, lq, lk])?),
        None => None,
    };
    let mut p = vec![
        b,
        hq,
        hkv,
        lq,
        lk,
        d,
        0,
        opts.causal as usize,
        mf.is_some() as usize,
    ];
    for t in [&qf, &kf, &vf] {
        let s = t.layout().strides();
        p.extend_from_slice(&[t.layout().offset(), s[0], s[1], s[2]]);
    }
    match &mf {
        Some(m) => {
            let s = m.layout().strides();
            p.extend_from_slice(&[m.layout().offset(), s[0], s[1], s[2], s[3]]);
        }
        None => p.extend_from_slice(&[0; 5]),
    }
    let mut words = p
        .iter()
        .map(|&v| u32_of("attention", v))
        .collect::<Result<Vec<u32>>>()?;
    words[6] = opts.scale.to_bits();
    let mbuf = match &mf {
        Some(m) => parts(m)?.1.buffer(),
        None => qs.buffer(),
    };
    let out = GpuStorage::alloc(dev, DType::F32, b * hq * lq * d)?;
    // Many queries share each tile of K and V in the tiled kernel; a few (decode) keep a workgroup each.
    let (kernel, groups) = if lq >= TILED_ATTENTION_FROM_QUERIES && d <= 64 {
        let d4 = u32_of("attention", d.div_ceil(4))?;
        (Kernel::AttentionTiled { d4 }, b * hq * lq.div_ceil(64))
    } else {
        (Kernel::Attention, b * hq * lq)
    };
    dev.dispatch(
        kernel,
        &words,
        &[qs.buffer(), ks.buffer(), vs.buffer(), mbuf, out.buffer()],
        u32_of("attention", groups)?,
    )?;
    like(wrap(dev, out, Shape::from(vec![b, hq, lq, d])), q)
}

/// RoPE on `x[..., L, D]` with `cos`/`sin` tables `[L, D/2]`; `interleaved` rotates pairs (2i, 2i+1).
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, interleaved: bool) -> Result<Tensor> {
    if x.rank() < 2 {
        return Err(Error::invalid("rope", "x needs [..., len, dim]"));
    }
    let (l, d) = (x.dims()[x.rank() - 2], x.dims()[x.rank() - 1]);
    if !d.is_multiple_of(2) || cos.dims() != [l, d / 2] || sin.dims() != [l, d / 2] {
        return Err(Error::invalid(
            "rope",
            format!("tables {:?} do not fit x {:?}", cos.dims(), x.dims()),
        ));
    }
    let (xc, cc, sc) = (dense(x)?, dense(cos)?, dense(sin)?);
    let (dev, xs) = parts(&xc)?;
    let rows = x.elem_count() / d;
    let out = GpuStorage::alloc(dev, DType::F32, x.elem_count())?;
    let p = [
        u32_of("rope", rows)?,
        u32_of("rope", l)?,
        u32_of("rope", d)?,
    ];
    dev.dispatch(
        Kernel::Rope { interleaved },
        &p,
        &[
            xs.buffer(),
            parts(&cc)?.1.buffer(),
            parts(&sc)?.1.buffer(),
            out.buffer(),
        ],
        u32_of("rope", (rows * d / 2).div_ceil(256))?,
    )?;
    like(wrap(dev, out, x.shape().clone()), x)
}

/// Rows `ids` of a `[V, D]` table of any weight type (quantized embeddings too), as f32 `[ids..., D]`.
pub fn index_select(table: &Tensor, ids: &Tensor) -> Result<Tensor> {
    if table.rank() != 2 || ids.dtype() != DType::U32 {
        return Err(Error::invalid(
            "index_select",
            "needs a [V, D] table and u32 ids",
        ));
    }
    let (v, d) = (table.dims()[0], table.dims()[1]);
    let table = if table.dtype().is_quantized() || table.layout().strides() == [d, 1] {
        table.clone()
    } else {
        contiguous(table)?
    };
    // Ids uploaded from the CPU are checked here; ids computed on the GPU (argmax) cannot be without a
    // readback, and out-of-range ones give zero rows.
    if let Some(host) = parts(ids)?.1.host_u32() {
        let mut picked = ids.layout().indices().filter_map(|i| host.get(i));
        if let Some(&bad) = picked.find(|&&i| i as usize >= v) {
            return Err(Error::invalid(
                "index_select",
                format!("index {bad} is out of range for {v} rows"),
            ));
        }
    }
    let idc = contiguous(ids)?;
    let (dev, ts) = parts(&table)?;
    let (_, is) = parts(&idc)?;
    let wk = Kind::of(table.dtype()).ok_or(Error::UnsupportedDType {
        op: "index_select",
        dtype: table.dtype(),
    })?;
    let n = ids.elem_count();
    let out = GpuStorage::alloc(dev, DType::F32, n * d)?;
    // (first row, rows, element offset inside the binding, binding) per dispatch.
    let runs = match row_chunks(dev, &table, ts.buffer().size())? {
        None => vec![(0, v, table.layout().offset(), Binding::whole(ts.buffer()))],
        Some(chunks) => chunks
            .iter()
            .map(|c| (c.first, c.rows, 0, c.binding(ts.buffer())))
            .collect(),
    };
    for (i, (first, rows, offset, binding)) in runs.into_iter().enumerate() {
        let p = [
            u32_of("index_select", n)?,
            u32_of("index_select", d)?,
            u32_of("index_select", rows)?,
            u32_of("index_select", offset)?,
            u32_of("index_select", first)?,
            u32::from(i == 0),
        ];
        dev.dispatch_bound(
            Kernel::IndexSelect(wk),
            &p,
            &[
                Binding::whole(is.buffer()),
                binding,
                Binding::whole(out.buffer()),
            ],
            u32_of("index_select", (n * d).div_ceil(256))?,
        )?;
    }
    let mut dims = ids.dims().to_vec();
    dims.push(d);
    Ok(wrap(dev, out, Shape::from(dims)))
}

impl From<crate::ops::reduce::ReduceOp> for Reduce {
    fn from(op: crate::ops::reduce::ReduceOp) -> Reduce {
        use crate::ops::reduce::ReduceOp as R;
        match op {
            R::Sum => Reduce::Sum,
            R::Mean => Reduce::Mean,
            R::Max => Reduce::Max,
            R::ArgMax => Reduce::ArgMax,
        }
    }
}

/// Softmax over any axis (moved last, then back).
pub fn softmax(x: &Tensor, axis: usize) -> Result<Tensor> {
    if axis + 1 >= x.rank() {
        return softmax_last(x);
    }
    let moved = x.transpose(axis as isize, -1)?;
    let y = softmax_last(&moved)?;
    contiguous(&y.transpose(axis as isize, -1)?)
}

/// `index_select` along any axis of a float tensor, or along rows of a quantized table.
pub fn index_select_axis(x: &Tensor, ids: &Tensor, axis: usize) -> Result<Tensor> {
    let rest: usize = x.dims()[axis + 1..].iter().product();
    if axis == 0 && (x.dtype().is_quantized() || x.is_contiguous()) {
        let flat = x.reshape([x.dims()[0], rest])?;
        let mut dims = x.dims().to_vec();
        dims[0] = ids.elem_count();
        let y = index_select(&flat, ids)?.reshape(dims)?;
        return like(y, x);
    }
    // Other axes: move the axis first, gather rows, move it back.
    let mut perm: Vec<usize> = vec![axis];
    perm.extend((0..x.rank()).filter(|&i| i != axis));
    let front = contiguous(&x.permute(&perm)?)?;
    let y = index_select_axis(&front, ids, 0)?;
    let mut inverse = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    contiguous(&y.permute(&inverse)?)
}
