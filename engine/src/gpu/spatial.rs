//! Spatial kernels on NCHW tensors: convolutions (1-D, 2-D, transposed 1-D), pooling, bilinear resize, plus
//! the remaining row ops (cumsum, top-k), `where` and `pad`.

use super::elementwise::{
    as_f32, cast, contiguous, copy_into, groups, parts, strided_params, u32_of, wrap,
};
use super::kernels::Kernel;
use super::GpuStorage;
use crate::ops::Conv2dParams;
use crate::{DType, Device, Error, Result, Shape, Tensor};

fn dense(x: &Tensor) -> Result<Tensor> {
    contiguous(&as_f32(x)?)
}

fn like(y: Tensor, x: &Tensor) -> Result<Tensor> {
    if x.dtype() == DType::F16 {
        cast(&y, DType::F16)
    } else {
        Ok(y)
    }
}

fn words(op: &'static str, v: &[usize]) -> Result<Vec<u32>> {
    v.iter().map(|&x| u32_of(op, x)).collect()
}

/// 2-D convolution of `x [N, C, H, W]` with `w [C_out, C/groups, KH, KW]` to `[N, C_out, oh, ow]`.
pub fn conv2d(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    p: Conv2dParams,
    (oh, ow): (usize, usize),
) -> Result<Tensor> {
    let (xc, wc) = (dense(x)?, dense(w)?);
    let bc = b.map(dense).transpose()?;
    let (dev, xs) = parts(&xc)?;
    let [n, c, h, wd] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let [co, cg, kh, kw] = [w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]];
    // Image-sized convolutions run as matrix products (the tiled GEMM reuses each loaded value across a
    // tile; the direct kernel below reads every input value once per output channel and tap).
    if p.groups == 1 && co >= 8 && cg * kh * kw >= 16 && oh * ow >= 256 {
        return like(conv2d_as_gemm(&xc, &wc, bc.as_ref(), p, (oh, ow))?, x);
    }
    let params = words(
        "conv2d",
        &[
            n,
            c,
            h,
            wd,
            co,
            cg,
            kh,
            kw,
            oh,
            ow,
            p.stride.0,
            p.stride.1,
            p.padding.0,
            p.padding.1,
            p.dilation.0,
            p.dilation.1,
            bc.is_some() as usize,
        ],
    )?;
    let total = n * co * oh * ow;
    let out = GpuStorage::alloc(dev, DType::F32, total)?;
    let bb = match &bc {
        Some(t) => parts(t)?.1.buffer(),
        None => xs.buffer(),
    };
    dev.dispatch(
        Kernel::Conv2d,
        &params,
        &[xs.buffer(), parts(&wc)?.1.buffer(), bb, out.buffer()],
        groups(total, 256)?,
    )?;
    like(wrap(dev, out, Shape::from(vec![n, co, oh, ow])), x)
}

/// Bytes of one block of im2col rows: small enough to bind anywhere (WebGPU's default binding limit is
/// 128 MiB) and to keep the extra memory of a 512² map modest.
const IM2COL_BLOCK_BYTES: usize = 32 << 20;

/// Convolution (one group) as im2col + GEMM, a block of output positions at a time: the block's receptive
/// fields `[len, C·KH·KW]` times the weight `[C_out, C·KH·KW]`ᵀ gives `[len, C_out]`, written transposed
/// into the output's `[C_out, positions]` plane.
fn conv2d_as_gemm(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    p: Conv2dParams,
    (oh, ow): (usize, usize),
) -> Result<Tensor> {
    let (dev, xs) = parts(x)?;
    let [n, c, h, wd] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let [co, _, kh, kw] = [w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]];
    let k = c * kh * kw;
    let positions = oh * ow;
    let weight = w.reshape([co, k])?;
    let out = wrap(
        dev,
        GpuStorage::alloc(dev, DType::F32, n * co * positions)?,
        Shape::from(vec![n, co, positions]),
    );
    let block = (IM2COL_BLOCK_BYTES / (4 * k)).clamp(1, positions);
    for ni in 0..n {
        let plane = out.narrow(0, ni, 1)?.squeeze(0)?;
        let mut start = 0;
        while start < positions {
            let len = block.min(positions - start);
            let cols = GpuStorage::alloc(dev, DType::F32, len * k)?;
            let params = words(
                "conv2d",
                &[
                    c,
                    h,
                    wd,
                    kh,
                    kw,
                    ow,
                    p.stride.0,
                    p.stride.1,
                    p.padding.0,
                    p.padding.1,
                    p.dilation.0,
                    p.dilation.1,
                    start,
                    len,
                    ni * c * h * wd,
                ],
            )?;
            dev.dispatch(
                Kernel::Im2col,
                &params,
                &[xs.buffer(), cols.buffer()],
                groups(len * k, 256)?,
            )?;
            let cols = wrap(dev, cols, Shape::from(vec![len, k]));
            let y = super::matmul::linear(&cols, &weight, b)?;
            copy_into(&plane.narrow(1, start, len)?.t()?, &y)?;
            start += len;
        }
    }
    out.reshape([n, co, oh, ow])
}

