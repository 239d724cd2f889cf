//! Semantic search requests and what they return.

use serde::{Deserialize, Serialize};

/// What the search page asks for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum SearchRequest {
    /// Embed passages with a catalog model (downloading it first if needed) and save them as a named
    /// collection (replacing one of the same name).
    BuildIndex {
        collection: String,
        model: super::ModelChoice,
        passages: Vec<String>,
    },
    /// Top-k passages of a saved collection for a query, embedded with the collection's own model on the
    /// choice's backend (and its weight type, when the choice is that model).
    Query {
        collection: String,
        query: String,
        top_k: u32,
        model: super::ModelChoice,
    },
    /// The saved collections.
    List,
    /// Delete a saved collection.
    Delete { collection: String },
}

/// One search result.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SearchHit {
    pub index: u32,
    pub score: f32,
    pub text: String,
}

/// A saved collection.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CollectionInfo {
    pub name: String,
    pub variant_id: String,
    pub passages: u32,
    pub bytes: u64,
}
