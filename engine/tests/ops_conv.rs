//! Convolutions against PyTorch (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::ops::Conv2dParams;
use offgrid_engine::{DType, Device, Tensor};

const FX: &str = include_str!("fixtures/ops_conv.json");

device_test!(conv2d_groups_stride_dilation, |device: Device| async move {
    let fx = fixture(FX, "conv2d_groups");
    let p = Conv2dParams {
        stride: (2, 1),
        padding: (1, 2),
        dilation: (1, 2),
        groups: 2,
    };
    let b = fx.tensor("b", &device)?;
    let out = fx
        .tensor("x", &device)?
        .conv2d(&fx.tensor("w", &device)?, Some(&b), p)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(
    conv2d_depthwise_on_permuted_input,
    |device: Device| async move {
        let fx = fixture(FX, "conv2d_depthwise_nhwc");
        let x = fx.tensor("x_nhwc", &device)?.permute(&[0, 3, 1, 2])?;
        let p = Conv2dParams {
            padding: (1, 1),
            groups: 5,
            ..Conv2dParams::default()
        };
        let out = x.conv2d(&fx.tensor("w", &device)?, None, p)?;
        assert_close(&out, &fx, "out", F32_TOL).await
    }
);

device_test!(conv1d_all_params, |device: Device| async move {
    let fx = fixture(FX, "conv1d");
    let b = fx.tensor("b", &device)?;
    let out = fx
        .tensor("x", &device)?
        .conv1d(&fx.tensor("w", &device)?, Some(&b), 2, 3, 2, 2)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(conv_transpose1d_all_params, |device: Device| async move {
    let fx = fixture(FX, "conv_transpose1d");
    let b = fx.tensor("b", &device)?;
    let out = fx.tensor("x", &device)?.conv_transpose1d(
        &fx.tensor("w", &device)?,
        Some(&b),
        3,
        2,
        1,
        2,
        2,
    )?;
    assert_close(&out, &fx, "out", F32_TOL).await?;
    let fx = fixture(FX, "conv_transpose1d_plain");
    let out = fx.tensor("x", &device)?.conv_transpose1d(
        &fx.tensor("w", &device)?,
        None,
        2,
        0,
        0,
        1,
        1,
    )?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(
    conv_rejects_mismatched_groups,
    |device: Device| async move {
        let x = Tensor::zeros([1, 4, 5, 5], DType::F32, &device)?;
        let w = Tensor::zeros([6, 3, 3, 3], DType::F32, &device)?;
        let p = Conv2dParams {
            groups: 2,
            ..Conv2dParams::default()
        };
        assert!(x.conv2d(&w, None, p).is_err());
        Ok(())
    }
);
