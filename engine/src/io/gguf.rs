//! GGUF reader (versions 2 and 3): header, metadata, tensor infos and the aligned tensor data.
//! <https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>

use super::gguf_metadata::read_value;
pub use super::gguf_metadata::{MetadataArray, MetadataValue};
use super::{checked_elems, float_storage, DTypePolicy};
use crate::{DType, Device, Error, Result, Tensor};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

/// "GGUF" read as a little-endian u32.
const MAGIC: u32 = 0x4655_4747;
/// ggml's `GGML_MAX_DIMS`.
const MAX_DIMS: usize = 4;
const DEFAULT_ALIGNMENT: usize = 32;

fn malformed(msg: impl Into<String>) -> Error {
    Error::Malformed(format!("GGUF: {}", msg.into()))
}

/// A bounds-checked little-endian cursor over the file.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(malformed(format!(
                "needs {n} bytes at offset {} but the file has {} left; is it incomplete?",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A u64 count or length that must fit in memory.
    pub(crate) fn len(&mut self) -> Result<usize> {
        let v = self.u64()?;
        usize::try_from(v).map_err(|_| malformed(format!("length {v} does not fit in memory")))
    }

    /// A length-prefixed string; invalid UTF-8 is replaced rather than rejected (some vocabularies have it).
    pub(crate) fn string(&mut self) -> Result<String> {
        let n = self.len()?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}

/// A ggml tensor type, known by its id even when the engine cannot compute with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgufType {
    /// The `ggml_type` number.
    pub id: u32,
    /// llama.cpp's name for it.
    pub name: &'static str,
    /// Values per block.
    pub block_len: usize,
    /// Bytes per block.
    pub block_bytes: usize,
}

/// (id, name, block length, block bytes) of every ggml type with a fixed layout (ggml.c `type_traits`).
const GGML_TYPES: &[(u32, &str, usize, usize)] = &[
    (0, "F32", 1, 4),
    (1, "F16", 1, 2),
    (2, "Q4_0", 32, 18),
    (3, "Q4_1", 32, 20),
    (6, "Q5_0", 32, 22),
    (7, "Q5_1", 32, 24),
    (8, "Q8_0", 32, 34),
    (9, "Q8_1", 32, 36),
    (10, "Q2_K", 256, 84),
    (11, "Q3_K", 256, 110),
    (12, "Q4_K", 256, 144),
    (13, "Q5_K", 256, 176),
    (14, "Q6_K", 256, 210),
    (15, "Q8_K", 256, 292),
    (16, "IQ2_XXS", 256, 66),
    (17, "IQ2_XS", 256, 74),
    (18, "IQ3_XXS", 256, 98),
    (19, "IQ1_S", 256, 50),
    (20, "IQ4_NL", 32, 18),
    (21, "IQ3_S", 256, 110),
    (22, "IQ2_S", 256, 82),
    (23, "IQ4_XS", 256, 136),
    (24, "I8", 1, 1),
    (25, "I16", 1, 2),
    (26, "I32", 1, 4),
    (27, "I64", 1, 8),
    (28, "F64", 1, 8),
    (29, "IQ1_M", 256, 56),
    (30, "BF16", 1, 2),
    (34, "TQ1_0", 256, 54),
    (35, "TQ2_0", 256, 66),
    (39, "MXFP4", 32, 17),
];

impl GgufType {
    /// The type with ggml id `id`, if it is one with a known layout.
    pub fn from_id(id: u32) -> Option<GgufType> {
        GGML_TYPES
            .iter()
            .find(|t| t.0 == id)
            .map(|&(id, name, block_len, block_bytes)| GgufType {
                id,
                name,
                block_len,
                block_bytes,
            })
    }

    /// The engine dtype, for the types the engine computes with.
    pub fn dtype(self) -> Option<DType> {
        Some(match self.id {
            0 => DType::F32,
            1 => DType::F16,
            30 => DType::BF16,
            8 => DType::Q8_0,
            2 => DType::Q4_0,
            3 => DType::Q4_1,
            6 => DType::Q5_0,
            12 => DType::Q4_K,
            14 => DType::Q6_K,
            _ => return None,
        })
    }
}

/// Where one tensor lies in a GGUF buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufTensorInfo {
    /// Name as stored (llama.cpp names such as `blk.0.attn_q.weight`).
    pub name: String,
    /// Stored type.
    pub ggml_type: GgufType,
    /// Shape outermost dimension first, like PyTorch (GGUF stores it innermost first).
    pub shape: Vec<usize>,
    /// Byte range in the whole buffer.
    pub range: Range<usize>,
}

