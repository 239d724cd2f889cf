//! Voice activity requests, their settings, and the audio a job is fed.

use serde::{Deserialize, Serialize};

/// What the voice-activity page asks for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum VoiceRequest {
    /// A live session (microphone): fed with [`super::JobInput::Audio`], ended with
    /// [`super::JobInput::Stop`]; streams [`super::WorkerEvent::Voice`] updates and ends with
    /// `JobResult::Voice`.
    Live { settings: VadSettings },
    /// Voice activity over a whole file, streamed in from the page piece by piece (see [`AudioInput`]).
    File {
        audio: AudioInput,
        settings: VadSettings,
    },
}

/// A piece of a file: bytes of a WAV file, samples the browser decoded, or why it could not be read.
/// Empty bytes or samples mean the end of the file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum FileData {
    Bytes(Vec<u8>),
    Samples(Vec<f32>),
    Unreadable(String),
}

/// The audio of a file job. Neither side holds the whole of it: the worker asks for one piece at a time
/// ([`super::WorkerEvent::AudioWanted`]) and the page reads just that piece of the file
/// ([`super::JobInput::FileAudio`]), so a recording of hours streams through in bounded memory.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum AudioInput {
    /// A `.wav` file of `bytes` bytes, decoded in the worker as it streams in.
    Wav { bytes: u64 },
    /// Mono samples at `rate` Hz that the page decoded (other formats, through `decodeAudioData`).
    Decoded { frames: u64, rate: u32 },
}

/// Voice-activity settings (vad-web's names), carried in the page's URL.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct VadSettings {
    /// A frame at or above this probability is speech.
    pub positive_threshold: f32,
    /// Frames below this probability count towards the end of speech.
    pub negative_threshold: f32,
    /// Speech shorter than this (ms) is ignored.
    pub min_speech_ms: f32,
    /// Audio kept before the start of speech (ms).
    pub pre_speech_pad_ms: f32,
    /// Silence (ms) that ends a segment.
    pub redemption_ms: f32,
}

impl Default for VadSettings {
    /// vad-web's defaults for Silero v5.
    fn default() -> Self {
        VadSettings {
            positive_threshold: 0.5,
            negative_threshold: 0.35,
            min_speech_ms: 400.0,
            pre_speech_pad_ms: 800.0,
            redemption_ms: 1400.0,
        }
    }
}

/// A detected stretch of speech.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpeechSegment {
    pub start_s: f64,
    pub end_s: f64,
    /// Its audio as a 16 kHz 16-bit mono WAV file, for live sessions (the microphone's audio is kept
    /// nowhere else). `None` for files: the page cuts the span from the file itself when asked.
    pub wav: Option<Vec<u8>>,
}

/// What a live voice session learnt from the latest audio.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VoiceUpdate {
    /// Speech probability of each new 32 ms frame.
    pub probs: Vec<f32>,
    /// Whether speech is in progress after these frames.
    pub speaking: bool,
    /// Segments that ended in these frames.
    pub segments: Vec<SpeechSegment>,
    /// Seconds of audio processed so far.
    pub seconds: f64,
}