/// Transposed 1-D convolution of `x [N, C, L]` with `w [C, C_out/groups, K]` to `[N, C_out, out_len]`.
pub fn conv_transpose1d(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    (stride, padding, dilation, groups_n): (usize, usize, usize, usize),
    out_len: usize,
) -> Result<Tensor> {
    let (xc, wc) = (dense(x)?, dense(w)?);
    let bc = b.map(dense).transpose()?;
    let (dev, xs) = parts(&xc)?;
    let [n, c, l] = [x.dims()[0], x.dims()[1], x.dims()[2]];
    let [og, k] = [w.dims()[1], w.dims()[2]];
    let co = og * groups_n;
    let params = words(
        "conv_transpose1d",
        &[
            n,
            c,
            l,
            co,
            og,
            k,
            out_len,
            stride,
            padding,
            dilation,
            bc.is_some() as usize,
        ],
    )?;
    let total = n * co * out_len;
    let out = GpuStorage::alloc(dev, DType::F32, total)?;
    let bb = match &bc {
        Some(t) => parts(t)?.1.buffer(),
        None => xs.buffer(),
    };
    dev.dispatch(
        Kernel::ConvTranspose1d,
        &params,
        &[xs.buffer(), parts(&wc)?.1.buffer(), bb, out.buffer()],
        groups(total, 256)?,
    )?;
    like(wrap(dev, out, Shape::from(vec![n, co, out_len])), x)
}

/// Max (`avg == None`) or average (`Some(count_include_pad)`) pooling with the window the op layer computed.
pub fn pool2d(x: &Tensor, win: crate::ops::pool::Window, avg: Option<bool>) -> Result<Tensor> {
    let xc = dense(x)?;
    let (dev, xs) = parts(&xc)?;
    let [n, c, h, w] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let (oh, ow) = win.out;
    let params = words(
        "pool2d",
        &[
            n * c,
            h,
            w,
            oh,
            ow,
            win.kernel.0,
            win.kernel.1,
            win.stride.0,
            win.stride.1,
            win.padding.0,
            win.padding.1,
            avg.unwrap_or(false) as usize,
        ],
    )?;
    let total = n * c * oh * ow;
    let out = GpuStorage::alloc(dev, DType::F32, total)?;
    dev.dispatch(
        Kernel::Pool2d { avg: avg.is_some() },
        &params,
        &[xs.buffer(), out.buffer()],
        groups(total, 256)?,
    )?;
    like(wrap(dev, out, Shape::from(vec![n, c, oh, ow])), x)
}

/// Bilinear resize of `[N, C, H, W]` to `[N, C, oh, ow]`.
pub fn resize_bilinear(x: &Tensor, oh: usize, ow: usize, align_corners: bool) -> Result<Tensor> {
    let xc = dense(x)?;
    let (dev, xs) = parts(&xc)?;
    let [n, c, h, w] = [x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]];
    let params = words("resize", &[n * c, h, w, oh, ow, align_corners as usize])?;
    let total = n * c * oh * ow;
    let out = GpuStorage::alloc(dev, DType::F32, total)?;
    dev.dispatch(
        Kernel::Resize,
        &params,
        &[xs.buffer(), out.buffer()],
        groups(total, 256)?,
    )?;
    like(wrap(dev, out, Shape::from(vec![n, c, oh, ow])), x)
}

/// Moves `axis` last (contiguous), returning the permutation that undoes it.
fn axis_last(x: &Tensor, axis: usize) -> Result<(Tensor, Vec<usize>)> {
    let mut perm: Vec<usize> = (0..x.rank()).filter(|&i| i != axis).collect();
    perm.push(axis);
    let mut inverse = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    Ok((dense(&x.permute(&perm)?)?, inverse))
}

