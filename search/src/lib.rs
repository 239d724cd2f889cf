//! Vector search for Offgrid: split a corpus into passages, find the nearest passages to a query by cosine
//! similarity (exactly up to ~100k passages, with an HNSW index beyond), and save an index with its corpus.
//!
//! Vectors are expected L2-normalised (the sentence encoder's output), so cosine similarity is a dot product.

pub mod exact;
pub mod hnsw;
pub mod split;
pub mod store;

pub use exact::{FlatIndex, Hit};
pub use hnsw::HnswIndex;
pub use split::{paragraphs, paragraphs_within, split_corpus, windows, Passage, Splitting};
pub use store::Collection;

/// Everything that can go wrong in search.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A vector's width differs from the index's.
    #[error("vector of width {got} does not fit an index of width {want}")]
    Dimension { got: usize, want: usize },
    /// Bad arguments (empty corpus, overlap ≥ window…).
    #[error("{0}")]
    Invalid(String),
    /// A saved collection could not be read.
    #[error("the saved collection is damaged: {0}. Delete it and build the index again.")]
    Corrupt(String),
}

/// Result with the search [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
