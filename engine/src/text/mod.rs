//! Text pre-processing: tokenizers (HF `tokenizer.json`) and chat templates.

pub mod tokenizer;

pub use tokenizer::{Encoded, EncodedBatch, TextTokenizer};
