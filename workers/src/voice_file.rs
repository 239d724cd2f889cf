//! Recordings of any length through voice activity (and on to Whisper, in [`crate::transcribe`]), streamed:
//! the worker asks the page for one piece of the file at a time ([`WorkerEvent::AudioWanted`]), decodes it
//! (WAV through the engine's incremental [`WavStream`]; other formats arrive as samples the page decoded),
//! and scans it with the same [`SpeechScanner`] as live sessions. The next piece is asked for as soon as
//! one arrives, so the page reads it while this one is scanned; there is never more than one in flight.
//! Memory does not grow with the length of the recording: a piece or two, the scanner's bounded state,
//! and the results (segment times, a bounded probability trace, transcript lines).

use crate::job::{cancelled, JobCtx};
use crate::protocol::{
    AudioInput, ErrorKind, FileData, JobInput, JobResult, Progress, Stage, VadSettings,
    VoiceUpdate, WorkerError, WorkerEvent,
};
use crate::transcript::short_clock;
use crate::voice::{internal, model, segment_of, settings_of, PLOT_POINTS};
use offgrid_engine::audio::{ProbTrace, ScanOutput, SegmenterSettings, SpeechScanner, WavStream};
use offgrid_engine::models::silero_vad::FRAME_SAMPLES;

/// Bytes of a WAV file asked for at a time (about 65 s of 16-bit mono at 16 kHz, 11 s of 48 kHz stereo).
const WAV_PIECE: u64 = 2 << 20;
/// Bytes asked for while the header is read (it is usually a few dozen bytes; metadata is skipped).
const HEADER_PIECE: u64 = 64 << 10;
/// Frames of page-decoded audio asked for at a time (4 MB of f32).
const DECODED_PIECE: u64 = 1 << 20;
/// VAD frames scanned between two yields to the event loop, so Cancel and the next piece get a turn.
const STEP_FRAMES: usize = 500;

fn unreadable_wav(e: offgrid_engine::Error) -> WorkerError {
    WorkerError::new(
        ErrorKind::BadInput,
        format!("This WAV file cannot be read: {e}."),
    )
}

/// A file's audio pulled from the page piece by piece (through the job's inbox), decoded to mono at the
/// file's own rate.
struct FileSource<'a> {
    ctx: &'a JobCtx,
    input: AudioInput,
    wav: WavStream,
    /// Next frame to ask for (page-decoded audio).
    next_frame: u64,
    /// The piece asked for and not yet received.
    asked: bool,
    /// Nothing more to ask for.
    ended: bool,
}

