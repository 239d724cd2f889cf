//! Gather, concat, pad, where, cast and quantized embedding rows against PyTorch / gguf
//! (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::{DType, Device, Tensor};

const FX: &str = include_str!("fixtures/ops_index.json");
const QFX: &str = include_str!("fixtures/ops_quantized.json");

device_test!(index_select_and_embedding, |device: Device| async move {
    let fx = fixture(FX, "select");
    let t = fx.tensor("t", &device)?;
    let rows = t.index_select(&fx.tensor_u32("ids", &device)?, 0)?;
    assert_close(&rows, &fx, "rows", F32_TOL).await?;
    let cols_ids = Tensor::from_u32(vec![5, 1], [2], &device)?;
    assert_close(&t.index_select(&cols_ids, 1)?, &fx, "cols", F32_TOL).await?;
    assert_close(
        &t.embedding(&fx.tensor_u32("ids2", &device)?)?,
        &fx,
        "emb",
        F32_TOL,
    )
    .await?;
    let out_of_range = Tensor::from_u32(vec![10], [1], &device)?;
    assert!(t.index_select(&out_of_range, 0).is_err());
    Ok(())
});

device_test!(
    embedding_rows_of_quantized_tables,
    |device: Device| async move {
        for (case, dtype) in [("q8_0", DType::Q8_0), ("q4_0", DType::Q4_0)] {
            let fx = fixture(QFX, case);
            let bytes = fx.data("bytes").into_iter().map(|v| v as u8).collect();
            let table = Tensor::from_quantized(dtype, bytes, [6, 64], &device)?;
            let rows = table.embedding(&fx.tensor_u32("ids", &device)?)?;
            assert_close(&rows, &fx, "rows", F32_TOL).await?;
        }
        Ok(())
    }
);

device_test!(concat_and_pad, |device: Device| async move {
    let fx = fixture(FX, "concat");
    let (a, b) = (fx.tensor("a", &device)?, fx.tensor("b", &device)?);
    assert_close(&Tensor::concat(&[&a, &b], 1)?, &fx, "out1", F32_TOL).await?;
    // torch's a.flip(0) is rows swapped: build it from narrowed views.
    let flipped = Tensor::concat(&[&a.narrow(0, 1, 1)?, &a.narrow(0, 0, 1)?], 0)?;
    assert_close(
        &Tensor::concat(&[&a, &flipped], -1)?,
        &fx,
        "out_last",
        F32_TOL,
    )
    .await?;
    assert!(Tensor::concat(&[&a, &b], 0).is_err());
    let fx = fixture(FX, "pad");
    let a = fx.tensor("a", &device)?;
    assert_close(&a.pad(-1, 2, 1, -1.5)?, &fx, "out", F32_TOL).await?;
    assert_close(&a.pad(0, 1, 0, 0.0)?, &fx, "out0", F32_TOL).await
});

device_test!(where_cond_broadcast, |device: Device| async move {
    let fx = fixture(FX, "where");
    let mask = fx.tensor_u32("mask", &device)?;
    let out = mask.where_cond(&fx.tensor("t", &device)?, &fx.tensor("f", &device)?)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(cast_and_contiguous, |device: Device| async move {
    let fx = fixture(FX, "cast");
    let x = fx.tensor("x", &device)?;
    let h = x.cast(DType::F16)?;
    assert_eq!(h.dtype(), DType::F16);
    // Both sides round to the nearest f16 (steps of 1/128 at this magnitude; the JSON keeps 8 digits).
    assert_close(&h.cast(DType::F32)?, &fx, "f16", 1e-6).await?;
    let ids = Tensor::from_u32(vec![3, 1, 4], [3], &device)?;
    assert_eq!(
        ids.cast(DType::F32)?.to_vec_f32_async().await?,
        vec![3.0, 1.0, 4.0]
    );
    let t = x.t()?;
    let c = t.contiguous()?;
    assert!(c.is_contiguous());
    assert_eq!(c.to_vec_f32_async().await?, t.to_vec_f32_async().await?);
    Ok(())
});
