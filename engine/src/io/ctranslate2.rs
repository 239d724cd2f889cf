//! CTranslate2's `model.bin` (binary versions 4–6, the ones current converters write): a spec name, named
//! variables (rank, dims, a type id, raw little-endian bytes) and aliases (one more name for a variable,
//! e.g. a projection tied to the embeddings). Every field is checked against the file's length; a file
//! that is not one is an error that says so. The bytes are borrowed, never copied.

use crate::{Error, Result};
use std::collections::BTreeMap;

/// Newest layout read here (what CTranslate2 4.x writes).
const NEWEST_VERSION: u32 = 6;
/// Older layouts store an item size and count instead of a type id (and no aliases before 3).
const OLDEST_VERSION: u32 = 4;

/// Stored element types, by CTranslate2's type id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl Ct2DType {
    fn from_id(id: u8) -> Result<Self> {
        Ok(match id {
            0 => Ct2DType::F32,
            1 => Ct2DType::I8,
            2 => Ct2DType::I16,
            3 => Ct2DType::I32,
            4 => Ct2DType::F16,
            5 => Ct2DType::BF16,
            other => return Err(malformed(format!("unknown type id {other}"))),
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Ct2DType::I8 => 1,
            Ct2DType::I16 | Ct2DType::F16 | Ct2DType::BF16 => 2,
            Ct2DType::F32 | Ct2DType::I32 => 4,
        }
    }
}

/// One stored variable: where its bytes are in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Ct2Var {
    pub dtype: Ct2DType,
    pub shape: Vec<usize>,
    offset: usize,
    len: usize,
}

/// A parsed `model.bin` over the file's bytes.
#[derive(Debug)]
pub struct Ct2Model<'a> {
    pub spec: String,
    pub spec_revision: u32,
    bytes: &'a [u8],
    vars: BTreeMap<String, Ct2Var>,
    aliases: BTreeMap<String, String>,
}

fn malformed(msg: impl Into<String>) -> Error {
    Error::Malformed(format!(
        "not a readable CTranslate2 model.bin: {}",
        msg.into()
    ))
}

/// A cursor that never reads past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| malformed(format!("the file ends inside {what} (truncated?)")))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A u16 length that counts a trailing NUL, then the bytes.
    fn string(&mut self, what: &str) -> Result<String> {
        let n = self.u16(what)? as usize;
        if n == 0 {
            return Err(malformed(format!("{what} has length 0")));
        }
        let b = self.take(n, what)?;
        let text = &b[..n - 1];
        String::from_utf8(text.to_vec()).map_err(|_| malformed(format!("{what} is not UTF-8")))
    }
}

