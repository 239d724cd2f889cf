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

// Decode-shaped products with quantized weights, checked against f64 sums over the dequantized weights. The
// few-row path quantizes the activations to 8-bit blocks (as llama.cpp does), so each output may differ from
// the exact product by at most Σ_blocks amax(x_block) / 254 · Σ |w| over the block (half a code step per
// value), which the assertion allows and nothing more. Shapes cover the GPU kernel's threads-per-row choices
// (32 below 2,048 rows, 16 below 4,096, 8 from there), rows of K = 896, 4864, 8960, rows left over in a
// workgroup, several activation rows, a weight view that starts at a later row (a block offset) and more
// rows than the GPU kernel has workgroups, and rows too long for it.
device_test!(
    linear_quantized_decode_shapes_within_the_activation_rounding,
    |device: Device| async move {
        for dtype in [DType::Q8_0, DType::Q4_0] {
            for (m, n, k, skip, half) in [
                (1, 37, 4864, 0, false),
                (3, 70, 896, 0, false),
                (1, 9, 8960, 0, false),
                (2, 20, 1536, 5, false),
                (1, 33, 2048, 0, true),
                (1, 3001, 96, 7, false),
                // Rows too long for the integer-dot kernel (over 352 blocks) take gemv.wgsl; 353 blocks per
                // row start the viewed rows inside a group of eight blocks.
                (1, 5, 11296, 1, false),
                // More row groups than the GPU kernel has workgroups: each takes several in turn.
                (2, 9000, 64, 0, false),
            ] {
                let rows = n + skip;
                let bytes = offgrid_engine::quant::quantize(dtype, &pattern(rows * k, 2))?;
                let dequant = offgrid_engine::quant::dequantize(dtype, &bytes)?;
                let w = Tensor::from_quantized(dtype, bytes, [rows, k], &device)?;
                let w = w.narrow(0, skip, n)?;
                let mut xs = pattern(m * k, 1);
                let mut x = Tensor::from_f32(xs.clone(), [m, k], &device)?;
                if half {
                    // f16 activations: the exact product is over the f16 values, and the f16 result adds its
                    // own rounding (allowed below as a relative 1e-3).
                    xs = xs
                        .iter()
                        .map(|v| half::f16::from_f32(*v).to_f32())
                        .collect();
                    x = x.cast(DType::F16)?;
                }
                let got = x.linear(&w, None)?.to_vec_f32_async().await?;
                for i in 0..m {
                    for j in 0..n {
                        let wrow = &dequant[(skip + j) * k..(skip + j + 1) * k];
                        let xrow = &xs[i * k..(i + 1) * k];
                        let exact: f64 = wrow
                            .iter()
                            .zip(xrow)
                            .map(|(a, b)| *a as f64 * *b as f64)
                            .sum();
                        let bound: f64 = wrow
                            .chunks(32)
                            .zip(xrow.chunks(32))
                            .map(|(wb, xb)| {
                                let amax = xb.iter().fold(0f32, |a, v| a.max(v.abs())) as f64;
                                let wsum: f64 = wb.iter().map(|v| v.abs() as f64).sum();
                                amax / 254.0 * wsum
                            })
                            .sum();
                        let err = (got[i * n + j] as f64 - exact).abs();
                        assert!(
                            err <= bound * 1.01
                                + 1e-3
                                + if half { exact.abs() * 1e-3 } else { 0.0 },
                            "{dtype:?} {m}x{n}x{k} [{i},{j}]: {} vs {exact} (bound {bound})",
                            got[i * n + j]
                        );
                    }
                }
            }
        }
        Ok(())
    }
);

// F16 weights at decode sizes (the GEMV reads them a word, two values, at a time), against an f64 product of
// the f16 values: rows starting at a later row of the weight, f32 and f16 activations, K from 96 to 4864.
device_test!(
    linear_f16_weights_decode_shapes,
    |device: Device| async move {
        for (m, n, k, skip, half) in [
            (1, 37, 4864, 0, false),
            (3, 70, 96, 5, false),
            (2, 33, 896, 1, true),
        ] {
            let rows = n + skip;
            let w = Tensor::from_f32(pattern(rows * k, 2), [rows, k], &Device::Cpu)?
                .cast(DType::F16)?;
            let wv = w.to_vec_f32()?;
            let w = w.to_device(&device)?.narrow(0, skip, n)?;
            let mut x = Tensor::from_f32(pattern(m * k, 1), [m, k], &Device::Cpu)?;
            if half {
                x = x.cast(DType::F16)?;
            }
            let xv = x.to_vec_f32()?;
            let got = x
                .to_device(&device)?
                .linear(&w, None)?
                .to_vec_f32_async()
                .await?;
            for i in 0..m {
                for j in 0..n {
                    let wrow = &wv[(skip + j) * k..(skip + j + 1) * k];
                    let xrow = &xv[i * k..(i + 1) * k];
                    let exact: f64 = wrow
                        .iter()
                        .zip(xrow)
                        .map(|(a, b)| *a as f64 * *b as f64)
                        .sum();
                    let size: f64 = wrow
                        .iter()
                        .zip(xrow)
                        .map(|(a, b)| (*a as f64 * *b as f64).abs())
                        .sum();
                    // f32 accumulation, plus the f16 result's own rounding for f16 activations.
                    let tol = size * 1e-5 + if half { exact.abs() * 1e-3 } else { 0.0 };
                    let err = (got[i * n + j] as f64 - exact).abs();
                    assert!(
                        err <= tol,
                        "{m}x{n}x{k} [{i},{j}]: {} vs {exact} (tolerance {tol})",
                        got[i * n + j]
                    );
                }
            }
        }
        Ok(())
    }
);
