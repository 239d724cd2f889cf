//! Shared helpers for the BERT tests: where the real weights are, loading a model folder, cosine similarity.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

// The folder and device helpers read files and block on futures, so they exist natively only; the cosine
// checks are shared with the browser test (bert_minilm_browser.rs).
#[cfg(not(target_arch = "wasm32"))]
use offgrid_engine::{
    gpu::GpuDevice,
    io::{ModelFolder, VarBuilder},
    models::bert::SentenceEncoder,
    Device,
};
#[cfg(not(target_arch = "wasm32"))]
use std::path::PathBuf;

#[cfg(not(target_arch = "wasm32"))]
/// `$OFFGRID_WEIGHTS/all-MiniLM-L6-v2`, or `<repo>/.cache/weights/all-MiniLM-L6-v2`; fails (never skips) when
/// the weights are missing.
pub fn minilm_dir() -> PathBuf {
    let root = std::env::var_os("OFFGRID_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/weights"));
    let dir = root.join("all-MiniLM-L6-v2");
    assert!(
        dir.join("model.safetensors").exists(),
        "real MiniLM weights missing at {}: run scripts/fetch-test-weights.sh (or set OFFGRID_WEIGHTS)",
        dir.display()
    );
    dir
}

#[cfg(not(target_arch = "wasm32"))]
/// A committed fixture folder.
pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[cfg(not(target_arch = "wasm32"))]
/// Loads a sentence-transformers folder onto `device` through `configure` (dtype policy, quantization).
pub fn load(
    dir: &std::path::Path,
    device: &Device,
    configure: impl FnOnce(VarBuilder) -> VarBuilder,
) -> SentenceEncoder {
    let folder = ModelFolder::new(dir);
    let vb = configure(folder.var_builder(device).expect("weights"));
    SentenceEncoder::from_folder(&folder, &vb).expect("encoder")
}

#[cfg(not(target_arch = "wasm32"))]
/// The GPU device; fails the test when there is no adapter (CI has lavapipe).
pub fn gpu() -> Device {
    match pollster::block_on(GpuDevice::new()) {
        Ok(g) => Device::Gpu(g),
        Err(e) => panic!("no GPU adapter for the GPU tests ({e}); install mesa-vulkan-drivers"),
    }
}

/// Cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(1e-12)
}

/// Checks every pair of vectors has cosine ≥ `min`, reporting the worst.
/// Asserts that every value is within `max` of the reference (a bound on each element, far stricter than a
/// cosine: cosine 0.999 allows about 4.5% L2 error).
pub fn assert_max_abs(got: &[Vec<f32>], want: &[Vec<f32>], max: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: count");
    let mut worst = (0f32, 0usize);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}: width of vector {i}");
        for (a, b) in g.iter().zip(w) {
            let d = (a - b).abs();
            // A NaN counts as the worst value.
            let d = if d.is_nan() { f32::INFINITY } else { d };
            if d > worst.0 {
                worst = (d, i);
            }
        }
    }
    eprintln!("{what}: max abs error {:.2e} (vector {})", worst.0, worst.1);
    assert!(
        worst.0 <= max,
        "{what}: vector {} is {} away from the reference (> {max})",
        worst.1,
        worst.0
    );
}

pub fn assert_cosines(got: &[Vec<f32>], want: &[Vec<f32>], min: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: count");
    let mut worst = (1.0f32, 0usize);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}: width of vector {i}");
        let c = cosine(g, w);
        if c < worst.0 {
            worst = (c, i);
        }
    }
    assert!(
        worst.0 >= min,
        "{what}: vector {} has cosine {} < {min}",
        worst.1,
        worst.0
    );
}
