//! Voice activity in the worker: Silero VAD (CPU path) over live microphone chunks or a whole file,
//! with vad-web-style segmentation. The weights ship with the app shell (`models/`), so they are fetched
//! same-origin (the service worker serves them offline) and checked against the catalog's SHA-256.

use crate::protocol::{
    AudioInput, ErrorKind, JobId, JobResult, Progress, SpeechSegment, Stage, VadSettings,
    VoiceUpdate, WorkerError, WorkerEvent,
};
use crate::store::CancelFlag;
use futures::channel::oneshot;
use offgrid_catalog::Catalog;
use offgrid_engine::audio::{
    read_wav, write_wav_16bit, FrameSpan, Resampler, SegmentEvent, Segmenter, SegmenterSettings,
    SPEECH_RATE,
};
use offgrid_engine::models::silero_vad::{SileroVad, FRAME_SAMPLES};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;

/// The catalog entry whose file ships with the app.
pub const VAD_VARIANT: &str = "silero-vad-16k";
/// Where the build puts the weights, relative to the app (and so to the worker's loader script).
const VAD_URL: &str = "./models/silero_vad_16k.safetensors";
/// Frames per second of the model (16 kHz / 512).
const FRAME_MS: f32 = 32.0;
/// Frames between two yields to the event loop when scanning a file, so Cancel gets a turn.
const FILE_STEP_FRAMES: usize = 500;
/// A live session longer than this is ended (its results are kept).
const MAX_SESSION_SECONDS: f64 = 4.0 * 3600.0;

/// Sends an event to the page that started a job.
pub type Emit = Rc<dyn Fn(WorkerEvent)>;

struct Session {
    vad: SileroVad,
    segmenter: Segmenter,
    resampler: Option<Resampler>,
    /// 16 kHz samples not yet a whole frame.
    pending: Vec<f32>,
    /// Recent audio (for segment WAVs), starting at frame `kept_from`.
    kept: Vec<f32>,
    kept_from: u64,
    probs: Vec<f32>,
    segments: Vec<SpeechSegment>,
    emit: Emit,
    done: Option<oneshot::Sender<Result<JobResult, WorkerError>>>,
}

/// The worker's voice state: the loaded model and the live sessions.
#[derive(Default)]
pub struct VoiceState {
    model: Option<SileroVad>,
    sessions: HashMap<JobId, Session>,
    /// Sessions still loading the model: what came for them meanwhile, so no audio (or Stop) is lost.
    starting: HashMap<JobId, Early>,
}

/// Microphone audio and a Stop that arrived before the session's model was loaded.
#[derive(Default)]
struct Early {
    audio: Vec<(Vec<f32>, u32)>,
    stopped: bool,
}

/// Shared handle (sessions are fed from `received`, outside any job future).
pub type SharedVoice = Rc<RefCell<VoiceState>>;

fn internal(msg: impl Into<String>) -> WorkerError {
    WorkerError::new(ErrorKind::Internal, msg)
}

fn settings_of(s: &VadSettings) -> Result<SegmenterSettings, WorkerError> {
    let ok = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
    if !ok(s.positive_threshold) || !ok(s.negative_threshold) {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            "Thresholds must be between 0 and 1.",
        ));
    }
    if s.negative_threshold > s.positive_threshold {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            "The silence threshold must not be above the speech threshold.",
        ));
    }
    let ms = |v: f32| {
        if v.is_finite() {
            v.clamp(0.0, 60_000.0)
        } else {
            0.0
        }
    };
    Ok(SegmenterSettings::from_ms(
        s.positive_threshold,
        s.negative_threshold,
        ms(s.redemption_ms),
        ms(s.pre_speech_pad_ms),
        ms(s.min_speech_ms),
        FRAME_MS,
    ))
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, WorkerError> {
    let scope = crate::js::worker_scope().map_err(internal)?;
    let network = |e: wasm_bindgen::JsValue| {
        WorkerError::new(
            ErrorKind::Network,
            format!(
                "The voice model could not be loaded ({}). Reload the page while online once so it is saved for offline use.",
                crate::js::js_error_message(&e)
            ),
        )
    };
    let response = crate::js::await_promise(scope.fetch_with_str(url))
        .await
        .map_err(network)?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| internal("fetch did not return a Response"))?;
    if !response.ok() {
        return Err(WorkerError::new(
            ErrorKind::NotFound,
            format!(
                "The voice model is missing from this build (HTTP {} for {url}).",
                response.status()
            ),
        ));
    }
    let buffer = crate::js::await_promise(response.array_buffer().map_err(network)?)
        .await
        .map_err(network)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The Silero model (fetched, verified and loaded on first use).
