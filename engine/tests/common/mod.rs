//! Shared helpers for the op tests: PyTorch fixtures (made by `scripts/fixtures/ops_fixtures.py`, read with
//! `include_str!` so the same tests build for wasm32) and [`device_test!`], which runs one test body per device.
#![allow(dead_code)] // each test file uses a different subset

use half::f16;
use offgrid_engine::{Device, Result, Tensor};
use serde_json::Value;

// In wasm32 runs, every test runs in headless Chromium (WebGPU needs a browser, not Node).
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// One case of a fixture file: named tensors.
pub struct Fixture {
    case: Value,
    name: String,
}

/// Case `case` of a fixture file's text.
pub fn fixture(json: &str, case: &str) -> Fixture {
    let all: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("bad fixture JSON: {e}"));
    let case_value = all
        .get(case)
        .unwrap_or_else(|| panic!("fixture case `{case}` is missing"))
        .clone();
    Fixture {
        case: case_value,
        name: case.to_string(),
    }
}

impl Fixture {
    fn entry(&self, name: &str) -> &Value {
        self.case
            .get(name)
            .unwrap_or_else(|| panic!("fixture {}: no tensor `{name}`", self.name))
    }
    /// The shape of tensor `name`.
    pub fn shape(&self, name: &str) -> Vec<usize> {
        self.entry(name)["shape"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no shape"))
            .iter()
            .map(|v| v.as_u64().unwrap_or_else(|| panic!("{name}: bad dim")) as usize)
            .collect()
    }
    /// The values of tensor `name` as f32.
    pub fn data(&self, name: &str) -> Vec<f32> {
        self.entry(name)["data"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no data"))
            .iter()
            .map(|v| v.as_f64().unwrap_or_else(|| panic!("{name}: bad value")) as f32)
            .collect()
    }
    /// The values of tensor `name` as u32.
    pub fn data_u32(&self, name: &str) -> Vec<u32> {
        self.data(name).into_iter().map(|v| v as u32).collect()
    }
    /// Tensor `name` as F32 on `device`.
    pub fn tensor(&self, name: &str, device: &Device) -> Result<Tensor> {
        Tensor::from_f32(self.data(name), self.shape(name), device)
    }
    /// Tensor `name` as F16 on `device`.
    pub fn tensor_f16(&self, name: &str, device: &Device) -> Result<Tensor> {
        let data = self.data(name).into_iter().map(f16::from_f32).collect();
        Tensor::from_f16(data, self.shape(name), device)
    }
    /// Tensor `name` as U32 on `device`.
    pub fn tensor_u32(&self, name: &str, device: &Device) -> Result<Tensor> {
        Tensor::from_u32(self.data_u32(name), self.shape(name), device)
    }
}

/// Relative tolerance for f32 results.
pub const F32_TOL: f32 = 1e-4;
/// Relative tolerance for f16 results (a few f16 ulps).
pub const F16_TOL: f32 = 4e-3;

/// Asserts that `actual` has `fx[name]`'s shape and values within `tol` (relative, with the same absolute floor).
pub async fn assert_close(actual: &Tensor, fx: &Fixture, name: &str, tol: f32) -> Result<()> {
    assert_eq!(
        actual.dims(),
        fx.shape(name).as_slice(),
        "{}/{name}: shape",
        fx.name
    );
    let got = actual.to_vec_f32_async().await?;
    assert_values(&got, &fx.data(name), tol, &format!("{}/{name}", fx.name));
    Ok(())
}

/// Asserts that two value lists agree within `tol` (relative, with the same absolute floor).
pub fn assert_values(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g - w).abs() <= tol * (1.0 + w.abs()) || (g.is_nan() && w.is_nan());
        assert!(ok, "{what}[{i}]: got {g}, want {w} (tolerance {tol})");
    }
}

/// Asserts that a U32 tensor equals `fx[name]`.
pub async fn assert_u32(actual: &Tensor, fx: &Fixture, name: &str) -> Result<()> {
    assert_eq!(
        actual.dims(),
        fx.shape(name).as_slice(),
        "{}/{name}: shape",
        fx.name
    );
    let cpu = actual.to_cpu().await?;
    assert_eq!(cpu.to_vec_u32()?, fx.data_u32(name), "{}/{name}", fx.name);
    Ok(())
}

/// Defines a test module `$name` that runs `$body` (an `async` closure taking a [`Device`] and returning
/// `Result<()>`) on every device: `$name::cpu` natively (pollster) and as a `wasm_bindgen_test` on wasm32.
#[macro_export]
macro_rules! device_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[cfg(not(target_arch = "wasm32"))]
            #[test]
            fn cpu() -> offgrid_engine::Result<()> {
                pollster::block_on(($body)(offgrid_engine::Device::Cpu))
            }

            #[cfg(target_arch = "wasm32")]
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn cpu() {
                let result: offgrid_engine::Result<()> = ($body)(offgrid_engine::Device::Cpu).await;
                if let Err(e) = result {
                    panic!("{e}");
                }
            }

            // The same body on the GPU: lavapipe (or any Vulkan adapter) natively, WebGPU in Chromium on
            // wasm32. No adapter fails the test: a GPU test that skips proves nothing.
            #[cfg(not(target_arch = "wasm32"))]
            #[test]
            fn gpu() -> offgrid_engine::Result<()> {
                pollster::block_on(async {
                    let gpu = offgrid_engine::gpu::GpuDevice::new().await?;
                    ($body)(offgrid_engine::Device::Gpu(gpu)).await
                })
            }

            #[cfg(target_arch = "wasm32")]
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn gpu() {
                let gpu = match offgrid_engine::gpu::GpuDevice::new().await {
                    Ok(g) => g,
                    Err(e) => panic!("no WebGPU adapter: {e}"),
                };
                let result: offgrid_engine::Result<()> =
                    ($body)(offgrid_engine::Device::Gpu(gpu)).await;
                if let Err(e) = result {
                    panic!("{e}");
                }
            }
        }
    };
}