/// A parsed GGUF file that owns its bytes (cheap to clone).
#[derive(Debug, Clone)]
pub struct Gguf {
    bytes: Arc<[u8]>,
    version: u32,
    alignment: usize,
    data_offset: usize,
    metadata: Arc<BTreeMap<String, MetadataValue>>,
    tensors: Arc<Vec<GgufTensorInfo>>,
    by_name: Arc<BTreeMap<String, usize>>,
}

fn read_tensor_info(r: &mut Reader<'_>) -> Result<(String, Vec<usize>, GgufType, u64)> {
    let name = r.string()?;
    let n_dims = r.u32()? as usize;
    if n_dims > MAX_DIMS {
        return Err(malformed(format!(
            "tensor `{name}` has {n_dims} dimensions (at most {MAX_DIMS})"
        )));
    }
    let mut dims = Vec::with_capacity(n_dims);
    for _ in 0..n_dims {
        let d = r.u64()?;
        // ggml keeps dimensions as i64.
        let d = usize::try_from(d)
            .ok()
            .filter(|&d| i64::try_from(d).is_ok())
            .ok_or_else(|| malformed(format!("tensor `{name}` has absurd dimension {d}")))?;
        dims.push(d);
    }
    let id = r.u32()?;
    let ty = GgufType::from_id(id)
        .ok_or_else(|| malformed(format!("tensor `{name}` has unknown ggml type {id}")))?;
    let offset = r.u64()?;
    dims.reverse();
    Ok((name, dims, ty, offset))
}

