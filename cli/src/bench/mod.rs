//! `offgrid bench ops`: GFLOP/s and GB/s of the engine's kernels on the CPU and the GPU.
//!
//! GPU runs are timed the way a forward pass runs: many dispatches recorded into one command encoder, then one
//! submit. The clock starts after recording and stops when the queue is drained; the growth of that time from a
//! batch of R runs to one of 2R, over R, is the figure (the GPU's execution time, with the submit's CPU time per
//! run, but without the fixed cost of waking up for one submit). Recording and submit costs are reported beside
//! it.

pub mod cases;
pub mod chat;
pub mod remove_background;
pub mod speak;
pub mod transcribe;

use cases::{Case, Kind, Suite};
use offgrid_engine::microbench::now_ms;
use offgrid_engine::{Device, Result};
use serde::Serialize;

/// One measured case.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    pub device: String,
    pub kind: &'static str,
    pub dtype: &'static str,
    pub shape: String,
    /// Best time of one run, milliseconds.
    pub ms: f64,
    pub gflops: f64,
    pub gbps: f64,
    /// GPU only: CPU time to record one run into the encoder, milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_ms: Option<f64>,
    /// GPU only: CPU time of the submit (encoder finish, queue writes, barriers), per run, milliseconds. It is
    /// part of `ms`: what is left is the time the GPU needed after the submit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submit_ms: Option<f64>,
}

/// Options of `offgrid bench ops`.
#[derive(Clone, Debug, Default)]
pub struct BenchOptions {
    /// Only the smallest size of each case (a smoke run).
    pub quick: bool,
    /// Also the 4096 GEMM on the CPU.
    pub full: bool,
    /// Only cases whose name contains this.
    pub filter: Option<String>,
    /// Seconds to spend on each CPU case (more runs, steadier best time).
    pub seconds: f64,
}

/// Times one case on the CPU: the best of repeated runs within the budget (at least 3 after a warm-up).
fn time_cpu(case: &Case, seconds: f64) -> Result<f64> {
    drop((case.run)()?);
    let start = now_ms();
    let mut best = f64::INFINITY;
    let mut runs = 0;
    while runs < 3 || (now_ms() - start < seconds * 1e3 && runs < 500) {
        let t = now_ms();
        drop((case.run)()?);
        best = best.min(now_ms() - t);
        runs += 1;
    }
    Ok(best)
}

/// GPU timings of one run, milliseconds.
struct GpuTimes {
    /// GPU time of one run: the growth of (submit + queue drained) from a batch of R runs to one of 2R.
    exec: f64,
    record: f64,
    submit: f64,
}

/// Records `runs` runs, submits them and waits; (record, submit, submit-to-drained) totals in ms.
fn gpu_batch(
    case: &Case,
    gpu: &offgrid_engine::gpu::GpuDevice,
    runs: usize,
) -> Result<(f64, f64, f64)> {
    let t0 = now_ms();
    let mut keep = Vec::with_capacity(runs);
    for _ in 0..runs {
        keep.push((case.run)()?);
    }
    let t1 = now_ms();
    gpu.flush();
    let t_submitted = now_ms();
    pollster::block_on(gpu.synchronize())?;
    let t2 = now_ms();
    drop(keep);
    Ok((t1 - t0, t_submitted - t1, t2 - t1))
}

/// Milliseconds of back-to-back batches each GPU case runs before it is timed (see [`time_gpu`]).
const CLOCK_WARM_UP_MS: f64 = 300.0;

/// Times one case on the GPU. A batch's wall time carries a fixed cost (the submit's wake-up, the wait for the
/// fence) that would inflate short kernels by microseconds each; timing batches of R and 2R runs and dividing
/// the difference by R cancels it.
fn time_gpu(case: &Case, gpu: &offgrid_engine::gpu::GpuDevice) -> Result<GpuTimes> {
    // Warm-up compiles the pipeline and fills the buffer pool; one timed run sizes the batches.
    drop((case.run)()?);
    pollster::block_on(gpu.synchronize())?;
    let t = now_ms();
    drop((case.run)()?);
    pollster::block_on(gpu.synchronize())?;
    let single = (now_ms() - t).max(1e-3);
    // Outputs stay allocated until the submit, so a batch is bounded by memory (1 GiB) as well as time (50 ms).
    let by_memory = (512.0 * 1024.0 * 1024.0 / case.output_bytes.max(1.0)).floor();
    let runs = (25.0 / single).clamp(3.0, 200.0).min(by_memory.max(3.0)) as usize;
    // Keep the GPU busy for a while before timing: a GPU left idle while the case was built (weights uploaded,
    // pipelines compiled) drops its clocks, and short kernels timed straight after ran at them. On an H100 the
    // SM clock read 345 MHz through the GEMV cases and 1,980 MHz through the GEMMs before them, and the same
    // GEMV took 25 µs alone but 80–90 µs in the suite. A decode loop keeps the GPU as busy as this does.
    let warm_from = now_ms();
    while now_ms() - warm_from < CLOCK_WARM_UP_MS {
        gpu_batch(case, gpu, runs)?;
    }
    let (mut short, mut long) = (f64::INFINITY, f64::INFINITY);
    let mut best = GpuTimes {
        exec: f64::INFINITY,
        record: f64::INFINITY,
        submit: f64::INFINITY,
    };
    for _ in 0..3 {
        short = short.min(gpu_batch(case, gpu, runs)?.2);
        // Best of three: the first long batch also creates the buffers its extra outputs need.
        let (record, submit, exec) = gpu_batch(case, gpu, 2 * runs)?;
        long = long.min(exec);
        best.record = best.record.min(record / (2 * runs) as f64);
        best.submit = best.submit.min(submit / (2 * runs) as f64);
    }
    // Noise can make the difference meaningless for very short runs; the plain average bounds it from above.
    best.exec = if long > short {
        (long - short) / runs as f64
    } else {
        long / (2 * runs) as f64
    };
    Ok(best)
}

