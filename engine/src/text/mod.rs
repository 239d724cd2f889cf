//! Text pre-processing: tokenizers (HF `tokenizer.json`, GGUF vocabularies) and chat templates.

pub mod chat_template;
pub mod chat_tokenizer;
pub mod tokenizer;

pub use chat_template::{ChatMessage, ChatTemplate, Role};
pub use chat_tokenizer::{ChatTokenizer, TokenStream};
pub use tokenizer::{Encoded, EncodedBatch, TextTokenizer};
