//! Quantized GEMV at decode shapes (Qwen2 0.5B: 896/4864, 1.5B: 1536/8960): weight GB/s and GFLOP/s of
//! `quant::matmul_t` for Q8_0 and Q4_0, and of a dequantize-then-f32-dot baseline in the same run.
//!
//!     cargo bench -p offgrid-engine --bench quant
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::quant::{dequantize, matmul_t, quantize};
use offgrid_engine::DType;
use std::time::{Duration, Instant};

fn seeded(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// Median seconds per call over ~0.5 s of calls.
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) || samples.len() < 5 {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let shapes = [(896, 4864), (4864, 896), (1536, 8960), (8960, 1536)];
    println!(
        "GEMV x[1×k] · Wᵀ, W n×k; threads: {}",
        rayon::current_num_threads()
    );
    println!(
        "{:>6} {:>6} {:>5} {:>10} {:>8} {:>8} {:>14}",
        "n", "k", "type", "µs", "GB/s", "GFLOP/s", "vs f32 1-thr"
    );
    for (n, k) in shapes {
        let w = seeded(n * k, 7);
        let x = seeded(k, 11);
        let mut out = vec![0f32; n];
        let deq = time(|| {
            // Baseline: f32 weights already dequantized, plain dot per row (memory: 4 bytes per weight).
            for (o, row) in out.iter_mut().zip(w.chunks_exact(k)) {
                *o = row.iter().zip(&x).map(|(a, b)| a * b).sum();
            }
        });
        for dtype in [DType::Q8_0, DType::Q4_0] {
            let bytes = quantize(dtype, &w).unwrap();
            let _ = dequantize(dtype, &bytes[..dtype.block_bytes()]).unwrap();
            let t = time(|| matmul_t(dtype, &bytes, n, k, &x, &mut out).unwrap());
            println!(
                "{n:>6} {k:>6} {:>5} {:>10.1} {:>8.2} {:>8.2} {:>13.2}x",
                format!("{dtype:?}"),
                t * 1e6,
                bytes.len() as f64 / t / 1e9,
                2.0 * (n * k) as f64 / t / 1e9,
                deq / t
            );
        }
    }
}
