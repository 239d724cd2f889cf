//! The GPU backend's machinery: buffer pool reuse (a model loaded and dropped 20 times leaves the pool where
//! it started), dispatches past 65,535 workgroups, and one command encoder per forward pass.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gpu_common;

use gpu_common::{assert_close, cpu_tensor, fetch, gpu, quant_bytes};
use offgrid_engine::{DType, Device, Tensor};
use pollster::block_on;

/// A small "model": weights of several types and sizes, uploaded together.
struct TinyModel {
    w1: Tensor,
    w2: Tensor,
    norm: Tensor,
}

impl TinyModel {
    fn load(dev: &Device) -> TinyModel {
        let w1 = Tensor::from_quantized(
            DType::Q8_0,
            quant_bytes(DType::Q8_0, 64, 256, 1),
            [64, 256],
            dev,
        )
        .unwrap();
        let w2 = cpu_tensor(&[256, 64], 2)
            .cast(DType::F16)
            .unwrap()
            .to_device(dev)
            .unwrap();
        let norm = cpu_tensor(&[256], 3).to_device(dev).unwrap();
        TinyModel { w1, w2, norm }
    }
    fn forward(&self, x: &Tensor) -> Tensor {
        let h = x.rms_norm(&self.norm, 1e-6).unwrap();
        let h = h.linear(&self.w1, None).unwrap().silu().unwrap();
        h.linear(&self.w2, None).unwrap().softmax(-1).unwrap()
    }
}

#[test]
fn loading_and_dropping_a_model_20_times_returns_the_pool_to_its_start() {
    block_on(async {
        let dev = gpu().await;
        let Device::Gpu(g) = &dev else { unreachable!() };
        let start = g.pool_stats();
        let x_cpu = cpu_tensor(&[3, 256], 4);
        let mut after_first = None;
        let mut first_out = Vec::new();
        for round in 0..20 {
            let model = TinyModel::load(&dev);
            let x = x_cpu.to_device(&dev).unwrap();
            let y = fetch(&model.forward(&x)).await;
            drop((model, x));
            let stats = g.pool_stats();
            assert_eq!(
                stats.in_use, start.in_use,
                "round {round}: buffers still held"
            );
            assert_eq!(stats.in_use_bytes, start.in_use_bytes, "round {round}");
            match after_first {
                None => {
                    after_first = Some(stats);
                    first_out = y;
                }
                Some(first) => {
                    assert_eq!(
                        stats.created, first.created,
                        "round {round}: new buffers were created"
                    );
                    assert_eq!(stats.idle_bytes, first.idle_bytes, "round {round}");
                    assert_eq!(y, first_out, "round {round}: same input, same output");
                }
            }
        }
        g.trim_pool();
        let trimmed = g.pool_stats();
        assert_eq!(
            (trimmed.idle, trimmed.idle_bytes, trimmed.in_use),
            (0, 0, start.in_use)
        );
    });
}

#[test]
fn dispatches_past_65535_workgroups_cover_every_element() {
    block_on(async {
        let dev = gpu().await;
        // Softmax runs one workgroup per row: 70,000 rows need a 2-D dispatch.
        let x = cpu_tensor(&[70_000, 3], 5);
        let want = x.softmax(-1).unwrap().to_vec_f32().unwrap();
        let got = fetch(&x.to_device(&dev).unwrap().softmax(-1).unwrap()).await;
        assert_close(&got, &want, 1e-6, 1e-5, "softmax rows");
        // Elementwise kernels run 256 values per workgroup: this needs 65,537 groups.
        let n = 65_536 * 256 + 5;
        let data: Vec<f32> = (0..n).map(|i| (i % 1000) as f32).collect();
        let t = Tensor::from_f32(data, n, &dev).unwrap();
        let got = fetch(&t.affine(2.0, 1.0).unwrap()).await;
        assert!(got
            .iter()
            .enumerate()
            .all(|(i, &v)| v == (i % 1000) as f32 * 2.0 + 1.0));
    });
}

#[test]
fn a_forward_pass_is_one_encoder_submitted_at_the_readback() {
    block_on(async {
        let dev = gpu().await;
        let Device::Gpu(g) = &dev else { unreachable!() };
        let model = TinyModel::load(&dev);
        let x = cpu_tensor(&[1, 256], 6).to_device(&dev).unwrap();
        let before = g.encoder_stats();
        let y = model.forward(&x);
        let recorded = g.encoder_stats();
        assert!(recorded.pending_dispatches >= 5, "{recorded:?}");
        assert_eq!(
            recorded.submits, before.submits,
            "nothing submitted while recording"
        );
        let values = fetch(&y).await;
        let after = g.encoder_stats();
        assert_eq!(
            after.submits,
            before.submits + 1,
            "one submit for the whole forward"
        );
        assert_eq!(after.pending_dispatches, 0);
        assert!((values.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    });
}
