//! The engine's CPU GEMM/GEMV kernels on the shapes of `engine/benches/cpu_compare`, timed by a clock the caller
//! passes in: the browser page (`performance.now()`) and the native binary (`Instant`) run this same code, so
//! their ratio is the wasm penalty of one kernel, not of two implementations.

use offgrid_engine::{DType, Device, Result, Tensor};

/// The weight types of the cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
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

    /// Bytes per weight as stored (quantized blocks: 32 values + one f16 scale).
    fn bytes_per_value(self) -> f64 {
        match self {
            Weights::F32 => 4.0,
            Weights::F16 => 2.0,
            Weights::Q8_0 => 34.0 / 32.0,
            Weights::Q4_0 => 18.0 / 32.0,
        }
    }
}

/// One measurement: `x[m×k] · Wᵀ` with `W` `[n×k]` in `weights`.
#[derive(Debug, Clone)]
pub struct KernelCase {
    /// Printed name, e.g. `gemv 0.5B up 4864x896 q8_0`.
    pub name: String,
    m: usize,
    n: usize,
    k: usize,
    weights: Weights,
}

/// All cases, in print order. GEMM stops at 1024: one 2048³ product takes seconds in single-threaded wasm.
pub fn cases() -> Vec<KernelCase> {
    let mut out = Vec::new();
    for s in [512, 1024] {
        for weights in [Weights::F32, Weights::F16] {
            out.push(KernelCase {
                name: format!("gemm {s}x{s}x{s} {}", weights.name()),
                m: s,
                n: s,
                k: s,
                weights,
            });
        }
    }
    // One decode token through Qwen2.5-0.5B's MLP: up 896 -> 4864 and down 4864 -> 896.
    for (label, n, k) in [("0.5B up", 4864, 896), ("0.5B down", 896, 4864)] {
        for weights in [Weights::F32, Weights::F16, Weights::Q8_0, Weights::Q4_0] {
            out.push(KernelCase {
                name: format!("gemv {label} {n}x{k} {}", weights.name()),
                m: 1,
                n,
                k,
                weights,
            });
        }
    }
    out
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The case's name.
    pub name: String,
    /// The best time of one product, seconds.
    pub best_s: f64,
    /// Timed runs (after one warm-up).
    pub runs: usize,
    /// GFLOP/s at the best time.
    pub gflops: f64,
    /// GB/s of weight traffic at the best time, for GEMV (where reading the weights is the cost).
    pub weight_gbps: Option<f64>,
}

impl Measurement {
    /// One JSON object, the line format both sides print.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "name": self.name,
            "best_ms": self.best_s * 1e3,
            "runs": self.runs,
            "gflops": self.gflops,
            "weight_gbps": self.weight_gbps,
        })
        .to_string()
    }
}

/// Deterministic values in [-1, 1) (the generator of `cpu_compare`, so both benches use the same data).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let step = |s: u64| {
        s.wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
    };
    let mut s = step(seed);
    (0..n)
        .map(|_| {
            s = step(s);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn weight_tensor(case: &KernelCase) -> Result<Tensor> {
    let (n, k) = (case.n, case.k);
    let wv = values(n * k, 2);
    let dev = Device::Cpu;
    match case.weights {
        Weights::F32 => Tensor::from_f32(wv, [n, k], &dev),
        Weights::F16 => Tensor::from_f32(wv, [n, k], &dev)?.cast(DType::F16),
        Weights::Q8_0 => Tensor::from_quantized(
            DType::Q8_0,
            offgrid_engine::quant::quantize(DType::Q8_0, &wv)?,
            [n, k],
            &dev,
        ),
        Weights::Q4_0 => Tensor::from_quantized(
            DType::Q4_0,
            offgrid_engine::quant::quantize(DType::Q4_0, &wv)?,
            [n, k],
            &dev,
        ),
    }
}

/// Runs `case` on the CPU: one warm-up, then at least 3 timed runs and more until `budget_s` has passed (at most
/// 200); keeps the best, the run least disturbed by the shared machine. `now` returns seconds.
pub fn run(case: &KernelCase, budget_s: f64, now: &dyn Fn() -> f64) -> Result<Measurement> {
    let x = Tensor::from_f32(values(case.m * case.k, 1), [case.m, case.k], &Device::Cpu)?;
    let w = weight_tensor(case)?;
    let product = || -> Result<f32> {
        // Read one value back so the product cannot be skipped.
        let y = x.linear(&w, None)?;
        Ok(y.to_vec_f32()?.first().copied().unwrap_or_default())
    };
    let mut sink = product()?;
    let start = now();
    let mut best = f64::INFINITY;
    let mut runs = 0;
    while runs < 3 || (now() - start < budget_s && runs < 200) {
        let t = now();
        sink += product()?;
        best = best.min(now() - t);
        runs += 1;
    }
    std::hint::black_box(sink);
    let flops = 2.0 * (case.m * case.n * case.k) as f64;
    let weight_bytes = (case.n * case.k) as f64 * case.weights.bytes_per_value();
    Ok(Measurement {
        name: case.name.clone(),
        best_s: best,
        runs,
        gflops: flops / best / 1e9,
        weight_gbps: (case.m == 1).then(|| weight_bytes / best / 1e9),
    })
}
