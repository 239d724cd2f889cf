//! Attention, the KV cache and RoPE against PyTorch (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::ops::KvCache;
use offgrid_engine::{DType, Device, Tensor};

const FX: &str = include_str!("fixtures/ops_attention.json");

device_test!(attention_gqa_mask_causal, |device: Device| async move {
    let fx = fixture(FX, "gqa_mask_causal");
    let (q, k, v) = (
        fx.tensor("q", &device)?,
        fx.tensor("k", &device)?,
        fx.tensor("v", &device)?,
    );
    let mask = fx.tensor("mask", &device)?;
    let out = q.attention(&k, &v, Some(&mask), true, 0.3)?;
    assert_close(&out, &fx, "out", F32_TOL).await
});

device_test!(attention_matches_torch_sdpa, |device: Device| async move {
    let fx = fixture(FX, "plain");
    let (q, k, v) = (
        fx.tensor("q", &device)?,
        fx.tensor("k", &device)?,
        fx.tensor("v", &device)?,
    );
    assert_close(
        &q.attention(&k, &v, None, false, 0.25)?,
        &fx,
        "out",
        F32_TOL,
    )
    .await
});

// Many queries take the tiled GPU kernel: two blocks of 64 queries, grouped heads, a key-padding mask, causal
// alignment and 90 keys (not a whole number of 32-key tiles), with a head size of 18 (not a multiple of 4).
device_test!(
    attention_many_queries_gqa_mask_causal,
    |device: Device| async move {
        let fx = fixture(FX, "prefill");
        let (q, k, v) = (
            fx.tensor("q", &device)?,
            fx.tensor("k", &device)?,
            fx.tensor("v", &device)?,
        );
        let mask = fx.tensor("mask", &device)?;
        let out = q.attention(&k, &v, Some(&mask), true, 0.3)?;
        assert_close(&out, &fx, "out", F32_TOL).await
    }
);

// Strided views, as a model gets them by transposing [batch, len, heads, dim] projections, against torch's
// own fused attention.
device_test!(
    attention_many_queries_on_views,
    |device: Device| async move {
        let fx = fixture(FX, "encoder_views");
        let view = |name: &str| -> offgrid_engine::Result<Tensor> {
            fx.tensor(name, &device)?.transpose(1, 2)
        };
        let (q, k, v) = (view("q")?, view("k")?, view("v")?);
        assert!(!q.is_contiguous());
        let out = q.attention(&k, &v, None, false, 1.0 / 12f32.sqrt())?;
        assert_close(&out, &fx, "out", F32_TOL).await
    }
);

// The largest head the tiled kernel takes (64), with a full additive mask.
device_test!(
    attention_many_queries_wide_head,
    |device: Device| async move {
        let fx = fixture(FX, "wide_head");
        let (q, k, v) = (
            fx.tensor("q", &device)?,
            fx.tensor("k", &device)?,
            fx.tensor("v", &device)?,
        );
        let mask = fx.tensor("mask", &device)?;
        let out = q.attention(&k, &v, Some(&mask), false, 0.125)?;
        assert_close(&out, &fx, "out", F32_TOL).await
    }
);

device_test!(attention_over_kv_cache, |device: Device| async move {
    let fx = fixture(FX, "decode");
    let (q, k, v) = (
        fx.tensor("q", &device)?,
        fx.tensor("k", &device)?,
        fx.tensor("v", &device)?,
    );
    let scale = 1.0 / 8f32.sqrt();
    let mut cache = KvCache::new(1, 2, 8, 8, DType::F32, &device)?;
    // Prefill five positions, then decode the sixth, as a generation loop would.
    let (k5, v5) = cache.append(&k.narrow(2, 0, 5)?, &v.narrow(2, 0, 5)?)?;
    assert_eq!(k5.dims(), &[1, 2, 5, 8]);
    drop((k5, v5));
    let (kc, vc) = cache.append(&k.narrow(2, 5, 1)?, &v.narrow(2, 5, 1)?)?;
    assert_eq!(cache.len(), 6);
    assert_eq!(kc.to_vec_f32_async().await?, k.to_vec_f32_async().await?);
    assert_close(
        &q.attention(&kc, &vc, None, true, scale)?,
        &fx,
        "out",
        F32_TOL,
    )
    .await?;
    // Too many positions is an error, not a reallocation.
    let three = Tensor::zeros([1, 2, 3, 8], DType::F32, &device)?;
    assert!(cache.append(&three, &three).is_err());
    cache.reset();
    assert!(cache.is_empty());
    Ok(())
});

device_test!(rope_both_styles, |device: Device| async move {
    let fx = fixture(FX, "rope");
    let x = fx.tensor("x", &device)?;
    let (cos, sin) = (fx.tensor("cos", &device)?, fx.tensor("sin", &device)?);
    assert_close(&x.rope(&cos, &sin, false)?, &fx, "rotate_half", F32_TOL).await?;
    assert_close(&x.rope(&cos, &sin, true)?, &fx, "interleaved", F32_TOL).await?;
    // The engine's own tables for positions 3..9 match the ones torch used.
    let (c2, s2) = offgrid_engine::ops::rope::rope_tables(3, 6, 8, 10000.0, &device)?;
    assert_close(&c2, &fx, "cos", F32_TOL).await?;
    assert_close(&s2, &fx, "sin", F32_TOL).await
});
