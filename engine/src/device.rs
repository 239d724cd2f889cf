//! Where a tensor lives. Ops dispatch on it.

use crate::gpu::GpuDevice;

/// A compute device: the CPU, or a GPU reached through wgpu (WebGPU in the browser, Vulkan/Metal natively).
#[derive(Clone, Debug, Default)]
pub enum Device {
    #[default]
    Cpu,
    Gpu(GpuDevice),
}

impl Device {
    /// Short name for messages ("cpu" or "gpu").
    pub fn name(&self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Gpu(_) => "gpu",
        }
    }
    /// Whether two handles refer to the same device.
    pub fn same(&self, other: &Device) -> bool {
        match (self, other) {
            (Device::Cpu, Device::Cpu) => true,
            (Device::Gpu(a), Device::Gpu(b)) => a.same(b),
            _ => false,
        }
    }
    /// The GPU handle, if this is a GPU.
    pub fn as_gpu(&self) -> Option<&GpuDevice> {
        match self {
            Device::Gpu(g) => Some(g),
            Device::Cpu => None,
        }
    }
}
