//! Whisper encoder-decoder speech recognition: `openai/whisper-*` safetensors checkpoints and faster-whisper's
//! CTranslate2 files; greedy decoding (forced prompt, suppressed tokens, timestamps, 30-second seek loop) with
//! the segment rules of the runtime each layout is checked against (transformers, faster-whisper),
//! faster-whisper's text prompts (`initial_prompt`, `condition_on_previous_text`) and its judgement of each
//! window (`quality`: silence skipped, unsure or repetitive windows decoded again at higher temperatures).

mod config;
pub mod ct2;
mod decode;
mod model;
mod quality;
mod tokenizer;
mod transcriber;

pub use config::{Config, GenerationConfig};
pub use decode::{apply_logit_rules, argmax, split_segments, Segment, SegmentRules, Task};
pub use model::{DecoderState, Whisper};
pub use quality::{compression_ratio, QualityRules, WindowScores};
pub use tokenizer::WhisperTokenizer;
pub use transcriber::{FeaturePadding, TranscribeOptions, Transcript, WhisperTranscriber};
