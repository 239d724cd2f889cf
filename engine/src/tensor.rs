//! [`Tensor`]: a shared storage plus a layout. Cloning is cheap; views share the storage.
//! Ops live in `ops/` as methods on `Tensor` and dispatch on the tensor's [`Device`].

use crate::storage::{CpuStorage, Storage};
use crate::{gpu, DType, Device, Error, Layout, Result, Shape};
use half::f16;
use std::sync::Arc;

/// An n-dimensional array on a [`Device`].
#[derive(Clone, Debug)]
pub struct Tensor {
    storage: Arc<Storage>,
    layout: Layout,
    dtype: DType,
    device: Device,
}

impl Tensor {
    /// Builds a tensor from its parts; used by backends to wrap op outputs.
    pub fn from_parts(storage: Storage, layout: Layout, dtype: DType, device: Device) -> Self {
        Tensor {
            storage: Arc::new(storage),
            layout,
            dtype,
            device,
        }
    }

    fn view(&self, layout: Layout) -> Tensor {
        Tensor {
            storage: self.storage.clone(),
            layout,
            dtype: self.dtype,
            device: self.device.clone(),
        }
    }

    /// Wraps CPU storage (checked against `shape`) and moves it to `device`.
    pub fn from_cpu_storage(
        storage: CpuStorage,
        shape: impl Into<Shape>,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let dtype = storage.dtype();
        let elems = shape
            .checked_elem_count()
            .ok_or_else(|| Error::invalid("tensor", format!("shape {shape:?} overflows")))?;
        let expected = dtype.storage_bytes(elems).ok_or_else(|| {
            Error::invalid(
                "tensor",
                format!("{elems} values do not fill whole {dtype:?} blocks"),
            )
        })?;
        if expected != storage.byte_len() {
            return Err(Error::invalid(
                "tensor",
                format!(
                    "shape {shape:?} of {dtype:?} needs {expected} bytes, got {}",
                    storage.byte_len()
                ),
            ));
        }
        let cpu = Tensor::from_parts(
            Storage::Cpu(storage),
            Layout::contiguous(shape),
            dtype,
            Device::Cpu,
        );
        cpu.to_device(device)
    }

    /// A tensor of f32 values.
    pub fn from_f32(data: Vec<f32>, shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        Tensor::from_cpu_storage(CpuStorage::F32(data.into()), shape, device)
    }

    /// A tensor of f16 values.
    pub fn from_f16(data: Vec<f16>, shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        Tensor::from_cpu_storage(CpuStorage::F16(data), shape, device)
    }

    /// A tensor of u32 values (indices, token ids).
    pub fn from_u32(data: Vec<u32>, shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        Tensor::from_cpu_storage(CpuStorage::U32(data), shape, device)
    }

