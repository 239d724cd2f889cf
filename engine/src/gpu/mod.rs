//! wgpu backend (WebGPU in the browser, Vulkan/Metal/DX12 natively).
//! PLACEHOLDER: the GPU backend is being written; these types fix the interface the core relies on.

use crate::storage::CpuStorage;
use crate::{Error, Result};
use std::sync::Arc;

/// A handle to a GPU device and its queues, pools and pipeline cache. Cheap to clone.
#[derive(Clone, Debug)]
pub struct GpuDevice {
    inner: Arc<()>,
}

impl GpuDevice {
    /// Whether two handles refer to the same device.
    pub fn same(&self, other: &GpuDevice) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// Tensor bytes in a GPU buffer.
#[derive(Debug)]
pub struct GpuStorage {}

/// Uploads CPU storage to the GPU.
pub fn upload(_device: &GpuDevice, _cpu: &CpuStorage) -> Result<GpuStorage> {
    Err(Error::GpuUnavailable(
        "the GPU backend is not built yet".into(),
    ))
}

/// Copies GPU storage back to the CPU.
pub async fn download(_storage: &GpuStorage) -> Result<CpuStorage> {
    Err(Error::GpuUnavailable(
        "the GPU backend is not built yet".into(),
    ))
}
