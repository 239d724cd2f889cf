//! Block quantization checked block-for-block against gguf-py (llama.cpp's Python), and the quantized matmul
//! checked against a dequantize-then-multiply reference. Fixtures: `scripts/fixtures/quant_fixtures.py`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod quant_common;

use offgrid_engine::quant::{dequantize, matmul_t, quantize};
use offgrid_engine::DType;
use quant_common::{field, seeded, unhex, unhex_f32};

fn fixture() -> serde_json::Value {
    serde_json::from_str(include_str!("fixtures/quant_blocks.json")).unwrap()
}

fn dtype_named(name: &str) -> DType {
    match name {
        "Q8_0" => DType::Q8_0,
        "Q4_0" => DType::Q4_0,
        "Q4_K" => DType::Q4_K,
        "Q6_K" => DType::Q6_K,
        other => panic!("unknown {other}"),
    }
}

#[test]
fn quantize_matches_gguf_block_for_block() {
    let fx = fixture();
    for name in ["Q8_0", "Q4_0"] {
        let dtype = dtype_named(name);
        let input = unhex_f32(field(&fx, &[name, "input"]).as_str().unwrap());
        let expected = unhex(field(&fx, &[name, "bytes"]).as_str().unwrap());
        let ours = quantize(dtype, &input).unwrap();
        assert_eq!(ours.len(), expected.len(), "{name}");
        let bb = dtype.block_bytes();
        for (b, (o, e)) in ours.chunks(bb).zip(expected.chunks(bb)).enumerate() {
            assert_eq!(o, e, "{name} block {b} differs from gguf-py");
        }
    }
}

#[test]
fn dequantize_matches_gguf_bitwise() {
    let fx = fixture();
    for name in ["Q8_0", "Q4_0", "Q4_K", "Q6_K"] {
        let bytes = unhex(field(&fx, &[name, "bytes"]).as_str().unwrap());
        let expected = unhex_f32(field(&fx, &[name, "dequantized"]).as_str().unwrap());
        let ours = dequantize(dtype_named(name), &bytes).unwrap();
        assert_eq!(ours.len(), expected.len(), "{name}");
        for (i, (o, e)) in ours.iter().zip(&expected).enumerate() {
            assert_eq!(
                o.to_bits(),
                e.to_bits(),
                "{name} value {i}: {o} vs gguf-py {e}"
            );
        }
    }
}

/// out = x · Wᵀ from dequantized W in f64, and the scale Σ|x||w| per output for a tolerance.
fn reference(w: &[f32], n: usize, k: usize, x: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let m = x.len() / k;
    let mut out = vec![0f64; m * n];
    let mut mag = vec![0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            for t in 0..k {
                let p = x[i * k + t] as f64 * w[j * k + t] as f64;
                out[i * n + j] += p;
                mag[i * n + j] += p.abs();
            }
        }
    }
    (out, mag)
}

fn check_matmul(dtype: DType, w_bytes: &[u8], n: usize, k: usize, m: usize, seed: u64) {
    let w = dequantize(dtype, w_bytes).unwrap();
    let x = seeded(m * k, seed);
    let mut out = vec![f32::NAN; m * n];
    matmul_t(dtype, w_bytes, n, k, &x, &mut out).unwrap();
    let (expected, mag) = reference(&w, n, k, &x);
    for (i, ((o, e), g)) in out.iter().zip(&expected).zip(&mag).enumerate() {
        // Activations are rounded to 8 bits (relative step 1/127 per block max); errors average out.
        let tol = g * 8e-3 + 1e-6;
        assert!(
            ((*o as f64) - e).abs() <= tol,
            "{dtype:?} m={m} n={n} k={k} out[{i}] = {o}, expected {e} ± {tol}"
        );
    }
    // Row i of a batched call equals a single-row call on x row i (layout of the m > 1 path).
    if m > 1 {
        for i in 0..m {
            let mut one = vec![0f32; n];
            matmul_t(dtype, w_bytes, n, k, &x[i * k..(i + 1) * k], &mut one).unwrap();
            assert_eq!(&out[i * n..(i + 1) * n], &one[..], "{dtype:?} row {i}");
        }
    }
}

