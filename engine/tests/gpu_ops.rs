//! Every GPU op against the CPU backend on the same seeded inputs (the CPU backend is checked against
//! PyTorch by the `ops_*` tests), including strided views, broadcasting, f16 and quantized weights.
//! Natively on lavapipe/any Vulkan adapter; the test fails when no adapter exists.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gpu_common;

use gpu_common::{
    assert_close, assert_linear_matches_cpu, cpu_tensor, cpu_weight, fetch, gpu, quant_bytes,
    values, WEIGHT_DTYPES,
};
use offgrid_engine::ops::{BinaryOp, UnaryOp};
use offgrid_engine::{DType, Device, Tensor};
use pollster::block_on;

fn up(t: &Tensor, dev: &Device) -> Tensor {
    t.to_device(dev).expect("upload")
}

#[test]
fn upload_download_roundtrip_every_dtype() {
    block_on(async {
        let dev = gpu().await;
        let f = cpu_tensor(&[3, 5], 1);
        assert_eq!(fetch(&up(&f, &dev)).await, f.to_vec_f32().unwrap());
        let h: Vec<half::f16> = values(7, 2)
            .iter()
            .map(|&v| half::f16::from_f32(v))
            .collect();
        let ht = Tensor::from_f16(h.clone(), 7, &Device::Cpu).unwrap();
        assert_eq!(fetch(&up(&ht, &dev)).await, ht.to_vec_f32().unwrap());
        let u = Tensor::from_u32(vec![0, 7, 1 << 30, 3], 4, &dev).unwrap();
        assert_eq!(
            u.to_cpu().await.unwrap().to_vec_u32().unwrap(),
            vec![0, 7, 1 << 30, 3]
        );
        for dtype in [DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K] {
            let bytes = quant_bytes(dtype, 2, 256, 3);
            let q = Tensor::from_quantized(dtype, bytes.clone(), [2, 256], &dev).unwrap();
            let back = q.to_cpu().await.unwrap();
            let cpu = Tensor::from_quantized(dtype, bytes, [2, 256], &Device::Cpu).unwrap();
            assert_eq!(
                back.to_vec_f32().unwrap(),
                cpu.to_vec_f32().unwrap(),
                "{dtype:?}"
            );
        }
    });
}

#[test]
fn unary_ops_on_strided_views_match_cpu() {
    block_on(async {
        let dev = gpu().await;
        let x = cpu_tensor(&[4, 6, 5], 10).affine(3.0, 0.0).unwrap();
        let xt = x.transpose(0, 2).unwrap();
        let xg = up(&x, &dev).transpose(0, 2).unwrap();
        let ops = [
            UnaryOp::Gelu,
            UnaryOp::GeluTanh,
            UnaryOp::Silu,
            UnaryOp::Relu,
            UnaryOp::LeakyRelu(0.1),
            UnaryOp::Tanh,
            UnaryOp::Sigmoid,
            UnaryOp::Exp,
            UnaryOp::Neg,
            UnaryOp::Abs,
            UnaryOp::Affine {
                mul: 2.0,
                add: -1.0,
            },
        ];
        for op in ops {
            let want = xt.unary(op).unwrap().to_vec_f32().unwrap();
            let got = fetch(&xg.unary(op).unwrap()).await;
            assert_close(&got, &want, 1e-5, 1e-5, &format!("{op:?}"));
        }
        let pos = x.abs().unwrap().affine(1.0, 0.1).unwrap();
        for op in [UnaryOp::Log, UnaryOp::Sqrt] {
            let want = pos.unary(op).unwrap().to_vec_f32().unwrap();
            let got = fetch(&up(&pos, &dev).unary(op).unwrap()).await;
            assert_close(&got, &want, 1e-5, 1e-5, &format!("{op:?}"));
        }
    });
}

