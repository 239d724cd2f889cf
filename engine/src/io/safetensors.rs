//! safetensors reader: an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
//! <https://github.com/huggingface/safetensors#format>

use super::{checked_elems, float_storage, DTypePolicy};
use crate::{DType, Device, Error, Result, Tensor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

/// Where one tensor lies in a safetensors buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeTensorInfo {
    /// The dtype as the file names it ("F32", "BF16", "I64"…).
    pub dtype_name: String,
    /// The engine dtype, when the engine can load it (F32, F16, BF16, U32).
    pub dtype: Option<DType>,
    /// Shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// Byte range in the whole buffer (header included).
    pub range: Range<usize>,
}

#[derive(Deserialize)]
struct RawEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (usize, usize),
}

/// Bytes per element of each dtype the format defines; unknown names are rejected since their size is unknown.
fn element_size(name: &str) -> Option<(usize, Option<DType>)> {
    Some(match name {
        "F32" => (4, Some(DType::F32)),
        "F16" => (2, Some(DType::F16)),
        "BF16" => (2, Some(DType::BF16)),
        "U32" => (4, Some(DType::U32)),
        "F64" | "I64" | "U64" => (8, None),
        "I32" => (4, None),
        "I16" | "U16" => (2, None),
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" | "F8_E8M0" => (1, None),
        _ => return None,
    })
}

fn malformed(msg: impl Into<String>) -> Error {
    Error::Malformed(format!("safetensors: {}", msg.into()))
}

/// Parses and checks a safetensors header: returns the tensors by name and the `__metadata__` strings.
/// Every tensor must lie inside the buffer; tensors must tile the data section without gaps or overlaps,
/// as the reference implementation requires.
pub fn parse_header(
    bytes: &[u8],
) -> Result<(BTreeMap<String, SafeTensorInfo>, BTreeMap<String, String>)> {
    let Some((len, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(malformed(format!(
            "the file is {} bytes, too short for a header",
            bytes.len()
        )));
    };
    let header_len = u64::from_le_bytes(*len);
    let header = usize::try_from(header_len)
        .ok()
        .and_then(|n| rest.get(..n))
        .ok_or_else(|| {
            malformed(format!(
                "the header claims {header_len} bytes but the file has {} after it; is it incomplete?",
                rest.len()
            ))
        })?;
    let data_start = 8 + header.len();
    let data_len = rest.len() - header.len();
    let raw: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| malformed(format!("header JSON: {e}")))?;
    let mut metadata = BTreeMap::new();
    let mut tensors = BTreeMap::new();
    for (name, value) in raw {
        if name == "__metadata__" {
            metadata = serde_json::from_value(value)
                .map_err(|e| malformed(format!("__metadata__ must map strings to strings: {e}")))?;
            continue;
        }
        let entry: RawEntry = serde_json::from_value(value)
            .map_err(|e| malformed(format!("tensor `{name}`: {e}")))?;
        let (size, dtype) = element_size(&entry.dtype).ok_or_else(|| {
            malformed(format!("tensor `{name}` has unknown dtype {}", entry.dtype))
        })?;
        let bytes_needed = checked_elems(&entry.shape)
            .and_then(|n| n.checked_mul(size))
            .ok_or_else(|| {
                malformed(format!(
                    "tensor `{name}` has absurd shape {:?}",
                    entry.shape
                ))
            })?;
        let (begin, end) = entry.data_offsets;
        if end < begin || end - begin != bytes_needed {
            return Err(malformed(format!(
                "tensor `{name}` of shape {:?} {} needs {bytes_needed} bytes but its offsets are {begin}..{end}",
                entry.shape, entry.dtype
            )));
        }
        if end > data_len {
            return Err(malformed(format!(
                "tensor `{name}` ends at byte {end} but the data section has {data_len}; is the file incomplete?"
            )));
        }
        let info = SafeTensorInfo {
            dtype_name: entry.dtype,
            dtype,
            shape: entry.shape,
            range: data_start + begin..data_start + end,
        };
        tensors.insert(name, info);
    }
    let mut spans: Vec<(&Range<usize>, &String)> =
        tensors.iter().map(|(n, i)| (&i.range, n)).collect();
    spans.sort_by_key(|(r, _)| (r.start, r.end));
    let mut at = data_start;
    for (range, name) in spans {
        if range.start != at {
            let what = if range.start < at {
                "overlaps the tensor before it"
            } else {
                "leaves a gap before it"
            };
            return Err(malformed(format!(
                "tensor `{name}` {what} (starts at {}, expected {at})",
                range.start - data_start
            )));
        }
        at = range.end;
    }
    if at != bytes.len() {
        return Err(malformed(format!(
            "{} bytes after the last tensor are not described by the header",
            bytes.len() - at
        )));
    }
    Ok((tensors, metadata))
}

