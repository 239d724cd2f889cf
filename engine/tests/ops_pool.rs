//! Pooling and bilinear resize against PyTorch (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::Device;

const FX: &str = include_str!("fixtures/ops_pool.json");

device_test!(max_pool2d_ceil_and_floor, |device: Device| async move {
    let fx = fixture(FX, "pool");
    let x = fx.tensor("x", &device)?;
    assert_close(
        &x.max_pool2d((3, 2), (2, 2), (1, 1), true)?,
        &fx,
        "max_ceil",
        F32_TOL,
    )
    .await?;
    assert_close(
        &x.max_pool2d((3, 3), (2, 3), (1, 0), false)?,
        &fx,
        "max_floor",
        F32_TOL,
    )
    .await
});

device_test!(avg_pool2d_padding_modes, |device: Device| async move {
    let fx = fixture(FX, "pool");
    let x = fx.tensor("x", &device)?;
    let pad = x.avg_pool2d((3, 3), (2, 2), (1, 1), true, true)?;
    assert_close(&pad, &fx, "avg_ceil_pad", F32_TOL).await?;
    let nopad = x.avg_pool2d((3, 3), (2, 2), (1, 1), true, false)?;
    assert_close(&nopad, &fx, "avg_ceil_nopad", F32_TOL).await?;
    let plain = x.avg_pool2d((2, 2), (2, 2), (0, 0), false, true)?;
    assert_close(&plain, &fx, "avg_plain", F32_TOL).await
});

device_test!(
    resize_bilinear_both_alignments,
    |device: Device| async move {
        let fx = fixture(FX, "resize");
        let x = fx.tensor("x", &device)?;
        assert_close(&x.resize_bilinear(11, 13, true)?, &fx, "up_align", F32_TOL).await?;
        assert_close(
            &x.resize_bilinear(11, 13, false)?,
            &fx,
            "up_noalign",
            F32_TOL,
        )
        .await?;
        assert_close(&x.resize_bilinear(3, 4, true)?, &fx, "down_align", F32_TOL).await?;
        assert_close(
            &x.resize_bilinear(3, 4, false)?,
            &fx,
            "down_noalign",
            F32_TOL,
        )
        .await
    }
);