async fn model(
    state: &SharedVoice,
    catalog: &Catalog,
    report: &dyn Fn(Progress),
) -> Result<SileroVad, WorkerError> {
    if let Some(m) = &state.borrow().model {
        return Ok(m.fresh());
    }
    let variant = catalog
        .get(VAD_VARIANT)
        .ok_or_else(|| internal("the catalog has no Silero VAD entry"))?;
    let file = variant
        .files
        .first()
        .ok_or_else(|| internal("the Silero VAD entry lists no file"))?;
    report(Progress {
        stage: Stage::Loading,
        file: Some(file.path.clone()),
        file_done: 0,
        file_total: 0,
        done: 0,
        total: 1,
    });
    let bytes = fetch_bytes(VAD_URL).await?;
    let got = hex::encode(Sha256::digest(&bytes));
    if file.sha256.as_deref() != Some(got.as_str()) {
        return Err(WorkerError::new(
            ErrorKind::Integrity,
            "The bundled voice model is damaged (its checksum does not match). Reload the page to fetch it again.",
        ));
    }
    let vad = SileroVad::load(bytes)
        .map_err(|e| internal(format!("The voice model could not be read: {e}")))?;
    state.borrow_mut().model = Some(vad.clone());
    Ok(vad.fresh())
}

fn segment(
    span: FrameSpan,
    audio: &[f32],
    audio_from_frame: u64,
) -> Result<SpeechSegment, WorkerError> {
    let [start_s, end_s] = span.seconds(FRAME_SAMPLES, SPEECH_RATE);
    let from = (span.start_frame.saturating_sub(audio_from_frame) as usize * FRAME_SAMPLES)
        .min(audio.len());
    let to = (span.end_frame.saturating_sub(audio_from_frame) as usize * FRAME_SAMPLES)
        .clamp(from, audio.len());
    let wav =
        write_wav_16bit(&audio[from..to], SPEECH_RATE).map_err(|e| internal(e.to_string()))?;
    Ok(SpeechSegment {
        start_s,
        end_s,
        wav,
    })
}

/// Starts a live session and waits until it is stopped; updates go out through `emit`.
pub async fn live(
    state: &SharedVoice,
    catalog: &Catalog,
    job: JobId,
    settings: VadSettings,
    emit: Emit,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    let seg_settings = settings_of(&settings)?;
    state.borrow_mut().starting.insert(job, Early::default());
    let vad = model(state, catalog, report).await;
    // Cancel (say, the microphone was refused) may have come while the model loaded.
    let Some(early) = state.borrow_mut().starting.remove(&job) else {
        return Err(internal("cancelled"));
    };
    let vad = vad?;
    let (tx, rx) = oneshot::channel();
    state.borrow_mut().sessions.insert(
        job,
        Session {
            vad,
            segmenter: Segmenter::new(seg_settings),
            resampler: None,
            pending: Vec::new(),
            kept: Vec::new(),
            kept_from: 0,
            probs: Vec::new(),
            segments: Vec::new(),
            emit,
            done: Some(tx),
        },
    );
    report(Progress::steps(Stage::Running, 0, 0));
    for (samples, rate) in early.audio {
        feed(state, job, &samples, rate);
    }
    if early.stopped {
        stop(state, job);
    }
    rx.await.unwrap_or_else(|_| Err(internal("cancelled")))
}

