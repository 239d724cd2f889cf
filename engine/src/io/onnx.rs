//! ONNX weights without an ONNX runtime: a small reader of the protobuf wire format that walks
//! `ModelProto → GraphProto` and returns the graph's nodes (name, op type, inputs, outputs, attributes) and
//! its tensors (initializers and `Constant` nodes). Models are built by our own layer code; the graph is
//! read only to learn which tensor belongs to which layer (node names carry the PyTorch module paths).
//!
//! Field numbers are those of `onnx.proto` (onnx/onnx, Apache-2.0). Every length is checked against the
//! buffer; raw tensor bytes are borrowed, never copied. Tensors stored outside the file
//! (`data_location = EXTERNAL`) are refused with a message that says so.

use crate::{Error, Result};
use half::f16;

fn malformed(msg: impl Into<String>) -> Error {
    Error::Malformed(format!("onnx: {}", msg.into()))
}

/// One field of a protobuf message.
#[derive(Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    /// A 64-bit value (doubles, fixed64): skipped, no field read here uses one.
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// Iterates the fields of one message: `(field number, value)`.
struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { buf, at: 0 }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.buf.get(self.at) else {
                return Err(malformed("the file ends inside a number"));
            };
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed("a number is longer than 10 bytes"))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.buf.len())
            .ok_or_else(|| malformed("a field runs past the end of the file (truncated?)"))?;
        let bytes = &self.buf[self.at..end];
        self.at = end;
        Ok(bytes)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        Some((|| {
            let key = self.varint()?;
            let field = u32::try_from(key >> 3).map_err(|_| malformed("field number too large"))?;
            let value = match key & 7 {
                0 => Value::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Value::Fixed64
                }
                2 => {
                    let len = usize::try_from(self.varint()?)
                        .map_err(|_| malformed("length too large"))?;
                    Value::Bytes(self.take(len)?)
                }
                5 => {
                    let b = self.take(4)?;
                    Value::Fixed32(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
                }
                other => return Err(malformed(format!("unsupported wire type {other}"))),
            };
            Ok((field, value))
        })())
    }
}

fn string(value: Value) -> Result<String> {
    match value {
        Value::Bytes(b) => {
            String::from_utf8(b.to_vec()).map_err(|_| malformed("a name is not UTF-8"))
        }
        _ => Err(malformed("expected a string")),
    }
}

fn bytes<'a>(value: Value<'a>) -> Result<&'a [u8]> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(malformed("expected bytes")),
    }
}

/// Appends integers that may be written one per field or packed into one length-delimited field.
fn push_ints(value: Value, out: &mut Vec<i64>) -> Result<()> {
    match value {
        Value::Varint(v) => out.push(v as i64),
        Value::Bytes(b) => {
            let mut f = Fields::new(b);
            while f.at < b.len() {
                out.push(f.varint()? as i64);
            }
        }
        _ => return Err(malformed("expected integers")),
    }
    Ok(())
}

/// Appends floats, one per field or packed.
fn push_floats(value: Value, out: &mut Vec<f32>) -> Result<()> {
    match value {
        Value::Fixed32(v) => out.push(f32::from_bits(v)),
        Value::Bytes(b) if b.len().is_multiple_of(4) => out.extend(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
        _ => return Err(malformed("expected floats")),
    }
    Ok(())
}

/// Element types (`TensorProto.DataType`) this reader can turn into numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnnxDType {
    F32,
    U8,
    I8,
    I32,
    I64,
    F16,
    F64,
}

impl OnnxDType {
    fn from_id(id: i64) -> Result<Self> {
        Ok(match id {
            1 => OnnxDType::F32,
            2 => OnnxDType::U8,
            3 => OnnxDType::I8,
            6 => OnnxDType::I32,
            7 => OnnxDType::I64,
            10 => OnnxDType::F16,
            11 => OnnxDType::F64,
            other => {
                return Err(malformed(format!(
                    "tensor element type {other} is not supported"
                )))
            }
        })
    }

    /// Bytes per element in `raw_data`.
    pub fn size(self) -> usize {
        match self {
            OnnxDType::U8 | OnnxDType::I8 => 1,
            OnnxDType::F16 => 2,
            OnnxDType::F32 | OnnxDType::I32 => 4,
            OnnxDType::I64 | OnnxDType::F64 => 8,
        }
    }
}

