//! matmul and linear against PyTorch (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::{DType, Device, Tensor};

const FX: &str = include_str!("fixtures/ops_matmul.json");

/// The integer pattern the fixture script uses for its large inputs (recomputed exactly in f32).
fn pattern(n: usize, seed: i64) -> Vec<f32> {
    (0..n as i64)
        .map(|i| ((i * 7919 + seed * 104729) % 1000) as f32 / 500.0 - 1.0)
        .collect()
}

device_test!(matmul_plain, |device: Device| async move {
    let fx = fixture(FX, "mm");
    let out = fx.tensor("a", &device)?.matmul(&fx.tensor("b", &device)?)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(matmul_transposed_operands, |device: Device| async move {
    let fx = fixture(FX, "mm_transposed");
    let a = fx.tensor("at", &device)?.t()?;
    let b = fx.tensor("bt", &device)?.t()?;
    assert_close(&a.matmul(&b)?, &fx, "out", F32_TOL).await
});

device_test!(matmul_broadcast_batch, |device: Device| async move {
    let fx = fixture(FX, "bmm_broadcast");
    let out = fx.tensor("a", &device)?.matmul(&fx.tensor("b", &device)?)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(matmul_shared_rhs, |device: Device| async move {
    let fx = fixture(FX, "batched_shared_rhs");
    let out = fx.tensor("a", &device)?.matmul(&fx.tensor("b", &device)?)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(linear_bias_and_none, |device: Device| async move {
    let fx = fixture(FX, "linear");
    let (x, w, b) = (
        fx.tensor("x", &device)?,
        fx.tensor("w", &device)?,
        fx.tensor("b", &device)?,
    );
    assert_close(&x.linear(&w, Some(&b))?, &fx, "out", F32_TOL).await?;
    assert_close(&x.linear(&w, None)?, &fx, "out_nobias", F32_TOL).await
});

device_test!(linear_large_gemm_and_gemv, |device: Device| async move {
    for case in ["gemm_big", "gemv_big"] {
        let fx = fixture(FX, case);
        let d = fx.data("dims");
        let (m, n, k) = (d[0] as usize, d[1] as usize, d[2] as usize);
        let x = Tensor::from_f32(pattern(m * k, 1), [m, k], &device)?;
        let w = Tensor::from_f32(pattern(n * k, 2), [n, k], &device)?;
        assert_close(&x.linear(&w, None)?, &fx, "out", F32_TOL).await?;
        // The same product through matmul with a transposed view.
        assert_close(&x.matmul(&w.t()?)?, &fx, "out", F32_TOL).await?;
    }
    Ok(())
});

device_test!(linear_f16, |device: Device| async move {
    let fx = fixture(FX, "linear_f16");
    let x = fx.tensor_f16("x", &device)?;
    let out = x.linear(&fx.tensor_f16("w", &device)?, None)?;
    assert_eq!(out.dtype(), DType::F16);
    assert_close(&out, &fx, "out", F16_TOL).await
});

device_test!(matmul_rejects_bad_shapes, |device: Device| async move {
    let a = Tensor::zeros([2, 3], DType::F32, &device)?;
    let b = Tensor::zeros([4, 5], DType::F32, &device)?;
    assert!(a.matmul(&b).is_err());
    assert!(a.linear(&b, None).is_err());
    Ok(())
});

const QFX: &str = include_str!("fixtures/ops_quantized.json");

device_test!(linear_quantized_q8_0_q4_0, |device: Device| async move {
    for (case, dtype) in [("q8_0", DType::Q8_0), ("q4_0", DType::Q4_0)] {
        let fx = fixture(QFX, case);
        let bytes = fx.data("bytes").into_iter().map(|v| v as u8).collect();
        let w = Tensor::from_quantized(dtype, bytes, [6, 64], &device)?;
        let x = fx.tensor("x", &device)?;
        // Three rows take the integer-dot path: activations are quantized to 8 bits (as llama.cpp does), so
        // the result is close to, not equal to, the product with dequantized weights.
        assert_close(&x.linear(&w, None)?, &fx, "linear", 5e-2).await?;
        // Twelve rows take the f32 GEMM on dequantized panels: as exact as f32.
        let x12 = Tensor::concat(&[&x, &x, &x, &x], 0)?;
        let want = fx.data("linear").repeat(4);
        let got = x12.linear(&w, None)?.to_vec_f32_async().await?;
        assert_values(&got, &want, F32_TOL, case);
    }
    Ok(())
});
