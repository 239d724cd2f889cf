//! GGUF metadata values: the typed key/value pairs before the tensor infos.

use super::gguf::Reader;
use crate::{Error, Result};

/// Nested arrays deeper than this are rejected (real files nest at most once); it bounds recursion.
const MAX_DEPTH: usize = 8;

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(MetadataArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// A metadata array, stored by element type so that a byte array does not cost an enum per element.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataArray {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    Array(Vec<MetadataArray>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl MetadataValue {
    /// The value as an unsigned integer, if it is a non-negative integer of any width.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetadataValue::U8(v) => Some(v.into()),
            MetadataValue::U16(v) => Some(v.into()),
            MetadataValue::U32(v) => Some(v.into()),
            MetadataValue::U64(v) => Some(v),
            MetadataValue::I8(v) => u64::try_from(v).ok(),
            MetadataValue::I16(v) => u64::try_from(v).ok(),
            MetadataValue::I32(v) => u64::try_from(v).ok(),
            MetadataValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a signed integer, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            MetadataValue::I8(v) => Some(v.into()),
            MetadataValue::I16(v) => Some(v.into()),
            MetadataValue::I32(v) => Some(v.into()),
            MetadataValue::I64(v) => Some(v),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }

    /// The value as a float, if it is a float or an integer.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            MetadataValue::F32(v) => Some(v.into()),
            MetadataValue::F64(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    /// The value as a string slice.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetadataValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            MetadataValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as an array.
    pub fn as_array(&self) -> Option<&MetadataArray> {
        match self {
            MetadataValue::Array(a) => Some(a),
            _ => None,
        }
    }
}

impl MetadataArray {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            MetadataArray::U8(v) => v.len(),
            MetadataArray::I8(v) => v.len(),
            MetadataArray::U16(v) => v.len(),
            MetadataArray::I16(v) => v.len(),
            MetadataArray::U32(v) => v.len(),
            MetadataArray::I32(v) => v.len(),
            MetadataArray::F32(v) => v.len(),
            MetadataArray::Bool(v) => v.len(),
            MetadataArray::String(v) => v.len(),
            MetadataArray::Array(v) => v.len(),
            MetadataArray::U64(v) => v.len(),
            MetadataArray::I64(v) => v.len(),
            MetadataArray::F64(v) => v.len(),
        }
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as strings (token lists, merges).
    pub fn as_strings(&self) -> Option<&[String]> {
        match self {
            MetadataArray::String(v) => Some(v),
            _ => None,
        }
    }
}

/// Reads `count` fixed-size elements after checking that they fit in what is left of the buffer.
fn fixed<T>(
    r: &mut Reader<'_>,
    count: usize,
    size: usize,
    f: impl Fn(&[u8]) -> T,
) -> Result<Vec<T>> {
    let bytes = count
        .checked_mul(size)
        .ok_or_else(|| Error::Malformed(format!("GGUF: array of {count} elements overflows")))?;
    Ok(r.take(bytes)?.chunks_exact(size).map(f).collect())
}

/// Reads a value of GGUF type `ty` (0..=12); `depth` counts enclosing arrays.
pub(crate) fn read_value(r: &mut Reader<'_>, ty: u32, depth: usize) -> Result<MetadataValue> {
    Ok(match ty {
        0 => MetadataValue::U8(r.u8()?),
        1 => MetadataValue::I8(r.u8()? as i8),
        2 => MetadataValue::U16(u16::from_le_bytes(r.array()?)),
        3 => MetadataValue::I16(i16::from_le_bytes(r.array()?)),
        4 => MetadataValue::U32(r.u32()?),
        5 => MetadataValue::I32(i32::from_le_bytes(r.array()?)),
        6 => MetadataValue::F32(f32::from_le_bytes(r.array()?)),
        7 => MetadataValue::Bool(read_bool(r.u8()?)?),
        8 => MetadataValue::String(r.string()?),
        9 => MetadataValue::Array(read_array(r, depth + 1)?),
        10 => MetadataValue::U64(r.u64()?),
        11 => MetadataValue::I64(i64::from_le_bytes(r.array()?)),
        12 => MetadataValue::F64(f64::from_le_bytes(r.array()?)),
        other => {
            return Err(Error::Malformed(format!(
                "GGUF: unknown metadata value type {other}"
            )))
        }
    })
}

fn read_bool(b: u8) -> Result<bool> {
    match b {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(Error::Malformed(format!("GGUF: bool with value {other}"))),
    }
}

fn read_array(r: &mut Reader<'_>, depth: usize) -> Result<MetadataArray> {
    if depth > MAX_DEPTH {
        return Err(Error::Malformed(format!(
            "GGUF: arrays nested deeper than {MAX_DEPTH}"
        )));
    }
    let ty = r.u32()?;
    let count = r.len()?;
    // Variable-size elements take at least this many bytes each: check before reserving memory.
    let min_each = match ty {
        8 => 8,
        9 => 12,
        _ => 1,
    };
    if count
        .checked_mul(min_each)
        .is_none_or(|b| b > r.remaining())
    {
        return Err(Error::Malformed(format!(
            "GGUF: an array claims {count} elements but only {} bytes are left",
            r.remaining()
        )));
    }
    let le2 = |b: &[u8]| [b[0], b[1]];
    let le4 = |b: &[u8]| [b[0], b[1], b[2], b[3]];
    let le8 = |b: &[u8]| [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
    Ok(match ty {
        0 => MetadataArray::U8(r.take(count)?.to_vec()),
        1 => MetadataArray::I8(fixed(r, count, 1, |b| b[0] as i8)?),
        2 => MetadataArray::U16(fixed(r, count, 2, |b| u16::from_le_bytes(le2(b)))?),
        3 => MetadataArray::I16(fixed(r, count, 2, |b| i16::from_le_bytes(le2(b)))?),
        4 => MetadataArray::U32(fixed(r, count, 4, |b| u32::from_le_bytes(le4(b)))?),
        5 => MetadataArray::I32(fixed(r, count, 4, |b| i32::from_le_bytes(le4(b)))?),
        6 => MetadataArray::F32(fixed(r, count, 4, |b| f32::from_le_bytes(le4(b)))?),
        7 => MetadataArray::Bool(
            r.take(count)?
                .iter()
                .map(|&b| read_bool(b))
                .collect::<Result<_>>()?,
        ),
        8 => MetadataArray::String((0..count).map(|_| r.string()).collect::<Result<_>>()?),
        9 => MetadataArray::Array(
            (0..count)
                .map(|_| read_array(r, depth + 1))
                .collect::<Result<_>>()?,
        ),
        10 => MetadataArray::U64(fixed(r, count, 8, |b| u64::from_le_bytes(le8(b)))?),
        11 => MetadataArray::I64(fixed(r, count, 8, |b| i64::from_le_bytes(le8(b)))?),
        12 => MetadataArray::F64(fixed(r, count, 8, |b| f64::from_le_bytes(le8(b)))?),
        other => {
            return Err(Error::Malformed(format!(
                "GGUF: unknown array element type {other}"
            )))
        }
    })
}