/// Where a tensor's values are: raw little-endian bytes in the file, or one of the typed repeated fields.
#[derive(Debug, Clone)]
enum Data<'a> {
    Raw(&'a [u8]),
    Floats(Vec<f32>),
    /// `int32_data`: also holds f16, u8 and i8 values (one per entry) when they are not raw.
    Int32(Vec<i64>),
    Int64(Vec<i64>),
    Empty,
}

/// One tensor of the graph.
#[derive(Debug, Clone)]
pub struct OnnxTensor<'a> {
    pub name: String,
    pub dtype: OnnxDType,
    pub dims: Vec<usize>,
    data: Data<'a>,
}

impl<'a> OnnxTensor<'a> {
    fn parse(buf: &'a [u8]) -> Result<Self> {
        let (mut name, mut dtype, mut dims) = (String::new(), None, Vec::new());
        let (mut raw, mut floats, mut int32, mut int64) =
            (None, Vec::new(), Vec::new(), Vec::new());
        for field in Fields::new(buf) {
            match field? {
                (1, v) => push_ints(v, &mut dims)?,
                (2, Value::Varint(v)) => dtype = Some(OnnxDType::from_id(v as i64)?),
                (4, v) => push_floats(v, &mut floats)?,
                (5, v) => push_ints(v, &mut int32)?,
                (7, v) => push_ints(v, &mut int64)?,
                (8, v) => name = string(v)?,
                (9, v) => raw = Some(bytes(v)?),
                (13, _) => {
                    return Err(malformed(format!(
                        "tensor `{name}` is stored in an external file; use a single-file .onnx"
                    )))
                }
                _ => {}
            }
        }
        let dtype = dtype.ok_or_else(|| malformed(format!("tensor `{name}` has no type")))?;
        let dims = dims
            .into_iter()
            .map(|d| {
                usize::try_from(d)
                    .map_err(|_| malformed(format!("tensor `{name}` has a negative dimension")))
            })
            .collect::<Result<Vec<_>>>()?;
        let data = match (raw, floats.is_empty(), int32.is_empty(), int64.is_empty()) {
            (Some(r), ..) => Data::Raw(r),
            (None, false, ..) => Data::Floats(floats),
            (None, true, false, _) => Data::Int32(int32),
            (None, true, true, false) => Data::Int64(int64),
            _ => Data::Empty,
        };
        let t = OnnxTensor {
            name,
            dtype,
            dims,
            data,
        };
        let expected = super::checked_elems(&t.dims)
            .ok_or_else(|| malformed(format!("tensor `{}` is too large", t.name)))?;
        if t.len() != expected {
            return Err(malformed(format!(
                "tensor `{}` has {} values for shape {:?} (truncated file?)",
                t.name,
                t.len(),
                t.dims
            )));
        }
        Ok(t)
    }

    /// Number of values stored.
    fn len(&self) -> usize {
        match &self.data {
            Data::Raw(r) => r.len() / self.dtype.size(),
            Data::Floats(v) => v.len(),
            Data::Int32(v) | Data::Int64(v) => v.len(),
            Data::Empty => 0,
        }
    }

    /// Number of elements of the shape.
    pub fn elem_count(&self) -> usize {
        self.dims.iter().product()
    }

    /// The values as f32 (floats converted, integers cast).
    pub fn to_f32(&self) -> Result<Vec<f32>> {
        let raw_f32 = |b: &[u8]| -> f32 {
            match self.dtype {
                OnnxDType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                OnnxDType::F16 => f16::from_le_bytes([b[0], b[1]]).to_f32(),
                OnnxDType::U8 => f32::from(b[0]),
                OnnxDType::I8 => f32::from(b[0] as i8),
                OnnxDType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
                OnnxDType::I64 => i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f32,
                OnnxDType::F64 => f64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f32,
            }
        };
        Ok(match &self.data {
            Data::Raw(r) => r.chunks_exact(self.dtype.size()).map(raw_f32).collect(),
            Data::Floats(v) => v.clone(),
            // f16 values in int32_data are the half's bit pattern.
            Data::Int32(v) if self.dtype == OnnxDType::F16 => v
                .iter()
                .map(|&x| f16::from_bits(x as u16).to_f32())
                .collect(),
            Data::Int32(v) | Data::Int64(v) => v.iter().map(|&x| x as f32).collect(),
            Data::Empty => Vec::new(),
        })
    }

