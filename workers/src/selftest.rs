//! A small engine workload run in the worker: the probe's throughput estimate, and a cancellable
//! self-test that exercises a backend end to end (upload, matmuls, one readback).

use crate::job::{engine_error, JobCtx};
use crate::protocol::{Backend, GpuProbe, JobResult, Progress, Stage, WorkerError};
use offgrid_engine::{gpu::GpuDevice, Device, Tensor};

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

/// Fills the probe's measured figures with the engine's micro-benchmark (`offgrid_engine::microbench`: GEMM
/// GFLOP/s and copy GB/s, on the wasm CPU and on WebGPU when there is an adapter; well under 300 ms on a working
/// device). A GPU that fails to start or to run leaves its figures empty and the CPU's are still measured.
pub async fn measure(probe: &mut GpuProbe) {
    let gpu = if probe.webgpu {
        GpuDevice::new().await.ok().map(Device::Gpu)
    } else {
        None
    };
    let bench = match offgrid_engine::microbench::run(gpu.as_ref()).await {
        Ok(bench) => Some(bench),
        Err(_) => offgrid_engine::microbench::run(None).await.ok(),
    };
    if let Some(bench) = bench {
        probe.cpu_gflops = Some(bench.cpu.gemm_gflops);
        probe.cpu_gbps = Some(bench.cpu.mem_gbps);
        probe.gpu_gflops = bench.gpu.map(|g| g.gemm_gflops);
        probe.gpu_gbps = bench.gpu.map(|g| g.mem_gbps);
    }
}

/// Runs `iterations` chained 96×96 matmuls on `backend`, yielding between steps so `Cancel` is seen.
/// The GPU is the registry's shared device, so the self-test checks the device the models use.
pub async fn run(
    ctx: &JobCtx,
    backend: Backend,
    iterations: u32,
) -> Result<JobResult, WorkerError> {
    ctx.progress(Progress::steps(Stage::Running, 0, iterations as u64));
    let (device, _) = ctx.registry.device(backend).await?;
    let n = 96;
    let start = crate::js::now_millis();
    // Each step is acc·M + acc·M with M = ¼·I + ¼/n·J: together half of acc plus half of its row means, so the
    // values stay bounded (the checksum is finite) and the CPU and GPU checksums can be compared.
    let mix: Vec<f32> = (0..n * n)
        .map(|i| 0.25 / n as f32 + if i / n == i % n { 0.25 } else { 0.0 })
        .collect();
    let scale = Tensor::from_f32(mix, [n, n], &device).map_err(engine_error)?;
    let mut acc = Tensor::from_f32(seeded(n * n, 3), [n, n], &device).map_err(engine_error)?;
    for step in 0..iterations {
        ctx.check_cancel()?;
        let half = acc.matmul(&scale).map_err(engine_error)?;
        acc = half.add(&half).map_err(engine_error)?;
        if backend == Backend::Gpu {
            // Keep GPU work flowing and give the event loop a turn to receive Cancel.
            acc = Tensor::from_f32(
                acc.to_vec_f32_async().await.map_err(engine_error)?,
                [n, n],
                &device,
            )
            .map_err(engine_error)?;
        }
        ctx.progress(Progress::steps(
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