#[test]
fn binary_ops_broadcast_match_cpu() {
    block_on(async {
        let dev = gpu().await;
        let a = cpu_tensor(&[3, 1, 5], 20);
        let b = cpu_tensor(&[4, 1], 21).affine(1.0, 2.0).unwrap();
        for op in [
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Maximum,
            BinaryOp::Minimum,
        ] {
            let want = a.binary(&b, op).unwrap();
            let got = up(&a, &dev).binary(&up(&b, &dev), op).unwrap();
            assert_eq!(got.dims(), &[3, 4, 5]);
            assert_close(
                &fetch(&got).await,
                &want.to_vec_f32().unwrap(),
                1e-6,
                1e-6,
                &format!("{op:?}"),
            );
        }
    });
}

#[test]
fn contiguous_cast_and_concat_match_cpu() {
    block_on(async {
        let dev = gpu().await;
        let x = cpu_tensor(&[5, 7, 3], 30);
        let view = x.permute(&[2, 0, 1]).unwrap().narrow(2, 1, 5).unwrap();
        let gview = up(&x, &dev)
            .permute(&[2, 0, 1])
            .unwrap()
            .narrow(2, 1, 5)
            .unwrap();
        let c = gview.contiguous().unwrap();
        assert!(c.is_contiguous());
        assert_eq!(fetch(&c).await, view.to_vec_f32().unwrap());
        let h = gview.cast(DType::F16).unwrap();
        assert_eq!(h.dtype(), DType::F16);
        let want = view.cast(DType::F16).unwrap().to_vec_f32().unwrap();
        assert_eq!(fetch(&h).await, want);
        let y = cpu_tensor(&[3, 5, 2], 31);
        let want = Tensor::concat(&[&view, &y], 2)
            .unwrap()
            .to_vec_f32()
            .unwrap();
        let got = Tensor::concat(&[&gview, &up(&y, &dev)], 2).unwrap();
        assert_eq!(got.dims(), &[3, 5, 7]);
        assert_eq!(fetch(&got).await, want);
    });
}

#[test]
fn matmul_batched_transposed_and_broadcast_match_cpu() {
    block_on(async {
        let dev = gpu().await;
        let cases: [(&[usize], &[usize]); 4] = [
            (&[67, 33], &[33, 70]),
            (&[2, 3, 17, 9], &[3, 9, 65]),
            (&[1, 130], &[130, 5]),
            (&[2, 2, 2, 5, 8], &[8, 3]),
        ];
        for (i, (ad, bd)) in cases.iter().enumerate() {
            let a = cpu_tensor(ad, 40 + i as u64);
            let b = cpu_tensor(bd, 50 + i as u64);
            let want = a.matmul(&b).unwrap();
            let got = up(&a, &dev).matmul(&up(&b, &dev)).unwrap();
            assert_eq!(got.dims(), want.dims());
            assert_close(
                &fetch(&got).await,
                &want.to_vec_f32().unwrap(),
                1e-4,
                1e-4,
                &format!("{ad:?}@{bd:?}"),
            );
        }
        // Transposed operand: a view, no copy on either backend.
        let a = cpu_tensor(&[4, 19, 23], 60);
        let b = cpu_tensor(&[4, 31, 23], 61);
        let want = a.matmul(&b.t().unwrap()).unwrap();
        let got = up(&a, &dev).matmul(&up(&b, &dev).t().unwrap()).unwrap();
        assert_close(
            &fetch(&got).await,
            &want.to_vec_f32().unwrap(),
            1e-4,
            1e-4,
            "a @ b^T",
        );
    });
}

#[test]
fn linear_every_weight_type_gemm_and_gemv_match_cpu() {
    block_on(async {
        let dev = gpu().await;
        let (n, k) = (37, 512);
        for dtype in WEIGHT_DTYPES {
            let w = cpu_weight(dtype, n, k, 70);
            let bias = cpu_tensor(&[n], 72);
            let wg = up(&w, &dev);
            for rows in [1usize, 3, 9] {
                let x = cpu_tensor(&[rows, k], 73 + rows as u64);
                let what = format!("{dtype:?} rows {rows}");
                assert_linear_matches_cpu(&dev, &x, &w, &wg, &bias, &what).await;
            }
        }
    });
}