impl<'a> FileSource<'a> {
    fn open(ctx: &'a JobCtx, input: AudioInput) -> FileSource<'a> {
        FileSource {
            ctx,
            input,
            wav: WavStream::new(),
            next_frame: 0,
            asked: false,
            ended: false,
        }
    }

    /// Asks the page for the next piece, unless the audio is complete.
    fn ask(&mut self) {
        let (from, len) = match self.input {
            AudioInput::Wav { bytes } => {
                let at = self.wav.position();
                let piece = if self.wav.info().is_some() {
                    WAV_PIECE
                } else {
                    HEADER_PIECE
                };
                (at, piece.min(bytes.saturating_sub(at)))
            }
            AudioInput::Decoded { frames, .. } => (
                self.next_frame,
                DECODED_PIECE.min(frames.saturating_sub(self.next_frame)),
            ),
        };
        if len == 0 || self.wav.is_done() {
            self.ended = true;
            return;
        }
        self.asked = true;
        self.ctx.emit(WorkerEvent::AudioWanted {
            job: self.ctx.job,
            from,
            len,
        });
    }

    /// Waits for the piece asked for and appends its samples to `out`; false at the end of the file.
    async fn next(&mut self, out: &mut Vec<f32>) -> Result<bool, WorkerError> {
        if !self.asked && !self.ended {
            self.ask();
        }
        if self.ended {
            return Ok(false);
        }
        // `None`: the inbox was dropped, i.e. the job was cancelled.
        let data = loop {
            match self.ctx.next_input().await.ok_or_else(cancelled)? {
                JobInput::FileAudio { data, .. } => break data,
                // The page gave up on the file (it closed or replaced it).
                JobInput::Stop => return Err(cancelled()),
                // Not for a file job.
                JobInput::Audio { .. } | JobInput::Played { .. } => {}
            }
        };
        self.asked = false;
        match (data, self.input) {
            (FileData::Unreadable(message), _) => {
                return Err(WorkerError::new(ErrorKind::BadInput, message))
            }
            (FileData::Bytes(bytes), AudioInput::Wav { .. }) => {
                if bytes.is_empty() {
                    // The file is shorter than it was when opened.
                    self.ended = true;
                    return Ok(false);
                }
                self.wav.push(&bytes, out).map_err(unreadable_wav)?;
            }
            (FileData::Samples(samples), AudioInput::Decoded { .. }) => {
                if samples.is_empty() {
                    self.ended = true;
                    return Ok(false);
                }
                self.next_frame += samples.len() as u64;
                out.extend_from_slice(&samples);
            }
            _ => return Err(internal("the page sent the wrong kind of audio piece")),
        }
        // The next piece is read by the page while this one is scanned.
        self.ask();
        Ok(true)
    }

    /// Reads up to the start of the audio: its rate and announced length. Samples that came with the
    /// header's last piece go to `out`.
    async fn header(&mut self, out: &mut Vec<f32>) -> Result<(u32, Option<f64>), WorkerError> {
        match self.input {
            AudioInput::Decoded { frames, rate } => {
                if rate == 0 {
                    return Err(internal("decoded audio with a sample rate of 0"));
                }
                Ok((rate, Some(frames as f64 / f64::from(rate))))
            }
            AudioInput::Wav { bytes } => {
                while self.wav.info().is_none() {
                    if !self.next(out).await? {
                        // `finish` says what is wrong with a header that never completes.
                        self.wav.finish().map_err(unreadable_wav)?;
                        return Err(unreadable_wav(offgrid_engine::Error::Audio(
                            "it has no audio data".into(),
                        )));
                    }
                }
                let info = *self
                    .wav
                    .info()
                    .ok_or_else(|| internal("the WAV header vanished"))?;
                // A streamed WAV does not say its length: the file's size does, nearly.
                let frames = info.frames().unwrap_or_else(|| {
                    bytes.saturating_sub(info.data_offset) / u64::from(info.block_align)
                });
                Ok((
                    info.sample_rate,
                    Some(frames as f64 / f64::from(info.sample_rate)),
                ))
            }
        }
    }

    /// After the last piece: a notice when the file was cut short, an error when it is unreadable.
    fn finish(&self) -> Result<Option<String>, WorkerError> {
        let AudioInput::Wav { .. } = self.input else {
            return Ok(None);
        };
        let end = self.wav.finish().map_err(unreadable_wav)?;
        if !end.truncated {
            return Ok(None);
        }
        let rate = f64::from(self.wav.info().map_or(1, |i| i.sample_rate));
        let there = short_clock(end.frames as f64 / rate);
        Ok(Some(match end.expected_frames {
            Some(want) => format!(
                "The file ends early: its header announces {} of audio but only {there} is there (the recording or the copy was probably interrupted). The results cover what is there.",
                short_clock(want as f64 / rate)
            ),
            None => format!(
                "The file ends in the middle of a sample, after {there}; it is probably incomplete. The results cover what is there."
            ),
        }))
    }
}

/// A file being scanned piece by piece, with progress and Cancel between steps.
pub(crate) struct FileScan<'a> {
    source: FileSource<'a>,
    scanner: SpeechScanner,
    rate: u32,
    /// Frames of the file decoded so far (at its own rate).
    frames: u64,
    total_s: Option<f64>,
    /// Decoded samples not yet scanned.
    samples: Vec<f32>,
    ended: bool,
}

