//! Reductions and scans along one axis: sum, mean, max, argmax, top-k, cumsum, softmax.

use crate::{DType, Device, Error, Result, Tensor};

/// A reduction of one axis to one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Mean,
    Max,
    /// Index of the first maximum (U32 output).
    ArgMax,
}

impl ReduceOp {
    fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Mean => "mean",
            ReduceOp::Max => "max",
            ReduceOp::ArgMax => "argmax",
        }
    }
}

impl Tensor {
    /// Reduces `axis` (negative counts from the end); `keepdim` keeps it with length 1.
    pub fn reduce(&self, op: ReduceOp, axis: isize, keepdim: bool) -> Result<Tensor> {
        crate::ops::float_input(op.name(), self)?;
        let axis = self.shape().axis(axis)?;
        if self.dims()[axis] == 0 && matches!(op, ReduceOp::Max | ReduceOp::ArgMax) {
            return Err(Error::invalid(op.name(), "cannot reduce an empty axis"));
        }
        match self.device() {
            Device::Cpu => crate::cpu::reduce::reduce(self, op, axis, keepdim),
            Device::Gpu(_) => crate::gpu::nn::reduce(self, op.into(), axis, keepdim),
        }
    }
    /// Sum along `axis`.
    pub fn sum(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Sum, axis, keepdim)
    }
    /// Mean along `axis`.
    pub fn mean(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Mean, axis, keepdim)
    }
    /// Maximum along `axis`.
    pub fn max(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Max, axis, keepdim)
    }
    /// Index of the maximum along `axis` (U32; the first one on ties).
    pub fn argmax(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::ArgMax, axis, keepdim)
    }

    /// The `k` largest values of the last axis, sorted descending, and their indices (U32).
    pub fn top_k(&self, k: usize) -> Result<(Tensor, Tensor)> {
        crate::ops::float_input("top_k", self)?;
        if k > self.shape().last_dim() || self.rank() == 0 {
            return Err(Error::invalid(
                "top_k",
                format!("k = {k} exceeds the last axis of {:?}", self.dims()),
            ));
        }
        match self.device() {
            Device::Cpu => crate::cpu::reduce::top_k(self, k),
            Device::Gpu(_) => crate::gpu::spatial::top_k(self, k),
        }
    }

    /// Running sum along `axis`.
    pub fn cumsum(&self, axis: isize) -> Result<Tensor> {
        crate::ops::float_input("cumsum", self)?;
        let axis = self.shape().axis(axis)?;
        match self.device() {
            Device::Cpu => crate::cpu::reduce::cumsum(self, axis),
            Device::Gpu(_) => crate::gpu::spatial::cumsum(self, axis),
        }
    }

    /// Softmax along `axis` (computed stably; a row of all `-inf` gives zeros).
    pub fn softmax(&self, axis: isize) -> Result<Tensor> {
        crate::ops::float_input("softmax", self)?;
        let axis = self.shape().axis(axis)?;
        match self.device() {
            Device::Cpu => crate::cpu::reduce::softmax(self, axis),
            Device::Gpu(_) => crate::gpu::nn::softmax(self, axis),
        }
    }
}

/// Checks that an index tensor holds U32.
pub(crate) fn u32_input(op: &'static str, t: &Tensor) -> Result<()> {
    if t.dtype() != DType::U32 {
        return Err(Error::UnsupportedDType {
            op,
            dtype: t.dtype(),
        });
    }
    Ok(())
}
