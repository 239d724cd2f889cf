//! Speech recognition requests and their results.

use super::{AudioInput, ModelChoice, VadSettings};
use serde::{Deserialize, Serialize};

/// What the transcribe page asks for. Both cut the audio into utterances by voice activity and stream
/// [`super::WorkerEvent::Transcript`] lines as each utterance is transcribed; the job ends with
/// `JobResult::Transcript`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum TranscribeRequest {
    /// The microphone: fed with [`super::JobInput::Audio`], ended with [`super::JobInput::Stop`]; also
    /// streams [`super::WorkerEvent::Voice`] updates.
    Live {
        vad: VadSettings,
        model: ModelChoice,
        settings: TranscribeSettings,
    },
    /// A whole file, streamed in like a voice-activity file job.
    File {
        audio: AudioInput,
        vad: VadSettings,
        model: ModelChoice,
        settings: TranscribeSettings,
    },
}

/// Whisper decoding choices, carried in the page's URL (`lang`, `task`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TranscribeSettings {
    /// Language code ("fr"); `None` detects it per utterance.
    pub language: Option<String>,
    /// Translate to English instead of transcribing in the spoken language.
    pub translate: bool,
    /// Words ahead of the audio that set spelling and style (names, jargon), as faster-whisper's
    /// `initial_prompt`; given to every utterance.
    #[serde(default)]
    pub prompt: Option<String>,
    /// One greedy pass per window. Off (the default), a window that reads as unsure or repetitive is decoded
    /// again at higher temperatures, as faster-whisper does: slower on such windows, fewer invented or
    /// repeated words. Silence is skipped either way.
    #[serde(default)]
    pub quick: bool,
}

/// One timed line of a transcript.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TranscriptLine {
    /// Start in seconds from the beginning of the recording.
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}
