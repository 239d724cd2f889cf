//! A short (well under 300 ms on a working device) estimate of GEMM throughput and memory bandwidth on the
//! GPU and the CPU, for the hardware probe's `plan()` (e.g. to prefer the CPU over a software GPU).

use crate::{Device, Result, Tensor};
use serde::{Deserialize, Serialize};

/// Measured throughput of one device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// F32 GEMM, GFLOP/s.
    pub gemm_gflops: f64,
    /// Copy bandwidth (bytes read + written), GB/s.
    pub mem_gbps: f64,
}

/// Results of [`run`]: the CPU always, the GPU when one was given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MicroBench {
    pub cpu: Throughput,
    pub gpu: Option<Throughput>,
}

/// Milliseconds from a monotonic clock (performance.now() in the browser).
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        // performance.now() in a window or a worker alike, looked up on the global object.
        let global = js_sys::global();
        let perf = js_sys::Reflect::get(&global, &js_sys::JsString::from("performance")).ok();
        let now = perf
            .as_ref()
            .and_then(|p| js_sys::Reflect::get(p, &js_sys::JsString::from("now")).ok());
        match (perf, now) {
            (Some(p), Some(f)) => js_sys::Function::from(f)
                .call0(&p)
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or_else(js_sys::Date::now),
            _ => js_sys::Date::now(),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        static START: OnceLock<std::time::Instant> = OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
            * 1e3
    }
}

/// GEMM size, chained products per timing, and copy size: small enough for a software GPU or a phone's wasm
/// CPU to finish in well under 300 ms together, large enough that a real GPU is not timed on launch latency only.
const N: usize = 256;
const GEMM_REPS: usize = 4;
const COPY_FLOATS: usize = 1 << 20;

async fn measure(device: &Device) -> Result<Throughput> {
    let a = Tensor::from_f32(vec![0.5; N * N], [N, N], device)?;
    let b = Tensor::from_f32(vec![0.25 / N as f32; N * N], [N, N], device)?;
    let big = Tensor::from_f32(vec![1.0; COPY_FLOATS], [COPY_FLOATS / 2, 2], device)?;
    // Warm-up compiles pipelines and touches the buffers.
    let warm = a.matmul(&b)?;
    sync(device, &warm).await?;
    let warm = big.t()?.contiguous()?;
    sync(device, &warm).await?;
    let t0 = now_ms();
    // Chained, so a backend cannot overlap or skip them; b's entries keep the values bounded.
    let mut c = a.clone();
    for _ in 0..GEMM_REPS {
        c = c.matmul(&b)?;
    }
    sync(device, &c).await?;
    let gemm_ms = (now_ms() - t0).max(1e-3);
    let t1 = now_ms();
    let copied = big.t()?.contiguous()?;
    sync(device, &copied).await?;
    let copy_ms = (now_ms() - t1).max(1e-3);
    Ok(Throughput {
        gemm_gflops: 2.0 * (N * N * N * GEMM_REPS) as f64 / (gemm_ms * 1e6),
        mem_gbps: (2 * 4 * COPY_FLOATS) as f64 / (copy_ms * 1e6),
    })
}

/// Waits for `t` to be computed (the GPU queue drained) without reading it back.
async fn sync(device: &Device, t: &Tensor) -> Result<()> {
    match device {
        Device::Gpu(g) => g.synchronize().await,
        Device::Cpu => {
            let _ = t;
            Ok(())
        }
    }
}

/// Runs the micro-benchmark on the CPU and, if given, the GPU.
pub async fn run(gpu: Option<&Device>) -> Result<MicroBench> {
    let cpu = measure(&Device::Cpu).await?;
    let gpu = match gpu {
        Some(d) => Some(measure(d).await?),
        None => None,
    };
    Ok(MicroBench { cpu, gpu })
}
