//! Weights too large for one kernel argument. A browser may bind at most `maxStorageBufferBindingSize` bytes
//! of a buffer (often 128 MiB) while the buffer itself may be larger: a chat model's embedding table or
//! output head is 136–544 MB. Such a `[rows, k]` weight is bound as consecutive runs of whole rows, each its
//! own byte range of the one buffer, and the op runs once per run.

use super::context::Binding;
use super::GpuDevice;
use crate::{DType, Error, Result, Tensor};

/// Rows `first..first + rows` of a weight and the bytes of its buffer that hold exactly them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RowChunk {
    pub(crate) first: usize,
    pub(crate) rows: usize,
    pub(crate) offset: u64,
    pub(crate) size: u64,
}

impl RowChunk {
    pub(crate) fn binding<'a>(&self, buffer: &'a wgpu::Buffer) -> Binding<'a> {
        Binding {
            buffer,
            offset: self.offset,
            size: self.size,
        }
    }
}

/// Bytes of `elems` values of `dtype` as stored on the GPU (quantized blocks repacked to whole words).
fn gpu_bytes(dtype: DType, elems: usize) -> Result<u64> {
    Ok(match dtype {
        DType::F32 | DType::U32 => elems as u64 * 4,
        DType::F16 => elems as u64 * 2,
        q => (elems / q.block_len()) as u64 * super::repack::repacked_bytes(q)? as u64,
    })
}

/// The row runs of a row-major `[rows, k]` weight on the GPU, or `None` when its buffer binds whole.
pub(crate) fn row_chunks(
    dev: &GpuDevice,
    weight: &Tensor,
    buffer_bytes: u64,
) -> Result<Option<Vec<RowChunk>>> {
    let limits = dev.limits();
    let max_binding = limits.max_storage_buffer_binding_size;
    if buffer_bytes <= max_binding {
        return Ok(None);
    }
    let (rows, k) = (weight.dims()[0], weight.dims()[1]);
    let unsplittable = |why: String| {
        Error::Gpu(format!(
            "a {buffer_bytes}-byte weight exceeds this GPU's binding limit of {max_binding} bytes and {why}; \
             use the CPU or a smaller model"
        ))
    };
    if weight.layout().strides() != [k, 1] {
        return Err(unsplittable("is not row-major".into()));
    }
    let row_bytes = gpu_bytes(weight.dtype(), k)?;
    let start = gpu_bytes(weight.dtype(), weight.layout().offset())?;
    // Every run must start at an allowed binding offset: whole multiples of `step` rows after an aligned start.
    let align = u64::from(limits.min_storage_buffer_offset_alignment).max(4);
    if !start.is_multiple_of(align) || !row_bytes.is_multiple_of(4) || row_bytes == 0 {
        return Err(unsplittable(
            "its rows do not start at aligned offsets".into(),
        ));
    }
    // The alignment is a power of two (WebGPU requires it), so the rows' own power-of-two factor is all that
    // counts: `step` rows span a multiple of `align` bytes.
    let step = align / align.min(1 << row_bytes.trailing_zeros());
    let per_chunk = (max_binding / row_bytes) / step * step;
    if per_chunk == 0 {
        return Err(unsplittable(format!(
            "{step} of its {row_bytes}-byte rows do not fit one binding"
        )));
    }
    let chunks = (0..rows)
        .step_by(per_chunk as usize)
        .map(|first| {
            let n = (rows - first).min(per_chunk as usize);
            RowChunk {
                first,
                rows: n,
                offset: start + first as u64 * row_bytes,
                size: n as u64 * row_bytes,
            }
        })
        .collect();
    Ok(Some(chunks))
}
