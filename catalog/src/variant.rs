//! Catalog entries: one per model variant (a repo at a revision, its files, and what it needs to run).

use serde::{Deserialize, Serialize};

use crate::{Task, WeightDType};

/// One file of a model variant, as stored in the repo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Path inside the repo, `/`-separated (`1_Pooling/config.json`).
    pub path: String,
    /// Exact size in bytes, when we have measured it.
    pub size: Option<u64>,
    /// Lowercase hex SHA-256, when we have measured it. Without it a download can never be marked verified.
    pub sha256: Option<String>,
}

impl ModelFile {
    /// The file name without its folders, for messages.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// Smallest device class a variant is meant for; higher classes get stronger variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceClass {
    /// Phones, old laptops, anything without a usable GPU or with little memory.
    Low,
    /// Recent phones with WebGPU, laptops with integrated graphics.
    Mid,
    /// Apple M-series and discrete GPUs.
    High,
}

impl DeviceClass {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            DeviceClass::Low => "entry-level",
            DeviceClass::Mid => "mid-range",
            DeviceClass::High => "high-end",
        }
    }
}

/// Text prefixes some embedding models expect (e5: `query: `, bge: an instruction on queries only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmbeddingPrefixes {
    /// Put before a search query.
    pub query: String,
    /// Put before each indexed passage.
    pub passage: String,
}

/// One downloadable (or bundled) model variant for one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVariant {
    /// Stable id used in URLs, overrides and the CLI (`minilm-l6-v2`).
    pub id: String,
    /// The task it serves.
    pub task: Task,
    /// A short name for people.
    pub title: String,
    /// Hugging Face repo id (`sentence-transformers/all-MiniLM-L6-v2`).
    pub repo: String,
    /// Git revision (branch, tag or commit) the files and hashes belong to.
    pub revision: String,
    /// Files to fetch, in the order to fetch them.
    pub files: Vec<ModelFile>,
    /// Type of the weights as stored in the files.
    pub dtype: WeightDType,
    /// Types the engine can run this variant as: the stored type first, then load-time conversions.
    pub runtime_dtypes: Vec<WeightDType>,
    /// Number of weights.
    pub params: u64,
    /// Elements of the largest single tensor; it must fit one storage binding on the GPU unless `splittable`.
    pub largest_tensor_elems: u64,
    /// Whether the engine splits the largest tensor over several bindings (row-split embeddings / lm-head).
    pub splittable: bool,
    /// Working memory beyond the weights (activations, KV cache at the default context), in bytes.
    pub overhead_bytes: u64,
    /// Download size in bytes: exact when every file has a size, an estimate otherwise.
    pub download_bytes: u64,
    /// Smallest device class this variant suits.
    pub min_class: DeviceClass,
    /// Too slow on the CPU path to be useful: only offered on a GPU.
    pub needs_gpu: bool,
    /// Served with the app itself (no download, no storage quota).
    pub bundled: bool,
    /// Whether the app can run it today; `false` entries are shown as "coming".
    pub available: bool,
    /// Query and passage prefixes for embedding models.
    pub prefixes: Option<EmbeddingPrefixes>,
    /// License of the weights, as the repo states it.
    pub license: String,
}

impl ModelVariant {
    /// Estimated memory to run as `dtype`: the weights in that type plus working memory.
    pub fn memory_bytes(&self, dtype: WeightDType) -> u64 {
        dtype.bytes_for(self.params) + self.overhead_bytes
    }

    /// Bytes of the largest tensor when held as `dtype`.
    pub fn largest_tensor_bytes(&self, dtype: WeightDType) -> u64 {
        dtype.bytes_for(self.largest_tensor_elems)
    }

    /// Whether every file has a known size and SHA-256, so a download can be verified.
    pub fn is_verifiable(&self) -> bool {
        self.files
            .iter()
            .all(|f| f.size.is_some() && f.sha256.is_some())
    }

    /// A checkpoint with random weights that exists to test the loading path (its repo is under
    /// [`crate::TEST_REPO_OWNER`]): it runs when asked for by id, but the plan never recommends it.
    pub fn is_test_checkpoint(&self) -> bool {
        self.repo.starts_with(crate::TEST_REPO_OWNER)
    }

    /// The file at `path`, if this variant has it.
    pub fn file(&self, path: &str) -> Option<&ModelFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// Every model variant the app knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// All variants, grouped by task, smaller first within a task.
    pub variants: Vec<ModelVariant>,
}

impl Catalog {
    /// The variant with this id.
    pub fn get(&self, id: &str) -> Option<&ModelVariant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// The first variant from this Hugging Face repo (ids and repos are both accepted by the CLI).
    pub fn by_repo(&self, repo: &str) -> Option<&ModelVariant> {
        self.variants
            .iter()
            .find(|v| v.repo.eq_ignore_ascii_case(repo))
    }

    /// A variant named by id or by repo id.
    pub fn find(&self, id_or_repo: &str) -> Option<&ModelVariant> {
        self.get(id_or_repo).or_else(|| self.by_repo(id_or_repo))
    }

    /// Variants for one task, in catalog order.
    pub fn for_task(&self, task: Task) -> impl Iterator<Item = &ModelVariant> {
        self.variants.iter().filter(move |v| v.task == task)
    }
}
