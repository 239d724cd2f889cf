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

/// Bytes that the first `elems` values of a `dtype` tensor take on the GPU (a partly used Q8_0 group counts
/// whole, see repack.rs), and whether a binding may start right after them.
fn gpu_span(dtype: DType, elems: usize) -> Result<(u64, bool)> {
    Ok(match dtype {
        DType::F32 | DType::U32 => (elems as u64 * 4, true),
        DType::F16 => (elems as u64 * 2, true),
        q => {
            let blocks = elems / q.block_len();
            let whole_units = blocks.is_multiple_of(super::repack::block_unit(q)?.blocks);
            (super::repack::repacked_len(q, blocks)? as u64, whole_units)
        }
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
    let dtype = weight.dtype();
    // The fewest rows after which a binding may start again (eight at most: a Q8_0 group), and their bytes.
    let mut unit_rows = 1;
    while !gpu_span(dtype, unit_rows * k)?.1 {
        unit_rows += 1;
    }
    let unit_bytes = gpu_span(dtype, unit_rows * k)?.0;
    let start = gpu_span(dtype, weight.layout().offset())?;
    // Every run must start at an allowed binding offset: whole multiples of `step` units after an aligned start.
    let align = u64::from(limits.min_storage_buffer_offset_alignment).max(4);
    let start = match start {
        (start, true)
            if start.is_multiple_of(align) && unit_bytes.is_multiple_of(4) && unit_bytes > 0 =>
        {
            start
        }
        _ => {
            return Err(unsplittable(
                "its rows do not start at aligned offsets".into(),
            ))
        }
    };
    // The alignment is a power of two (WebGPU requires it), so the units' own power-of-two factor is all that
    // counts: `step` units span a multiple of `align` bytes.
    let step = align / align.min(1 << unit_bytes.trailing_zeros());
    let per_chunk = (max_binding / unit_bytes) / step * step;
    if per_chunk == 0 {
        return Err(unsplittable(format!(
            "{step} runs of {unit_rows} of its rows ({unit_bytes} bytes each) do not fit one binding"
        )));
    }
    let chunk_rows = per_chunk as usize * unit_rows;
    let chunks = (0..rows)
        .step_by(chunk_rows)
        .map(|first| {
            let n = (rows - first).min(chunk_rows);
            Ok(RowChunk {
                first,
                rows: n,
                offset: start + (first / unit_rows) as u64 * unit_bytes,
                size: gpu_span(dtype, n * k)?.0,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Some(chunks))
}