    /// The values as integers (for shapes, axes and sizes given as tensors).
    pub fn to_i64(&self) -> Result<Vec<i64>> {
        match (&self.data, self.dtype) {
            (Data::Int64(v) | Data::Int32(v), OnnxDType::I64 | OnnxDType::I32) => Ok(v.clone()),
            (Data::Raw(r), OnnxDType::I64) => Ok(r
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                .collect()),
            (Data::Raw(r), OnnxDType::I32) => Ok(r
                .chunks_exact(4)
                .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect()),
            (Data::Empty, _) => Ok(Vec::new()),
            _ => Err(malformed(format!("tensor `{}` is not integers", self.name))),
        }
    }

    /// Little-endian f16 or f32 bytes, the way safetensors stores them: borrowed when the file holds raw bytes.
    pub fn float_bytes(&self) -> Result<(&'static str, std::borrow::Cow<'a, [u8]>)> {
        match (&self.data, self.dtype) {
            (Data::Raw(r), OnnxDType::F32) => Ok(("F32", std::borrow::Cow::Borrowed(*r))),
            (Data::Raw(r), OnnxDType::F16) => Ok(("F16", std::borrow::Cow::Borrowed(*r))),
            (_, OnnxDType::F16) => Ok((
                "F16",
                self.to_f32()?
                    .into_iter()
                    .flat_map(|v| f16::from_f32(v).to_le_bytes())
                    .collect(),
            )),
            _ => Ok((
                "F32",
                self.to_f32()?
                    .into_iter()
                    .flat_map(f32::to_le_bytes)
                    .collect(),
            )),
        }
    }
}

/// A node attribute's value (the kinds image and speech graphs use).
#[derive(Debug, Clone)]
pub enum OnnxAttribute<'a> {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
    Floats(Vec<f32>),
    String(String),
    Tensor(OnnxTensor<'a>),
    /// Graphs, sparse tensors and other kinds: present but not read.
    Other,
}

/// One node of the graph.
#[derive(Debug, Clone)]
pub struct OnnxNode<'a> {
    pub name: String,
    pub op_type: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: Vec<(String, OnnxAttribute<'a>)>,
}

impl<'a> OnnxNode<'a> {
    fn parse(buf: &'a [u8]) -> Result<Self> {
        let mut node = OnnxNode {
            name: String::new(),
            op_type: String::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            attributes: Vec::new(),
        };
        for field in Fields::new(buf) {
            match field? {
                (1, v) => node.inputs.push(string(v)?),
                (2, v) => node.outputs.push(string(v)?),
                (3, v) => node.name = string(v)?,
                (4, v) => node.op_type = string(v)?,
                (5, v) => node.attributes.push(parse_attribute(bytes(v)?)?),
                _ => {}
            }
        }
        Ok(node)
    }

    /// An attribute by name.
    pub fn attribute(&self, name: &str) -> Option<&OnnxAttribute<'a>> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
    }

    /// An integer-list attribute (`strides`, `pads`…), or `default` when absent.
    pub fn ints(&self, name: &str, default: &[i64]) -> Vec<i64> {
        match self.attribute(name) {
            Some(OnnxAttribute::Ints(v)) => v.clone(),
            Some(OnnxAttribute::Int(v)) => vec![*v],
            _ => default.to_vec(),
        }
    }

    /// An integer attribute, or `default` when absent.
    pub fn int(&self, name: &str, default: i64) -> i64 {
        match self.attribute(name) {
            Some(OnnxAttribute::Int(v)) => *v,
            _ => default,
        }
    }

    /// A string attribute, or `""` when absent.
    pub fn str_attr(&self, name: &str) -> &str {
        match self.attribute(name) {
            Some(OnnxAttribute::String(s)) => s,
            _ => "",
        }
    }
}