#[test]
fn softmax_norms_and_reductions_match_cpu() {
    block_on(async {
        let dev = gpu().await;
        let x = cpu_tensor(&[6, 300], 80).affine(4.0, 0.0).unwrap();
        let xg = up(&x, &dev);
        let close = |what: &'static str| {
            move |got: Vec<f32>, want: Vec<f32>| assert_close(&got, &want, 1e-5, 1e-4, what)
        };
        close("softmax")(
            fetch(&xg.softmax(-1).unwrap()).await,
            x.softmax(-1).unwrap().to_vec_f32().unwrap(),
        );
        close("softmax axis 0")(
            fetch(&xg.softmax(0).unwrap()).await,
            x.softmax(0).unwrap().to_vec_f32().unwrap(),
        );
        let w = cpu_tensor(&[300], 81);
        let b = cpu_tensor(&[300], 82);
        close("layer_norm")(
            fetch(
                &xg.layer_norm(&up(&w, &dev), Some(&up(&b, &dev)), 1e-5)
                    .unwrap(),
            )
            .await,
            x.layer_norm(&w, Some(&b), 1e-5)
                .unwrap()
                .to_vec_f32()
                .unwrap(),
        );
        close("rms_norm")(
            fetch(&xg.rms_norm(&up(&w, &dev), 1e-6).unwrap()).await,
            x.rms_norm(&w, 1e-6).unwrap().to_vec_f32().unwrap(),
        );
        let img = cpu_tensor(&[2, 6, 5, 3], 83);
        let gw = cpu_tensor(&[6], 84);
        let gb = cpu_tensor(&[6], 85);
        close("group_norm")(
            fetch(
                &up(&img, &dev)
                    .group_norm(3, Some(&up(&gw, &dev)), Some(&up(&gb, &dev)), 1e-5)
                    .unwrap(),
            )
            .await,
            img.group_norm(3, Some(&gw), Some(&gb), 1e-5)
                .unwrap()
                .to_vec_f32()
                .unwrap(),
        );
        for axis in [0isize, 1, -1] {
            for keep in [false, true] {
                close("sum")(
                    fetch(&up(&img, &dev).sum(axis, keep).unwrap()).await,
                    img.sum(axis, keep).unwrap().to_vec_f32().unwrap(),
                );
                close("mean")(
                    fetch(&up(&img, &dev).mean(axis, keep).unwrap()).await,
                    img.mean(axis, keep).unwrap().to_vec_f32().unwrap(),
                );
                close("max")(
                    fetch(&up(&img, &dev).max(axis, keep).unwrap()).await,
                    img.max(axis, keep).unwrap().to_vec_f32().unwrap(),
                );
                let got = up(&img, &dev).argmax(axis, keep).unwrap();
                assert_eq!(got.dtype(), DType::U32);
                assert_eq!(
                    got.to_cpu().await.unwrap().to_vec_u32().unwrap(),
                    img.argmax(axis, keep).unwrap().to_vec_u32().unwrap()
                );
            }
        }
    });
}

#[test]
fn attention_gqa_causal_masked_and_rope_match_cpu() {
    block_on(async {
        let dev = gpu().await;
        let q = cpu_tensor(&[2, 4, 3, 16], 90);
        let k = cpu_tensor(&[2, 2, 70, 16], 91);
        let v = cpu_tensor(&[2, 2, 70, 16], 92);
        let mask = cpu_tensor(&[1, 1, 3, 70], 93);
        let (qg, kg, vg, mg) = (up(&q, &dev), up(&k, &dev), up(&v, &dev), up(&mask, &dev));
        for (causal, with_mask) in [(false, false), (true, false), (false, true), (true, true)] {
            let m = with_mask.then_some(&mask);
            let mgpu = with_mask.then_some(&mg);
            let want = q
                .attention(&k, &v, m, causal, 0.25)
                .unwrap()
                .to_vec_f32()
                .unwrap();
            let got = qg.attention(&kg, &vg, mgpu, causal, 0.25).unwrap();
            assert_close(
                &fetch(&got).await,
                &want,
                1e-5,
                1e-4,
                &format!("causal {causal} mask {with_mask}"),
            );
        }
        let x = cpu_tensor(&[2, 3, 5, 8], 94);
        let cos = cpu_tensor(&[5, 4], 95);
        let sin = cpu_tensor(&[5, 4], 96);
        for interleaved in [false, true] {
            let want = x
                .rope(&cos, &sin, interleaved)
                .unwrap()
                .to_vec_f32()
                .unwrap();
            let got = up(&x, &dev)
                .rope(&up(&cos, &dev), &up(&sin, &dev), interleaved)
                .unwrap();
            assert_close(&fetch(&got).await, &want, 1e-6, 1e-5, "rope");
        }
    });
}

