//! GEMV lab (not part of the engine): times the quantized decode GEMV (`gemv_q.wgsl`) for each choice of
//! threads per row and row groups per workgroup, straight on wgpu, on random bytes (the timing of a
//! memory-bound kernel does not depend on the values), beside a plain streaming read and a one-workgroup
//! dispatch. Every dispatch writes the same output buffer, so wgpu puts a barrier between consecutive ones:
//! each product waits for the one before, as in a decode pass (`offgrid bench ops` lets independent
//! products overlap). The weights cycle through 256 MB of copies so they come from memory, not from L2.
//! `cargo run --release -p offgrid-engine --example gemv_lab` (on the GPU machine: `.devbin/gemv_lab` after
//! `scripts/bench/gpu_machine.sh --prepare`). `GEMV_Q_WGSL=file` times a variant of the kernel instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;
use wgpu::util::DeviceExt;

const POOL: u64 = 256 << 20;

struct Lab {
    device: wgpu::Device,
    queue: wgpu::Queue,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    weights: wgpu::Buffer,
    x: wgpu::Buffer,
    y: wgpu::Buffer,
}

impl Lab {
    fn new() -> Lab {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = pollster::block_on(instance.request_adapter(&Default::default())).unwrap();
        eprintln!("{:?}", adapter.get_info());
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .unwrap();
        let entry = |binding, read_only| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: None,
            entries: &[
                entry(0, true),
                entry(1, true),
                entry(2, true),
                entry(3, false),
                entry(4, true),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: None,
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let mut seed = 0x9e3779b97f4a7c15u64;
        let bytes: Vec<u8> = (0..POOL)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // keep f16 scales finite: clear the top exponent bits of every odd byte
                (seed as u8) & 0x3f
            })
            .collect();
        let weights = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: &bytes,
            usage: wgpu::BufferUsages::STORAGE,
        });
        let xs: Vec<f32> = (0..65536)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let x = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: &f32_le_bytes(&xs),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let y = device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 128 << 20,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        Lab {
            device,
            queue,
            layout,
            pipeline_layout,
            weights,
            x,
            y,
        }
    }

    fn pipeline(&self, source: &str, constants: &[(&str, f64)]) -> wgpu::ComputePipeline {
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: None,
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: None,
                layout: Some(&self.pipeline_layout),
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
    }

    /// Seconds per run: the growth from R runs to 2R (each run on its own copy of the weights), over R.
    fn time(
        &self,
        pipeline: &wgpu::ComputePipeline,
        params: &[u32],
        bytes: u64,
        groups: u32,
    ) -> f64 {
        let span = bytes.next_multiple_of(256);
        let copies = (POOL / span).clamp(1, 1000);
        let p = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents: &u32_le_bytes(params),
                usage: wgpu::BufferUsages::STORAGE,
            });
        let groups_of = |c: u64| {
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &self.layout,
                entries: &[
                    bind(0, &p, 0, None),
                    bind(1, &self.x, 0, None),
                    bind(2, &self.weights, c * span, Some(span)),
                    // One output range for every run: each dispatch waits for the one before. (Runs writing
                    // their own ranges overlapped: a 64 MiB read then "ran" at 7.2 TB/s on an H100.)
                    bind(3, &self.y, 0, Some(65536)),
                    bind(4, &self.weights, c * span, Some(span)),
                ],
            })
        };
        let bind_groups: Vec<_> = (0..copies).map(groups_of).collect();
        let (gx, gy) = if groups > 65535 {
            (65535, groups.div_ceil(65535))
        } else {
            (groups, 1)
        };
        let run = |r: usize| {
            let mut enc = self.device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(pipeline);
                for i in 0..r {
                    pass.set_bind_group(0, &bind_groups[i % bind_groups.len()], &[]);
                    pass.dispatch_workgroups(gx, gy, 1);
                }
            }
            let t = Instant::now();
            self.queue.submit([enc.finish()]);
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .unwrap();
            t.elapsed().as_secs_f64()
        };
        let r = ((2e9 / bytes as f64) as usize).clamp(50, 4000);
        run(r);
        let mut best = f64::MAX;
        for _ in 0..5 {
            let one = run(r);
            let two = run(2 * r);
            best = best.min((two - one) / r as f64);
        }
        best
    }
}

fn bind(
    binding: u32,
    buffer: &wgpu::Buffer,
    offset: u64,
    size: Option<u64>,
) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset,
            size: size.and_then(std::num::NonZeroU64::new),
        }),
    }
}

fn f32_le_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn u32_le_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn main() {
    let lab = Lab::new();
    let common = include_str!("../src/gpu/kernels/common.wgsl");
    // GEMV_Q_WGSL=path times a variant of the kernel without rebuilding the lab.
    let kernel = match std::env::var("GEMV_Q_WGSL") {
        Ok(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| {
            eprintln!("GEMV_Q_WGSL={path}: {e}");
            std::process::exit(2)
        }),
        Err(_) => include_str!("../src/gpu/kernels/gemv_q.wgsl").to_string(),
    };
    let current = format!("{common}\n{kernel}");
    let read = include_str!("gemv_lab/read.wgsl");

    let floor = lab.pipeline(read, &[("VEC", 1.0)]);
    let s = lab.time(&floor, &[256], 4096, 1);
    println!("floor (1 workgroup, 4 KiB): {:.2} us", s * 1e6);
    for (vec, name) in [(1.0, "read vec4"), (0.0, "read u32")] {
        let pipe = lab.pipeline(read, &[("VEC", vec)]);
        for bytes in [4u64 << 20, 16 << 20, 64 << 20] {
            let s = lab.time(&pipe, &[(bytes / 4) as u32], bytes, 1056);
            println!(
                "{name} {} MiB: {:.1} us, {:.0} GB/s",
                bytes >> 20,
                s * 1e6,
                bytes as f64 / s / 1e9
            );
        }
    }

    let shapes = [
        (896usize, 4864usize),
        (4864, 896),
        (1536, 8960),
        (8960, 1536),
        (14336, 4096),
    ];
    for (wtype, tname, gguf) in [(2.0, "q8_0", 34u64), (3.0, "q4_0", 18)] {
        for &(n, k) in &shapes {
            let nb = (k / 32) as u64;
            let gguf_bytes = n as u64 * nb * gguf;
            // On the GPU (repack.rs): Q8_0 in groups of eight blocks, exactly the GGUF bytes; Q4_0 20 bytes a block.
            let cur_bytes = if wtype == 2.0 {
                (n as u64 * nb).div_ceil(8) * 8 * gguf
            } else {
                n as u64 * nb * 20
            };
            let mut line = format!("{tname} {n}x{k} ({gguf_bytes} B):");
            for tpr in [8u32, 16, 32] {
                let pipe = lab.pipeline(
                    &current,
                    &[("ATYPE", 0.0), ("WTYPE", wtype), ("TPR", tpr as f64)],
                );
                let row_groups = n.div_ceil(256 / tpr as usize);
                for passes in [1, row_groups.div_ceil(264)] {
                    let p = [1, n as u32, k as u32, 0, row_groups as u32, passes as u32];
                    let g = row_groups.div_ceil(passes) as u32;
                    let s = lab.time(&pipe, &p, cur_bytes, g);
                    line += &format!(" {tpr} threads/row, {passes} passes: {:.1} us |", s * 1e6);
                }
            }
            println!("{line}");
        }
    }
}
