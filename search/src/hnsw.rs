//! Approximate nearest neighbours with HNSW (the `instant-distance` crate) for corpora past ~100k passages,
//! where exact search stops being instant.

use crate::{exact::dot, Error, FlatIndex, Hit, Result};
use instant_distance::{Builder, HnswMap, Search};
use serde::{Deserialize, Serialize};

/// A unit vector; distance is `1 − cosine`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Unit(Vec<f32>);

impl instant_distance::Point for Unit {
    fn distance(&self, other: &Self) -> f32 {
        1.0 - dot(&self.0, &other.0)
    }
}

/// An HNSW graph over the rows of a [`FlatIndex`]; serde-serialisable.
#[derive(Serialize, Deserialize)]
pub struct HnswIndex {
    dim: usize,
    map: HnswMap<Unit, u32>,
}

impl std::fmt::Debug for HnswIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HnswIndex")
            .field("dim", &self.dim)
            .field("len", &self.map.values.len())
            .finish()
    }
}

impl HnswIndex {
    /// Builds the graph. `ef_search` (candidates kept per query) trades speed for recall; 100 gives
    /// recall@10 ≥ 0.95 on the tests' data. The build is seeded, so the same vectors give the same graph.
    pub fn build(index: &FlatIndex, ef_construction: usize, ef_search: usize) -> Result<Self> {
        if index.is_empty() {
            return Err(Error::Invalid("cannot build an index of no vectors".into()));
        }
        let points: Vec<Unit> = index
            .as_flat()
            .chunks_exact(index.dim())
            .map(|r| Unit(r.to_vec()))
            .collect();
        let ids: Vec<u32> = (0..points.len() as u32).collect();
        let map = Builder::default()
            .ef_construction(ef_construction)
            .ef_search(ef_search)
            .seed(0x00ff_971d)
            .build(points, ids);
        Ok(HnswIndex {
            dim: index.dim(),
            map,
        })
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.map.values.len()
    }

    /// Whether it holds no vectors.
    pub fn is_empty(&self) -> bool {
        self.map.values.is_empty()
    }

    /// About the `k` nearest rows to `query` (at most `ef_search`), best first.
    pub fn top_k(&self, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        if query.len() != self.dim {
            return Err(Error::Dimension {
                got: query.len(),
                want: self.dim,
            });
        }
        let mut search = Search::default();
        let q = Unit(query.to_vec());
        Ok(self
            .map
            .search(&q, &mut search)
            .take(k)
            .map(|item| Hit {
                index: *item.value as usize,
                score: 1.0 - item.distance,
            })
            .collect())
    }
}
