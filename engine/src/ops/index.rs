//! Gathering, joining and reshaping data: index_select, embedding (incl. quantized tables), concat, pad,
//! where_cond, cast and contiguous.

use crate::ops::reduce::u32_input;
use crate::{DType, Device, Error, Result, Tensor};

impl Tensor {
    /// Entries of `axis` picked by a 1-D U32 `indices` tensor.
    pub fn index_select(&self, indices: &Tensor, axis: isize) -> Result<Tensor> {
        crate::ops::same_device("index_select", &[self, indices])?;
        u32_input("index_select", indices)?;
        crate::ops::rank_is("index_select", indices, 1)?;
        let axis = self.shape().axis(axis)?;
        if self.dtype().is_quantized() && axis + 1 == self.rank() {
            return Err(Error::invalid(
                "index_select",
                "cannot pick values inside quantized blocks",
            ));
        }
        match self.device() {
            Device::Cpu => crate::cpu::index::index_select(self, indices, axis),
            Device::Gpu(_) => crate::gpu::nn::index_select_axis(self, indices, axis),
        }
    }

    /// Rows of an embedding table `[vocab, d]` (F32, F16 or quantized) for U32 `ids` of any shape: `[..ids, d]`.
    /// Quantized tables are dequantized only for the rows asked for.
    pub fn embedding(&self, ids: &Tensor) -> Result<Tensor> {
        crate::ops::rank_is("embedding", self, 2)?;
        let flat = ids.reshape(ids.elem_count())?;
        let rows = self.index_select(&flat, 0)?;
        let mut dims = ids.dims().to_vec();
        dims.push(self.dims()[1]);
        rows.reshape(dims)
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    pub fn concat(tensors: &[&Tensor], axis: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("concat", "no tensors to join"))?;
        crate::ops::same_device("concat", tensors)?;
        let axis = first.shape().axis(axis)?;
        for t in tensors {
            crate::ops::float_input("concat", t)?;
            let same = t.rank() == first.rank()
                && t.dims()
                    .iter()
                    .zip(first.dims())
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            if !same {
                return Err(Error::ShapeMismatch {
                    op: "concat",
                    lhs: first.shape().clone(),
                    rhs: t.shape().clone(),
                });
            }
        }
        match first.device() {
            Device::Cpu => crate::cpu::index::concat(tensors, axis),
            Device::Gpu(_) => crate::gpu::elementwise::concat(tensors, axis),
        }
    }

    /// Pads `axis` with `before` and `after` entries of `value`.
    pub fn pad(&self, axis: isize, before: usize, after: usize, value: f32) -> Result<Tensor> {
        crate::ops::float_input("pad", self)?;
        let axis = self.shape().axis(axis)?;
        match self.device() {
            Device::Cpu => crate::cpu::index::pad(self, axis, before, after, value),
            Device::Gpu(_) => crate::gpu::spatial::pad(self, axis, before, after, value),
        }
    }

    /// `on_true` where this mask is non-zero, else `on_false`; all three broadcast together.
    pub fn where_cond(&self, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        crate::ops::same_device("where_cond", &[self, on_true, on_false])?;
        crate::ops::float_input("where_cond", on_true)?;
        crate::ops::float_input("where_cond", on_false)?;
        if self.dtype().is_quantized() {
            return Err(Error::UnsupportedDType {
                op: "where_cond",
                dtype: self.dtype(),
            });
        }
        let shape = self
            .shape()
            .broadcast(on_true.shape(), "where_cond")?
            .broadcast(on_false.shape(), "where_cond")?;
        match self.device() {
            Device::Cpu => crate::cpu::index::where_cond(self, on_true, on_false, &shape),
            Device::Gpu(_) => crate::gpu::spatial::where_cond(self, on_true, on_false, &shape),
        }
    }

    /// Converts to `dtype`: F32 ↔ F16, U32 → F32/F16, and quantized → F32/F16 (dequantized).
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        if !matches!(dtype, DType::F32 | DType::F16) || self.dtype() == DType::BF16 {
            return Err(Error::invalid(
                "cast",
                format!("cannot cast {:?} to {dtype:?}", self.dtype()),
            ));
        }
        match self.device() {
            Device::Cpu => crate::cpu::index::cast(self, dtype),
            Device::Gpu(_) => crate::gpu::elementwise::cast_any(self, dtype),
        }
    }

    /// The same values in a contiguous layout (no copy when already contiguous).
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        if self.dtype().is_quantized() {
            return Err(Error::invalid(
                "contiguous",
                "quantized views cannot be re-laid out",
            ));
        }
        match self.device() {
            Device::Cpu => crate::cpu::index::contiguous(self),
            Device::Gpu(_) => crate::gpu::elementwise::contiguous(self),
        }
    }
}
