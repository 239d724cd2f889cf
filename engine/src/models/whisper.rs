//! Whisper encoder-decoder speech recognition: `openai/whisper-*` safetensors checkpoints, greedy decoding with
//! the rules of transformers' `generate` (forced prompt, suppressed tokens, timestamps, 30-second seek loop).

mod config;
pub mod ct2;
mod decode;
mod model;
mod tokenizer;
mod transcriber;

pub use config::{Config, GenerationConfig};
pub use decode::{apply_logit_rules, argmax, split_segments, Segment, Task};
pub use model::{DecoderState, Whisper};
pub use tokenizer::WhisperTokenizer;
pub use transcriber::{FeaturePadding, TranscribeOptions, Transcript, WhisperTranscriber};
