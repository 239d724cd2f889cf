//! The hardware probe, the engine self-test, and fault injection.

use super::Backend;
use serde::{Deserialize, Serialize};

/// Requests about the worker itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum SystemRequest {
    /// Read the WebGPU adapter (features, limits) and run the micro-benchmark.
    Probe,
    /// A small engine workload (repeated matmuls) used to check a backend end to end; cancellable.
    SelfTest { backend: Backend, iterations: u32 },
    /// Destroy the worker's GPU device, as a driver reset would (fault injection for tests): the GPU
    /// models are dropped and the next use reloads them on a new device.
    LoseGpu,
    /// Take the Web Lock `name` and hold it while the worker lives; answers once it is held. The page then
    /// waits for the same lock: it is granted only when the worker is gone, whatever ended it (a crash
    /// that could not say so, the browser killing it), so the page can restart it and fail its jobs.
    HoldLifeLock { name: String },
}

/// The worker's half of the hardware probe: what WebGPU offers in a worker.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct GpuProbe {
    pub webgpu: bool,
    /// Why there is no adapter, when there is none.
    pub unavailable_reason: Option<String>,
    pub vendor: String,
    pub architecture: String,
    pub device: String,
    pub description: String,
    pub is_software: bool,
    pub features: Vec<String>,
    pub max_buffer_size: u64,
    pub max_storage_buffer_binding_size: u64,
    pub max_compute_workgroup_size_x: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_workgroups_per_dimension: u32,
    /// Measured by the micro-benchmark: GEMM throughput on the GPU, if it ran.
    pub gpu_gflops: Option<f64>,
    /// Measured by the micro-benchmark: GEMM throughput on the CPU (wasm).
    pub cpu_gflops: Option<f64>,
    /// Measured by the micro-benchmark: copy bandwidth (read + write) on the GPU, GB/s.
    #[serde(default)]
    pub gpu_gbps: Option<f64>,
    /// Measured by the micro-benchmark: copy bandwidth (read + write) on the CPU, GB/s.
    #[serde(default)]
    pub cpu_gbps: Option<f64>,
}
