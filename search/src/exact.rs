//! Exact top-k by dot product over a flat row-major `f32` matrix: a vectorisable dot per row, then partial
//! selection (`select_nth_unstable`) instead of a full sort.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// One search result: the row and its score (cosine similarity for unit vectors).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Row (passage) number.
    pub index: usize,
    /// Dot product with the query.
    pub score: f32,
}

/// Vectors stored row after row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlatIndex {
    dim: usize,
    data: Vec<f32>,
}

/// Dot product with eight independent accumulators, so the compiler vectorises it (SIMD on x86 and simd128).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

impl FlatIndex {
    /// An empty index of vectors of width `dim`.
    pub fn new(dim: usize) -> Self {
        FlatIndex {
            dim,
            data: Vec::new(),
        }
    }

    /// An index over `data` (rows of width `dim`).
    pub fn from_flat(dim: usize, data: Vec<f32>) -> Result<Self> {
        if dim == 0 || !data.len().is_multiple_of(dim) {
            return Err(Error::Invalid(format!(
                "{} values do not make rows of width {dim}",
                data.len()
            )));
        }
        Ok(FlatIndex { dim, data })
    }

    /// Appends one vector.
    pub fn push(&mut self, v: &[f32]) -> Result<()> {
        if v.len() != self.dim {
            return Err(Error::Dimension {
                got: v.len(),
                want: self.dim,
            });
        }
        self.data.extend_from_slice(v);
        Ok(())
    }

    /// Vector width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether the index holds no vectors.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.data.get(i * self.dim..(i + 1) * self.dim)
    }

    /// All values, row-major.
    pub fn as_flat(&self) -> &[f32] {
        &self.data
    }

    /// The `k` rows with the highest dot product with `query`, best first.
    pub fn top_k(&self, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        if query.len() != self.dim {
            return Err(Error::Dimension {
                got: query.len(),
                want: self.dim,
            });
        }
        let scores: Vec<f32> = self
            .data
            .chunks_exact(self.dim)
            .map(|r| dot(r, query))
            .collect();
        Ok(select_top(&scores, k))
    }
}

/// The `k` best of `scores`, best first (ties by lower index); NaN scores rank last.
pub fn select_top(scores: &[f32], k: usize) -> Vec<Hit> {
    let k = k.min(scores.len());
    if k == 0 {
        return Vec::new();
    }
    let key = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
    let better = |a: &Hit, b: &Hit| {
        key(b.score)
            .total_cmp(&key(a.score))
            .then(a.index.cmp(&b.index))
    };
    let mut hits: Vec<Hit> = scores
        .iter()
        .enumerate()
        .map(|(index, &score)| Hit { index, score })
        .collect();
    if k < hits.len() {
        hits.select_nth_unstable_by(k - 1, better);
        hits.truncate(k);
    }
    hits.sort_unstable_by(better);
    hits
}
