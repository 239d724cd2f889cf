//! Elementwise kernels: strided unary and binary ops with broadcasting, casts, contiguous copies and copies
//! into views (KV-cache appends, concat).

use super::kernels::{Kernel, Storage as Kind};
use super::{GpuDevice, GpuStorage};
use crate::storage::Storage;
use crate::{DType, Device, Error, Layout, Result, Shape, Tensor};

/// Most axes a strided kernel walks (after merging axes that are contiguous in every operand).
const MAX_RANK: usize = 6;

/// A unary function, as the GPU kernels number them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary {
    Copy,
    Neg,
    Exp,
    Log,
    Sqrt,
    Rsqrt,
    Abs,
    Tanh,
    Sigmoid,
    Relu,
    LeakyRelu(f32),
    GeluErf,
    GeluTanh,
    Silu,
    Sin,
    Cos,
    Recip,
    Sqr,
    /// `x * mul + add`.
    Affine {
        mul: f32,
        add: f32,
    },
    Clamp {
        min: f32,
        max: f32,
    },
    Powf(f32),
}

impl Unary {
    fn code(self) -> (u32, f32, f32) {
        match self {
            Unary::Copy => (0, 0.0, 0.0),
            Unary::Neg => (1, 0.0, 0.0),
            Unary::Exp => (2, 0.0, 0.0),
            Unary::Log => (3, 0.0, 0.0),
            Unary::Sqrt => (4, 0.0, 0.0),
            Unary::Rsqrt => (5, 0.0, 0.0),
            Unary::Abs => (6, 0.0, 0.0),
            Unary::Tanh => (7, 0.0, 0.0),
            Unary::Sigmoid => (8, 0.0, 0.0),
            Unary::Relu => (9, 0.0, 0.0),
            Unary::LeakyRelu(s) => (10, s, 0.0),
            Unary::GeluErf => (11, 0.0, 0.0),
            Unary::GeluTanh => (12, 0.0, 0.0),
            Unary::Silu => (13, 0.0, 0.0),
            Unary::Sin => (14, 0.0, 0.0),
            Unary::Cos => (15, 0.0, 0.0),
            Unary::Recip => (16, 0.0, 0.0),
            Unary::Sqr => (17, 0.0, 0.0),
            Unary::Affine { mul, add } => (18, mul, add),
            Unary::Clamp { min, max } => (19, min, max),
            Unary::Powf(e) => (20, e, 0.0),
        }
    }
}

/// A binary function, as the GPU kernels number them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
    Maximum = 4,
    Minimum = 5,
    Pow = 6,
    Eq = 7,
    Lt = 8,
    Gt = 9,
}

/// The GPU device and storage of a GPU tensor.
pub(crate) fn parts(t: &Tensor) -> Result<(&GpuDevice, &GpuStorage)> {
    match (t.device(), t.storage()) {
        (Device::Gpu(d), Storage::Gpu(s)) => Ok((d, s)),
        _ => Err(Error::DeviceMismatch { op: "gpu" }),
    }
}

/// Wraps a contiguous GPU output.
pub(crate) fn wrap(dev: &GpuDevice, storage: GpuStorage, shape: Shape) -> Tensor {
    let dtype = storage.dtype();
    Tensor::from_parts(
        Storage::Gpu(storage),
        Layout::contiguous(shape),
        dtype,
        Device::Gpu(dev.clone()),
    )
}

pub(crate) fn u32_of(op: &'static str, v: usize) -> Result<u32> {
    u32::try_from(v)
        .map_err(|_| Error::invalid(op, format!("{v} exceeds the GPU's 32-bit indexing")))
}

/// Elementwise params: n, rank, alpha, beta, offsets, then dims and up to three stride sets, with axes that
/// are contiguous in every operand merged.
pub(crate) fn strided_params(
    op: &'static str,
    dims: &[usize],
    strides: &[&[usize]],
    offsets: [usize; 3],
    alpha: f32,
    beta: f32,
) -> Result<Vec<u32>> {
    // Merge axis i into i+1 when, for every operand, stride[i] == stride[i+1] * dim[i+1].
    let mut mdims: Vec<usize> = Vec::new();
    let mut mstrides: Vec<Vec<usize>> = vec![Vec::new(); strides.len()];
    for (axis, &d) in dims.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let mergeable = !mdims.is_empty()
            && strides.iter().enumerate().all(|(o, s)| {
                let last = mstrides[o].len() - 1;
                mstrides[o][last] == s[axis] * d
            });
        if mergeable {
            let last = mdims.len() - 1;
            mdims[last] *= d;
            for (o, s) in strides.iter().enumerate() {
                let l = mstrides[o].len() - 1;
                mstrides[o][l] = s[axis];
            }
        } else {
            mdims.push(d);
            for (o, s) in strides.iter().enumerate() {
                mstrides[o].push(s[axis]);
            }
        }
    }
    if mdims.len() > MAX_RANK {
        return Err(Error::invalid(
            op,
            format!("the GPU walks at most {MAX_RANK} non-mergeable axes, got {dims:?}"),
        ));
    }
    let n: usize = dims.iter().product();
    let mut p = vec![0u32; 8 + 4 * MAX_RANK];
    p[0] = u32_of(op, n)?;
    p[1] = mdims.len() as u32;
    p[2] = alpha.to_bits();
    p[3] = beta.to_bits();
    for (i, o) in offsets.iter().enumerate() {
        p[4 + i] = u32_of(op, *o)?;
    }
    for (i, d) in mdims.iter().enumerate() {
        p[8 + i] = u32_of(op, *d)?;
    }
    for (o, s) in mstrides.iter().enumerate() {
        for (i, v) in s.iter().enumerate() {
            p[8 + (o + 1) * MAX_RANK + i] = u32_of(op, *v)?;
        }
    }
    Ok(p)
}