impl Gguf {
    /// Parses and validates a whole GGUF file.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Self> {
        let bytes: Arc<[u8]> = bytes.into();
        let mut r = Reader {
            buf: &bytes,
            pos: 0,
        };
        let magic = r
            .u32()
            .map_err(|_| malformed("the file is too short to be GGUF"))?;
        if magic != MAGIC {
            return Err(malformed("this is not a GGUF file (wrong magic bytes)"));
        }
        let version = r.u32()?;
        match version {
            2 | 3 => {}
            1 => {
                return Err(malformed(
                    "GGUF version 1 is not supported; convert the file again",
                ))
            }
            v if v.swap_bytes() <= 3 => {
                return Err(malformed("big-endian GGUF files are not supported"))
            }
            v => return Err(malformed(format!("unknown GGUF version {v}"))),
        }
        let tensor_count = r.len()?;
        let kv_count = r.len()?;
        let mut metadata = BTreeMap::new();
        for _ in 0..kv_count {
            let key = r.string()?;
            let ty = r.u32()?;
            let value = read_value(&mut r, ty, 0)?;
            if metadata.insert(key.clone(), value).is_some() {
                return Err(malformed(format!("metadata key `{key}` appears twice")));
            }
        }
        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(MetadataValue::U32(a)) if a.is_power_of_two() => *a as usize,
            Some(other) => {
                return Err(malformed(format!(
                    "general.alignment must be a power-of-two u32, got {other:?}"
                )))
            }
        };
        let mut raw = Vec::new();
        for _ in 0..tensor_count {
            raw.push(read_tensor_info(&mut r)?);
        }
        let data_offset = r
            .pos
            .checked_next_multiple_of(alignment)
            .ok_or_else(|| malformed("data offset overflows"))?;
        // Checked here because a tensor of zero values would pass the range check below with a range that
        // starts past the end of the buffer (found by cargo-fuzz).
        if !raw.is_empty() && data_offset > bytes.len() {
            return Err(malformed(format!(
                "the file ends at byte {} before its tensor data section (byte {data_offset}); is it incomplete?",
                bytes.len()
            )));
        }
        let data_len = bytes.len().saturating_sub(data_offset);
        let mut tensors = Vec::with_capacity(raw.len());
        let mut by_name = BTreeMap::new();
        for (name, shape, ty, offset) in raw {
            let inner = shape.last().copied().unwrap_or(1);
            if inner % ty.block_len != 0 {
                return Err(malformed(format!(
                    "tensor `{name}`: innermost dimension {inner} is not a multiple of {}'s block of {}",
                    ty.name, ty.block_len
                )));
            }
            let size = checked_elems(&shape)
                .and_then(|n| (n / ty.block_len).checked_mul(ty.block_bytes))
                .ok_or_else(|| malformed(format!("tensor `{name}` has absurd shape {shape:?}")))?;
            let start = usize::try_from(offset).ok().filter(|o| o % alignment == 0);
            let end = start
                .and_then(|s| s.checked_add(size))
                .filter(|&e| e <= data_len);
            let (Some(start), Some(end)) = (start, end) else {
                return Err(malformed(format!(
                    "tensor `{name}` ({size} bytes at data offset {offset}) is misaligned or past the end \
                     of the {data_len}-byte data section; is the file incomplete?"
                )));
            };
            if by_name.insert(name.clone(), tensors.len()).is_some() {
                return Err(malformed(format!("tensor `{name}` appears twice")));
            }
            tensors.push(GgufTensorInfo {
                name,
                ggml_type: ty,
                shape,
                range: data_offset + start..data_offset + end,
            });
        }
        let mut spans: Vec<&GgufTensorInfo> = tensors.iter().collect();
        spans.sort_by_key(|t| (t.range.start, t.range.end));
        for pair in spans.windows(2) {
            if pair[1].range.start < pair[0].range.end {
                return Err(malformed(format!(
                    "tensors `{}` and `{}` overlap",
                    pair[0].name, pair[1].name
                )));
            }
        }
        Ok(Gguf {
            version,
            alignment,
            data_offset,
            metadata: Arc::new(metadata),
            tensors: Arc::new(tensors),
            by_name: Arc::new(by_name),
            bytes,
        })
    }

    /// The format version (2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Alignment of tensor data (`general.alignment`, 32 by default).
    pub fn alignment(&self) -> usize {
        self.alignment
    }

    /// Byte offset where the tensor data section starts.
    pub fn data_offset(&self) -> usize {
        self.data_offset
    }

    /// All metadata by key.
    pub fn metadata(&self) -> &BTreeMap<String, MetadataValue> {
        &self.metadata
    }

    /// One metadata value.
    pub fn get(&self, key: &str) -> Option<&MetadataValue> {
        self.metadata.get(key)
    }

    /// Tensor infos in file order.
    pub fn tensors(&self) -> &[GgufTensorInfo] {
        &self.tensors
    }

    /// The info of one tensor.
    pub fn info(&self, name: &str) -> Option<&GgufTensorInfo> {
        self.by_name.get(name).map(|&i| &self.tensors[i])
    }

    /// The stored bytes of one tensor.
    pub fn raw(&self, name: &str) -> Result<&[u8]> {
        let info = self
            .info(name)
            .ok_or_else(|| Error::MissingWeight(name.to_string()))?;
        Ok(&self.bytes[info.range.clone()])
    }

    /// Loads one tensor onto `device`: quantized blocks stay as stored, floats follow `policy`.
    pub fn load(&self, name: &str, policy: DTypePolicy, device: &Device) -> Result<Tensor> {
        let info = self
            .info(name)
            .ok_or_else(|| Error::MissingWeight(name.to_string()))?;
        let dtype = info.ggml_type.dtype().ok_or_else(|| {
            Error::invalid(
                "load weight",
                format!(
                    "`{name}` is stored as {}, which Offgrid cannot compute with (F32, F16, BF16, Q8_0, \
                     Q4_0, Q4_1, Q5_0, Q4_K, Q6_K); pick another quantization of this model",
                    info.ggml_type.name
                ),
            )
        })?;
        let bytes = &self.bytes[info.range.clone()];
        let gpu_cannot_compute =
            matches!(device, Device::Gpu(_)) && !crate::gpu::computes_with(dtype);
        if dtype.is_quantized() && gpu_cannot_compute {
            // No GPU kernel reads these blocks (Q4_1, Q5_0): widen them to F16 on load, at 3-4x their memory
            // and one f16 rounding of each value, rather than refuse the model on the GPU.
            let values = crate::quant::dequantize(dtype, bytes)?;
            let halves = values.into_iter().map(half::f16::from_f32).collect();
            Tensor::from_f16(halves, info.shape.clone(), device)
        } else if dtype.is_quantized() {
            Tensor::from_quantized(dtype, bytes.to_vec(), info.shape.clone(), device)
        } else {
            Tensor::from_cpu_storage(
                float_storage(dtype, bytes, policy)?,
                info.shape.clone(),
                device,
            )
        }
    }
}
