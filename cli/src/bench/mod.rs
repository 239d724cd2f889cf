//! `offgrid bench ops`: GFLOP/s and GB/s of the engine's kernels on the CPU and the GPU.
//!
//! GPU runs are timed the way a forward pass runs: many dispatches recorded into one command encoder, then one
//! submit, each run *chained* to the one before. Every run's output is dropped as soon as it is recorded, so the
//! next run writes the same pooled buffer; wgpu puts a barrier between two writes of one buffer, so run i+1 starts
//! only when run i has finished, as consecutive layers do. (Until session 13 the outputs were kept, the runs were
//! independent and the GPU could overlap them, which flattered short kernels: one H100 run printed a GEMV above
//! the memory's bandwidth.) The clock starts after recording and stops when the queue is drained; the growth of
//! that time from a batch of R runs to one of 2R, over R, is one sample (the GPU's execution time with the
//! submit's CPU time per run, without the fixed cost of waking up for one submit). The figure is the median of
//! several samples, with their minimum and maximum. Recording and submit costs are reported beside it.
//!
//! CPU runs are timed one by one after a warm-up; the figure is the median with the minimum and maximum.

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
    /// Median time of one run, milliseconds.
    pub ms: f64,
    /// Fastest and slowest sample, milliseconds (the spread around `ms`).
    pub ms_min: f64,
    pub ms_max: f64,
    pub gflops: f64,
    pub gbps: f64,
    /// GPU only: the first run's output against the same case on the CPU backend, checked before timing:
    /// max |gpu − cpu| / max |cpu|. A case whose output disagrees is reported as failed, never timed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_vs_cpu: Option<f64>,
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

/// Median, minimum and maximum of samples (milliseconds); `None` when there are none.
pub fn spread(samples: &mut [f64]) -> Option<(f64, f64, f64)> {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = match n {
        0 => return None,
        n if n % 2 == 1 => samples[n / 2],
        n => 0.5 * (samples[n / 2 - 1] + samples[n / 2]),
    };
    Some((median, samples[0], samples[n - 1]))
}

/// Times one case on the CPU: (median, min, max) of repeated runs within the budget (at least 5 after a
/// warm-up run).
fn time_cpu(case: &Case, seconds: f64) -> Result<(f64, f64, f64)> {
    drop((case.run)()?);
    let start = now_ms();
    let mut samples = Vec::new();
    while samples.len() < 5 || (now_ms() - start < seconds * 1e3 && samples.len() < 500) {
        let t = now_ms();
        drop((case.run)()?);
        samples.push(now_ms() - t);
    }
    Ok(spread(&mut samples).unwrap_or((f64::NAN, f64::NAN, f64::NAN)))
}

/// GPU timings of one run, milliseconds.
struct GpuTimes {
    /// GPU time of one run: the growth of (submit + queue drained) from a batch of R runs to one of 2R; the
    /// median of the samples, then the minimum and maximum.
    exec: (f64, f64, f64),
    record: f64,
    submit: f64,
}

/// Records `runs` chained runs (each output dropped at once, so the next run overwrites its buffer and waits for
/// it), submits them and waits; (record, submit, submit-to-drained) totals in ms.
fn gpu_batch(
    case: &Case,
    gpu: &offgrid_engine::gpu::GpuDevice,
    runs: usize,
) -> Result<(f64, f64, f64)> {
    let t0 = now_ms();
    for _ in 0..runs {
        drop((case.run)()?);
    }
    let t1 = now_ms();
    gpu.flush();
    let t_submitted = now_ms();
    pollster::block_on(gpu.synchronize())?;
    let t2 = now_ms();
    Ok((t1 - t0, t_submitted - t1, t2 - t1))
}