#[test]
fn kv_cache_appends_in_place_and_embeddings_match_cpu() {
    block_on(async {
        let dev = gpu().await;
        let mut cpu_cache =
            offgrid_engine::ops::KvCache::new(1, 2, 8, 4, DType::F32, &Device::Cpu).unwrap();
        let mut gpu_cache =
            offgrid_engine::ops::KvCache::new(1, 2, 8, 4, DType::F32, &dev).unwrap();
        for step in 0..3u64 {
            let t = if step == 0 { 3 } else { 1 };
            let k = cpu_tensor(&[1, 2, t, 4], 100 + step);
            let v = cpu_tensor(&[1, 2, t, 4], 110 + step);
            let (ck, cv) = cpu_cache.append(&k, &v).unwrap();
            let (gk, gv) = gpu_cache.append(&up(&k, &dev), &up(&v, &dev)).unwrap();
            assert_eq!(fetch(&gk).await, ck.to_vec_f32().unwrap());
            assert_eq!(fetch(&gv).await, cv.to_vec_f32().unwrap());
        }
        for dtype in [
            DType::F32,
            DType::F16,
            DType::Q8_0,
            DType::Q4_K,
            DType::Q6_K,
        ] {
            let table = match dtype {
                DType::F32 => cpu_tensor(&[10, 256], 120),
                DType::F16 => cpu_tensor(&[10, 256], 120).cast(DType::F16).unwrap(),
                q => {
                    Tensor::from_quantized(q, quant_bytes(q, 10, 256, 121), [10, 256], &Device::Cpu)
                        .unwrap()
                }
            };
            let ids = Tensor::from_u32(vec![3, 0, 9, 3], [2, 2], &Device::Cpu).unwrap();
            let want = table.embedding(&ids).unwrap().to_vec_f32().unwrap();
            let got = up(&table, &dev).embedding(&up(&ids, &dev)).unwrap();
            assert_eq!(got.dims(), &[2, 2, 256]);
            assert_close(
                &fetch(&got).await,
                &want,
                1e-6,
                1e-6,
                &format!("embedding {dtype:?}"),
            );
        }
    });
}

/// Image-sized convolutions take the im2col + GEMM path on the GPU (in blocks of output positions): stride,
/// padding and dilation as IS-Net and Whisper use them, on two batch items, against the CPU.
#[test]
fn conv2d_as_matrix_products_matches_cpu() {
    use offgrid_engine::ops::Conv2dParams;
    block_on(async {
        let dev = gpu().await;
        let x = cpu_tensor(&[2, 16, 40, 36], 31);
        let w = cpu_tensor(&[24, 16, 3, 3], 32);
        let b = cpu_tensor(&[24], 33);
        for (stride, dilation) in [(1, 1), (2, 1), (1, 2), (1, 8)] {
            let p = Conv2dParams {
                stride: (stride, stride),
                padding: (dilation, dilation),
                dilation: (dilation, dilation),
                groups: 1,
            };
            let want = x.conv2d(&w, Some(&b), p).unwrap();
            let got = up(&x, &dev)
                .conv2d(&up(&w, &dev), Some(&up(&b, &dev)), p)
                .unwrap();
            assert_eq!(got.dims(), want.dims());
            assert_close(
                &fetch(&got).await,
                &want.to_vec_f32().unwrap(),
                1e-4,
                1e-4,
                &format!("conv2d stride {stride} dilation {dilation}"),
            );
        }
    });
}