/// Runs the suite on one device, calling `report` as each case finishes (a long run shows progress).
pub fn run(
    device: &Device,
    options: &BenchOptions,
    mut report: impl FnMut(std::result::Result<&Measurement, (&str, String)>),
) -> Vec<Measurement> {
    let suite = Suite::new(
        matches!(device, Device::Gpu(_)),
        options.quick,
        options.full,
    );
    let mut out = Vec::new();
    for (name, build) in suite.cases() {
        if let Some(f) = &options.filter {
            if !name.contains(f.as_str()) {
                continue;
            }
        }
        let measured = build(device).and_then(|case| {
            let (ms, record_ms, submit_ms) = match device {
                Device::Gpu(g) => {
                    let t = time_gpu(&case, g)?;
                    (t.exec, Some(t.record), Some(t.submit))
                }
                Device::Cpu => (time_cpu(&case, options.seconds)?, None, None),
            };
            let secs = ms.max(1e-6) / 1e3;
            Ok(Measurement {
                device: device.name().to_string(),
                kind: case.kind.name(),
                dtype: case.dtype,
                shape: case.shape,
                ms,
                gflops: if case.kind == Kind::Copy {
                    0.0
                } else {
                    case.flops / secs / 1e9
                },
                gbps: case.bytes / secs / 1e9,
                record_ms,
                submit_ms,
            })
        });
        match measured {
            Ok(m) => {
                report(Ok(&m));
                out.push(m);
            }
            Err(e) => report(Err((&name, e.to_string()))),
        }
        if let Device::Gpu(g) = device {
            // Large cases leave big buffers in the pool; give them back before the next case.
            g.trim_pool();
        }
    }
    out
}

/// One table line for people.
pub fn format_line(m: &Measurement) -> String {
    let record = match (m.record_ms, m.submit_ms) {
        (Some(r), Some(s)) => format!("  (record {r:.3} ms, submit {s:.3} ms)"),
        (Some(r), None) => format!("  (record {r:.3} ms)"),
        _ => String::new(),
    };
    format!(
        "{:<4} {:<9} {:<5} {:<24} {:>10.3} ms {:>9.1} GFLOP/s {:>8.1} GB/s{record}",
        m.device, m.kind, m.dtype, m.shape, m.ms, m.gflops, m.gbps
    )
}

/// `offgrid bench ops` arguments.
#[derive(Debug, clap::Args)]
pub struct BenchOpsArgs {
    /// cpu, gpu or all.
    #[arg(long, default_value = "all")]
    pub device: String,
    /// Only the smallest size of each case (a smoke run, seconds).
    #[arg(long)]
    pub quick: bool,
    /// Also the 4096 GEMM on the CPU.
    #[arg(long)]
    pub full: bool,
    /// Only cases whose name contains this (`gemv`, `gemm 1024`, `q4_0`…).
    #[arg(long)]
    pub filter: Option<String>,
    /// Seconds spent on each CPU case.
    #[arg(long, default_value_t = 0.3)]
    pub seconds: f64,
    /// Print one JSON document (the adapter and every measurement) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `offgrid bench ops`: a table on stdout as cases finish, or JSON at the end.
pub fn command(args: BenchOpsArgs) -> std::result::Result<(), String> {
    if !args.seconds.is_finite() || args.seconds < 0.0 {
        return Err(format!("--seconds {} is not a duration", args.seconds));
    }
    let mut devices = Vec::new();
    if matches!(args.device.as_str(), "cpu" | "all") {
        devices.push(Device::Cpu);
    }
    let mut adapter = None;
    if matches!(args.device.as_str(), "gpu" | "all") {
        match pollster::block_on(offgrid_engine::gpu::GpuDevice::new()) {
            Ok(g) => {
                let info = g.adapter_info();
                adapter = Some(serde_json::json!({
                    "name": info.name,
                    "backend": format!("{:?}", info.backend),
                    "device_type": format!("{:?}", info.device_type),
                    "driver": info.driver,
                    "shader_f16": g.has_f16(),
                }));
                devices.push(Device::Gpu(g));
            }
            Err(e) if args.device == "gpu" => return Err(format!("{e} (use --device cpu)")),
            Err(e) => eprintln!("no GPU, CPU only: {e}"),
        }
    }
    if devices.is_empty() {
        return Err(format!(
            "unknown device \"{}\": use cpu, gpu or all",
            args.device
        ));
    }
    let options = BenchOptions {
        quick: args.quick,
        full: args.full,
        filter: args.filter.clone(),
        seconds: args.seconds,
    };
    if let Some(a) = &adapter {
        eprintln!("GPU: {a}");
    }
    let mut all = Vec::new();
    for device in &devices {
        let measured = run(device, &options, |r| match r {
            Ok(m) if !args.json => println!("{}", format_line(m)),
            Ok(m) => eprintln!("{}", format_line(m)),
            Err((name, e)) => eprintln!("{} {name}: failed: {e}", device.name()),
        });
        all.extend(measured);
    }
    if args.json {
        let doc = serde_json::json!({
            "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "gpu": adapter,
            "results": all,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}