/// A parsed safetensors file that owns its bytes (cheap to clone).
#[derive(Debug, Clone)]
pub struct SafeTensors {
    bytes: Arc<[u8]>,
    tensors: Arc<BTreeMap<String, SafeTensorInfo>>,
    metadata: Arc<BTreeMap<String, String>>,
}

impl SafeTensors {
    /// Parses and validates a whole safetensors file.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Self> {
        let bytes = bytes.into();
        let (tensors, metadata) = parse_header(&bytes)?;
        Ok(SafeTensors {
            bytes,
            tensors: Arc::new(tensors),
            metadata: Arc::new(metadata),
        })
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Layout of one tensor.
    pub fn info(&self, name: &str) -> Option<&SafeTensorInfo> {
        self.tensors.get(name)
    }

    /// The `__metadata__` strings.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The stored bytes of one tensor.
    pub fn raw(&self, name: &str) -> Result<&[u8]> {
        let info = self
            .info(name)
            .ok_or_else(|| Error::MissingWeight(name.to_string()))?;
        Ok(&self.bytes[info.range.clone()])
    }

    /// Loads one tensor onto `device`, converting floats as `policy` says (BF16 never stays BF16).
    pub fn load(&self, name: &str, policy: DTypePolicy, device: &Device) -> Result<Tensor> {
        let info = self
            .info(name)
            .ok_or_else(|| Error::MissingWeight(name.to_string()))?;
        let dtype = info.dtype.ok_or_else(|| {
            Error::invalid(
                "load weight",
                format!(
                    "`{name}` is stored as {}, which Offgrid cannot load (F32, F16, BF16 or U32 only)",
                    info.dtype_name
                ),
            )
        })?;
        let storage = float_storage(dtype, &self.bytes[info.range.clone()], policy)?;
        Tensor::from_cpu_storage(storage, info.shape.clone(), device)
    }
}

/// One tensor for [`write_safetensors`]: its name, the format's dtype name ("F32", "F16"…), shape and
/// little-endian bytes (borrowed when they come straight from another file).
pub struct TensorToWrite<'a> {
    pub name: String,
    pub dtype: &'static str,
    pub shape: Vec<usize>,
    pub bytes: std::borrow::Cow<'a, [u8]>,
}

impl TensorToWrite<'static> {
    /// A tensor of f32 values (computed at load: a folded weight, a converted constant).
    pub fn f32(name: impl Into<String>, shape: Vec<usize>, values: &[f32]) -> Self {
        TensorToWrite {
            name: name.into(),
            dtype: "F32",
            shape,
            bytes: std::borrow::Cow::Owned(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        }
    }
}

/// Writes tensors as one safetensors file in memory, so weights read from another format (CTranslate2,
/// ONNX) go through the same model code as a safetensors checkpoint.
pub fn write_safetensors(tensors: &[TensorToWrite]) -> Result<Vec<u8>> {
    let mut header = serde_json::Map::new();
    let mut at = 0usize;
    for t in tensors {
        header.insert(
            t.name.clone(),
            serde_json::json!({ "dtype": t.dtype, "shape": t.shape, "data_offsets": [at, at + t.bytes.len()] }),
        );
        at += t.bytes.len();
    }
    let mut head = serde_json::to_vec(&header)?;
    // Pad the header so the data starts 8-byte aligned.
    while !head.len().is_multiple_of(8) {
        head.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + head.len() + at);
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    for t in tensors {
        out.extend_from_slice(&t.bytes);
    }
    Ok(out)
}
