//! Model catalog, device profiles and `plan()`: which model runs where on this device. Pure (no I/O), so the
//! web app, its workers and the native CLI share it.

mod builtin;
mod builtin_whisper;
mod dtype;
mod overrides;
mod plan;
mod profile;
mod source;
mod task;
mod variant;
mod verify;

pub use dtype::WeightDType;

/// Repo owner of the catalog's test checkpoints (random weights, served only by mirrors); see
/// [`ModelVariant::is_test_checkpoint`].
pub const TEST_REPO_OWNER: &str = "offgrid-test/";
pub use overrides::{apply_overrides, Overrides, TaskOverride};
pub use plan::{human_bytes, plan, Backend, Plan, TaskPlan};
pub use profile::{AdapterInfo, DeviceProfile, GpuLimits, MicroBench};
pub use source::{ModelSource, SourceError};
pub use task::Task;
pub use variant::{Catalog, DeviceClass, EmbeddingPrefixes, ModelFile, ModelVariant};
pub use verify::{verify, verify_len, Sha256Verifier, VerifyError};
