//! CPU GEMM and GEMV throughput of the engine's kernels next to candle's CPU matmul, same shapes, same run.
//!
//! Usage: `cpu_compare [seconds-per-measurement] [case filter]` (default 0.4; the filter keeps the cases whose
//! name contains it, e.g. `gemm 512`). Prints one line per case with GFLOP/s for both,
//! GB/s of weight traffic for GEMV, and the ratio ours / candle (> 1 means the engine is faster).

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::Module;
use offgrid_engine::{DType, Device, Tensor};
use std::time::{Duration, Instant};

type AnyResult<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Best time of repeated runs within `budget` (the minimum is the least disturbed by the shared machine).
fn best_time(budget: Duration, mut f: impl FnMut() -> AnyResult<()>) -> AnyResult<f64> {
    f()?; // warm-up: caches, thread pool, page faults
    let start = Instant::now();
    let mut best = f64::INFINITY;
    let mut runs = 0;
    while runs < 3 || (start.elapsed() < budget && runs < 200) {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
        runs += 1;
    }
    Ok(best)
}

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Weights {
    F32,
    F16,
    Q8_0,
    Q4_0,
}

impl Weights {
    fn name(self) -> &'static str {
        match self {
            Weights::F32 => "f32",
            Weights::F16 => "f16",
            Weights::Q8_0 => "q8_0",
            Weights::Q4_0 => "q4_0",
        }
    }
    fn bytes_per_value(self) -> f64 {
        match self {
            Weights::F32 => 4.0,
            Weights::F16 => 2.0,
            Weights::Q8_0 => 34.0 / 32.0,
            Weights::Q4_0 => 18.0 / 32.0,
        }
    }
}

/// Times `x[m×k] · Wᵀ` (W `[n×k]`) in the engine and in candle; returns (ours s, candle s).
fn case(m: usize, n: usize, k: usize, wt: Weights, budget: Duration) -> AnyResult<(f64, f64)> {
    let xv = values(m * k, 1);
    let wv = values(n * k, 2);
    let dev = Device::Cpu;
    let x = Tensor::from_f32(xv.clone(), [m, k], &dev)?;
    let w = match wt {
        Weights::F32 => Tensor::from_f32(wv.clone(), [n, k], &dev)?,
        Weights::F16 => Tensor::from_f32(wv.clone(), [n, k], &dev)?.cast(DType::F16)?,
        Weights::Q8_0 => Tensor::from_quantized(
            DType::Q8_0,
            offgrid_engine::quant::quantize(DType::Q8_0, &wv)?,
            [n, k],
            &dev,
        )?,
        Weights::Q4_0 => Tensor::from_quantized(
            DType::Q4_0,
            offgrid_engine::quant::quantize(DType::Q4_0, &wv)?,
            [n, k],
            &dev,
        )?,
    };
    let ours = best_time(budget, || {
        std::hint::black_box(x.linear(&w, None)?);
        Ok(())
    })?;

    let cd = candle_core::Device::Cpu;
    let cx = candle_core::Tensor::from_vec(xv, (m, k), &cd)?;
    let cw = candle_core::Tensor::from_vec(wv, (n, k), &cd)?;
    let theirs = match wt {
        Weights::F32 | Weights::F16 => {
            let (cx, cw) = if wt == Weights::F16 {
                // candle multiplies f16 by f16 only.
                (
                    cx.to_dtype(candle_core::DType::F16)?,
                    cw.to_dtype(candle_core::DType::F16)?,
                )
            } else {
                (cx, cw)
            };
            let cwt = cw.t()?;
            best_time(budget, || {
                std::hint::black_box(cx.matmul(&cwt)?);
                Ok(())
            })?
        }
        Weights::Q8_0 | Weights::Q4_0 => {
            let g = if wt == Weights::Q8_0 {
                GgmlDType::Q8_0
            } else {
                GgmlDType::Q4_0
            };
            let qmm = QMatMul::from_qtensor(QTensor::quantize(&cw, g)?)?;
            best_time(budget, || {
                std::hint::black_box(qmm.forward(&cx)?);
                Ok(())
            })?
        }
    };
    Ok((ours, theirs))
}

fn main() -> AnyResult<()> {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.4);
    let budget = Duration::from_secs_f64(secs);
    println!(
        "threads: engine (rayon) {}, candle {}",
        rayon::current_num_threads(),
        candle_core::utils::get_num_threads()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>8} {:>9} {:>9}",
        "case", "ours GF/s", "candle", "ratio", "ours GB/s", "cand GB/s"
    );
    let mut cases = Vec::new();
    for s in [512, 1024, 2048] {
        for wt in [Weights::F32, Weights::F16] {
            cases.push((format!("gemm {s}³ {}", wt.name()), s, s, s, wt));
        }
    }
    // Decode shapes (one token): x[1×k] · Wᵀ, W [n×k] — Qwen2.5 0.5B (896/4864) and 1.5B (1536/8960) MLPs.
    for (label, n, k) in [
        ("0.5B up", 4864, 896),
        ("0.5B down", 896, 4864),
        ("1.5B up", 8960, 1536),
        ("1.5B down", 1536, 8960),
    ] {
        for wt in [Weights::F32, Weights::F16, Weights::Q8_0, Weights::Q4_0] {
            cases.push((format!("gemv {label} {n}x{k} {}", wt.name()), 1, n, k, wt));
        }
    }
    let filter = std::env::args().nth(2).unwrap_or_default();
    for (name, m, n, k, wt) in cases.into_iter().filter(|c| c.0.contains(&filter)) {
        let (ours, theirs) = case(m, n, k, wt, budget)?;
        let flops = 2.0 * (m * n * k) as f64;
        let bytes = (n * k) as f64 * wt.bytes_per_value();
        let gb = |t: f64| {
            if m == 1 {
                format!("{:9.1}", bytes / t / 1e9)
            } else {
                format!("{:>9}", "-")
            }
        };
        println!(
            "{:<34} {:>10.1} {:>10.1} {:>7.2}x {} {}",
            name,
            flops / ours / 1e9,
            flops / theirs / 1e9,
            theirs / ours,
            gb(ours),
            gb(theirs)
        );
    }
    Ok(())
}
