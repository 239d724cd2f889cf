//! The op API: methods on [`crate::Tensor`], one file per op family. Each validates its arguments and dispatches
//! on the tensor's device (the CPU kernels live in `cpu/`, the GPU ones in `gpu/`). Outputs are new contiguous
//! tensors; inputs may be strided views.

pub mod attention;
pub mod binary;
pub mod conv;
pub mod index;
pub mod kv_cache;
pub mod lstm;
pub mod matmul;
pub mod norm;
pub mod pool;
pub mod reduce;
pub mod rope;
pub mod unary;

pub use binary::BinaryOp;
pub use conv::Conv2dParams;
pub use kv_cache::KvCache;
pub use lstm::lstm_cell;
pub use norm::fold_batch_norm;
pub use unary::UnaryOp;

use crate::{DType, Error, Result, Tensor};

/// Checks that every tensor is on the device of the first.
pub(crate) fn same_device(op: &'static str, tensors: &[&Tensor]) -> Result<()> {
    if let Some(first) = tensors.first() {
        if tensors.iter().any(|t| !t.device().same(first.device())) {
            return Err(Error::DeviceMismatch { op });
        }
    }
    Ok(())
}

/// Checks that a tensor holds floats (F32 or F16) rather than indices or quantized blocks.
pub(crate) fn float_input(op: &'static str, t: &Tensor) -> Result<()> {
    match t.dtype() {
        DType::F32 | DType::F16 => Ok(()),
        dtype => Err(Error::UnsupportedDType { op, dtype }),
    }
}

/// Checks the rank of a tensor.
pub(crate) fn rank_is(op: &'static str, t: &Tensor, rank: usize) -> Result<()> {
    if t.rank() != rank {
        return Err(Error::invalid(
            op,
            format!("expected a rank-{rank} tensor, got shape {:?}", t.dims()),
        ));
    }
    Ok(())
}