pub(crate) fn groups(n: usize, per: usize) -> Result<u32> {
    u32_of("gpu dispatch", n.div_ceil(per))
}

/// Converts (or copies) a tensor of any float/u32 dtype into a new contiguous tensor of `dtype`.
pub fn cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    let (dev, src) = parts(x)?;
    let (Some(sk), Some(dk)) = (Kind::of(x.dtype()), Kind::of(dtype)) else {
        return Err(Error::UnsupportedDType {
            op: "cast",
            dtype: x.dtype(),
        });
    };
    if !matches!(sk, Kind::F32 | Kind::F16 | Kind::U32)
        || !matches!(dk, Kind::F32 | Kind::F16 | Kind::U32)
    {
        return Err(Error::UnsupportedDType {
            op: "cast",
            dtype: x.dtype(),
        });
    }
    let n = x.elem_count();
    let out = GpuStorage::alloc(dev, dtype, n)?;
    let l = x.layout();
    let contiguous = l.shape().contiguous_strides();
    let p = strided_params(
        "cast",
        l.dims(),
        &[&contiguous, l.strides()],
        [0, l.offset(), 0],
        0.0,
        0.0,
    )?;
    let per = if dk == Kind::F16 { 512 } else { 256 };
    dev.dispatch(
        Kernel::Cast { src: sk, dst: dk },
        &p,
        &[src.buffer(), out.buffer()],
        groups(n, per)?,
    )?;
    Ok(wrap(dev, out, x.shape().clone()))
}

/// A contiguous copy of a (possibly strided) tensor; returns the tensor itself when already contiguous.
pub fn contiguous(x: &Tensor) -> Result<Tensor> {
    if x.is_contiguous() && x.layout().offset() == 0 {
        return Ok(x.clone());
    }
    cast(x, x.dtype())
}

/// f32 view of a float tensor (a cast for f16).
pub(crate) fn as_f32(x: &Tensor) -> Result<Tensor> {
    match x.dtype() {
        DType::F32 => Ok(x.clone()),
        DType::F16 => cast(x, DType::F32),
        dtype => Err(Error::UnsupportedDType { op: "gpu", dtype }),
    }
}

/// Applies a unary function; f16 inputs are computed in f32 and give f16.
pub fn unary(x: &Tensor, op: Unary) -> Result<Tensor> {
    let xf = as_f32(x)?;
    let (dev, src) = parts(&xf)?;
    let n = xf.elem_count();
    let out = GpuStorage::alloc(dev, DType::F32, n)?;
    let l = xf.layout();
    let contiguous = l.shape().contiguous_strides();
    let (code, alpha, beta) = op.code();
    let p = strided_params(
        "unary",
        l.dims(),
        &[&contiguous, l.strides()],
        [0, l.offset(), 0],
        alpha,
        beta,
    )?;
    dev.dispatch(
        Kernel::Unary(code),
        &p,
        &[src.buffer(), out.buffer()],
        groups(n, 256)?,
    )?;
    let y = wrap(dev, out, xf.shape().clone());
    if x.dtype() == DType::F16 {
        cast(&y, DType::F16)
    } else {
        Ok(y)
    }
}

/// Applies a binary function with NumPy broadcasting; the result is f16 only when both inputs are.
pub fn binary(a: &Tensor, b: &Tensor, op: Binary) -> Result<Tensor> {
    let shape = a.shape().broadcast(b.shape(), "binary")?;
    let (af, bf) = (as_f32(a)?, as_f32(b)?);
    let (ab, bb) = (
        af.broadcast_as(shape.clone())?,
        bf.broadcast_as(shape.clone())?,
    );
    let (dev, sa) = parts(&ab)?;
    let (_, sb) = parts(&bb)?;
    let n = shape.elem_count();
    let out = GpuStorage::alloc(dev, DType::F32, n)?;
    let contiguous = shape.contiguous_strides();
    let p = strided_params(
        "binary",
        shape.dims(),
        &[&contiguous, ab.layout().strides(), bb.layout().strides()],
        [0, ab.layout().offset(), bb.layout().offset()],
        0.0,
        0.0,
    )?;
    dev.dispatch(
        Kernel::Binary(op as u32),
        &p,
        &[sa.buffer(), sb.buffer(), out.buffer()],
        groups(n, 256)?,
    )?;
    let y = wrap(dev, out, shape);
    if a.dtype() == DType::F16 && b.dtype() == DType::F16 {
        cast(&y, DType::F16)
    } else {
        Ok(y)
    }
}

