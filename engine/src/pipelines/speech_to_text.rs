//! Speech to text over a stream of audio of any length: voice activity ([`SpeechScanner`] with Silero) cuts
//! the stream into utterances, and each utterance goes to Whisper as f32 samples as soon as it ends, so lines
//! come out while the rest is still being read. Memory stays bounded: the scanner's state, the utterance in
//! progress (cut at [`MAX_UTTERANCE_S`]), and the lines. The worker feeds it pieces of a file the page sends
//! or the microphone; `offgrid transcribe --vad` feeds it a WAV file from disk.

use crate::audio::{ScanOutput, SegmenterSettings, Speech, SpeechScanner};
use crate::models::silero_vad::SileroVad;
use crate::models::whisper::{TranscribeOptions, WhisperTranscriber};
use crate::Result;

/// Longest utterance given to Whisper in one piece: unbroken speech is cut here, so the audio held for the
/// utterance in progress stays bounded (Whisper reads long input in 30 s windows anyway).
pub const MAX_UTTERANCE_S: f64 = 120.0;

/// One timed line of a transcript, on the recording's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedLine {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

/// What one utterance said.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    pub lines: Vec<TimedLine>,
    /// The language Whisper used (given or detected); `None` for English-only models.
    pub language: Option<String>,
}

/// A voice-activity scanner that keeps each utterance's audio for Whisper; `input_rate` is the stream's rate
/// (it is resampled to 16 kHz inside).
pub fn utterance_scanner(
    vad: SileroVad,
    settings: SegmenterSettings,
    input_rate: u32,
) -> Result<SpeechScanner> {
    Ok(SpeechScanner::new(vad, settings, input_rate)?.keeping_audio(MAX_UTTERANCE_S))
}

/// Transcribes one utterance. Its lines are placed on the recording's clock, kept inside the utterance, and
/// not past `heard_s` (the audio's end: the last frame is zero-padded, so an utterance may end up to 32 ms
/// past it; `f64::INFINITY` while the stream goes on).
pub async fn transcribe_utterance(
    model: &WhisperTranscriber,
    speech: &Speech,
    opts: &TranscribeOptions,
    heard_s: f64,
) -> Result<Heard> {
    let [start, end] = speech.seconds();
    let end = end.max(start);
    let samples = speech.audio.as_deref().unwrap_or_default();
    let transcript = model.transcribe(samples, opts).await?;
    let lines = transcript
        .segments
        .into_iter()
        .map(|s| TimedLine {
            start_s: (start + s.start).min(end).min(heard_s),
            end_s: (start + s.end).clamp(start, end).min(heard_s),
            text: s.text.trim().to_string(),
        })
        .collect();
    Ok(Heard {
        lines,
        language: transcript.language,
    })
}

/// A whole stream through VAD and Whisper, pushed block by block: `push` returns the lines of the utterances
/// that ended in that block, `finish` those of the last one.
pub struct SpeechToText<'m> {
    model: &'m WhisperTranscriber,
    opts: TranscribeOptions,
    scanner: SpeechScanner,
    out: ScanOutput,
    /// Seconds of audio pushed so far.
    seconds: f64,
    input_rate: u32,
}

impl<'m> SpeechToText<'m> {
    pub fn new(
        model: &'m WhisperTranscriber,
        opts: TranscribeOptions,
        vad: SileroVad,
        settings: SegmenterSettings,
        input_rate: u32,
    ) -> Result<Self> {
        Ok(SpeechToText {
            model,
            opts,
            scanner: utterance_scanner(vad, settings, input_rate)?,
            out: ScanOutput::default(),
            seconds: 0.0,
            input_rate,
        })
    }

    /// Seconds of audio pushed so far.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Scans mono samples at the input rate; transcribes every utterance that ended in them.
    pub async fn push(&mut self, samples: &[f32]) -> Result<Vec<Heard>> {
        self.seconds += samples.len() as f64 / f64::from(self.input_rate);
        self.scanner.push(samples, &mut self.out);
        self.transcribe_ended(f64::INFINITY).await
    }

    /// Ends the stream: the last utterance is transcribed.
    pub async fn finish(&mut self) -> Result<Vec<Heard>> {
        self.scanner.finish(&mut self.out);
        self.transcribe_ended(self.seconds).await
    }

    async fn transcribe_ended(&mut self, heard_s: f64) -> Result<Vec<Heard>> {
        // The probabilities are not needed here; only the utterances.
        self.out.probs.clear();
        let mut heard = Vec::with_capacity(self.out.speech.len());
        for speech in std::mem::take(&mut self.out.speech) {
            heard.push(transcribe_utterance(self.model, &speech, &self.opts, heard_s).await?);
        }
        Ok(heard)
    }
}
