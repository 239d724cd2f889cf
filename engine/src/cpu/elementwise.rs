//! Elementwise kernels.

use crate::cpu::fastmath::{map, map2};
use crate::cpu::recycle::overwritable;
use crate::cpu::{float_out, for_chunks, output, values};
use crate::ops::{BinaryOp, UnaryOp};
use crate::{DType, Result, Shape, Tensor};

/// Applies `op` to every element.
pub fn unary(x: &Tensor, op: UnaryOp) -> Result<Tensor> {
    let v = values(x)?;
    let mut out = overwritable(v.len()); // every value is mapped below
    for_chunks(&mut out, 4096, |i, chunk| {
        let src = &v[i * 4096..i * 4096 + chunk.len()];
        // One loop per function, so that each one vectorises (a `match` inside the loop would not).
        match op {
            UnaryOp::Gelu => map(chunk, src, |x| UnaryOp::Gelu.apply(x)),
            UnaryOp::GeluTanh => map(chunk, src, |x| UnaryOp::GeluTanh.apply(x)),
            UnaryOp::Silu => map(chunk, src, |x| UnaryOp::Silu.apply(x)),
            UnaryOp::Sigmoid => map(chunk, src, |x| UnaryOp::Sigmoid.apply(x)),
            UnaryOp::Exp => map(chunk, src, |x| UnaryOp::Exp.apply(x)),
            UnaryOp::Relu => map(chunk, src, |x| UnaryOp::Relu.apply(x)),
            UnaryOp::Affine { mul, add } => map(chunk, src, |x| x * mul + add),
            other => map(chunk, src, |x| other.apply(x)),
        }
    });
    output(out, x.shape().clone(), float_out(x.dtype()))
}

/// Applies `op` to pairs of `a` and `b` broadcast to `shape`.
pub fn binary(a: &Tensor, b: &Tensor, shape: &Shape, op: BinaryOp) -> Result<Tensor> {
    let a = a.broadcast_as(shape.clone())?;
    let b = b.broadcast_as(shape.clone())?;
    let dtype = if a.dtype() == DType::F16 && b.dtype() == DType::F16 {
        DType::F16
    } else {
        DType::F32
    };
    let (av, bv) = (values(&a)?, values(&b)?);
    let mut out = overwritable(av.len()); // every value is mapped below
    for_chunks(&mut out, 4096, |i, chunk| {
        let s = i * 4096;
        let (x, y) = (&av[s..s + chunk.len()], &bv[s..s + chunk.len()]);
        // One loop per function, so that each one vectorises.
        match op {
            BinaryOp::Add => map2(chunk, x, y, |a, b| a + b),
            BinaryOp::Sub => map2(chunk, x, y, |a, b| a - b),
            BinaryOp::Mul => map2(chunk, x, y, |a, b| a * b),
            other => map2(chunk, x, y, |a, b| other.apply(a, b)),
        }
    });
    output(out, shape.clone(), dtype)
}
