//! Matrix products: batched `matmul` with broadcast batch dimensions, and `linear` (x · Wᵀ + b) with F32, F16 or
//! quantized weights.

use crate::{DType, Device, Error, Result, Shape, Tensor};

impl Tensor {
    /// `self[..., m, k] @ rhs[..., k, n]`, batch dimensions broadcast; either operand may be a transposed view.
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        crate::ops::same_device("matmul", &[self, rhs])?;
        crate::ops::float_input("matmul", self)?;
        crate::ops::float_input("matmul", rhs)?;
        if self.rank() < 2 || rhs.rank() < 2 {
            return Err(Error::invalid(
                "matmul",
                format!(
                    "operands need rank >= 2, got {:?} and {:?}",
                    self.dims(),
                    rhs.dims()
                ),
            ));
        }
        let (m, k) = (self.dims()[self.rank() - 2], self.dims()[self.rank() - 1]);
        let (k2, n) = (rhs.dims()[rhs.rank() - 2], rhs.dims()[rhs.rank() - 1]);
        if k != k2 {
            return Err(Error::ShapeMismatch {
                op: "matmul",
                lhs: self.shape().clone(),
                rhs: rhs.shape().clone(),
            });
        }
        let lb = Shape::from(&self.dims()[..self.rank() - 2]);
        let rb = Shape::from(&rhs.dims()[..rhs.rank() - 2]);
        let batch = lb.broadcast(&rb, "matmul")?;
        match self.device() {
            Device::Cpu => crate::cpu::matmul::matmul(self, rhs, &batch, m, k, n),
            Device::Gpu(_) => crate::gpu::matmul::matmul(self, rhs),
        }
    }

    /// `self[..., in] @ weightᵀ + bias` with `weight` `[out, in]` in F32, F16, Q8_0, Q4_0, Q4_K or Q6_K.
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        crate::ops::same_device("linear", &[self, weight])?;
        crate::ops::float_input("linear", self)?;
        crate::ops::rank_is("linear", weight, 2)?;
        let (out_f, in_f) = (weight.dims()[0], weight.dims()[1]);
        if self.rank() == 0 || self.shape().last_dim() != in_f {
            return Err(Error::ShapeMismatch {
                op: "linear",
                lhs: self.shape().clone(),
                rhs: weight.shape().clone(),
            });
        }
        if matches!(weight.dtype(), DType::U32 | DType::BF16) {
            return Err(Error::UnsupportedDType {
                op: "linear",
                dtype: weight.dtype(),
            });
        }
        if let Some(b) = bias {
            crate::ops::same_device("linear", &[self, b])?;
            crate::ops::float_input("linear", b)?;
            if b.dims() != [out_f] {
                return Err(Error::invalid(
                    "linear",
                    format!("bias {:?} does not match {out_f} outputs", b.dims()),
                ));
            }
        }
        match self.device() {
            Device::Cpu => crate::cpu::matmul::linear(self, weight, bias),
            Device::Gpu(_) => crate::gpu::matmul::linear(self, weight, bias),
        }
    }
}
