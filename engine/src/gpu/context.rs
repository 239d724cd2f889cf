//! The device handle: adapter, queue, buffer pool, pipeline cache and the one command encoder that records a
//! forward pass until something is read back.

use super::kernels::{Kernel, PipelineCache};
use super::pool::{BufferPool, PoolStats};
use crate::{Error, Result};
use std::sync::{Arc, Mutex, MutexGuard};

/// Most workgroups in one dispatch dimension on every WebGPU device.
const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// A handle to a GPU device and its queues, pools and pipeline cache. Cheap to clone.
#[derive(Clone)]
pub struct GpuDevice {
    pub(crate) inner: Arc<GpuInner>,
}

impl std::fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuDevice({})", self.inner.info.name)
    }
}

pub(crate) struct GpuInner {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) info: wgpu::AdapterInfo,
    pub(crate) limits: wgpu::Limits,
    has_f16: bool,
    pub(crate) pool: Mutex<BufferPool>,
    pipelines: Mutex<PipelineCache>,
    /// Commands recorded since the last submit (one forward pass).
    encoder: Mutex<Recorder>,
    /// First uncaptured validation/internal error, reported at the next readback.
    error: Arc<Mutex<Option<String>>>,
    lost: Arc<Mutex<Option<String>>>,
}

#[derive(Default)]
struct Recorder {
    encoder: Option<wgpu::CommandEncoder>,
    /// The open compute pass: consecutive dispatches share one (wgpu still puts barriers between dispatches that
    /// depend on each other); a copy ends it.
    pass: Option<wgpu::ComputePass<'static>>,
    /// Parameters of the recorded dispatches, written to the GPU at submit.
    params: ParamArena,
    dispatches: u64,
    submits: u64,
}

/// Bytes of one parameter buffer shared by many dispatches.
const PARAM_CHUNK_BYTES: u64 = 64 * 1024;

/// The parameters of every dispatch recorded since the last submit, packed at aligned offsets into a few shared
/// buffers and written with one `queue.write_buffer` per buffer at submit, instead of a pooled buffer and a
/// write per dispatch (those were a large part of a small dispatch's cost).
#[derive(Default)]
struct ParamArena {
    /// Each buffer with the bytes it will receive.
    chunks: Vec<(wgpu::Buffer, Vec<u8>)>,
}

impl ParamArena {
    /// Places `bytes` (a multiple of 4, at most a chunk) at an offset that is a multiple of `align`; returns the
    /// buffer and the offset.
    fn place(
        &mut self,
        bytes: &[u8],
        align: u64,
        new_chunk: impl FnOnce() -> Result<wgpu::Buffer>,
    ) -> Result<(wgpu::Buffer, u64)> {
        let fits = |shadow: &Vec<u8>| {
            (shadow.len() as u64).next_multiple_of(align) + bytes.len() as u64 <= PARAM_CHUNK_BYTES
        };
        if !self.chunks.last().is_some_and(|(_, shadow)| fits(shadow)) {
            self.chunks
                .push((new_chunk()?, Vec::with_capacity(PARAM_CHUNK_BYTES as usize)));
        }
        let Some((buffer, shadow)) = self.chunks.last_mut() else {
            return Err(Error::Gpu("no parameter buffer".into()));
        };
        let offset = (shadow.len() as u64).next_multiple_of(align);
        shadow.resize(offset as usize, 0);
        shadow.extend_from_slice(bytes);
        Ok((buffer.clone(), offset))
    }
}

/// Counts of recorded work, for tests that check a forward pass is one encoder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncoderStats {
    /// Dispatches recorded into the pending encoder.
    pub pending_dispatches: u64,
    /// Command buffers submitted over the device's life.
    pub submits: u64,
}

/// A kernel argument: `size` bytes of `buffer` from `offset` (a multiple of the device's
/// `min_storage_buffer_offset_alignment`).
#[derive(Clone, Copy)]
pub(crate) struct Binding<'a> {
    pub(crate) buffer: &'a wgpu::Buffer,
    pub(crate) offset: u64,
    pub(crate) size: u64,
}

impl<'a> Binding<'a> {
    /// The whole buffer.
    pub(crate) fn whole(buffer: &'a wgpu::Buffer) -> Binding<'a> {
        Binding {
            buffer,
            offset: 0,
            size: buffer.size(),
        }
    }
}

/// Locks a mutex; a poisoned lock only means another thread panicked mid-op, the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl GpuDevice {
    /// Requests the default adapter and a device with the adapter's own limits (and `shader-f16` if offered).
    pub async fn new() -> Result<GpuDevice> {
        Self::with_max_binding(None).await
    }