/// Running sum along `axis`.
pub fn cumsum(x: &Tensor, axis: usize) -> Result<Tensor> {
    let (moved, inverse) = axis_last(x, axis)?;
    let (dev, xs) = parts(&moved)?;
    let l = moved.shape().last_dim();
    let rows = moved.elem_count() / l.max(1);
    let out = GpuStorage::alloc(dev, DType::F32, moved.elem_count())?;
    // The index binding is unused by cumsum but must be a distinct writable buffer.
    let spare = GpuStorage::alloc(dev, DType::U32, 1)?;
    let params = words("cumsum", &[rows, l, 0])?;
    dev.dispatch(
        Kernel::Scan { top_k: false },
        &params,
        &[xs.buffer(), out.buffer(), spare.buffer()],
        groups(rows, 256)?,
    )?;
    let y = wrap(dev, out, moved.shape().clone());
    like(contiguous(&y.permute(&inverse)?)?, x)
}

/// The `k` largest values of the last axis (descending, ties by lower index) and their u32 indices.
pub fn top_k(x: &Tensor, k: usize) -> Result<(Tensor, Tensor)> {
    let xc = dense(x)?;
    let (dev, xs) = parts(&xc)?;
    let l = x.shape().last_dim();
    if k > l {
        return Err(Error::invalid(
            "top_k",
            format!("k = {k} exceeds the axis length {l}"),
        ));
    }
    let rows = x.elem_count() / l.max(1);
    let vals = GpuStorage::alloc(dev, DType::F32, rows * k)?;
    let idx = GpuStorage::alloc(dev, DType::U32, rows * k)?;
    let params = words("top_k", &[rows, l, k])?;
    dev.dispatch(
        Kernel::Scan { top_k: true },
        &params,
        &[xs.buffer(), vals.buffer(), idx.buffer()],
        u32_of("top_k", rows)?,
    )?;
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = k;
    }
    Ok((
        like(wrap(dev, vals, Shape::from(dims.clone())), x)?,
        wrap(dev, idx, Shape::from(dims)),
    ))
}

/// `on_true` where `mask` is non-zero, else `on_false`, broadcast to `shape`.
pub fn where_cond(
    mask: &Tensor,
    on_true: &Tensor,
    on_false: &Tensor,
    shape: &Shape,
) -> Result<Tensor> {
    let m = as_f32(&if mask.dtype() == DType::U32 {
        cast(mask, DType::F32)?
    } else {
        mask.clone()
    })?;
    let (m, a, b) = (
        m.broadcast_as(shape.clone())?,
        as_f32(on_true)?.broadcast_as(shape.clone())?,
        as_f32(on_false)?.broadcast_as(shape.clone())?,
    );
    let (dev, ms) = parts(&m)?;
    let n = shape.elem_count();
    let params = strided_params(
        "where_cond",
        shape.dims(),
        &[
            m.layout().strides(),
            a.layout().strides(),
            b.layout().strides(),
        ],
        [
            m.layout().offset(),
            a.layout().offset(),
            b.layout().offset(),
        ],
        0.0,
        0.0,
    )?;
    // `strided_params` puts the first stride set where `where.wgsl` reads the mask's.
    let out = GpuStorage::alloc(dev, DType::F32, n)?;
    dev.dispatch(
        Kernel::Where,
        &params,
        &[
            ms.buffer(),
            parts(&a)?.1.buffer(),
            parts(&b)?.1.buffer(),
            out.buffer(),
        ],
        groups(n, 256)?,
    )?;
    let y = wrap(dev, out, shape.clone());
    if on_true.dtype() == DType::F16 && on_false.dtype() == DType::F16 {
        cast(&y, DType::F16)
    } else {
        Ok(y)
    }
}

/// Pads `axis` with `before`/`after` entries of `value`.
pub fn pad(x: &Tensor, axis: usize, before: usize, after: usize, value: f32) -> Result<Tensor> {
    let (dev, _) = parts(x)?;
    let mut dims = x.dims().to_vec();
    let len = dims[axis];
    dims[axis] = len + before + after;
    let scalar = Tensor::from_f32(vec![value], [1], &Device::Gpu(dev.clone()))?;
    let filled = cast(&scalar.broadcast_as(dims.clone())?, DType::F32)?;
    copy_into(&filled.narrow(axis as isize, before, len)?, x)?;
    like(filled, x)
}
