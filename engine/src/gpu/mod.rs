//! wgpu backend (WebGPU in the browser, Vulkan/Metal/DX12 natively).
//!
//! Kernels are WGSL files in `kernels/`, dispatched from the Rust module of the same name. Every op records
//! into the device's one pending command encoder; the encoder is submitted when something is read back
//! ([`download`]) or on [`GpuDevice::flush`]. Buffers come from a pool by size class and go back to it when
//! their [`GpuStorage`] drops. Quantized weights are repacked at upload into u32-aligned blocks
//! (see `repack.rs`) and dequantized inside the kernels; all arithmetic accumulates in f32.

mod context;
pub mod elementwise;
mod kernels;
pub mod matmul;
pub mod nn;
mod pool;
mod repack;
mod row_chunks;
pub mod spatial;

pub use context::{EncoderStats, GpuDevice};
pub use pool::PoolStats;

use crate::storage::CpuStorage;
use crate::{DType, Error, Result};
use half::f16;

/// Tensor bytes in a pooled GPU buffer, returned to the pool on drop.
pub struct GpuStorage {
    buffer: Option<wgpu::Buffer>,
    dtype: DType,
    /// Meaningful bytes (the buffer is rounded up to its size class).
    bytes: u64,
    device: GpuDevice,
    /// Values of a U32 tensor uploaded from the CPU, kept so index ops can check ids without a readback.
    host_u32: Option<Vec<u32>>,
    /// Blocks of a quantized tensor (its repacked bytes end in padding, see repack.rs).
    quant_blocks: usize,
}

impl std::fmt::Debug for GpuStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuStorage({:?}, {} bytes)", self.dtype, self.bytes)
    }
}

impl Drop for GpuStorage {
    fn drop(&mut self) {
        if let Some(b) = self.buffer.take() {
            context::lock(&self.device.inner.pool).give_back(b);
        }
    }
}

impl GpuStorage {
    /// A new uninitialised buffer for `elems` values of `dtype` (float or u32 only).
    pub(crate) fn alloc(device: &GpuDevice, dtype: DType, elems: usize) -> Result<GpuStorage> {
        let bytes = match dtype {
            DType::F32 | DType::U32 => elems as u64 * 4,
            DType::F16 => elems as u64 * 2,
            other => {
                return Err(Error::UnsupportedDType {
                    op: "gpu alloc",
                    dtype: other,
                })
            }
        };
        Ok(GpuStorage {
            buffer: Some(device.alloc(bytes.max(4).next_multiple_of(4), false)?),
            dtype,
            bytes,
            device: device.clone(),
            host_u32: None,
            quant_blocks: 0,
        })
    }
    /// The element type held.
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    /// The device holding it.
    pub fn device(&self) -> &GpuDevice {
        &self.device
    }
    /// Meaningful bytes.
    pub fn byte_len(&self) -> u64 {
        self.bytes
    }
    /// The values of a U32 tensor uploaded from the CPU (not of one computed on the GPU).
    pub(crate) fn host_u32(&self) -> Option<&[u32]> {
        self.host_u32.as_deref()
    }
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        // Only `drop` takes the buffer, so it is always present while `self` is reachable.
        self.buffer.as_ref().unwrap_or_else(|| unreachable!())
    }
}

/// Whether GPU kernels read weights stored as `dtype` (the others are widened on load or refused).
pub(crate) fn computes_with(dtype: DType) -> bool {
    kernels::Storage::of(dtype).is_some()
}

/// Uploads CPU storage to the GPU (a queued write; it lands before the next submitted pass).
pub fn upload(device: &GpuDevice, cpu: &CpuStorage) -> Result<GpuStorage> {
    device.check()?;
    let owned;
    let bytes: &[u8] = match cpu {
        CpuStorage::F32(v) => bytemuck::cast_slice(v),
        CpuStorage::U32(v) => bytemuck::cast_slice(v),
        CpuStorage::F16(v) => {
            if v.len() % 2 == 1 {
                let mut padded = v.clone();
                padded.push(f16::ZERO);
                owned = bytemuck::cast_slice::<f16, u8>(&padded).to_vec();
                &owned
            } else {
                bytemuck::cast_slice(v)
            }
        }
        CpuStorage::Quantized { dtype, bytes } => {
            owned = repack::repack(*dtype, bytes)?;
            &owned
        }
    };
    let buffer = device.alloc(bytes.len().max(4) as u64, true)?;
    if !bytes.is_empty() {
        device.inner.queue.write_buffer(&buffer, 0, bytes);
    }
    let meaningful = match cpu {
        CpuStorage::Quantized { .. } => bytes.len(),
        _ => cpu.byte_len(),
    };
    Ok(GpuStorage {
        buffer: Some(buffer),
        dtype: cpu.dtype(),
        bytes: meaningful as u64,
        device: device.clone(),
        host_u32: match cpu {
            CpuStorage::U32(v) if v.len() <= 1 << 16 => Some(v.clone()),
            _ => None,
        },
        quant_blocks: match cpu {
            CpuStorage::Quantized { dtype, bytes } => bytes.len() / dtype.block_bytes(),
            _ => 0,
        },
    })
}

/// Copies GPU storage back to the CPU: submits the pending encoder with one copy into a mappable buffer and
/// awaits the mapping (natively by polling the device; in the browser the event loop drives it).
pub async fn download(storage: &GpuStorage) -> Result<CpuStorage> {
    let device = &storage.device;
    let size = storage.bytes.max(4).next_multiple_of(4);
    let staging = device.inner.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("offgrid readback"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    device.copy_buffer(storage.buffer(), &staging, size)?;
    device.flush();
    let (tx, rx) = futures::channel::oneshot::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |r| {
        let _ = tx.send(r);
    });
    device.wait_native();
    let mapped = rx
        .await
        .map_err(|_| Error::DeviceLost("the GPU dropped a readback".into()));
    device.check()?;
    // WebGPU fails a mapping when the device is lost or destroyed (our code never unmaps a staging buffer
    // early); the browser may report the loss itself a moment later, so the failed map is taken as the loss.
    mapped?.map_err(|e| Error::DeviceLost(format!("a readback failed ({e})")))?;
    let data = staging
        .slice(..)
        .get_mapped_range()
        .map_err(|e| Error::Gpu(format!("readback failed: {e}")))?
        .to_vec();
    staging.unmap();
    staging.destroy();
    let data = &data[..storage.bytes as usize];
    Ok(match storage.dtype {
        DType::F32 => CpuStorage::F32(bytemuck::pod_collect_to_vec::<u8, f32>(data).into()),
        DType::U32 => CpuStorage::U32(bytemuck::pod_collect_to_vec(data)),
        DType::F16 => CpuStorage::F16(bytemuck::pod_collect_to_vec(data)),
        other => CpuStorage::Quantized {
            dtype: other,
            bytes: repack::unpack(other, data, storage.quant_blocks)?,
        },
    })
}