    /// Like [`GpuDevice::new`], but binding at most `max_binding` bytes of a buffer per kernel argument when
    /// that is below the adapter's own limit: what a browser's smaller `maxStorageBufferBindingSize` (often
    /// 128 MiB) imposes, reproducible natively, so the paths that split large weights can be exercised.
    pub async fn with_max_binding(max_binding: Option<u64>) -> Result<GpuDevice> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .map_err(|e| Error::GpuUnavailable(format!("no GPU adapter ({e})")))?;
        let features = adapter.features() & wgpu::Features::SHADER_F16;
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("offgrid"),
                required_features: features,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::GpuUnavailable(format!("the adapter refused a device ({e})")))?;
        let mut limits = limits;
        if let Some(cap) = max_binding {
            limits.max_storage_buffer_binding_size =
                limits.max_storage_buffer_binding_size.min(cap);
        }
        let error = Arc::new(Mutex::new(None::<String>));
        let sink = error.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut slot = lock(&sink);
            if slot.is_none() {
                *slot = Some(e.to_string());
            }
        }));
        let lost = Arc::new(Mutex::new(None::<String>));
        let lost_sink = lost.clone();
        device.set_device_lost_callback(move |reason, msg| {
            *lock(&lost_sink) = Some(format!("{reason:?}: {msg}"));
        });
        Ok(GpuDevice {
            inner: Arc::new(GpuInner {
                device,
                queue,
                info: adapter.get_info(),
                limits,
                has_f16: !features.is_empty(),
                pool: Mutex::new(BufferPool::default()),
                pipelines: Mutex::new(PipelineCache::default()),
                encoder: Mutex::new(Recorder::default()),
                error,
                lost,
            }),
        })
    }

    /// Whether the device was lost (driver reset, `destroy`); every later use fails with
    /// [`Error::DeviceLost`].
    pub fn is_lost(&self) -> bool {
        lock(&self.inner.lost).is_some()
    }

    /// Destroys the device, as a driver reset would: its buffers are freed and the lost callback fires (on
    /// the web, asynchronously). For fault-injection tests.
    pub fn destroy(&self) {
        self.inner.device.destroy();
    }

    /// Whether two handles refer to the same device.
    pub fn same(&self, other: &GpuDevice) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
    /// The adapter's name, vendor, backend and driver.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }
    /// The limits the device was created with (the adapter's own).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.inner.limits
    }
    /// Whether the device has `shader-f16`. Kernels do not need it: f16 values are read with
    /// `unpack2x16float`, which every WebGPU device has, and always accumulated in f32.
    pub fn has_f16(&self) -> bool {
        self.inner.has_f16
    }
    /// Buffer pool counts.
    pub fn pool_stats(&self) -> PoolStats {
        lock(&self.inner.pool).stats()
    }
    /// Destroys idle pooled buffers, returning their memory.
    pub fn trim_pool(&self) {
        lock(&self.inner.pool).trim();
    }
    /// Recorded-work counts.
    pub fn encoder_stats(&self) -> EncoderStats {
        let rec = lock(&self.inner.encoder);
        EncoderStats {
            pending_dispatches: rec.dispatches,
            submits: rec.submits,
        }
    }

    /// Fails with [`Error::DeviceLost`] or the first uncaptured GPU error, if any happened.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(msg) = lock(&self.inner.lost).clone() {
            return Err(Error::DeviceLost(msg));
        }
        if let Some(msg) = lock(&self.inner.error).take() {
            return Err(Error::Gpu(msg));
        }
        Ok(())
    }

    /// A pooled buffer of at least `bytes`, checked against the device's limits.
    pub(crate) fn alloc(&self, bytes: u64, for_queue_write: bool) -> Result<wgpu::Buffer> {
        let class = super::pool::size_class(bytes);
        if class > self.inner.limits.max_buffer_size {
            return Err(Error::Gpu(format!(
                "a {bytes}-byte tensor exceeds this GPU's largest buffer ({} bytes); use the CPU or a smaller model",
                self.inner.limits.max_buffer_size
            )));
        }
        Ok(lock(&self.inner.pool).take(&self.inner.device, bytes, for_queue_write))
    }

    /// Records one compute dispatch of `kernel` into the pending encoder. `params` go in binding 0 (a
    /// storage buffer of u32s), `buffers` in bindings 1..; `groups` workgroups are spread over x and y when
    /// more than 65,535 (kernels rebuild the linear id from `num_workgroups`).
    pub(crate) fn dispatch(
        &self,
        kernel: Kernel,
        params: &[u32],
        buffers: &[&wgpu::Buffer],
        groups: u32,
    ) -> Result<()> {
        let whole: Vec<Binding> = buffers.iter().map(|b| Binding::whole(b)).collect();
        self.dispatch_bound(kernel, params, &whole, groups)
    }

    /// [`GpuDevice::dispatch`] with byte ranges of buffers as arguments (a large weight bound piece by piece).
    pub(crate) fn dispatch_bound(
        &self,
        kernel: Kernel,
        params: &[u32],
        buffers: &[Binding],
        groups: u32,
    ) -> Result<()> {
        self.check()?;
        let max_binding = self.inner.limits.max_storage_buffer_binding_size;
        if let Some(b) = buffers.iter().find(|b| b.size > max_binding) {
            return Err(Error::Gpu(format!(
                "{kernel:?}: a {}-byte binding exceeds this GPU's limit of {max_binding} bytes",
                b.size
            )));
        }
        if groups == 0 {
            return Ok(());
        }
        let pipeline = lock(&self.inner.pipelines).get(&self.inner.device, kernel);
        // Storage bindings must be at least 4 bytes and a multiple of 4.
        let mut param_bytes: Vec<u8> = bytemuck::cast_slice(params).to_vec();
        if param_bytes.is_empty() {
            param_bytes.extend_from_slice(&[0; 4]);
        }
        let align = u64::from(self.inner.limits.min_storage_buffer_offset_alignment).max(4);
        let mut rec = lock(&self.inner.encoder);
        let (param_buf, offset) = rec
            .params
            .place(&param_bytes, align, || self.alloc(PARAM_CHUNK_BYTES, true))?;
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &param_buf,
                offset,
                size: std::num::NonZeroU64::new(param_bytes.len() as u64),
            }),
        }];
        for (i, b) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: b.buffer,
                    offset: b.offset,
                    size: std::num::NonZeroU64::new(b.size),
                }),
            });
        }
        let bind_group = self
            .inner
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
        let (x, y) = split_groups(groups);
        let rec = &mut *rec;
        if rec.pass.is_none() {
            let encoder = rec.encoder.get_or_insert_with(|| {
                self.inner
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("offgrid forward"),
                    })
            });
            rec.pass = Some(
                encoder
                    .begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: None,
                        timestamp_writes: None,
                    })
                    .forget_lifetime(),
            );
        }
        if let Some(pass) = rec.pass.as_mut() {
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(x, y, 1);
        }
        rec.dispatches += 1;
        lock(&self.inner.pool).pending_work = true;
        Ok(())
    }

    /// Records a buffer-to-buffer copy into the pending encoder.
    pub(crate) fn copy_buffer(
        &self,
        src: &wgpu::Buffer,
        dst: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<()> {
        self.check()?;
        let mut rec = lock(&self.inner.encoder);
        // The encoder is locked while a pass is open.
        rec.pass = None;
        let encoder = rec.encoder.get_or_insert_with(|| {
            self.inner
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("offgrid forward"),
                })
        });
        encoder.copy_buffer_to_buffer(src, 0, dst, 0, bytes);
        lock(&self.inner.pool).pending_work = true;
        Ok(())
    }

    /// Submits the pending encoder (if any work was recorded).
    pub fn flush(&self) {
        let (encoder, params) = {
            let mut rec = lock(&self.inner.encoder);
            rec.dispatches = 0;
            rec.pass = None;
            let e = rec.encoder.take();
            if e.is_some() {
                rec.submits += 1;
            }
            (e, std::mem::take(&mut rec.params.chunks))
        };
        // Queue writes land before the command buffer submitted after them.
        for (buffer, shadow) in &params {
            self.inner.queue.write_buffer(buffer, 0, shadow);
        }
        if let Some(encoder) = encoder {
            self.inner.queue.submit([encoder.finish()]);
        }
        let mut pool = lock(&self.inner.pool);
        for (buffer, _) in params {
            pool.give_back(buffer);
        }
        pool.after_submit();
    }

    /// Waits (without blocking on the web) until all submitted work has finished.
    pub async fn synchronize(&self) -> Result<()> {
        self.flush();
        let (tx, rx) = futures::channel::oneshot::channel();
        self.inner.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        self.wait_native();
        rx.await
            .map_err(|_| Error::DeviceLost("the GPU stopped answering".into()))?;
        self.check()
    }

    /// Natively, drives wgpu until callbacks have run (the browser does this by itself).
    pub(crate) fn wait_native(&self) {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = self.inner.device.poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            });
        }
    }
}

/// Splits a workgroup count into (x, y) with x ≤ 65,535.
pub(crate) fn split_groups(groups: u32) -> (u32, u32) {
    if groups <= MAX_GROUPS_PER_DIM {
        (groups, 1)
    } else {
        (MAX_GROUPS_PER_DIM, groups.div_ceil(MAX_GROUPS_PER_DIM))
    }
}