/// Samples (pairs of a short and a long batch) behind each GPU figure.
const GPU_SAMPLES: usize = 7;

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
    let runs = (25.0 / single).clamp(3.0, 200.0) as usize;
    // Keep the GPU busy for a while before timing: a GPU left idle while the case was built (weights uploaded,
    // pipelines compiled) drops its clocks, and short kernels timed straight after ran at them. On an H100 the
    // SM clock read 345 MHz through the GEMV cases and 1,980 MHz through the GEMMs before them, and the same
    // GEMV took 25 µs alone but 80–90 µs in the suite. A decode loop keeps the GPU as busy as this does.
    let warm_from = now_ms();
    while now_ms() - warm_from < CLOCK_WARM_UP_MS {
        gpu_batch(case, gpu, runs)?;
    }
    let (mut record, mut submit) = (f64::INFINITY, f64::INFINITY);
    let mut samples = Vec::with_capacity(GPU_SAMPLES);
    for _ in 0..GPU_SAMPLES {
        let short = gpu_batch(case, gpu, runs)?.2;
        let (rec, sub, long) = gpu_batch(case, gpu, 2 * runs)?;
        record = record.min(rec / (2 * runs) as f64);
        submit = submit.min(sub / (2 * runs) as f64);
        // Noise can make the difference meaningless for very short runs; the plain average bounds it then.
        samples.push(if long > short {
            (long - short) / runs as f64
        } else {
            long / (2 * runs) as f64
        });
    }
    Ok(GpuTimes {
        exec: spread(&mut samples).unwrap_or((f64::NAN, f64::NAN, f64::NAN)),
        record,
        submit,
    })
}

/// Largest relative disagreement a GPU case may show against the CPU backend. Both backends compute in f32 from
/// the same stored weights (quantized blocks are expanded, not the activations rounded), so they differ only
/// in summation order: lavapipe agrees within 1.5e-6 on every case; 1e-4 leaves room for other GPUs' FMA
/// and reduction orders while failing any wrong tile, dequantization or missed element.
const GPU_TOLERANCE: f64 = 1e-4;

/// Checks a GPU case's first output against the same case built on the CPU; the relative error.
fn verify_gpu(case: &Case, build: &dyn Fn(&Device) -> Result<Case>) -> Result<f64> {
    let want = (build(&Device::Cpu)?.run)()?.to_vec_f32()?;
    let got = pollster::block_on((case.run)()?.to_vec_f32_async())?;
    let scale = want
        .iter()
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(f32::MIN_POSITIVE);
    let worst = if got.len() == want.len() {
        got.iter()
            .zip(&want)
            .fold(0f32, |m, (g, w)| m.max((g - w).abs()))
    } else {
        f32::INFINITY
    };
    // A NaN anywhere makes `worst` NaN (`f32::max` ignores NaN, so check the values too) and must fail.
    let err = if got.iter().any(|v| v.is_nan()) {
        f64::INFINITY
    } else {
        f64::from(worst / scale)
    };
    let limit = GPU_TOLERANCE;
    if err.is_nan() || err > limit {
        return Err(offgrid_engine::Error::Gpu(format!(
            "GPU output disagrees with the CPU backend: relative error {err:.2e} > {limit:.0e}"
        )));
    }
    Ok(err)
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
            let gpu_vs_cpu = match device {
                Device::Gpu(_) => Some(verify_gpu(&case, &build)?),
                Device::Cpu => None,
            };
            let ((ms, ms_min, ms_max), record_ms, submit_ms) = match device {
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
                ms_min,
                ms_max,
                gflops: if case.kind == Kind::Copy {
                    0.0
                } else {
                    case.flops / secs / 1e9
                },
                gbps: case.bytes / secs / 1e9,
                gpu_vs_cpu,
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
    let checked = m
        .gpu_vs_cpu
        .map(|e| format!("  (vs CPU {e:.1e})"))
        .unwrap_or_default();
    format!(
        "{:<4} {:<9} {:<5} {:<24} {:>10.3} ms [{:.3}–{:.3}] {:>9.1} GFLOP/s {:>8.1} GB/s{record}{checked}",
        m.device, m.kind, m.dtype, m.shape, m.ms, m.ms_min, m.ms_max, m.gflops, m.gbps
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
            "method": "GPU: chained runs in one submit, (2R - R)/R, median of 7 [min, max], output checked against the CPU backend first; CPU: one run at a time, median [min, max]",
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
