//! Reductions, scans, top-k and softmax against PyTorch (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::Device;

const FX: &str = include_str!("fixtures/ops_reduce.json");

device_test!(reductions, |device: Device| async move {
    let fx = fixture(FX, "reduce");
    let x = fx.tensor("x", &device)?;
    assert_close(&x.sum(1, false)?, &fx, "sum1", F32_TOL).await?;
    assert_close(&x.mean(1, false)?, &fx, "mean1", F32_TOL).await?;
    assert_close(&x.max(1, false)?, &fx, "max1", F32_TOL).await?;
    assert_u32(&x.argmax(1, false)?, &fx, "argmax1").await?;
    assert_close(&x.sum(-1, true)?, &fx, "sum_last_keep", F32_TOL).await?;
    assert_close(&x.max(-1, true)?, &fx, "max_last_keep", F32_TOL).await?;
    assert_u32(&x.argmax(-1, true)?, &fx, "argmax_last_keep").await?;
    assert_close(&x.mean(0, false)?, &fx, "mean0", F32_TOL).await
});

device_test!(cumsum_and_softmax, |device: Device| async move {
    let fx = fixture(FX, "reduce");
    let x = fx.tensor("x", &device)?;
    assert_close(&x.cumsum(1)?, &fx, "cumsum1", F32_TOL).await?;
    assert_close(&x.cumsum(-1)?, &fx, "cumsum_last", F32_TOL).await?;
    assert_close(&x.softmax(1)?, &fx, "softmax1", F32_TOL).await?;
    assert_close(&x.softmax(-1)?, &fx, "softmax_last", F32_TOL).await
});

device_test!(top_k_sorted_with_ties, |device: Device| async move {
    let fx = fixture(FX, "reduce");
    let x = fx.tensor("x", &device)?;
    let (values, indices) = x.top_k(3)?;
    assert_close(&values, &fx, "topk_values", F32_TOL).await?;
    assert_u32(&indices, &fx, "topk_indices").await?;
    assert!(x.top_k(8).is_err());
    Ok(())
});
