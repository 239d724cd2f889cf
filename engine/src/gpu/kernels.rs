//! The kernel variants (a typed pipeline key), their WGSL sources and the pipeline cache.

use std::collections::HashMap;

const COMMON: &str = include_str!("kernels/common.wgsl");
const WEIGHTS: &str = include_str!("kernels/weights.wgsl");
const ATTENTION: &str = include_str!("kernels/attention_common.wgsl");

/// How a buffer's values are stored, as the kernels' `ATYPE`/`WTYPE`/`SRC`/`DST` constants name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Storage {
    F32 = 0,
    F16 = 1,
    Q8_0 = 2,
    Q4_0 = 3,
    Q4K = 4,
    Q6K = 5,
    U32 = 6,
}

impl Storage {
    /// The storage code of a dtype (BF16 is converted on load and never reaches the GPU).
    pub(crate) fn of(dtype: crate::DType) -> Option<Storage> {
        use crate::DType;
        Some(match dtype {
            DType::F32 => Storage::F32,
            DType::F16 => Storage::F16,
            DType::U32 => Storage::U32,
            DType::Q8_0 => Storage::Q8_0,
            DType::Q4_0 => Storage::Q4_0,
            DType::Q4_K => Storage::Q4K,
            DType::Q6_K => Storage::Q6K,
            // BF16 is converted on load; Q4_1 and Q5_0 have no GPU kernels and are widened to F16 on load.
            DType::BF16 | DType::Q4_1 | DType::Q5_0 => return None,
        })
    }
    /// The cast kernel's code (0 f32, 1 f16, 2 u32).
    fn cast_code(self) -> f64 {
        match self {
            Storage::F16 => 1.0,
            Storage::U32 => 2.0,
            _ => 0.0,
        }
    }
}

/// One compiled pipeline. Ops choose a variant; the cache compiles each variant once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    /// Strided unary op (code from `elementwise.wgsl`).
    Unary(u32),
    /// Strided binary op with broadcasting (code from `binary.wgsl`).
    Binary(u32),
    /// Strided copy with conversion between f32, f16 and u32.
    Cast {
        src: Storage,
        dst: Storage,
    },
    /// Tiled GEMM with activations `a` and weights `w`.
    Gemm {
        a: Storage,
        w: Storage,
    },
    /// Matrix-vector product for decode.
    Gemv {
        a: Storage,
        w: Storage,
    },
    /// Matrix-vector product of Q8_0/Q4_0 weights and activations quantized to 8 bits in the kernel.
    GemvQ {
        a: Storage,
        w: Storage,
        /// Threads sharing one output row (8, 16 or 32).
        threads_per_row: u32,
    },
    Softmax,
    /// Layer norm (`rms: false`) or RMS norm.
    Norm {
        rms: bool,
    },
    /// Row reduction (code from `reduce.wgsl`).
    Reduce(u32),
    /// Attention for decode: one workgroup per query.
    Attention,
    /// Attention for many queries (D <= 64): 64 queries per workgroup share each tile of K and V.
    AttentionTiled {
        /// vec4s per head row, ceil(D / 4).
        d4: u32,
    },
    /// RoPE; `interleaved` pairs (2i, 2i+1) instead of (i, i + D/2).
    Rope {
        interleaved: bool,
    },
    /// Embedding rows gathered from a table of any weight type.
    IndexSelect(Storage),
    Conv2d,
    /// Receptive fields of a run of output positions, for a convolution as a matrix product.
    Im2col,
    ConvTranspose1d,
    /// 2-D pooling; `avg` or max.
    Pool2d {
        avg: bool,
    },
    Resize,
    /// Row scans: cumsum, or top-k (`top_k`).
    Scan {
        top_k: bool,
    },
    Where,
}

