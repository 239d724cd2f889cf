//! Unary and broadcast binary ops against PyTorch (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::{DType, Device, Result, Tensor};

const FX: &str = include_str!("fixtures/ops_elementwise.json");

type UnaryFn = fn(&Tensor) -> Result<Tensor>;

device_test!(unary_ops, |device: Device| async move {
    let fx = fixture(FX, "unary");
    let x = fx.tensor("x", &device)?;
    let ops: [(&str, UnaryFn); 11] = [
        ("gelu", Tensor::gelu),
        ("gelu_tanh", Tensor::gelu_tanh),
        ("silu", Tensor::silu),
        ("relu", Tensor::relu),
        ("tanh", Tensor::tanh),
        ("sigmoid", Tensor::sigmoid),
        ("exp", Tensor::exp),
        ("neg", Tensor::neg),
        ("abs", Tensor::abs),
        ("log", |t| t.abs()?.add_scalar(0.1)?.log()),
        ("sqrt", |t| t.abs()?.add_scalar(0.1)?.sqrt()),
    ];
    for (name, op) in ops {
        assert_close(&op(&x)?, &fx, name, F32_TOL).await?;
    }
    assert_close(&x.leaky_relu(0.1)?, &fx, "leaky_relu", F32_TOL).await?;
    assert_close(&x.affine(1.5, -0.25)?, &fx, "affine", F32_TOL).await?;
    assert_close(&x.t()?.gelu()?, &fx, "gelu_t", F32_TOL).await
});

device_test!(unary_f16_stays_f16, |device: Device| async move {
    let fx = fixture(FX, "unary_f16");
    let out = fx.tensor_f16("x", &device)?.silu()?;
    assert_eq!(out.dtype(), DType::F16);
    assert_close(&out, &fx, "silu", F16_TOL).await
});

device_test!(binary_broadcast, |device: Device| async move {
    let fx = fixture(FX, "binary");
    let (a, b) = (fx.tensor("a", &device)?, fx.tensor("b", &device)?);
    assert_close(&a.add(&b)?, &fx, "add", F32_TOL).await?;
    assert_close(&a.sub(&b)?, &fx, "sub", F32_TOL).await?;
    assert_close(&a.mul(&b)?, &fx, "mul", F32_TOL).await?;
    assert_close(&a.div(&fx.tensor("bpos", &device)?)?, &fx, "div", F32_TOL).await?;
    assert_close(&a.maximum(&b)?, &fx, "maximum", F32_TOL).await?;
    assert_close(&a.minimum(&b)?, &fx, "minimum", F32_TOL).await?;
    let bad = Tensor::zeros([3], DType::F32, &device)?;
    assert!(a.add(&bad).is_err());
    Ok(())
});

device_test!(binary_on_views, |device: Device| async move {
    let fx = fixture(FX, "binary_views");
    let row = fx.tensor("row", &device)?;
    let at = fx.tensor("at", &device)?.t()?;
    assert_close(&at.add(&row)?, &fx, "t_add", F32_TOL).await?;
    let nb = fx.tensor("nb", &device)?.narrow(1, 2, 3)?;
    assert_close(&nb.mul(&row)?, &fx, "narrow_mul", F32_TOL).await
});
