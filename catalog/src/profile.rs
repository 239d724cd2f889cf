//! What a device can do, as the browser (or the native probe) reports it. Filled by the app's probe, read by `plan`.

use serde::{Deserialize, Serialize};

/// WebGPU adapter limits that decide which models fit (names as in the WebGPU spec, snake_case).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GpuLimits {
    /// `maxBufferSize`.
    pub max_buffer_size: u64,
    /// `maxStorageBufferBindingSize`: the largest tensor one shader can see at once.
    pub max_storage_buffer_binding_size: u64,
    /// `maxComputeWorkgroupSizeX`.
    pub max_compute_workgroup_size_x: u32,
    /// `maxComputeInvocationsPerWorkgroup`.
    pub max_compute_invocations_per_workgroup: u32,
    /// `maxComputeWorkgroupStorageSize` in bytes.
    pub max_compute_workgroup_storage_size: u32,
}

/// The GPU adapter as WebGPU (`GPUAdapterInfo`) or wgpu describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AdapterInfo {
    /// Vendor (`nvidia`, `apple`, `intel`, `qualcomm`…, or a PCI id natively).
    pub vendor: String,
    /// Architecture (`ampere`, `metal-3`, `gen-12lp`, `swiftshader`…).
    pub architecture: String,
    /// Free-form description; often empty in browsers.
    pub description: String,
}

impl AdapterInfo {
    /// Whether the names point to a CPU-emulated GPU (SwiftShader, lavapipe, llvmpipe, WARP).
    pub fn looks_like_software(&self) -> bool {
        let all = format!("{} {} {}", self.vendor, self.architecture, self.description)
            .to_ascii_lowercase();
        [
            "swiftshader",
            "lavapipe",
            "llvmpipe",
            "softpipe",
            "microsoft basic render",
            "warp",
        ]
        .iter()
        .any(|name| all.contains(name))
    }
}

/// Results of the short micro-benchmark (matmul and copy) on each backend.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MicroBench {
    /// GPU matmul throughput.
    pub gpu_gflops: Option<f64>,
    /// GPU memory bandwidth.
    pub gpu_gbps: Option<f64>,
    /// CPU (wasm or native) matmul throughput.
    pub cpu_gflops: Option<f64>,
    /// CPU memory bandwidth.
    pub cpu_gbps: Option<f64>,
}

/// Everything the probe learned about this device.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceProfile {
    /// `navigator.gpu` exists and gave an adapter.
    pub webgpu: bool,
    /// Adapter names (empty without WebGPU).
    pub adapter: AdapterInfo,
    /// The adapter is a software renderer (set by the probe; `plan` also checks the names).
    pub is_software_adapter: bool,
    /// WebGPU feature names (`shader-f16`, `timestamp-query`…).
    pub features: Vec<String>,
    /// Adapter limits.
    pub limits: GpuLimits,
    /// `navigator.deviceMemory` in GB (Chromium only, capped at 8).
    pub device_memory_gb: Option<f64>,
    /// `navigator.hardwareConcurrency`.
    pub hardware_concurrency: u32,
    /// `navigator.storage.estimate().quota` in bytes.
    pub storage_quota_bytes: Option<u64>,
    /// `navigator.storage.estimate().usage` in bytes.
    pub storage_usage_bytes: Option<u64>,
    /// `crossOriginIsolated` (needed for threads via SharedArrayBuffer).
    pub cross_origin_isolated: bool,
    /// WebAssembly SIMD (simd128) validates.
    pub wasm_simd: bool,
    /// A phone or tablet (user-agent data or UA string).
    pub is_mobile: bool,
    /// `navigator.connection.saveData` (Data Saver).
    pub save_data: bool,
    /// Micro-benchmark results, when it ran.
    pub bench: Option<MicroBench>,
    /// Variant ids already in the model cache (they need no more storage).
    pub cached_variants: Vec<String>,
}

impl DeviceProfile {
    /// Whether the adapter offers `feature` (e.g. `shader-f16`).
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// Whether the GPU is a CPU emulation, by the probe's flag or by its names.
    pub fn software_adapter(&self) -> bool {
        self.is_software_adapter || self.adapter.looks_like_software()
    }

    /// Free storage in bytes, when the browser told us both quota and usage.
    pub fn storage_free_bytes(&self) -> Option<u64> {
        match (self.storage_quota_bytes, self.storage_usage_bytes) {
            (Some(quota), usage) => Some(quota.saturating_sub(usage.unwrap_or(0))),
            (None, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_adapters_are_recognised_by_name() {
        let swiftshader = AdapterInfo {
            vendor: "google".into(),
            architecture: "swiftshader".into(),
            description: String::new(),
        };
        let lavapipe = AdapterInfo {
            description: "llvmpipe (LLVM 19.1.7, 256 bits)".into(),
            ..AdapterInfo::default()
        };
        let nvidia = AdapterInfo {
            vendor: "nvidia".into(),
            architecture: "ampere".into(),
            description: "NVIDIA GeForce RTX 3070".into(),
        };
        assert!(swiftshader.looks_like_software());
        assert!(lavapipe.looks_like_software());
        assert!(!nvidia.looks_like_software());
    }

    #[test]
    fn partial_json_from_the_browser_parses() {
        let json = r#"{"webgpu": true, "features": ["shader-f16"], "limits": {"max_storage_buffer_binding_size": 134217728}, "device_memory_gb": 4}"#;
        let profile: DeviceProfile = serde_json::from_str(json).unwrap_or_default();
        assert!(profile.webgpu);
        assert!(profile.has_feature("shader-f16"));
        assert_eq!(profile.limits.max_storage_buffer_binding_size, 134_217_728);
        assert_eq!(profile.device_memory_gb, Some(4.0));
        assert_eq!(profile.storage_free_bytes(), None);
    }
}