impl<'a> FileScan<'a> {
    /// Loads the VAD model and reads the file's header. `keep_audio`: keep each segment's audio, cut
    /// into pieces of at most that many seconds (for Whisper).
    pub(crate) async fn start(
        ctx: &'a JobCtx,
        input: AudioInput,
        settings: SegmenterSettings,
        keep_audio: Option<f64>,
    ) -> Result<FileScan<'a>, WorkerError> {
        let vad = model(ctx).await?;
        let mut source = FileSource::open(ctx, input);
        let mut samples = Vec::new();
        let (rate, total_s) = source.header(&mut samples).await?;
        let mut scanner = SpeechScanner::new(vad, settings, rate).map_err(|e| {
            WorkerError::new(
                ErrorKind::BadInput,
                format!("The audio cannot be resampled: {e}."),
            )
        })?;
        if let Some(max_s) = keep_audio {
            scanner = scanner.keeping_audio(max_s);
        }
        let scan = FileScan {
            source,
            scanner,
            rate,
            frames: samples.len() as u64,
            total_s,
            samples,
            ended: false,
        };
        scan.progress();
        Ok(scan)
    }

    /// Seconds of the file decoded so far (all of it, once [`FileScan::step`] has returned false).
    pub(crate) fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.rate)
    }

    fn progress(&self) {
        let done = self.scanner.seconds().min(self.seconds());
        let total = self.total_s.unwrap_or(0.0).max(done);
        self.source.ctx.progress(Progress::steps(
            Stage::Listening,
            (done * 1000.0) as u64,
            (total * 1000.0) as u64,
        ));
    }

    /// Scans the next piece of the file: the new frames' probabilities and the speech that ended go to
    /// `out`. Returns false once the file is done (its end has then been scanned too).
    pub(crate) async fn step(&mut self, out: &mut ScanOutput) -> Result<bool, WorkerError> {
        if self.ended {
            return Ok(false);
        }
        if self.samples.is_empty() {
            let before = self.samples.len();
            if !self.source.next(&mut self.samples).await? {
                self.scanner.finish(out);
                self.ended = true;
                self.progress();
                return Ok(false);
            }
            self.frames += (self.samples.len() - before) as u64;
        }
        // Native samples per step: STEP_FRAMES VAD frames at the file's rate.
        let step = (STEP_FRAMES * FRAME_SAMPLES * self.rate as usize / 16_000).max(1);
        for block in self.samples.chunks(step) {
            self.scanner.push(block, out);
            self.progress();
            gloo_timers::future::TimeoutFuture::new(0).await;
            self.source.ctx.check_cancel()?;
        }
        self.samples.clear();
        Ok(true)
    }

    /// After the end: a notice for a file that was cut short; an error for one with no audio at all.
    pub(crate) fn finish(&self) -> Result<Option<String>, WorkerError> {
        let notice = self.source.finish()?;
        if self.frames == 0 {
            return Err(WorkerError::new(
                ErrorKind::BadInput,
                "The file has no audio in it.",
            ));
        }
        Ok(notice)
    }
}

/// Voice activity over a file: segments stream to the page as they are found (times only; the page
/// cuts their audio from the file when asked), and the job ends with all of them and the plot.
pub async fn vad(
    ctx: &JobCtx,
    input: AudioInput,
    settings: VadSettings,
) -> Result<JobResult, WorkerError> {
    let settings = settings_of(&settings)?;
    let mut scan = FileScan::start(ctx, input, settings, None).await?;
    let mut trace = ProbTrace::new(PLOT_POINTS);
    let mut segments = Vec::new();
    let mut out = ScanOutput::default();
    loop {
        let more = scan.step(&mut out).await?;
        for &p in &out.probs {
            trace.push(p);
        }
        let found = out
            .speech
            .iter()
            .map(segment_of)
            .collect::<Result<Vec<_>, _>>()?;
        out.clear();
        if !found.is_empty() {
            ctx.emit(WorkerEvent::Voice {
                job: ctx.job,
                update: VoiceUpdate {
                    probs: Vec::new(),
                    speaking: false,
                    segments: found.clone(),
                    seconds: scan.seconds(),
                },
            });
            segments.extend(found);
        }
        if !more {
            break;
        }
    }
    let notice = scan.finish()?;
    let (probs, prob_frames) = trace.finish();
    Ok(JobResult::Voice {
        probs,
        prob_frames,
        segments,
        seconds: scan.seconds(),
        notice,
    })
}