impl Session {
    fn frames_done(&self) -> u64 {
        self.segmenter.frames()
    }

    /// Runs every whole frame in `pending`; returns the update to send.
    fn run_frames(&mut self, flush: bool) -> Result<VoiceUpdate, WorkerError> {
        let mut probs = Vec::new();
        let mut segments = Vec::new();
        if flush && !self.pending.is_empty() {
            let pad = FRAME_SAMPLES - self.pending.len() % FRAME_SAMPLES;
            if pad < FRAME_SAMPLES {
                self.pending.resize(self.pending.len() + pad, 0.0);
            }
        }
        let whole = self.pending.len() / FRAME_SAMPLES * FRAME_SAMPLES;
        for frame in self.pending[..whole].chunks_exact(FRAME_SAMPLES) {
            let prob = self
                .vad
                .process(frame)
                .map_err(|e| internal(e.to_string()))?;
            self.kept.extend_from_slice(frame);
            probs.push(prob);
            if let SegmentEvent::SpeechEnd(span) = self.segmenter.push(prob) {
                segments.push(segment(span, &self.kept, self.kept_from)?);
            }
        }
        self.pending.drain(..whole);
        if flush {
            if let SegmentEvent::SpeechEnd(span) = self.segmenter.finish() {
                segments.push(segment(span, &self.kept, self.kept_from)?);
            }
        }
        // Outside speech only the padding can still become part of a segment: memory stays bounded.
        if !self.segmenter.is_speaking() {
            let keep = u64::from(self.segmenter.settings().pre_speech_pad_frames) + 1;
            let first = self.frames_done().saturating_sub(keep).max(self.kept_from);
            let drop = ((first - self.kept_from) as usize * FRAME_SAMPLES).min(self.kept.len());
            self.kept.drain(..drop);
            self.kept_from = first;
        }
        self.probs.extend_from_slice(&probs);
        self.segments.extend(segments.iter().cloned());
        let seconds = self.frames_done() as f64 * FRAME_SAMPLES as f64 / f64::from(SPEECH_RATE);
        Ok(VoiceUpdate {
            probs,
            speaking: self.segmenter.is_speaking(),
            segments,
            seconds,
        })
    }
}

/// Feeds microphone audio to a live session (ignored when the session is gone).
pub fn feed(state: &SharedVoice, job: JobId, samples: &[f32], rate: u32) {
    let mut st = state.borrow_mut();
    if let Some(early) = st.starting.get_mut(&job) {
        early.audio.push((samples.to_vec(), rate));
        return;
    }
    let Some(session) = st.sessions.get_mut(&job) else {
        return;
    };
    if session.resampler.as_ref().map(|r| r.from_rate()) != Some(rate) {
        match Resampler::new(rate, SPEECH_RATE) {
            Ok(r) => session.resampler = Some(r),
            Err(e) => {
                let error = WorkerError::new(
                    ErrorKind::BadInput,
                    format!("The microphone's sample rate cannot be used: {e}"),
                );
                if let Some(done) = st.sessions.remove(&job).and_then(|mut s| s.done.take()) {
                    let _ = done.send(Err(error));
                }
                return;
            }
        }
    }
    if let Some(r) = session.resampler.as_mut() {
        r.process(samples, &mut session.pending);
    }
    let too_long = session.frames_done() as f64 * 0.032 > MAX_SESSION_SECONDS;
    match session.run_frames(false) {
        Ok(update) if !update.probs.is_empty() => {
            (session.emit)(WorkerEvent::Voice { job, update })
        }
        Ok(_) => {}
        Err(e) => {
            if let Some(done) = st.sessions.remove(&job).and_then(|mut s| s.done.take()) {
                let _ = done.send(Err(e));
            }
            return;
        }
    }
    if too_long {
        drop(st);
        stop(state, job);
    }
}

