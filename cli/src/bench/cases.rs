//! The workloads of `offgrid bench ops`: GEMM at 512–4096, GEMV at the decode shapes of 0.5B and 1.5B models,
//! attention (prefill and grouped-query decode), conv2d (dense and depthwise) and a streaming copy that measures
//! the device's own memory bandwidth, each in the weight formats the models ship in.

use offgrid_engine::ops::Conv2dParams;
use offgrid_engine::{DType, Device, Result, Tensor};

/// What a case stresses, which decides the figure that matters (GFLOP/s or GB/s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Gemm,
    Gemv,
    Attention,
    Conv2d,
    Copy,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Gemm => "gemm",
            Kind::Gemv => "gemv",
            Kind::Attention => "attention",
            Kind::Conv2d => "conv2d",
            Kind::Copy => "copy",
        }
    }
}

/// One workload, built on a device and ready to run repeatedly.
pub struct Case {
    pub kind: Kind,
    /// Weight format (`f32`, `f16`, `q8_0`, `q4_0`).
    pub dtype: &'static str,
    /// Human-readable shape, e.g. `1024x1024x1024`.
    pub shape: String,
    /// Floating-point operations of one run.
    pub flops: f64,
    /// Bytes one run must move at least (weights for GEMV; read + write for copy).
    pub bytes: f64,
    pub run: Box<dyn Fn() -> Result<Tensor>>,
}

/// Deterministic values in [-1, 1) (an LCG; the figures must not depend on the data).
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Weight formats measured for GEMM and GEMV.
pub const WEIGHT_DTYPES: [&str; 4] = ["f32", "f16", "q8_0", "q4_0"];

/// Bytes per weight value in each format (blocks of 32 with an f16 scale for the quantized ones).
pub fn bytes_per_value(dtype: &str) -> f64 {
    match dtype {
        "f16" => 2.0,
        "q8_0" => 34.0 / 32.0,
        "q4_0" => 18.0 / 32.0,
        _ => 4.0,
    }
}

/// `copies` separate `[rows, cols]` weight matrices in `dtype` on `device` (separate buffers: cycling through
/// them keeps a memory-bound kernel from being served by a cache that holds one copy).
pub fn weights(
    dtype: &str,
    rows: usize,
    cols: usize,
    copies: usize,
    device: &Device,
) -> Result<Vec<Tensor>> {
    let v = values(rows * cols, 2);
    let quantized = match dtype {
        "q8_0" => Some((
            DType::Q8_0,
            offgrid_engine::quant::quantize(DType::Q8_0, &v)?,
        )),
        "q4_0" => Some((
            DType::Q4_0,
            offgrid_engine::quant::quantize(DType::Q4_0, &v)?,
        )),
        _ => None,
    };
    (0..copies.max(1))
        .map(|_| {
            let cpu = match (&quantized, dtype) {
                (Some((dt, bytes)), _) => {
                    Tensor::from_quantized(*dt, bytes.clone(), [rows, cols], &Device::Cpu)?
                }
                (None, "f16") => {
                    Tensor::from_f32(v.clone(), [rows, cols], &Device::Cpu)?.cast(DType::F16)?
                }
                (None, _) => Tensor::from_f32(v.clone(), [rows, cols], &Device::Cpu)?,
            };
            cpu.to_device(device)
        })
        .collect()
}

/// `x[m×k] · Wᵀ` with `W [n×k]` in `dtype` (a linear layer: how every model multiplies by its weights). The
/// runs cycle through enough weight copies to fill `stream_bytes`, so a GEMV reads its weights from memory as
/// in a real decode step (where every layer's weights differ) rather than from a warm cache.
pub fn linear(
    m: usize,
    n: usize,
    k: usize,
    dtype: &'static str,
    stream_bytes: f64,
    device: &Device,
) -> Result<Case> {
    let x = Tensor::from_f32(values(m * k, 1), [m, k], device)?;
    let weight_bytes = (n * k) as f64 * bytes_per_value(dtype);
    let copies = (stream_bytes / weight_bytes).ceil().clamp(1.0, 64.0) as usize;
    let ws = weights(dtype, n, k, copies, device)?;
    let next = std::cell::Cell::new(0usize);
    let (kind, shape) = if m == 1 {
        (Kind::Gemv, format!("{n}x{k}"))
    } else {
        (Kind::Gemm, format!("{m}x{n}x{k}"))
    };
    Ok(Case {
        kind,
        dtype,
        shape,
        flops: 2.0 * (m * n * k) as f64,
        bytes: weight_bytes + 4.0 * (m * k + m * n) as f64,
        run: Box::new(move || {
            let i = next.get();
            next.set((i + 1) % ws.len());
            x.linear(&ws[i], None)
        }),
    })
}

/// Fused attention: `q [1, hq, tq, d]` over `tk` keys of `hkv` heads; causal when decoding.
pub fn attention(hq: usize, hkv: usize, tq: usize, tk: usize, device: &Device) -> Result<Case> {
    let d = 64;
    let q = Tensor::from_f32(values(hq * tq * d, 3), [1, hq, tq, d], device)?;
    let k = Tensor::from_f32(values(hkv * tk * d, 4), [1, hkv, tk, d], device)?;
    let v = Tensor::from_f32(values(hkv * tk * d, 5), [1, hkv, tk, d], device)?;
    let causal = tq == 1;
    let scale = 1.0 / (d as f32).sqrt();
    Ok(Case {
        kind: Kind::Attention,
        dtype: "f32",
        shape: format!("h{hq}/{hkv} q{tq} k{tk} d{d}"),
        flops: 4.0 * (hq * tq * tk * d) as f64,
        bytes: 4.0 * (2 * hq * tq * d + 2 * hkv * tk * d) as f64,
        run: Box::new(move || q.attention(&k, &v, None, causal, scale)),
    })
}