    /// A block-quantized tensor from GGUF block bytes; the last dimension must be a multiple of the block length.
    pub fn from_quantized(
        dtype: DType,
        bytes: Vec<u8>,
        shape: impl Into<Shape>,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.into();
        if !dtype.is_quantized() || !shape.last_dim().is_multiple_of(dtype.block_len()) {
            return Err(Error::invalid(
                "from_quantized",
                format!(
                    "{dtype:?} needs a last dimension that is a multiple of {}",
                    dtype.block_len()
                ),
            ));
        }
        Tensor::from_cpu_storage(CpuStorage::Quantized { dtype, bytes }, shape, device)
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        let shape = shape.into();
        let n = shape.elem_count();
        let storage = match dtype {
            DType::F32 => CpuStorage::F32(vec![0.0; n].into()),
            DType::F16 => CpuStorage::F16(vec![f16::ZERO; n]),
            other => {
                return Err(Error::UnsupportedDType {
                    op: "zeros",
                    dtype: other,
                })
            }
        };
        Tensor::from_cpu_storage(storage, shape, device)
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        self.layout.shape()
    }
    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        self.layout.dims()
    }
    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.layout.shape().rank()
    }
    /// Number of elements.
    pub fn elem_count(&self) -> usize {
        self.layout.shape().elem_count()
    }
    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }
    /// The layout (shape, strides, offset).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// The storage.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }
    /// The storage for writing in place, if no other tensor or view shares it (used by the KV cache).
    pub(crate) fn storage_mut(&mut self) -> Option<&mut Storage> {
        Arc::get_mut(&mut self.storage)
    }
    /// Whether the elements are row-major without gaps.
    pub fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }

    /// A view with a new shape (the tensor must be contiguous).
    pub fn reshape(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        Ok(self.view(self.layout.reshape(shape.into())?))
    }
    /// A view with axes reordered.
    pub fn permute(&self, perm: &[usize]) -> Result<Tensor> {
        Ok(self.view(self.layout.permute(perm)?))
    }
    /// A view with two axes swapped (negative axes count from the end).
    pub fn transpose(&self, a: isize, b: isize) -> Result<Tensor> {
        let (a, b) = (self.shape().axis(a)?, self.shape().axis(b)?);
        Ok(self.view(self.layout.transpose(a, b)?))
    }
    /// A view with the last two axes swapped.
    pub fn t(&self) -> Result<Tensor> {
        self.transpose(-2, -1)
    }
    /// A view of `len` entries of `axis` from `start`.
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Result<Tensor> {
        let axis = self.shape().axis(axis)?;
        if self.dtype.is_quantized() && axis + 1 == self.rank() {
            return Err(Error::invalid(
                "narrow",
                "cannot narrow inside quantized blocks",
            ));
        }
        Ok(self.view(self.layout.narrow(axis, start, len)?))
    }
    /// A view broadcast to `shape`.
    pub fn broadcast_as(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        Ok(self.view(self.layout.broadcast_as(&shape.into())?))
    }
    /// Inserts an axis of length 1 at `axis` (0..=rank).
    pub fn unsqueeze(&self, axis: usize) -> Result<Tensor> {
        if axis > self.rank() {
            return Err(Error::invalid(
                "unsqueeze",
                format!("axis {axis} > rank {}", self.rank()),
            ));
        }
        let mut dims = self.dims().to_vec();
        let mut strides = self.layout.strides().to_vec();
        let stride = if axis < dims.len() {
            dims[axis] * strides[axis]
        } else {
            1
        };
        dims.insert(axis, 1);
        strides.insert(axis, stride);
        Ok(self.view(Layout::from_raw(dims.into(), strides, self.layout.offset())))
    }
    /// Removes an axis of length 1.
    pub fn squeeze(&self, axis: isize) -> Result<Tensor> {
        let axis = self.shape().axis(axis)?;
        if self.dims()[axis] != 1 {
            return Err(Error::invalid(
                "squeeze",
                format!("axis {axis} has length {}", self.dims()[axis]),
            ));
        }
        let mut dims = self.dims().to_vec();
        let mut strides = self.layout.strides().to_vec();
        dims.remove(axis);
        strides.remove(axis);
        Ok(self.view(Layout::from_raw(dims.into(), strides, self.layout.offset())))
    }

    /// Moves (or copies) the tensor to `device`. Uploads are synchronous (queued writes); a GPU → CPU
    /// download must go through [`Tensor::to_cpu`], which is async.
    pub fn to_device(&self, device: &Device) -> Result<Tensor> {
        if self.device.same(device) {
            return Ok(self.clone());
        }
        match (&*self.storage, device) {
            (Storage::Cpu(cpu), Device::Gpu(gpu)) => {
                let storage = gpu::upload(gpu, cpu)?;
                Ok(Tensor {
                    storage: Arc::new(Storage::Gpu(storage)),
                    layout: self.layout.clone(),
                    dtype: self.dtype,
                    device: device.clone(),
                })
            }
            _ => Err(Error::invalid(
                "to_device",
                "GPU to CPU copies are async: use to_cpu().await",
            )),
        }
    }

    /// Brings the tensor to the CPU, waiting for the GPU without blocking the thread.
    pub async fn to_cpu(&self) -> Result<Tensor> {
        match &*self.storage {
            Storage::Cpu(_) => Ok(self.clone()),
            Storage::Gpu(g) => {
                let cpu = gpu::download(g).await?;
                Ok(Tensor {
                    storage: Arc::new(Storage::Cpu(cpu)),
                    layout: self.layout.clone(),
                    dtype: self.dtype,
                    device: Device::Cpu,
                })
            }
        }
    }

    /// The values as f32 in row-major order (CPU tensors only; see [`Tensor::to_vec_f32_async`]).
    pub fn to_vec_f32(&self) -> Result<Vec<f32>> {
        let Storage::Cpu(cpu) = &*self.storage else {
            return Err(Error::invalid(
                "to_vec_f32",
                "tensor is on the GPU: use to_vec_f32_async",
            ));
        };
        match cpu {
            CpuStorage::F32(v) => Ok(self.layout.gather(v)),
            CpuStorage::F16(v) => Ok(self
                .layout
                .gather(v)
                .into_iter()
                .map(|h| h.to_f32())
                .collect()),
            CpuStorage::U32(v) => Ok(self.layout.indices().map(|i| v[i] as f32).collect()),
            CpuStorage::Quantized { dtype, bytes } => {
                if !self.is_contiguous() {
                    return Err(Error::invalid(
                        "to_vec_f32",
                        "quantized views must be contiguous",
                    ));
                }
                let start = self.layout.offset() / dtype.block_len() * dtype.block_bytes();
                let len = dtype
                    .storage_bytes(self.elem_count())
                    .ok_or_else(|| Error::invalid("to_vec_f32", "partial quantized block"))?;
                crate::quant::dequantize(*dtype, &bytes[start..start + len])
            }
        }
    }

    /// The values as u32 in row-major order (CPU U32 tensors only).
    pub fn to_vec_u32(&self) -> Result<Vec<u32>> {
        match &*self.storage {
            Storage::Cpu(CpuStorage::U32(v)) => Ok(self.layout.indices().map(|i| v[i]).collect()),
            _ => Err(Error::UnsupportedDType {
                op: "to_vec_u32",
                dtype: self.dtype,
            }),
        }
    }

    /// The values as f32 in row-major order, from any device.
    pub async fn to_vec_f32_async(&self) -> Result<Vec<f32>> {
        self.to_cpu().await?.to_vec_f32()
    }
}

impl Layout {
    /// A layout from raw parts (used by views that add or drop unit axes).
    pub(crate) fn from_raw(shape: Shape, strides: Vec<usize>, offset: usize) -> Layout {
        Layout::from_parts_unchecked(shape, strides, offset)
    }
}