fn parse_attribute(buf: &[u8]) -> Result<(String, OnnxAttribute<'_>)> {
    let (mut name, mut kind) = (String::new(), 0u64);
    let (mut int, mut float, mut text, mut tensor) = (None, None, None, None);
    let (mut ints, mut floats) = (Vec::new(), Vec::new());
    for field in Fields::new(buf) {
        match field? {
            (1, v) => name = string(v)?,
            (2, Value::Fixed32(v)) => float = Some(f32::from_bits(v)),
            (3, Value::Varint(v)) => int = Some(v as i64),
            (4, v) => text = Some(String::from_utf8_lossy(bytes(v)?).into_owned()),
            (5, v) => tensor = Some(OnnxTensor::parse(bytes(v)?)?),
            (7, v) => push_floats(v, &mut floats)?,
            (8, v) => push_ints(v, &mut ints)?,
            (20, Value::Varint(v)) => kind = v,
            _ => {}
        }
    }
    // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7.
    let value = match (kind, int, float, text, tensor) {
        (2, Some(i), ..) => OnnxAttribute::Int(i),
        (1, _, Some(f), ..) => OnnxAttribute::Float(f),
        (3, _, _, Some(s), _) => OnnxAttribute::String(s),
        (4, .., Some(t)) => OnnxAttribute::Tensor(t),
        (6, ..) => OnnxAttribute::Floats(floats),
        (7, ..) => OnnxAttribute::Ints(ints),
        // Old files may omit the type: go by the field that is set.
        (0, Some(i), ..) => OnnxAttribute::Int(i),
        (0, _, Some(f), ..) => OnnxAttribute::Float(f),
        (0, _, _, Some(s), _) => OnnxAttribute::String(s),
        (0, .., Some(t)) => OnnxAttribute::Tensor(t),
        (0, ..) if !ints.is_empty() => OnnxAttribute::Ints(ints),
        (0, ..) if !floats.is_empty() => OnnxAttribute::Floats(floats),
        _ => OnnxAttribute::Other,
    };
    Ok((name, value))
}

/// A parsed `.onnx` file: its graph's nodes in order and its tensors, borrowing the file's bytes.
#[derive(Debug)]
pub struct OnnxModel<'a> {
    pub producer: String,
    pub nodes: Vec<OnnxNode<'a>>,
    pub initializers: Vec<OnnxTensor<'a>>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

fn value_info_name(buf: &[u8]) -> Result<String> {
    for field in Fields::new(buf) {
        if let (1, v) = field? {
            return string(v);
        }
    }
    Ok(String::new())
}

impl<'a> OnnxModel<'a> {
    /// Parses a whole `.onnx` file.
    pub fn parse(file: &'a [u8]) -> Result<Self> {
        let mut model = OnnxModel {
            producer: String::new(),
            nodes: Vec::new(),
            initializers: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        };
        let mut graph = None;
        for field in Fields::new(file) {
            match field.map_err(|e| malformed(format!("this is not an ONNX model ({e})")))? {
                (2, v) => model.producer = string(v)?,
                (7, v) => graph = Some(bytes(v)?),
                _ => {}
            }
        }
        let graph =
            graph.ok_or_else(|| malformed("the file has no graph (is it an ONNX model?)"))?;
        for field in Fields::new(graph) {
            match field? {
                (1, v) => model.nodes.push(OnnxNode::parse(bytes(v)?)?),
                (5, v) => model.initializers.push(OnnxTensor::parse(bytes(v)?)?),
                (11, v) => model.inputs.push(value_info_name(bytes(v)?)?),
                (12, v) => model.outputs.push(value_info_name(bytes(v)?)?),
                _ => {}
            }
        }
        if model.nodes.is_empty() {
            return Err(malformed("the graph has no nodes"));
        }
        // Graph inputs may list the initializers too (older exporters); keep only the real inputs.
        let init: std::collections::HashSet<&str> =
            model.initializers.iter().map(|t| t.name.as_str()).collect();
        model.inputs.retain(|n| !init.contains(n.as_str()));
        Ok(model)
    }

    /// The tensor a value name holds, when it is constant: an initializer or a `Constant` node's output,
    /// followed through `Cast` and `Identity` nodes (f16 exports often cast weights before use).
    pub fn constant(&self, value: &str) -> Option<&OnnxTensor<'a>> {
        let mut name = value;
        for _ in 0..8 {
            if let Some(t) = self.initializers.iter().find(|t| t.name == name) {
                return Some(t);
            }
            let producer = self.producer_of(name)?;
            match producer.op_type.as_str() {
                "Constant" => {
                    return match producer.attribute("value") {
                        Some(OnnxAttribute::Tensor(t)) => Some(t),
                        _ => None,
                    }
                }
                "Cast" | "Identity" => name = producer.inputs.first()?,
                _ => return None,
            }
        }
        None
    }

    /// The node that writes `value`.
    pub fn producer_of(&self, value: &str) -> Option<&OnnxNode<'a>> {
        self.nodes
            .iter()
            .find(|n| n.outputs.iter().any(|o| o == value))
    }

    /// Nodes of one op type, in graph order.
    pub fn nodes_of<'s>(&'s self, op_type: &'s str) -> impl Iterator<Item = &'s OnnxNode<'a>> + 's {
        self.nodes.iter().filter(move |n| n.op_type == op_type)
    }
}

#[cfg(test)]
mod tests;
