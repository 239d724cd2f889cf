//! Normalisation against PyTorch (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::ops::{fold_batch_norm, Conv2dParams};
use offgrid_engine::Device;

const FX: &str = include_str!("fixtures/ops_norm.json");

device_test!(layer_norm, |device: Device| async move {
    let fx = fixture(FX, "layer_norm");
    let b = fx.tensor("b", &device)?;
    let out = fx
        .tensor("x", &device)?
        .layer_norm(&fx.tensor("w", &device)?, Some(&b), 1e-5)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(rms_norm, |device: Device| async move {
    let fx = fixture(FX, "rms_norm");
    let out = fx
        .tensor("x", &device)?
        .rms_norm(&fx.tensor("w", &device)?, 1e-6)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(group_norm, |device: Device| async move {
    let fx = fixture(FX, "group_norm");
    let (w, b) = (fx.tensor("w", &device)?, fx.tensor("b", &device)?);
    let out = fx
        .tensor("x", &device)?
        .group_norm(3, Some(&w), Some(&b), 1e-5)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(batch_norm_folded_into_conv, |device: Device| async move {
    let fx = fixture(FX, "fold_batch_norm");
    let cpu = Device::Cpu;
    let cb = fx.tensor("cb", &cpu)?;
    let (w, b) = fold_batch_norm(
        &fx.tensor("cw", &cpu)?,
        Some(&cb),
        &fx.tensor("gamma", &cpu)?,
        &fx.tensor("beta", &cpu)?,
        &fx.tensor("mean", &cpu)?,
        &fx.tensor("var", &cpu)?,
        1e-5,
    )?;
    let (w, b) = (w.to_device(&device)?, b.to_device(&device)?);
    let p = Conv2dParams {
        padding: (1, 1),
        ..Conv2dParams::default()
    };
    let out = fx.tensor("x", &device)?.conv2d(&w, Some(&b), p)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});
