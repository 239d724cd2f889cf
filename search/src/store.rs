//! A collection: passages, their vectors and (for large corpora) an HNSW graph, with a compact byte format
//! for IndexedDB/OPFS or a file.
//!
//! Format: `OGSC` magic, format version (u32 LE), header length (u32 LE), a JSON header (name, model, passages,
//! dimension), then the vectors as f32 LE. The HNSW graph is not stored: it is rebuilt (seeded, so identical)
//! after loading, which costs less than storing its edges for the sizes a browser holds.

use crate::{exact::FlatIndex, Error, Hit, HnswIndex, Passage, Result};
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"OGSC";
const VERSION: u32 = 1;
/// Above this many passages, search goes through the HNSW graph.
pub const EXACT_LIMIT: usize = 100_000;
/// The widest vectors a saved collection may claim (sentence encoders give 384 to 4,096): the width sizes
/// every query, so it is checked, not trusted.
pub const MAX_DIM: usize = 1 << 16;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    name: String,
    model: String,
    dim: usize,
    passages: Vec<Passage>,
}

/// A named, searchable corpus.
#[derive(Debug)]
pub struct Collection {
    /// Name shown to the user.
    pub name: String,
    /// Model id the vectors come from (a different model's query vectors would not match).
    pub model: String,
    /// The passages, in index order.
    pub passages: Vec<Passage>,
    vectors: FlatIndex,
    hnsw: Option<HnswIndex>,
}

impl Collection {
    /// A collection of `passages` and their `vectors` (one row each).
    pub fn new(
        name: impl Into<String>,
        model: impl Into<String>,
        passages: Vec<Passage>,
        vectors: FlatIndex,
    ) -> Result<Self> {
        if passages.len() != vectors.len() {
            return Err(Error::Invalid(format!(
                "{} passages but {} vectors",
                passages.len(),
                vectors.len()
            )));
        }
        let mut c = Collection {
            name: name.into(),
            model: model.into(),
            passages,
            vectors,
            hnsw: None,
        };
        c.index()?;
        Ok(c)
    }

    fn index(&mut self) -> Result<()> {
        self.hnsw = if self.vectors.len() > EXACT_LIMIT {
            Some(HnswIndex::build(&self.vectors, 100, 100)?)
        } else {
            None
        };
        Ok(())
    }

    /// The vectors.
    pub fn vectors(&self) -> &FlatIndex {
        &self.vectors
    }

    /// Whether searches are approximate (HNSW).
    pub fn is_approximate(&self) -> bool {
        self.hnsw.is_some()
    }

    /// The `k` best passages for a unit query vector, best first.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        match &self.hnsw {
            Some(h) => h.top_k(query, k),
            None => self.vectors.top_k(query, k),
        }
    }

    /// Serialises to the byte format above.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = serde_json::to_vec(&Header {
            name: self.name.clone(),
            model: self.model.clone(),
            dim: self.vectors.dim(),
            passages: self.passages.clone(),
        })
        .map_err(|e| Error::Invalid(e.to_string()))?;
        let len = u32::try_from(header.len())
            .map_err(|_| Error::Invalid("the corpus is too large to save".into()))?;
        let mut out = Vec::with_capacity(12 + header.len() + self.vectors.as_flat().len() * 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&header);
        for v in self.vectors.as_flat() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(out)
    }

    /// Reads the byte format above, checking every length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let corrupt = |m: &str| Error::Corrupt(m.to_string());
        if bytes.len() < 12 || &bytes[0..4] != MAGIC {
            return Err(corrupt("not an Offgrid collection"));
        }
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        if word(4) != VERSION {
            return Err(Error::Corrupt(format!(
                "format version {} is not supported",
                word(4)
            )));
        }
        let len = word(8) as usize;
        let body = bytes
            .get(12..12usize.saturating_add(len))
            .ok_or_else(|| corrupt("header cut short"))?;
        let header: Header =
            serde_json::from_slice(body).map_err(|e| Error::Corrupt(e.to_string()))?;
        if header.dim > MAX_DIM {
            return Err(Error::Corrupt(format!(
                "its vectors claim a width of {}",
                header.dim
            )));
        }
        let floats = &bytes[12 + len..];
        let want = header
            .passages
            .len()
            .checked_mul(header.dim)
            .and_then(|n| n.checked_mul(4));
        if want != Some(floats.len()) {
            return Err(corrupt("vectors cut short"));
        }
        let data = floats
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let vectors = FlatIndex::from_flat(header.dim.max(1), data)?;
        Collection::new(header.name, header.model, header.passages, vectors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found while writing the fuzz target: a collection of no passages could claim vectors 2^60 wide, and every query is
    /// made that wide.
    #[test]
    fn an_impossible_width_is_refused() {
        let header = br#"{"name":"n","model":"m","dim":1152921504606846976,"passages":[]}"#;
        let mut bytes = b"OGSC".to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(header);
        let err = Collection::from_bytes(&bytes).expect_err("refused");
        assert!(err.to_string().contains("width"), "{err}");
    }
}