/// 3×3 convolution, padding 1, over a `[1, c, hw, hw]` image; depthwise when `groups == c`.
pub fn conv2d(c: usize, hw: usize, groups: usize, device: &Device) -> Result<Case> {
    let x = Tensor::from_f32(values(c * hw * hw, 6), [1, c, hw, hw], device)?;
    let w = Tensor::from_f32(
        values(c * (c / groups) * 9, 7),
        [c, c / groups, 3, 3],
        device,
    )?;
    let params = Conv2dParams {
        padding: (1, 1),
        groups,
        ..Conv2dParams::default()
    };
    Ok(Case {
        kind: Kind::Conv2d,
        dtype: "f32",
        shape: format!("{c}ch {hw}x{hw} 3x3 g{groups}"),
        flops: 2.0 * (c * hw * hw * (c / groups) * 9) as f64,
        bytes: 4.0 * (2 * c * hw * hw) as f64,
        run: Box::new(move || x.conv2d(&w, None, params)),
    })
}

/// A streaming elementwise pass over `floats` values (read once, written once): the bandwidth the device's
/// memory actually gives a kernel, the yardstick for the memory-bound GEMV.
pub fn copy(floats: usize, device: &Device) -> Result<Case> {
    let x = Tensor::from_f32(values(floats, 8), [floats], device)?;
    Ok(Case {
        kind: Kind::Copy,
        dtype: "f32",
        shape: if floats * 4 >= 1 << 20 {
            format!("{} MiB", (floats * 4) >> 20)
        } else {
            format!("{} KiB", (floats * 4) >> 10)
        },
        flops: 0.0,
        bytes: 8.0 * floats as f64,
        run: Box::new(move || x.mul_scalar(1.0)),
    })
}

/// Sizes of the suite: `full` adds the 4096 GEMM on the CPU (seconds per run on a laptop).
pub struct Suite {
    pub gemm_sizes: Vec<usize>,
    /// `(rows, cols)` of decode-time weight matrices: Qwen2-0.5B (896 ↔ 4864) and Qwen2-1.5B (1536 ↔ 8960),
    /// plus one 8B-sized matrix on the GPU.
    pub gemv_shapes: Vec<(usize, usize)>,
    pub copy_floats: usize,
    /// Bytes of distinct GEMV weights cycled through (well past the GPU's L2 or the CPU's last-level cache).
    pub stream_bytes: f64,
}

impl Suite {
    pub fn new(gpu: bool, quick: bool, full: bool) -> Suite {
        let gemm_sizes = match (gpu, quick, full) {
            (_, true, _) => vec![512],
            (true, _, _) | (false, _, true) => vec![512, 1024, 2048, 4096],
            (false, false, false) => vec![512, 1024, 2048],
        };
        let mut gemv_shapes = if quick {
            vec![(896, 4864)]
        } else {
            vec![(896, 4864), (4864, 896), (1536, 8960), (8960, 1536)]
        };
        if gpu && !quick {
            // A 7-8B model's MLP (Qwen2-7B: 3584 ↔ 18944 is larger still): big enough that launch and tail
            // costs fade and the kernel's own streaming rate shows.
            gemv_shapes.push((14336, 4096));
        }
        let copy_floats = match (gpu, quick) {
            (_, true) => 1 << 22,
            (true, false) => 1 << 26,
            (false, false) => 1 << 24,
        };
        let stream_bytes = if gpu { 256e6 } else { 64e6 };
        Suite {
            gemm_sizes,
            gemv_shapes,
            copy_floats,
            stream_bytes,
        }
    }

    /// Every case, built lazily so a failing one (e.g. too big for this GPU) is reported and skipped.
    #[allow(clippy::type_complexity)]
    pub fn cases(&self) -> Vec<(String, Box<dyn Fn(&Device) -> Result<Case>>)> {
        let mut out: Vec<(String, Box<dyn Fn(&Device) -> Result<Case>>)> = Vec::new();
        let copy_floats = self.copy_floats;
        let stream = self.stream_bytes;
        out.push(("copy".into(), Box::new(move |d| copy(copy_floats, d))));
        // 4 KiB: nothing but the fixed cost of one dispatch (launch, barrier, drain).
        out.push(("copy small".into(), Box::new(|d| copy(1024, d))));
        for &n in &self.gemm_sizes {
            for dt in WEIGHT_DTYPES {
                out.push((
                    format!("gemm {n} {dt}"),
                    Box::new(move |d| linear(n, n, n, dt, 0.0, d)),
                ));
            }
        }
        for &(rows, cols) in &self.gemv_shapes {
            for dt in WEIGHT_DTYPES {
                out.push((
                    format!("gemv {rows}x{cols} {dt}"),
                    Box::new(move |d| linear(1, rows, cols, dt, stream, d)),
                ));
            }
        }
        out.push((
            "attention prefill".into(),
            Box::new(|d| attention(12, 12, 512, 512, d)),
        ));
        out.push((
            "attention decode".into(),
            Box::new(|d| attention(14, 2, 1, 1024, d)),
        ));
        out.push(("conv2d".into(), Box::new(|d| conv2d(64, 128, 1, d))));
        out.push((
            "conv2d depthwise".into(),
            Box::new(|d| conv2d(256, 64, 256, d)),
        ));
        out
    }
}