impl<'a> Ct2Model<'a> {
    /// Parses the header, variable table and aliases of `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.u32("the version")?;
        if !(OLDEST_VERSION..=NEWEST_VERSION).contains(&version) {
            return Err(malformed(format!(
                "binary version {version} (this reader knows {OLDEST_VERSION} to {NEWEST_VERSION}; is it a model.bin?)"
            )));
        }
        let spec = r.string("the spec name")?;
        let spec_revision = r.u32("the spec revision")?;
        let count = r.u32("the variable count")? as usize;
        let mut vars = BTreeMap::new();
        for _ in 0..count {
            let name = r.string("a variable name")?;
            let rank = r.u8("a rank")? as usize;
            let shape = (0..rank)
                .map(|_| r.u32("a dimension").map(|d| d as usize))
                .collect::<Result<Vec<_>>>()?;
            let dtype = Ct2DType::from_id(r.u8("a type id")?)?;
            let len = r.u32("a byte count")? as usize;
            let elems = crate::io::checked_elems(&shape)
                .ok_or_else(|| malformed(format!("`{name}` has an impossible shape {shape:?}")))?;
            if elems.checked_mul(dtype.size()) != Some(len) {
                return Err(malformed(format!(
                    "`{name}` holds {len} bytes but its shape {shape:?} of {dtype:?} needs {}",
                    elems.saturating_mul(dtype.size())
                )));
            }
            let offset = r.at;
            r.take(len, &format!("the data of `{name}`"))?;
            vars.insert(
                name,
                Ct2Var {
                    dtype,
                    shape,
                    offset,
                    len,
                },
            );
        }
        let mut aliases = BTreeMap::new();
        let n_aliases = r.u32("the alias count")? as usize;
        for _ in 0..n_aliases {
            let alias = r.string("an alias")?;
            let target = r.string("an alias target")?;
            if !vars.contains_key(&target) {
                return Err(malformed(format!(
                    "alias `{alias}` names `{target}`, which is not in the file"
                )));
            }
            aliases.insert(alias, target);
        }
        Ok(Ct2Model {
            spec,
            spec_revision,
            bytes,
            vars,
            aliases,
        })
    }

    /// The variable `name` (through an alias, and `<alias>_scale` through `<target>_scale`) and its bytes.
    pub fn get(&self, name: &str) -> Option<(&Ct2Var, &'a [u8])> {
        let resolved = self.resolve(name)?;
        let var = self.vars.get(&resolved)?;
        Some((var, &self.bytes[var.offset..var.offset + var.len]))
    }

    fn resolve(&self, name: &str) -> Option<String> {
        if self.vars.contains_key(name) {
            return Some(name.to_string());
        }
        if let Some(target) = self.aliases.get(name) {
            return Some(target.clone());
        }
        // CTranslate2 gives every alias `_scale` and `_zero` companions implicitly.
        for suffix in ["_scale", "_zero"] {
            if let Some(base) = name.strip_suffix(suffix) {
                if let Some(target) = self.aliases.get(base) {
                    return Some(format!("{target}{suffix}"));
                }
            }
        }
        None
    }

    /// Stored variable names (aliases not included).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    /// An integer scalar (`num_heads`).
    pub fn scalar_int(&self, name: &str) -> Option<i64> {
        let (var, b) = self.get(name)?;
        if !var.shape.is_empty() {
            return None;
        }
        Some(match var.dtype {
            Ct2DType::I8 => i64::from(b[0] as i8),
            Ct2DType::I16 => i64::from(i16::from_le_bytes([b[0], b[1]])),
            Ct2DType::I32 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => return None,
        })
    }

    /// The variable as f32 values: floats converted, int8/int16 weights divided by their `_scale`
    /// (CTranslate2 stores `round(w · scale)`).
    pub fn to_f32(&self, name: &str) -> Result<Vec<f32>> {
        let (var, b) = self
            .get(name)
            .ok_or_else(|| Error::MissingWeight(name.to_string()))?;
        let size = var.dtype.size();
        let words = b.chunks_exact(size);
        Ok(match var.dtype {
            Ct2DType::F32 | Ct2DType::F16 | Ct2DType::BF16 => floats(var.dtype, b),
            Ct2DType::I8 | Ct2DType::I16 => {
                let scale_name = scale_name(name);
                // The scales are floats, read directly: through an alias an integer weight could name
                // itself as its own scale, and recursing on it would never end.
                let scales = match self.get(&scale_name) {
                    Some((s, b))
                        if matches!(s.dtype, Ct2DType::F32 | Ct2DType::F16 | Ct2DType::BF16) =>
                    {
                        floats(s.dtype, b)
                    }
                    Some(_) => return Err(malformed(format!("`{scale_name}` is not a float"))),
                    None => return Err(Error::MissingWeight(scale_name)),
                };
                let rows = var.shape.first().copied().unwrap_or(1).max(1);
                let per_row = var.len / size / rows;
                let value = |w: &[u8]| match var.dtype {
                    Ct2DType::I8 => f32::from(w[0] as i8),
                    _ => f32::from(i16::from_le_bytes([w[0], w[1]])),
                };
                let scale_at = |i: usize| -> Result<f32> {
                    // One scale per row (int8) or one for the whole tensor (int16).
                    let s = if scales.len() == 1 {
                        scales[0]
                    } else {
                        *scales.get(i / per_row.max(1)).ok_or_else(|| {
                            malformed(format!("`{scale_name}` has too few scales"))
                        })?
                    };
                    if s == 0.0 || !s.is_finite() {
                        return Err(malformed(format!("`{scale_name}` has a zero scale")));
                    }
                    Ok(s)
                };
                words
                    .enumerate()
                    .map(|(i, w)| Ok(value(w) / scale_at(i)?))
                    .collect::<Result<Vec<_>>>()?
            }
            Ct2DType::I32 => return Err(malformed(format!("`{name}` is int32, not a weight"))),
        })
    }
}

/// Stored floats as f32 (`dtype` is F32, F16 or BF16; anything else gives no values).
fn floats(dtype: Ct2DType, b: &[u8]) -> Vec<f32> {
    match dtype {
        Ct2DType::F32 => b
            .chunks_exact(4)
            .map(|w| f32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect(),
        Ct2DType::F16 => b
            .chunks_exact(2)
            .map(|w| half::f16::from_le_bytes([w[0], w[1]]).to_f32())
            .collect(),
        Ct2DType::BF16 => b
            .chunks_exact(2)
            .map(|w| half::bf16::from_le_bytes([w[0], w[1]]).to_f32())
            .collect(),
        _ => Vec::new(),
    }
}

/// `…/weight` → `…/weight_scale`.
fn scale_name(name: &str) -> String {
    format!("{name}_scale")
}

/// Appends a string as `model.bin` stores it (u16 length with the NUL, bytes, NUL): for tests that write
/// small files.
#[cfg(test)]
pub(crate) fn write_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

#[cfg(test)]
mod tests {
    use super::write_string as string;
    use super::*;

    /// Found while writing the fuzz target: an int8 weight whose `_scale` is an alias of the weight itself recursed until the
    /// stack ran out.
    #[test]
    fn an_integer_scale_is_an_error_not_a_recursion() {
        let mut f = 6u32.to_le_bytes().to_vec();
        string(&mut f, "Spec");
        f.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0]);
        string(&mut f, "w");
        f.extend_from_slice(&[1, 2, 0, 0, 0, 1, 2, 0, 0, 0, 7, 9]); // rank 1, [2], int8, 2 bytes
        f.extend_from_slice(&1u32.to_le_bytes());
        string(&mut f, "w_scale");
        string(&mut f, "w");
        let model = Ct2Model::parse(&f).expect("parses");
        let err = model.to_f32("w").expect_err("refused");
        assert!(err.to_string().contains("not a float"), "{err}");
    }
}
