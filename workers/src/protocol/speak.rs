//! Text-to-speech requests, the audio streamed back sentence by sentence, and the summary.

use super::{Backend, ModelChoice};
use serde::{Deserialize, Serialize};

/// Say `text` with a Piper voice.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpeakRequest {
    pub text: String,
    pub model: ModelChoice,
    /// 1 as the voice was trained, 2 twice as fast.
    pub speed: f32,
    /// Seed of the voice's variation: the same seed says the text the same way.
    pub seed: u64,
    /// Sentences made ahead of the one playing; the worker waits for [`super::JobInput::Played`] beyond
    /// that, so a long text's audio is made as it is heard and memory stays bounded. 0: no waiting (a WAV
    /// export, or the CLI's way).
    pub ahead: u32,
}

/// One sentence's audio, sent as soon as it is made.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpokenSentence {
    pub index: u32,
    /// Where the sentence is in the request's text, in bytes (for highlighting).
    pub start: u32,
    pub end: u32,
    /// Mono 16-bit samples at `sample_rate`.
    pub samples: Vec<i16>,
    pub sample_rate: u32,
    pub phonemes: String,
    /// Words that could not be said (other scripts, emoji).
    pub skipped: Vec<String>,
    /// Time to make it.
    pub millis: f64,
}

/// A finished text.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpeechSummary {
    pub sentences: u32,
    pub audio_seconds: f64,
    /// From the job's start (voice loaded) to the first sentence's audio, and to the end.
    pub first_audio_millis: f64,
    pub total_millis: f64,
    pub backend: Backend,
    /// Everything that was skipped, once each.
    pub skipped: Vec<String>,
}
