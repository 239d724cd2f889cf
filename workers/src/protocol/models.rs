//! The model store and the worker's model registry: downloads, the cache, and what is loaded.

use super::Backend;
use offgrid_catalog::WeightDType;
use serde::{Deserialize, Serialize};

/// What the Models page (and the plan) ask of the store and the registry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum ModelsRequest {
    /// Download, verify and cache every file of a catalog variant.
    Download {
        variant_id: String,
        mirror: Option<String>,
    },
    /// List cached models and the storage estimate.
    ListCached,
    /// Delete a cached model's files (and drop it from memory).
    Delete { variant_id: String },
    /// The models loaded in the worker's memory.
    ListLoaded,
    /// How much memory the loaded models may take together (from the plan); the least recently used
    /// are dropped to stay under it.
    SetBudget { bytes: u64 },
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
    /// Bytes of unfinished downloads kept for resuming (a reload or a lost connection keeps them).
    #[serde(default)]
    pub partial_bytes: u64,
}

/// What the registry holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct LoadedReport {
    /// Most recently used first.
    pub models: Vec<LoadedModel>,
    pub budget_bytes: u64,
    /// GPU devices this worker has created (one at a time; a new one after a loss).
    pub gpu_devices_created: u32,
    /// Models dropped to stay under the budget since the worker started.
    pub evictions: u32,
}

/// One model in memory.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoadedModel {
    pub variant_id: String,
    pub backend: Backend,
    /// The type its weights were loaded as.
    pub dtype: WeightDType,
    /// Estimated memory (weights in `dtype` plus working memory).
    pub bytes: u64,
    /// Which GPU device holds it (1 for the worker's first), `None` on the CPU.
    pub gpu_device: Option<u32>,
}
