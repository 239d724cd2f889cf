//! Float initializers of an ONNX file, read with a minimal protobuf walker (no protobuf dependency).
//!
//! The `silero-vad` package ships newer weights in its ONNX models than in `silero_vad_16k.safetensors`;
//! this lets [`super::SileroVad::load_onnx`] run those weights on our own forward. Only what that needs is
//! read: `ModelProto.graph` (7) → `GraphProto.initializer` (5) → `TensorProto` dims (1), data_type (2),
//! float_data (4), name (8), raw_data (9). Externally stored data is rejected.

use crate::{Error, Result};

/// One float32 initializer.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxTensor {
    /// Initializer name.
    pub name: String,
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Malformed(format!("ONNX file: {}", msg.into()))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    Fixed64,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| bad("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("varint too long"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| bad("field runs past the end (file truncated?)"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// Next `(field number, value)`, or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| bad("length too large"))?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            w => return Err(bad(format!("unsupported wire type {w}"))),
        };
        Ok(Some((key >> 3, value)))
    }
}

const FLOAT: u64 = 1;

fn dim(d: u64) -> Result<usize> {
    usize::try_from(d).map_err(|_| bad(format!("a dimension of {d} is too large")))
}

fn tensor(bytes: &[u8]) -> Result<Option<OnnxTensor>> {
    let mut r = Reader::new(bytes);
    let (mut name, mut dims, mut dtype) = (String::new(), Vec::new(), 0u64);
    let (mut raw, mut floats): (Option<&[u8]>, Vec<f32>) = (None, Vec::new());
    while let Some((field, value)) = r.field()? {
        match (field, value) {
            (1, Value::Varint(d)) => dims.push(dim(d)?),
            (1, Value::Bytes(packed)) => {
                let mut p = Reader::new(packed);
                while p.pos < packed.len() {
                    dims.push(dim(p.varint()?)?);
                }
            }
            (2, Value::Varint(t)) => dtype = t,
            (4, Value::Fixed32(bits)) => floats.push(f32::from_bits(bits)),
            (4, Value::Bytes(packed)) => floats.extend(
                packed
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            ),
            (8, Value::Bytes(n)) => name = String::from_utf8_lossy(n).into_owned(),
            (9, Value::Bytes(d)) => raw = Some(d),
            (14, Value::Varint(1)) => {
                return Err(bad(format!("`{name}` keeps its data in an external file")))
            }
            _ => {}
        }
    }
    if dtype != FLOAT {
        return Ok(None);
    }
    let data = match raw {
        Some(d) => d
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        None => floats,
    };
    let count = crate::io::checked_elems(&dims)
        .ok_or_else(|| bad(format!("`{name}` has an impossible shape {dims:?}")))?;
    if data.len() != count {
        return Err(bad(format!(
            "`{name}` holds {} values but its shape {dims:?} needs {count}",
            data.len()
        )));
    }
    Ok(Some(OnnxTensor { name, dims, data }))
}

/// The float32 initializers of the main graph of an ONNX model.
pub fn float_initializers(model: &[u8]) -> Result<Vec<OnnxTensor>> {
    let mut r = Reader::new(model);
    let mut out = Vec::new();
    let mut saw_graph = false;
    while let Some((field, value)) = r.field()? {
        if let (7, Value::Bytes(graph)) = (field, value) {
            saw_graph = true;
            let mut g = Reader::new(graph);
            while let Some((gf, gv)) = g.field()? {
                if let (5, Value::Bytes(t)) = (gf, gv) {
                    out.extend(tensor(t)?);
                }
            }
        }
    }
    if !saw_graph {
        return Err(bad("no graph found; is this an ONNX model?"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found while writing the fuzz target: a float initializer with dimensions whose product overflows, and no data.
    #[test]
    fn an_overflowing_shape_is_an_error() {
        // TensorProto: dims 2^40 and 2^40 (varints), data_type FLOAT, no values.
        let mut t = Vec::new();
        for _ in 0..2 {
            t.extend_from_slice(&[0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
        }
        t.extend_from_slice(&[0x10, 0x01]);
        let graph = [&[0x2a, t.len() as u8][..], &t].concat();
        let model = [&[0x3a, graph.len() as u8][..], &graph].concat();
        let err = float_initializers(&model).expect_err("refused");
        assert!(err.to_string().contains("impossible shape"), "{err}");
    }
}
