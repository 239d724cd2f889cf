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

/// The smallest run of rows whose bytes on the GPU can start a binding (quantized Q8_0/Q4_0 blocks go in
/// groups of eight, see repack.rs), and those bytes.
fn row_unit(dtype: DType, k: usize) -> Result<(usize, u64)> {
    Ok(match dtype {
        DType::F32 | DType::U32 => (1, k as u64 * 4),
        DType::F16 => (1, k as u64 * 2),
        q => {
            let unit = super::repack::block_unit(q)?;
            let row_blocks = k / q.block_len();
            // Rows until a whole number of units: unit.blocks / gcd(row_blocks, unit.blocks).
            let rows = (1..=unit.blocks)
                .find(|r| (r * row_blocks).is_multiple_of(unit.blocks))
                .unwrap_or(unit.blocks);
            (rows, (rows * row_blocks / unit.blocks * unit.bytes) as u64)
        }
    })
}

/// The byte at which a tensor starting `elems` values into its buffer starts, if a binding can start there.
fn start_byte(dtype: DType, elems: usize) -> Result<Option<u64>> {
    Ok(match dtype {
        DType::F32 | DType::U32 => Some(elems as u64 * 4),
        DType::F16 => Some(elems as u64 * 2),
        q => {
            let unit = super::repack::block_unit(q)?;
            let blocks = elems / q.block_len();
            blocks
                .is_multiple_of(unit.blocks)
                .then_some((blocks / unit.blocks * unit.bytes) as u64)
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
    let (unit_rows, unit_bytes) = row_unit(weight.dtype(), k)?;
    let start = start_byte(weight.dtype(), weight.layout().offset())?;
    // Every run must start at an allowed binding offset: whole multiples of `step` units after an aligned start.
    let align = u64::from(limits.min_storage_buffer_offset_alignment).max(4);
    let start = match start {
        Some(start)
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
    let dtype = weight.dtype();
    let chunk_rows = per_chunk as usize * unit_rows;
    let chunks = (0..rows)
        .step_by(chunk_rows)
        .map(|first| {
            let n = (rows - first).min(chunk_rows);
            Ok(RowChunk {
                first,
                rows: n,
                offset: start + (first / unit_rows) as u64 * unit_bytes,
                size: rows_bytes(dtype, k, n)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Some(chunks))
}

/// Bytes on the GPU of `rows` rows of `k` values that start a unit (the last group padded whole).
fn rows_bytes(dtype: DType, k: usize, rows: usize) -> Result<u64> {
    Ok(match dtype {
        DType::F32 | DType::U32 => (rows * k) as u64 * 4,
        DType::F16 => (rows * k) as u64 * 2,
        q => super::repack::repacked_len(q, rows * k / q.block_len())? as u64,
    })
}
