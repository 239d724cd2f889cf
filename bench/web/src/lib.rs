//! Browser benchmarks of the engine: the kernel cases shared with a native binary (the wasm penalty) and
//! all-MiniLM-L6-v2 on the wasm CPU path and on WebGPU, exported to the page (`web.rs`) that
//! `bench/web/run.mjs` drives in headless Chromium.

pub mod kernels;
#[cfg(target_arch = "wasm32")]
mod web;
