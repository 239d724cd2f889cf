//! Offgrid's shared inference engine.
//!
//! One op API over [`Tensor`]; the backend is chosen by the tensor's [`Device`]:
//! a pure-Rust CPU path (`cpu/`, simd128 on wasm32) or WebGPU/Vulkan through wgpu (`gpu/`).
//! Weights come from safetensors or GGUF byte buffers (`io/`), possibly block-quantized (`quant/`).

// On wasm32, wgpu's WebGPU handles are not Send/Sync (one thread per worker); the Arcs exist for the
// native multi-threaded case, so this lint is noise there.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

pub mod audio;
pub mod cpu;
pub mod device;
pub mod dtype;
pub mod error;
pub mod generation;
pub mod gpu;
pub mod image;
pub mod io;
pub mod microbench;
pub mod models;
pub mod nn;
pub mod ops;
pub mod pipelines;
pub mod quant;
pub mod shape;
pub mod storage;
pub mod tensor;
pub mod text;

pub use device::Device;
pub use dtype::DType;
pub use error::{Error, Result};
pub use shape::{Layout, Shape};
pub use tensor::Tensor;
