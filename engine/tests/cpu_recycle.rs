//! CPU ops that take their output from the recycled-buffer pool (`cpu::recycle`) write every value: with the
//! pool holding a NaN-filled buffer of the output's size, each product is the same, bit for bit, as with a
//! fresh zeroed buffer, and it really did reuse the NaN buffer. One test in its own binary, so no other test
//! takes the buffer from the pool in between.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::cpu::recycle::{release_kept_buffers, F32Buffer};
use offgrid_engine::storage::{CpuStorage, Storage};
use offgrid_engine::{DType, Device, Tensor};

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 500.0 - 1.0)
        .collect()
}

fn data_ptr(t: &Tensor) -> *const f32 {
    match t.storage() {
        Storage::Cpu(CpuStorage::F32(v)) => v.as_ptr(),
        other => panic!("not f32 on the CPU: {other:?}"),
    }
}

#[test]
fn recycled_outputs_are_fully_overwritten() {
    let cpu = Device::Cpu;
    let q8 = |n: usize, k: usize| {
        let bytes = offgrid_engine::quant::quantize(DType::Q8_0, &values(n * k, 3)).unwrap();
        Tensor::from_quantized(DType::Q8_0, bytes, [n, k], &cpu).unwrap()
    };
    let f32s = |dims: &[usize], seed| {
        Tensor::from_f32(values(dims.iter().product(), seed), dims.to_vec(), &cpu).unwrap()
    };
    type Product = Box<dyn Fn() -> Tensor>;
    // Each output has at least 65,536 values, the pool's smallest.
    let cases: Vec<(&str, Product)> = vec![
        ("packed GEMM (128 rows)", {
            let (x, w) = (f32s(&[128, 72], 1), f32s(&[520, 72], 2));
            Box::new(move || x.linear(&w, None).unwrap())
        }),
        ("column strips (8 rows)", {
            let (x, w) = (f32s(&[8, 64], 1), f32s(&[8200, 64], 2));
            Box::new(move || x.linear(&w, None).unwrap())
        }),
        ("quantized dot products (1 row)", {
            let (x, w) = (f32s(&[1, 64], 1), q8(65_600, 64));
            Box::new(move || x.linear(&w, None).unwrap())
        }),
        ("batched matmul", {
            let (a, b) = (f32s(&[2, 130, 64], 1), f32s(&[2, 64, 260], 2));
            Box::new(move || a.matmul(&b).unwrap())
        }),
        ("unary (GELU)", {
            let x = f32s(&[70_000], 1);
            Box::new(move || x.gelu().unwrap())
        }),
        ("binary with broadcasting", {
            let (a, b) = (f32s(&[700, 100], 1), f32s(&[100], 2));
            Box::new(move || a.add(&b).unwrap())
        }),
        ("layer norm", {
            let (x, w, b) = (f32s(&[700, 100], 1), f32s(&[100], 2), f32s(&[100], 3));
            Box::new(move || x.layer_norm(&w, Some(&b), 1e-5).unwrap())
        }),
        ("group norm", {
            let (x, w, b) = (f32s(&[2, 8, 70, 70], 1), f32s(&[8], 2), f32s(&[8], 3));
            Box::new(move || x.group_norm(4, Some(&w), Some(&b), 1e-5).unwrap())
        }),
    ];
    for (name, product) in cases {
        release_kept_buffers();
        let expected = product().to_vec_f32().unwrap();
        assert!(expected.iter().all(|v| v.is_finite()), "{name}");
        release_kept_buffers(); // the first output went to the pool when dropped
        let poison = F32Buffer::from(vec![f32::NAN; expected.len()]);
        let poison_at = poison.as_ptr();
        drop(poison);
        let out = product();
        assert_eq!(
            data_ptr(&out),
            poison_at,
            "{name}: the NaN buffer was reused"
        );
        let got = out.to_vec_f32().unwrap();
        let same = got
            .iter()
            .zip(&expected)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{name}: a value was not overwritten");
    }
}
