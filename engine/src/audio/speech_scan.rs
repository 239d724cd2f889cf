//! Voice activity over a stream of any length: mono samples at any rate → 16 kHz (streaming resampler) →
//! 512-sample frames → Silero VAD → segmenter. The CLI, the worker's live sessions and its file jobs all
//! scan through this. Memory stays bounded: the resampler's filter history, less than one frame of
//! samples, and — only when segment audio is kept — the open segment's audio, which is cut into pieces of
//! at most `max_segment_s` so hours of unbroken "speech" (music, noise) cannot fill memory either.

use super::resample::Resampler;
use super::segmenter::{FrameSpan, SegmentEvent, Segmenter, SegmenterSettings};
use crate::models::silero_vad::{SileroVad, FRAME_SAMPLES, SAMPLE_RATE};
use crate::Result;

/// Frames dropped from the kept audio at once (draining a Vec frame by frame would be quadratic).
const TRIM_FRAMES: u64 = 64;

/// A stretch of speech the scanner found.
#[derive(Debug, Clone, PartialEq)]
pub struct Speech {
    /// Its frames (512 samples = 32 ms each), padding and redemption included.
    pub span: FrameSpan,
    /// Its audio at 16 kHz, when the scanner keeps audio.
    pub audio: Option<Vec<f32>>,
}

impl Speech {
    /// `[start_s, end_s]` on the stream's clock.
    pub fn seconds(&self) -> [f64; 2] {
        self.span.seconds(FRAME_SAMPLES, SAMPLE_RATE)
    }
}

/// What a push produced: the probability of every new frame and the speech that ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanOutput {
    pub probs: Vec<f32>,
    pub speech: Vec<Speech>,
}

impl ScanOutput {
    /// Empties both lists (to reuse their memory).
    pub fn clear(&mut self) {
        self.probs.clear();
        self.speech.clear();
    }
}

/// The streaming voice-activity scanner (see the module docs).
#[derive(Debug, Clone)]
pub struct SpeechScanner {
    vad: SileroVad,
    segmenter: Segmenter,
    resampler: Resampler,
    /// 16 kHz samples not yet a whole frame.
    pending: Vec<f32>,
    frames: u64,
    keep_audio: bool,
    max_segment_frames: u64,
    /// Audio from frame `kept_from` on, while it may still become part of a segment.
    kept: Vec<f32>,
    kept_from: u64,
}

impl SpeechScanner {
    /// A scanner for mono input at `input_rate` Hz; `vad` starts from a fresh state.
    pub fn new(mut vad: SileroVad, settings: SegmenterSettings, input_rate: u32) -> Result<Self> {
        vad.reset();
        Ok(SpeechScanner {
            vad,
            segmenter: Segmenter::new(settings),
            resampler: Resampler::new(input_rate, SAMPLE_RATE)?,
            pending: Vec::with_capacity(FRAME_SAMPLES * 2),
            frames: 0,
            keep_audio: false,
            max_segment_frames: u64::MAX,
            kept: Vec::new(),
            kept_from: 0,
        })
    }

    /// Keeps each segment's audio (returned in [`Speech::audio`]); a segment longer than
    /// `max_segment_s` is cut there and goes on as a new one.
    pub fn keeping_audio(mut self, max_segment_s: f64) -> Self {
        self.keep_audio = true;
        let frames = max_segment_s * f64::from(SAMPLE_RATE) / FRAME_SAMPLES as f64;
        self.max_segment_frames = frames.max(1.0) as u64;
        self
    }

    /// The input rate in Hz.
    pub fn input_rate(&self) -> u32 {
        self.resampler.from_rate()
    }

    /// Switches the input rate (a microphone that changed device): input already given is resampled at
    /// the old rate first.
    pub fn set_input_rate(&mut self, rate: u32) -> Result<()> {
        if rate != self.resampler.from_rate() {
            let next = Resampler::new(rate, SAMPLE_RATE)?;
            self.resampler.flush(&mut self.pending);
            self.resampler = next;
        }
        Ok(())
    }

    /// Frames scanned so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Seconds of audio scanned so far.
    pub fn seconds(&self) -> f64 {
        self.frames as f64 * FRAME_SAMPLES as f64 / f64::from(SAMPLE_RATE)
    }

    /// Whether speech is in progress.
    pub fn is_speaking(&self) -> bool {
        self.segmenter.is_speaking()
    }

