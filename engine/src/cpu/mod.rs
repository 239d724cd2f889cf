//! Pure-Rust CPU kernels (simd128 on wasm32, auto-vectorised natively).
