//! Llama-family decoders for chat: Llama 2/3.x, SmolLM2, Qwen2/2.5 and Qwen3, from GGUF (quantized as
//! published) or HF safetensors, with a KV cache that a conversation keeps across turns.

mod chat;
mod config;
mod model;

pub use chat::{ChatModel, ChatSession, GenerateOptions, Generation, Reply};
pub use config::{Arch, ArchTraits, Llama3RopeScaling, LlamaConfig};
pub use model::{Llama, LlamaCache, Logits};
