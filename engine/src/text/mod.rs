//! Text pre-processing: tokenizers (HF `tokenizer.json`, GGUF vocabularies), chat templates, and English
//! text → phonemes for text-to-speech.

pub mod chat_template;
pub mod chat_tokenizer;
pub mod phonemize;
pub mod tokenizer;
pub(crate) mod tokenizer_json;

pub use chat_template::{ChatMessage, ChatTemplate, Role};
pub use chat_tokenizer::{ChatTokenizer, TokenStream};
pub use tokenizer::{Encoded, EncodedBatch, TextTokenizer};
