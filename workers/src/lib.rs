//! Offgrid's web workers. Models run only here, never on the main thread: the engine worker receives
//! typed [`protocol::WorkerRequest`]s and answers with [`protocol::WorkerEvent`]s. It fetches, verifies
//! and caches model files itself (`store`), and reads the GPU for the hardware probe (`probe`).

pub mod collection;
pub mod download;
pub mod protocol;
pub mod transcript;

#[cfg(target_arch = "wasm32")]
pub mod chat;
#[cfg(target_arch = "wasm32")]
pub mod crash;
#[cfg(target_arch = "wasm32")]
pub mod engine_worker;
#[cfg(target_arch = "wasm32")]
pub mod job;
#[cfg(target_arch = "wasm32")]
pub mod js;
#[cfg(target_arch = "wasm32")]
pub mod models;
#[cfg(target_arch = "wasm32")]
pub mod opfs;
#[cfg(target_arch = "wasm32")]
pub mod partial_store;
#[cfg(target_arch = "wasm32")]
pub mod probe;
#[cfg(target_arch = "wasm32")]
pub mod registry;
#[cfg(target_arch = "wasm32")]
pub mod remove_background;
#[cfg(target_arch = "wasm32")]
pub mod search;
#[cfg(target_arch = "wasm32")]
pub mod selftest;
#[cfg(target_arch = "wasm32")]
pub mod speak;
#[cfg(target_arch = "wasm32")]
pub mod store;
#[cfg(target_arch = "wasm32")]
pub mod system;
#[cfg(target_arch = "wasm32")]
pub mod test_hooks;
#[cfg(target_arch = "wasm32")]
pub mod transcribe;
#[cfg(target_arch = "wasm32")]
pub mod voice;
#[cfg(target_arch = "wasm32")]
pub mod voice_file;

#[cfg(target_arch = "wasm32")]
pub use engine_worker::EngineWorker;