impl Kernel {
    /// The kernel's WGSL file, and the shared files put before it (after `common.wgsl`).
    fn source(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Kernel::Unary(_) => (include_str!("kernels/elementwise.wgsl"), &[]),
            Kernel::Binary(_) => (include_str!("kernels/binary.wgsl"), &[]),
            Kernel::Cast { .. } => (include_str!("kernels/cast.wgsl"), &[]),
            Kernel::Gemm { .. } => (include_str!("kernels/matmul.wgsl"), &[WEIGHTS]),
            Kernel::Gemv { .. } => (include_str!("kernels/gemv.wgsl"), &[WEIGHTS]),
            Kernel::GemvQ { .. } => (include_str!("kernels/gemv_q.wgsl"), &[]),
            Kernel::Softmax => (include_str!("kernels/softmax.wgsl"), &[]),
            Kernel::Norm { .. } => (include_str!("kernels/norm.wgsl"), &[]),
            Kernel::Reduce(_) => (include_str!("kernels/reduce.wgsl"), &[]),
            Kernel::Attention => (include_str!("kernels/attention.wgsl"), &[ATTENTION]),
            Kernel::AttentionTiled { .. } => {
                (include_str!("kernels/attention_tiled.wgsl"), &[ATTENTION])
            }
            Kernel::Rope { .. } => (include_str!("kernels/rope.wgsl"), &[]),
            Kernel::IndexSelect(_) => (include_str!("kernels/index_select.wgsl"), &[WEIGHTS]),
            Kernel::Conv2d => (include_str!("kernels/conv2d.wgsl"), &[]),
            Kernel::Im2col => (include_str!("kernels/im2col.wgsl"), &[]),
            Kernel::ConvTranspose1d => (include_str!("kernels/conv_transpose1d.wgsl"), &[]),
            Kernel::Pool2d { .. } => (include_str!("kernels/pool2d.wgsl"), &[]),
            Kernel::Resize => (include_str!("kernels/resize.wgsl"), &[]),
            Kernel::Scan { .. } => (include_str!("kernels/scan.wgsl"), &[]),
            Kernel::Where => (include_str!("kernels/where.wgsl"), &[]),
        }
    }

    /// Whether the kernel may read workgroup memory it did not write (then it must start zeroed, as WGSL
    /// promises). The integer-dot GEMV and the tiled attention write everything they read, and their 15–16 KB
    /// would otherwise be zeroed by every workgroup first; browsers zero it regardless.
    fn reads_unwritten_workgroup_memory(self) -> bool {
        !matches!(self, Kernel::GemvQ { .. } | Kernel::AttentionTiled { .. })
    }

    /// Pipeline-overridable constants that select the variant inside one WGSL file.
    fn constants(self) -> Vec<(&'static str, f64)> {
        match self {
            Kernel::Unary(op) | Kernel::Binary(op) | Kernel::Reduce(op) => vec![("OP", op as f64)],
            Kernel::Cast { src, dst } => vec![("SRC", src.cast_code()), ("DST", dst.cast_code())],
            Kernel::Gemm { a, w } | Kernel::Gemv { a, w } => {
                vec![("ATYPE", a as u32 as f64), ("WTYPE", w as u32 as f64)]
            }
            Kernel::GemvQ {
                a,
                w,
                threads_per_row,
            } => vec![
                ("ATYPE", a as u32 as f64),
                ("WTYPE", w as u32 as f64),
                ("TPR", threads_per_row as f64),
            ],
            Kernel::Norm { rms } => vec![("MODE", rms as u32 as f64)],
            Kernel::AttentionTiled { d4 } => vec![("D4", d4 as f64)],
            Kernel::Rope { interleaved } => vec![("MODE", interleaved as u32 as f64)],
            Kernel::IndexSelect(w) => vec![("WTYPE", w as u32 as f64)],
            Kernel::Pool2d { avg } => vec![("MODE", avg as u32 as f64)],
            Kernel::Scan { top_k } => vec![("MODE", top_k as u32 as f64)],
            Kernel::Softmax
            | Kernel::Attention
            | Kernel::Conv2d
            | Kernel::Im2col
            | Kernel::ConvTranspose1d
            | Kernel::Resize
            | Kernel::Where => vec![],
        }
    }
}

/// Compiled shader modules by source file and pipelines by variant.
#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: HashMap<usize, wgpu::ShaderModule>,
    pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
}

impl PipelineCache {
    /// The pipeline for `kernel`, compiled on first use.
    pub(crate) fn get(&mut self, device: &wgpu::Device, kernel: Kernel) -> wgpu::ComputePipeline {
        if let Some(p) = self.pipelines.get(&kernel) {
            return p.clone();
        }
        let (body, preludes) = kernel.source();
        // Sources are 'static, so the address identifies the file.
        let module = self
            .modules
            .entry(body.as_ptr() as usize)
            .or_insert_with(|| {
                let mut src = String::from(COMMON);
                for prelude in preludes {
                    src.push_str(prelude);
                }
                src.push_str(body);
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some("offgrid kernel"),
                    source: wgpu::ShaderSource::Wgsl(src.into()),
                })
            })
            .clone();
        let constants = kernel.constants();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("offgrid kernel"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                zero_initialize_workgroup_memory: kernel.reads_unwritten_workgroup_memory(),
            },
            cache: None,
        });
        self.pipelines.insert(kernel, pipeline.clone());
        pipeline
    }
}
