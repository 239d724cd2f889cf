//! The native half of the hardware probe: a wgpu adapter described as the browser's `DeviceProfile`.

use offgrid_catalog::{AdapterInfo, DeviceProfile, GpuLimits};
use serde::Serialize;

/// What wgpu says about the adapter, beyond what the browser would expose.
#[derive(Debug, Clone, Serialize)]
pub struct NativeAdapter {
    /// Adapter name (`NVIDIA H100 80GB HBM3`, `llvmpipe (LLVM 19…)`).
    pub name: String,
    /// Graphics API (`Vulkan`, `Metal`, `Dx12`).
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `Cpu`…
    pub device_type: String,
    /// PCI vendor id.
    pub vendor_id: u32,
    /// PCI device id.
    pub device_id: u32,
    /// Driver name.
    pub driver: String,
    /// Driver version details.
    pub driver_info: String,
    /// WebGPU-named features the engine cares about.
    pub features: Vec<String>,
    /// Whether `SHADER_F16` is offered.
    pub shader_f16: bool,
    /// Limits, as in the profile.
    pub limits: GpuLimits,
}

/// Vendor name from a PCI id, the way browsers name vendors.
fn vendor_name(id: u32) -> &'static str {
    match id {
        0x10de => "nvidia",
        0x1002 | 0x1022 => "amd",
        0x8086 => "intel",
        0x106b => "apple",
        0x5143 => "qualcomm",
        0x13b5 => "arm",
        0x1010 => "imagination",
        0x10005 => "mesa",
        _ => "",
    }
}

/// Ask wgpu for the default high-performance adapter; `None` when there is none (no driver, no GPU).
pub fn native_adapter() -> Option<NativeAdapter> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        ..Default::default()
    }))
    .ok()?;
    let info = adapter.get_info();
    let features = adapter.features();
    let limits = adapter.limits();
    let named = [
        (wgpu::Features::SHADER_F16, "shader-f16"),
        (wgpu::Features::TIMESTAMP_QUERY, "timestamp-query"),
        (wgpu::Features::SUBGROUP, "subgroups"),
        (wgpu::Features::FLOAT32_FILTERABLE, "float32-filterable"),
        (
            wgpu::Features::INDIRECT_FIRST_INSTANCE,
            "indirect-first-instance",
        ),
    ];
    Some(NativeAdapter {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        vendor_id: info.vendor,
        device_id: info.device,
        driver: info.driver.clone(),
        driver_info: info.driver_info.clone(),
        features: named
            .iter()
            .filter(|(f, _)| features.contains(*f))
            .map(|(_, name)| (*name).to_string())
            .collect(),
        shader_f16: features.contains(wgpu::Features::SHADER_F16),
        limits: GpuLimits {
            max_buffer_size: limits.max_buffer_size,
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_compute_workgroup_size_x: limits.max_compute_workgroup_size_x,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
        },
    })
}

/// Total memory in GB from /proc/meminfo (Linux), like `navigator.deviceMemory` but uncapped.
fn system_memory_gb() -> Option<f64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / (1024.0 * 1024.0))
}

/// A `DeviceProfile` for this machine, from the adapter (if any) and the OS.
pub fn native_profile(adapter: Option<&NativeAdapter>) -> DeviceProfile {
    let mut profile = DeviceProfile {
        device_memory_gb: system_memory_gb(),
        hardware_concurrency: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        ..DeviceProfile::default()
    };
    if let Some(a) = adapter {
        profile.webgpu = true;
        profile.adapter = AdapterInfo {
            vendor: vendor_name(a.vendor_id).to_string(),
            architecture: String::new(),
            description: a.name.clone(),
        };
        profile.is_software_adapter =
            a.device_type == "Cpu" || profile.adapter.looks_like_software();
        profile.features = a.features.clone();
        profile.limits = a.limits.clone();
    }
    profile
}
