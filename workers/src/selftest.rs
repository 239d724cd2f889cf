//! A small engine workload run in the worker: the probe's throughput estimate, and a cancellable
//! self-test that exercises a backend end to end (upload, matmuls, one readback).

use crate::protocol::{Backend, ErrorKind, JobResult, Progress, Stage, WorkerError};
use crate::store::CancelFlag;
use offgrid_engine::{gpu::GpuDevice, Device, Tensor};

/// The engine device for a planned backend (a GPU device is requested from the adapter).
pub(crate) async fn device_for(backend: Backend) -> Result<Device, WorkerError> {
    Ok(match backend {
        Backend::Cpu => Device::Cpu,
        Backend::Gpu => Device::Gpu(GpuDevice::new().await.map_err(engine_error)?),
    })
}

/// An engine error as the UI sees it; a lost GPU is its own kind so the app restarts the worker.
pub(crate) fn engine_error(e: offgrid_engine::Error) -> WorkerError {
    let kind = match e {
        offgrid_engine::Error::DeviceLost(_) => ErrorKind::DeviceLost,
        _ => ErrorKind::Internal,
    };
    WorkerError::new(kind, e.to_string())
}

fn seeded(n: usize, seed: u32) -> Vec<f32> {
    // A cheap LCG: the values only need to be varied, not random.
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

async fn timed_matmuls(
    device: &Device,
    size: usize,
    reps: u32,
) -> Result<f64, offgrid_engine::Error> {
    let a = Tensor::from_f32(seeded(size * size, 1), [size, size], device)?;
    let b = Tensor::from_f32(seeded(size * size, 2), [size, size], device)?;
    // Warm-up compiles pipelines and fills pools.
    a.matmul(&b)?.to_vec_f32_async().await?;
    let start = crate::js::now_millis();
    let mut acc = a.clone();
    for _ in 0..reps {
        acc = acc.matmul(&b)?;
    }
    acc.to_vec_f32_async().await?;
    let secs = ((crate::js::now_millis() - start) / 1000.0).max(1e-6);
    Ok(2.0 * (size * size * size) as f64 * reps as f64 / secs / 1e9)
}

/// Estimated f32 GEMM throughput of the wasm CPU path, in GFLOP/s (about 50 ms).
pub async fn cpu_gflops() -> f64 {
    timed_matmuls(&Device::Cpu, 128, 8).await.unwrap_or(0.0)
}

/// Estimated f32 GEMM throughput of WebGPU in this worker, in GFLOP/s.
pub async fn gpu_gflops() -> Result<f64, WorkerError> {
    let gpu = GpuDevice::new().await.map_err(engine_error)?;
    timed_matmuls(&Device::Gpu(gpu), 256, 8)
        .await
        .map_err(engine_error)
}

/// Runs `iterations` chained 96×96 matmuls on `backend`, yielding between steps so `Cancel` is seen.
pub async fn run(
    backend: Backend,
    iterations: u32,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    let device = device_for(backend).await?;
    let n = 96;
    let start = crate::js::now_millis();
    let scale =
        Tensor::from_f32(vec![1.0 / n as f32; n * n], [n, n], &device).map_err(engine_error)?;
    let mut acc = Tensor::from_f32(seeded(n * n, 3), [n, n], &device).map_err(engine_error)?;
    for step in 0..iterations {
        if cancel.get() {
            return Err(WorkerError::new(ErrorKind::Internal, "cancelled"));
        }
        acc = acc
            .matmul(&scale)
            .map_err(engine_error)?
            .add(&acc)
            .map_err(engine_error)?;
        if backend == Backend::Gpu {
            // Keep GPU work flowing and give the event loop a turn to receive Cancel.
            acc = Tensor::from_f32(
                acc.to_vec_f32_async().await.map_err(engine_error)?,
                [n, n],
                &device,
            )
            .map_err(engine_error)?;
        }
        report(Progress::steps(
            Stage::Running,
            step as u64 + 1,
            iterations as u64,
        ));
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    let values = acc.to_vec_f32_async().await.map_err(engine_error)?;
    let checksum = values.iter().map(|v| v.abs()).sum::<f32>() / values.len() as f32;
    Ok(JobResult::SelfTest {
        backend,
        millis: crate::js::now_millis() - start,
        checksum,
    })
}
