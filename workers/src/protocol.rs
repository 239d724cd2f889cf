//! Typed messages between the UI and the engine worker. Every request carries a [`JobId`]; the worker
//! answers with any number of [`WorkerEvent::Progress`] / [`WorkerEvent::Partial`] events and then exactly
//! one of `Done`, `Failed` or `Cancelled` for that job.

use serde::{Deserialize, Serialize};

/// Identifies one request and all the events it causes.
pub type JobId = u32;

/// What the UI asks the worker to do.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum WorkerRequest {
    /// Read the WebGPU adapter (features, limits) and run the micro-benchmark.
    Probe { job: JobId },
    /// Download, verify and cache every file of a catalog variant.
    Download { job: JobId, variant_id: String, mirror: Option<String> },
    /// List cached models and the storage estimate.
    ListCached { job: JobId },
    /// Delete a cached model's files.
    Delete { job: JobId, variant_id: String },
    /// A small engine workload (repeated matmuls) used to check a backend end to end; cancellable.
    SelfTest { job: JobId, backend: Backend, iterations: u32 },
    /// Stop a running job. The job ends with `Cancelled`.
    Cancel { job: JobId },
}

impl WorkerRequest {
    /// The job this request belongs to.
    pub fn job(&self) -> JobId {
        match self {
            WorkerRequest::Probe { job }
            | WorkerRequest::Download { job, .. }
            | WorkerRequest::ListCached { job }
            | WorkerRequest::Delete { job, .. }
            | WorkerRequest::SelfTest { job, .. }
            | WorkerRequest::Cancel { job } => *job,
        }
    }
}

/// Which engine backend runs a job.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum Backend {
    Gpu,
    Cpu,
}

/// What a slow job is doing right now.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum Stage {
    CheckingStorage,
    Downloading,
    Verifying,
    Caching,
    Loading,
    Running,
}

impl Stage {
    /// Words for the progress line.
    pub fn label(self) -> &'static str {
        match self {
            Stage::CheckingStorage => "Checking storage",
            Stage::Downloading => "Downloading",
            Stage::Verifying => "Verifying",
            Stage::Caching => "Saving for offline use",
            Stage::Loading => "Loading",
            Stage::Running => "Running",
        }
    }
}

/// Progress of a job: per file and in total, in bytes (or steps for `Running`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    pub stage: Stage,
    pub file: Option<String>,
    pub file_done: u64,
    pub file_total: u64,
    pub done: u64,
    pub total: u64,
}

/// What the worker tells the UI.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum WorkerEvent {
    Progress { job: JobId, progress: Progress },
    /// A piece of a streamed result (e.g. text as it is produced).
    Partial { job: JobId, text: String },
    Done { job: JobId, result: JobResult },
    Failed { job: JobId, error: WorkerError },
    Cancelled { job: JobId },
}

impl WorkerEvent {
    /// The job this event belongs to.
    pub fn job(&self) -> JobId {
        match self {
            WorkerEvent::Progress { job, .. }
            | WorkerEvent::Partial { job, .. }
            | WorkerEvent::Done { job, .. }
            | WorkerEvent::Failed { job, .. }
            | WorkerEvent::Cancelled { job } => *job,
        }
    }
    /// Whether this event ends its job.
    pub fn is_final(&self) -> bool {
        !matches!(self, WorkerEvent::Progress { .. } | WorkerEvent::Partial { .. })
    }
}

/// The result of a finished job.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum JobResult {
    Probe(GpuProbe),
    Cached(CacheReport),
    Downloaded { variant_id: String, bytes: u64, from_cache: bool },
    Deleted { variant_id: String, files: u32 },
    SelfTest { backend: Backend, millis: f64, checksum: f32 },
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
}

/// Cached models and the browser's storage estimate.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CacheReport {
    pub models: Vec<CachedModel>,
    pub usage_bytes: Option<u64>,
    pub quota_bytes: Option<u64>,
}

/// One catalog variant and how much of it is cached.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CachedModel {
    pub variant_id: String,
    pub files_cached: u32,
    pub files_total: u32,
    pub bytes: u64,
}

/// Why a job failed, in words a person can act on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WorkerError {
    pub kind: ErrorKind,
    pub message: String,
}

/// The kind of failure, so the UI can offer the right action.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum ErrorKind {
    /// The network or the mirror failed (offline, CORS, 5xx); retrying may help.
    Network,
    /// The file is not on the model source (404).
    NotFound,
    /// The downloaded bytes do not match the catalog's hash; nothing was cached.
    Integrity,
    /// Not enough storage for the model.
    Quota,
    /// The request itself is wrong (unknown model, bad mirror URL).
    BadInput,
    /// The GPU went away; the worker will be restarted.
    DeviceLost,
    /// A bug or an unexpected browser failure.
    Internal,
}

impl WorkerError {
    /// Builds an error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WorkerError { kind, message: message.into() }
    }
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Name of the BroadcastChannel on which a crashing worker says so (gloo's bridge has no error hook).
pub const CRASH_CHANNEL: &str = "offgrid-worker-crash";

/// Cache Storage name for model files. App updates never delete it (the service worker only removes
/// `offgrid-shell-*` caches).
pub const MODEL_CACHE: &str = "offgrid-models-v1";
