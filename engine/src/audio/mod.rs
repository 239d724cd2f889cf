//! Audio pre-processing: WAV decoding (incremental, for files of any length), resampling to 16 kHz mono,
//! log-mel spectrograms, speech segmentation.

pub mod mel;
pub mod resample;
pub mod segmenter;
pub mod speech_scan;
pub mod speech_timestamps;
pub mod wav;
pub mod wav_stream;

pub use resample::{resample, Resampler};
pub use segmenter::{FrameSpan, SegmentEvent, Segmenter, SegmenterSettings};
pub use speech_scan::{ProbTrace, ScanOutput, Speech, SpeechScanner};
pub use speech_timestamps::{speech_timestamps, TimestampRules};
pub use wav::{read_wav, read_wav_from, write_wav_16bit, MonoAudio, WavReader};
pub use wav_stream::{SampleFormat, WavEnd, WavInfo, WavStream};

/// The rate the speech models (Silero VAD, Whisper) take.
pub const SPEECH_RATE: u32 = 16_000;

/// Decodes a WAV file (any depth, rate and channel count) to 16 kHz mono.
pub fn read_wav_16k(bytes: &[u8]) -> crate::Result<Vec<f32>> {
    let audio = read_wav(bytes)?;
    resample(&audio.samples, audio.sample_rate, SPEECH_RATE)
}