/// Ends a live session: the last partial frame is run and the job ends with every segment.
pub fn stop(state: &SharedVoice, job: JobId) {
    if let Some(early) = state.borrow_mut().starting.get_mut(&job) {
        early.stopped = true;
        return;
    }
    let Some(mut session) = state.borrow_mut().sessions.remove(&job) else {
        return;
    };
    if let Some(r) = session.resampler.as_mut() {
        r.flush(&mut session.pending);
    }
    let result = session.run_frames(true).map(|update| {
        if !update.probs.is_empty() || !update.segments.is_empty() {
            (session.emit)(WorkerEvent::Voice { job, update });
        }
        let seconds = session.probs.len() as f64 * FRAME_SAMPLES as f64 / f64::from(SPEECH_RATE);
        JobResult::Voice {
            probs: std::mem::take(&mut session.probs),
            segments: std::mem::take(&mut session.segments),
            seconds,
        }
    });
    if let Some(done) = session.done.take() {
        let _ = done.send(result);
    }
}

/// Drops a live session (Cancel): its job ends as cancelled.
pub fn cancel(state: &SharedVoice, job: JobId) {
    let mut st = state.borrow_mut();
    st.sessions.remove(&job);
    st.starting.remove(&job);
}

/// Decodes a file's audio to 16 kHz mono.
pub fn decode(audio: AudioInput) -> Result<Vec<f32>, WorkerError> {
    let (samples, rate) = match audio {
        AudioInput::Wav(bytes) => {
            let audio = read_wav(&bytes).map_err(|e| {
                WorkerError::new(
                    ErrorKind::BadInput,
                    format!("This WAV file cannot be read: {e}."),
                )
            })?;
            (audio.samples, audio.sample_rate)
        }
        AudioInput::Pcm { samples, rate } => (samples, rate),
    };
    if samples.is_empty() {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            "The file has no audio in it.",
        ));
    }
    offgrid_engine::audio::resample(&samples, rate, SPEECH_RATE).map_err(|e| {
        WorkerError::new(
            ErrorKind::BadInput,
            format!("The audio cannot be resampled: {e}."),
        )
    })
}

/// Voice activity over a whole file, with progress; cancellable between steps.
pub async fn file(
    state: &SharedVoice,
    catalog: &Catalog,
    audio: AudioInput,
    settings: VadSettings,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    let seg_settings = settings_of(&settings)?;
    let samples = decode(audio)?;
    let mut vad = model(state, catalog, report).await?;
    let mut segmenter = Segmenter::new(seg_settings);
    let frames = samples.len().div_ceil(FRAME_SAMPLES);
    let mut probs = Vec::with_capacity(frames);
    let mut spans = Vec::new();
    let mut frame = [0f32; FRAME_SAMPLES];
    for (i, chunk) in samples.chunks(FRAME_SAMPLES).enumerate() {
        frame.fill(0.0);
        frame[..chunk.len()].copy_from_slice(chunk);
        let prob = vad.process_frame(&frame);
        probs.push(prob);
        if let SegmentEvent::SpeechEnd(span) = segmenter.push(prob) {
            spans.push(span);
        }
        if (i + 1) % FILE_STEP_FRAMES == 0 {
            report(Progress::steps(
                Stage::Running,
                (i + 1) as u64,
                frames as u64,
            ));
            gloo_timers::future::TimeoutFuture::new(0).await;
            if cancel.get() {
                return Err(internal("cancelled"));
            }
        }
    }
    if let SegmentEvent::SpeechEnd(span) = segmenter.finish() {
        spans.push(span);
    }
    let segments = spans
        .into_iter()
        .map(|s| segment(s, &samples, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let seconds = samples.len() as f64 / f64::from(SPEECH_RATE);
    Ok(JobResult::Voice {
        probs,
        segments,
        seconds,
    })
}
