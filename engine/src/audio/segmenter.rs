//! Speech segmentation from per-frame speech probabilities, with vad-web's rules (ricky0123/vad
//! `FrameProcessor`): a frame at or above the positive threshold starts speech; `redemption_frames` frames
//! below the negative threshold with no positive frame between end it; a segment with fewer than
//! `min_speech_frames` positive frames is a misfire; up to `pre_speech_pad_frames` frames before the start
//! are included. Streaming: push one probability per frame and get events; state is a few counters, so
//! hours of audio use constant memory (callers that want the audio keep their own ring buffer).

/// Segmenter settings, in frames of the VAD model (512 samples = 32 ms at 16 kHz).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmenterSettings {
    /// A frame with probability ≥ this is speech.
    pub positive_threshold: f32,
    /// A frame with probability < this counts towards the end of speech.
    pub negative_threshold: f32,
    /// Frames below the negative threshold that end a segment.
    pub redemption_frames: u32,
    /// Frames before the first speech frame included in a segment.
    pub pre_speech_pad_frames: u32,
    /// Fewer positive frames than this make a segment a misfire.
    pub min_speech_frames: u32,
}

impl Default for SegmenterSettings {
    /// vad-web's defaults for Silero v5: 0.5 / 0.35, 1400 ms redemption, 800 ms padding, 400 ms minimum.
    fn default() -> Self {
        Self::from_ms(0.5, 0.35, 1400.0, 800.0, 400.0, 32.0)
    }
}

impl SegmenterSettings {
    /// Settings from durations in milliseconds, for frames of `frame_ms` milliseconds (rounded to frames).
    pub fn from_ms(
        positive_threshold: f32,
        negative_threshold: f32,
        redemption_ms: f32,
        pre_speech_pad_ms: f32,
        min_speech_ms: f32,
        frame_ms: f32,
    ) -> Self {
        let frames = |ms: f32| (ms / frame_ms.max(1e-3)).round().max(0.0) as u32;
        SegmenterSettings {
            positive_threshold,
            negative_threshold,
            redemption_frames: frames(redemption_ms).max(1),
            pre_speech_pad_frames: frames(pre_speech_pad_ms),
            min_speech_frames: frames(min_speech_ms),
        }
    }
}

/// A detected speech span, in frames: `[start_frame, end_frame)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSpan {
    /// First frame of the segment (padding included).
    pub start_frame: u64,
    /// One past the last frame (the redemption frames included, as vad-web does).
    pub end_frame: u64,
}

impl FrameSpan {
    /// `[start_s, end_s]` for frames of `frame_samples` samples at `sample_rate`.
    pub fn seconds(&self, frame_samples: usize, sample_rate: u32) -> [f64; 2] {
        let spf = frame_samples as f64 / f64::from(sample_rate.max(1));
        [self.start_frame as f64 * spf, self.end_frame as f64 * spf]
    }
}

/// What one frame changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentEvent {
    /// Nothing new.
    None,
    /// Speech began at this frame (the segment may still turn out to be a misfire).
    SpeechStart {
        /// The frame that crossed the positive threshold.
        frame: u64,
    },
    /// A segment ended and was long enough.
    SpeechEnd(FrameSpan),
    /// Speech ended but had too few positive frames.
    Misfire(FrameSpan),
}

/// Streaming segmenter state.
#[derive(Debug, Clone)]
pub struct Segmenter {
    settings: SegmenterSettings,
    frame: u64,
    speaking: bool,
    /// First frame of the audio the segment would include.
    buf_start: u64,
    speech_frames: u32,
    redemption: u32,
}

impl Segmenter {
    /// A segmenter at frame 0.
    pub fn new(settings: SegmenterSettings) -> Self {
        Segmenter {
            settings,
            frame: 0,
            speaking: false,
            buf_start: 0,
            speech_frames: 0,
            redemption: 0,
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> &SegmenterSettings {
        &self.settings
    }

    /// Whether speech is in progress.
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Frames pushed so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// The first frame the open segment includes, or the next one would (its padding included): audio
    /// before it can no longer become part of any segment.
    pub fn segment_start(&self) -> u64 {
        self.buf_start
    }

    /// Back to frame 0, not speaking.
    pub fn reset(&mut self) {
        *self = Segmenter::new(self.settings);
    }

    /// Pushes the probability of the next frame.
    pub fn push(&mut self, prob: f32) -> SegmentEvent {
        let s = self.settings;
        let i = self.frame;
        self.frame += 1;
        let positive = prob >= s.positive_threshold;
        if positive {
            self.speech_frames += 1;
            self.redemption = 0;
            if !self.speaking {
                self.speaking = true;
                return SegmentEvent::SpeechStart { frame: i };
            }
        }
        if self.speaking && prob < s.negative_threshold {
            self.redemption += 1;
            if self.redemption >= s.redemption_frames {
                let span = FrameSpan {
                    start_frame: self.buf_start,
                    end_frame: i + 1,
                };
                let enough = self.speech_frames >= s.min_speech_frames;
                self.speaking = false;
                self.redemption = 0;
                self.speech_frames = 0;
                self.buf_start = i + 1;
                return if enough {
                    SegmentEvent::SpeechEnd(span)
                } else {
                    SegmentEvent::Misfire(span)
                };
            }
        }
        if !self.speaking {
            // Only the last `pre_speech_pad_frames` frames stay as padding for the next start.
            let earliest = (i + 1).saturating_sub(u64::from(s.pre_speech_pad_frames));
            self.buf_start = self.buf_start.max(earliest);
            self.speech_frames = 0;
        }
        SegmentEvent::None
    }

    /// Ends the stream: closes an open segment at the last frame; then resets.
    pub fn finish(&mut self) -> SegmentEvent {
        let event = if self.speaking {
            let span = FrameSpan {
                start_frame: self.buf_start,
                end_frame: self.frame,
            };
            if self.speech_frames >= self.settings.min_speech_frames {
                SegmentEvent::SpeechEnd(span)
            } else {
                SegmentEvent::Misfire(span)
            }
        } else {
            SegmentEvent::None
        };
        self.reset();
        event
    }

    /// Cuts the open segment at the current frame, as if speech ended and at once began again: for
    /// callers that keep each segment's audio and must bound it. `None` when not speaking. The cut-off part
    /// is a misfire when it holds too few speech frames; the rest goes on as a new segment.
    pub fn split(&mut self) -> SegmentEvent {
        if !self.speaking {
            return SegmentEvent::None;
        }
        let span = FrameSpan {
            start_frame: self.buf_start,
            end_frame: self.frame,
        };
        let enough = self.speech_frames >= self.settings.min_speech_frames;
        self.buf_start = self.frame;
        // Silence already counted towards the end of speech keeps counting.
        self.speech_frames = 0;
        if enough {
            SegmentEvent::SpeechEnd(span)
        } else {
            SegmentEvent::Misfire(span)
        }
    }
}

/// Segments of a whole probability sequence (convenience over [`Segmenter`]).
pub fn segments(probs: &[f32], settings: SegmenterSettings) -> Vec<FrameSpan> {
    let mut seg = Segmenter::new(settings);
    let mut out = Vec::new();
    for &p in probs {
        if let SegmentEvent::SpeechEnd(span) = seg.push(p) {
            out.push(span);
        }
    }
    if let SegmentEvent::SpeechEnd(span) = seg.finish() {
        out.push(span);
    }
    out
}
