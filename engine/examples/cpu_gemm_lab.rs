//! CPU GEMM lab (not part of the engine): where a square f32 product's time goes as threads are added. For
//! each thread count it times the GEMM kernel into an output buffer kept between runs, the same with a fresh
//! zeroed output per run (what `linear` did until it took its output from `cpu::recycle`), and `Tensor::linear`
//! itself, so the kernel's scaling and the cost around it show apart.
//! `cargo run --release -p offgrid-engine --example cpu_gemm_lab [sizes...]` (default 512 1024; `LAB_THREADS=8,16`
//! picks the thread counts).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::cpu::gemm::{gemm_nt, RowSource};
use offgrid_engine::{Device, Tensor};
use std::time::Instant;

/// Best seconds per call over ~0.3 s of calls, after one warm-up call.
fn best(mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut best = f64::MAX;
    let mut runs = 0;
    while runs < 5 || (start.elapsed().as_secs_f64() < 0.3 && runs < 500) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        runs += 1;
    }
    best
}

fn main() {
    // Shapes: `n` (square) or `MxNxK` (x[M×K] · W[N×K]ᵀ).
    let shapes: Vec<[usize; 3]> = std::env::args()
        .skip(1)
        .filter_map(|s| {
            let dims: Vec<usize> = s.split('x').filter_map(|d| d.parse().ok()).collect();
            match dims[..] {
                [n] => Some([n, n, n]),
                [m, n, k] => Some([m, n, k]),
                _ => None,
            }
        })
        .collect();
    let shapes = if shapes.is_empty() {
        vec![[512; 3], [1024; 3]]
    } else {
        shapes
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for [m, n, k] in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 97) as f32 / 97.0 - 0.5).collect();
        let b: Vec<f32> = (0..n * k).map(|i| (i % 89) as f32 / 89.0 - 0.5).collect();
        let x = Tensor::from_f32(a.clone(), [m, k], &Device::Cpu).unwrap();
        let w = Tensor::from_f32(b.clone(), [n, k], &Device::Cpu).unwrap();
        let gflop = 2.0 * (m * n * k) as f64 / 1e9;
        // Thread counts: LAB_THREADS (comma-separated) or the powers of two up to the core count, and it.
        let mut threads: Vec<usize> = std::env::var("LAB_THREADS")
            .unwrap_or_default()
            .split(',')
            .filter_map(|t| t.parse().ok())
            .collect();
        if threads.is_empty() {
            threads.push(1);
            while threads.last().is_some_and(|&t| t * 2 <= cores) {
                threads.push(threads.last().unwrap() * 2);
            }
            if threads.last() != Some(&cores) {
                threads.push(cores);
            }
        }
        for t in threads {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            pool.install(|| {
                use rayon::prelude::*;
                // One fork-join of `t` tasks of ~2 µs each: the cost of a parallel phase itself.
                let fork = best(|| {
                    (0..t).into_par_iter().for_each(|i| {
                        let mut v = i as f32;
                        for _ in 0..2000 {
                            v = std::hint::black_box(v * 0.999 + 0.001);
                        }
                        std::hint::black_box(v);
                    })
                });
                println!("{t:>2} threads: fork-join of {t} tiny tasks {:.1} us", fork * 1e6);
                let mut kept = vec![0.0f32; m * n];
                let kernel = best(|| gemm_nt(&a, RowSource::F32(&b), m, n, k, &mut kept).unwrap());
                let fresh = best(|| {
                    let mut out = vec![0.0f32; m * n];
                    gemm_nt(&a, RowSource::F32(&b), m, n, k, &mut out).unwrap();
                    std::hint::black_box(out);
                });
                let linear = best(|| {
                    std::hint::black_box(x.linear(&w, None).unwrap());
                });
                println!(
                    "{m}x{n}x{k} {t:>2} threads: kernel {:7.1} GF/s ({:6.0} us) | fresh output {:7.1} | linear {:7.1}",
                    gflop / kernel,
                    kernel * 1e6,
                    gflop / fresh,
                    gflop / linear
                );
            });
        }
    }
}