#[test]
fn matmul_t_matches_dequantized_reference_on_fixture_blocks() {
    let fx = fixture();
    for (name, n, k) in [
        ("Q8_0", 4, 256),
        ("Q4_0", 8, 128),
        ("Q4_K", 4, 512),
        ("Q6_K", 2, 1024),
    ] {
        let bytes = unhex(field(&fx, &[name, "bytes"]).as_str().unwrap());
        for m in [1, 3] {
            check_matmul(dtype_named(name), &bytes, n, k, m, 11 + m as u64);
        }
    }
}

#[test]
fn matmul_t_odd_row_counts_and_many_rows() {
    // 37 output rows (not a multiple of any chunk) and 19 activation rows (more than one tile).
    let (n, k) = (37, 96);
    let w = seeded(n * k, 5);
    for dtype in [DType::Q8_0, DType::Q4_0] {
        let bytes = quantize(dtype, &w).unwrap();
        check_matmul(dtype, &bytes, n, k, 19, 9);
        check_matmul(dtype, &bytes, n, k, 1, 10);
    }
}

#[test]
fn bad_sizes_and_types_are_errors() {
    assert!(quantize(DType::Q8_0, &[0.0; 33]).is_err());
    assert!(quantize(DType::F32, &[0.0; 32]).is_err());
    assert!(quantize(DType::Q4_K, &[0.0; 256]).is_err());
    assert!(dequantize(DType::Q4_0, &[0u8; 19]).is_err());
    assert!(dequantize(DType::F16, &[0u8; 4]).is_err());
    // Amax 127 makes both scales exactly 1, so the result is exact.
    let w = quantize(DType::Q8_0, &[127.0; 64]).unwrap();
    let mut out = [0f32; 2];
    assert!(matmul_t(DType::Q8_0, &w, 2, 32, &[127.0; 32], &mut out).is_ok());
    assert!(matmul_t(DType::Q8_0, &w, 2, 32, &[1.0; 31], &mut out).is_err());
    assert!(matmul_t(DType::Q8_0, &w, 3, 32, &[1.0; 32], &mut out).is_err());
    assert!(matmul_t(DType::Q8_0, &w, 1, 64, &[1.0; 64], &mut out).is_err());
    assert!(matmul_t(DType::Q8_0, &w, 2, 0, &[], &mut out).is_err());
    assert!(matmul_t(DType::F32, &w, 2, 32, &[1.0; 32], &mut out).is_err());
    assert_eq!(out, [127.0 * 127.0 * 32.0; 2]);
}

/// Q4_1 and Q5_0 (GGUF-only types: the engine reads them, never writes them) against gguf-py.
/// Fixtures: `scripts/fixtures/quant_q4_1_q5_0_fixtures.py`.
#[test]
fn q4_1_and_q5_0_dequantize_bitwise_and_multiply_like_the_reference() {
    let fx: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/quant_q4_1_q5_0.json")).unwrap();
    for (name, dtype) in [("Q4_1", DType::Q4_1), ("Q5_0", DType::Q5_0)] {
        let bytes = unhex(field(&fx, &[name, "bytes"]).as_str().unwrap());
        let expected = unhex_f32(field(&fx, &[name, "dequantized"]).as_str().unwrap());
        let input = unhex_f32(field(&fx, &[name, "input"]).as_str().unwrap());
        assert_eq!(bytes.len(), 32 * dtype.block_bytes(), "{name}");
        let ours = dequantize(dtype, &bytes).unwrap();
        for (i, (o, e)) in ours.iter().zip(&expected).enumerate() {
            assert_eq!(
                o.to_bits(),
                e.to_bits(),
                "{name} value {i}: {o} vs gguf-py {e}"
            );
        }
        // The codes are 4/5 bits: the dequantized blocks stay within half a step of the input.
        for (blk, (d, x)) in ours.chunks(32).zip(input.chunks(32)).enumerate() {
            let range = x.iter().fold(0f32, |m, v| m.max(v.abs())) * 2.0;
            let step = range / if dtype == DType::Q4_1 { 15.0 } else { 31.0 };
            for (a, b) in d.iter().zip(x) {
                assert!(
                    (a - b).abs() <= step + 1e-6,
                    "{name} block {blk}: {a} vs {b}"
                );
            }
        }
        for (n, k) in [(4, 256), (8, 128), (32, 32)] {
            for m in [1, 3, 19] {
                check_matmul(dtype, &bytes, n, k, m, 31 + m as u64);
            }
        }
    }
}