    /// Scans `samples` (mono, at the input rate); every whole new frame's probability and every segment
    /// that ended go to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut ScanOutput) {
        self.resampler.process(samples, &mut self.pending);
        self.run_frames(out);
    }

    /// Ends the stream: the resampler's tail and a zero-padded last frame are scanned, and an open
    /// segment ends at the last frame.
    pub fn finish(&mut self, out: &mut ScanOutput) {
        self.resampler.flush(&mut self.pending);
        let rest = self.pending.len() % FRAME_SAMPLES;
        if rest > 0 {
            self.pending
                .resize(self.pending.len() + FRAME_SAMPLES - rest, 0.0);
        }
        self.run_frames(out);
        let event = self.segmenter.finish();
        self.emit(event, out);
        self.kept.clear();
        self.kept_from = self.frames;
    }

    fn run_frames(&mut self, out: &mut ScanOutput) {
        let whole = self.pending.len() / FRAME_SAMPLES * FRAME_SAMPLES;
        for i in (0..whole).step_by(FRAME_SAMPLES) {
            let Ok(frame) = <&[f32; FRAME_SAMPLES]>::try_from(&self.pending[i..i + FRAME_SAMPLES])
            else {
                continue;
            };
            let prob = self.vad.process_frame(frame);
            if self.keep_audio {
                self.kept.extend_from_slice(frame);
            }
            self.frames += 1;
            out.probs.push(prob);
            let event = self.segmenter.push(prob);
            self.emit(event, out);
            if self.segmenter.is_speaking()
                && self.frames - self.segmenter.segment_start() >= self.max_segment_frames
            {
                let event = self.segmenter.split();
                self.emit(event, out);
            }
            self.trim();
        }
        self.pending.drain(..whole);
    }

    fn emit(&mut self, event: SegmentEvent, out: &mut ScanOutput) {
        if let SegmentEvent::SpeechEnd(span) = event {
            let audio = self.keep_audio.then(|| {
                let at = |frame: u64| {
                    ((frame.saturating_sub(self.kept_from) as usize) * FRAME_SAMPLES)
                        .min(self.kept.len())
                };
                let (from, to) = (at(span.start_frame), at(span.end_frame));
                self.kept[from..to.max(from)].to_vec()
            });
            out.speech.push(Speech { span, audio });
        }
    }

    /// Drops kept audio that no segment can include any more.
    fn trim(&mut self) {
        let needed = self.segmenter.segment_start().min(self.frames);
        if self.keep_audio && needed >= self.kept_from + TRIM_FRAMES {
            let drop = ((needed - self.kept_from) as usize * FRAME_SAMPLES).min(self.kept.len());
            self.kept.drain(..drop);
            self.kept_from = needed;
        }
    }
}

/// Speech probabilities for plotting a recording of any length: at most `2 × cap` values, each the
/// largest of `step` consecutive frames (neighbours are merged, doubling `step`, whenever it fills up),
/// so peaks of speech stay visible however long the audio is.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbTrace {
    values: Vec<f32>,
    step: u32,
    acc: f32,
    acc_frames: u32,
    cap: usize,
}

impl ProbTrace {
    /// An empty trace that keeps fewer than `2 × cap` values.
    pub fn new(cap: usize) -> Self {
        ProbTrace {
            values: Vec::new(),
            step: 1,
            acc: 0.0,
            acc_frames: 0,
            cap: cap.max(1),
        }
    }

    /// Adds the next frame's probability.
    pub fn push(&mut self, prob: f32) {
        self.acc = if self.acc_frames == 0 {
            prob
        } else {
            self.acc.max(prob)
        };
        self.acc_frames += 1;
        if self.acc_frames < self.step {
            return;
        }
        self.values.push(self.acc);
        self.acc_frames = 0;
        if self.values.len() >= 2 * self.cap {
            self.values = self
                .values
                .chunks(2)
                .map(|p| p.iter().copied().fold(0.0, f32::max))
                .collect();
            self.step *= 2;
        }
    }

    /// Frames per value.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// The values (a last, partial bucket included) and the frames per value.
    pub fn finish(mut self) -> (Vec<f32>, u32) {
        if self.acc_frames > 0 {
            self.values.push(self.acc);
        }
        (self.values, self.step)
    }
}