/// Writes `src` into the elements of `dst`'s view (same shape), in place: KV-cache appends and concat.
/// `dst` must be f32; the storage behind it changes for every tensor sharing it.
pub fn copy_into(dst: &Tensor, src: &Tensor) -> Result<()> {
    if dst.dims() != src.dims() {
        return Err(Error::ShapeMismatch {
            op: "copy_into",
            lhs: dst.shape().clone(),
            rhs: src.shape().clone(),
        });
    }
    if dst.dtype() != DType::F32 {
        return Err(Error::UnsupportedDType {
            op: "copy_into",
            dtype: dst.dtype(),
        });
    }
    let srcf = as_f32(src)?;
    let (dev, so) = parts(dst)?;
    let (_, si) = parts(&srcf)?;
    let (dl, sl) = (dst.layout(), srcf.layout());
    let p = strided_params(
        "copy_into",
        dl.dims(),
        &[dl.strides(), sl.strides()],
        [dl.offset(), sl.offset(), 0],
        0.0,
        0.0,
    )?;
    dev.dispatch(
        Kernel::Unary(0),
        &p,
        &[si.buffer(), so.buffer()],
        groups(dst.elem_count(), 256)?,
    )
}

/// Concatenates tensors along `axis` (all f32 or converted to f32).
pub fn concat(tensors: &[&Tensor], axis: usize) -> Result<Tensor> {
    let first = tensors
        .first()
        .ok_or_else(|| Error::invalid("concat", "no tensors"))?;
    let (dev, _) = parts(first)?;
    let mut dims = first.dims().to_vec();
    if axis >= dims.len() {
        return Err(Error::invalid(
            "concat",
            format!("axis {axis} out of range"),
        ));
    }
    dims[axis] = tensors
        .iter()
        .map(|t| t.dims().get(axis).copied().unwrap_or(0))
        .sum();
    let out = wrap(
        dev,
        GpuStorage::alloc(dev, DType::F32, dims.iter().product())?,
        dims.into(),
    );
    let mut start = 0;
    for t in tensors {
        let len = t.dims()[axis];
        copy_into(&out.narrow(axis as isize, start, len)?, t)?;
        start += len;
    }
    Ok(out)
}

impl From<crate::ops::UnaryOp> for Unary {
    fn from(op: crate::ops::UnaryOp) -> Unary {
        use crate::ops::UnaryOp as U;
        match op {
            U::Gelu => Unary::GeluErf,
            U::GeluTanh => Unary::GeluTanh,
            U::Silu => Unary::Silu,
            U::Relu => Unary::Relu,
            U::LeakyRelu(s) => Unary::LeakyRelu(s),
            U::Tanh => Unary::Tanh,
            U::Sigmoid => Unary::Sigmoid,
            U::Exp => Unary::Exp,
            U::Log => Unary::Log,
            U::Sqrt => Unary::Sqrt,
            U::Neg => Unary::Neg,
            U::Abs => Unary::Abs,
            U::Affine { mul, add } => Unary::Affine { mul, add },
        }
    }
}

impl From<crate::ops::BinaryOp> for Binary {
    fn from(op: crate::ops::BinaryOp) -> Binary {
        use crate::ops::BinaryOp as B;
        match op {
            B::Add => Binary::Add,
            B::Sub => Binary::Sub,
            B::Mul => Binary::Mul,
            B::Div => Binary::Div,
            B::Maximum => Binary::Maximum,
            B::Minimum => Binary::Minimum,
        }
    }
}

/// Converts to f32/f16 from any dtype, dequantizing quantized tensors (as rows of a table).
pub fn cast_any(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if !x.dtype().is_quantized() {
        return cast(x, dtype);
    }
    let k = x.shape().last_dim();
    let rows = x.elem_count() / k.max(1);
    let (dev, _) = parts(x)?;
    let ids = Tensor::from_u32((0..rows as u32).collect(), rows, &Device::Gpu(dev.clone()))?;
    let table =
        super::nn::index_select(&x.reshape([rows, k])?, &ids)?.reshape(x.shape().clone())?;
    if dtype == DType::F16 {
        cast(&table, DType::F16)
    } else {
        Ok(table)
    }
}
