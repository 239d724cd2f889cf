//! Voice activity in the worker: Silero VAD (CPU path) over live microphone chunks, with vad-web-style
//! segmentation through the engine's streaming [`SpeechScanner`]; files stream through the same scanner in
//! [`crate::voice_file`]. The weights ship with the app shell (`models/`), so they are fetched
//! same-origin (the service worker serves them offline) and checked against the catalog's SHA-256.

use crate::protocol::{
    ErrorKind, JobId, JobResult, Progress, SpeechSegment, Stage, VadSettings, VoiceUpdate,
    WorkerError, WorkerEvent,
};
use futures::channel::oneshot;
use offgrid_catalog::Catalog;
use offgrid_engine::audio::{
    write_wav_16bit, ProbTrace, ScanOutput, SegmenterSettings, Speech, SpeechScanner, SPEECH_RATE,
};
use offgrid_engine::models::silero_vad::SileroVad;
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
/// A live session longer than this is ended (its results are kept).
const MAX_SESSION_SECONDS: f64 = 4.0 * 3600.0;
/// Longest live segment whose audio is kept in one piece: unbroken "speech" (music, a noisy room) is
/// cut here, so the audio held for the open segment stays bounded.
const MAX_LIVE_SEGMENT_S: f64 = 300.0;
/// Probability values kept for a result's plot (see [`ProbTrace`]).
pub const PLOT_POINTS: usize = 4096;

/// Sends an event to the page that started a job.
pub type Emit = Rc<dyn Fn(WorkerEvent)>;

struct Session {
    /// The model until the first audio says at which rate the scanner runs.
    vad: Option<SileroVad>,
    settings: SegmenterSettings,
    scanner: Option<SpeechScanner>,
    out: ScanOutput,
    trace: ProbTrace,
    segments: Vec<SpeechSegment>,
    emit: Emit,
    done: Option<oneshot::Sender<Result<JobResult, WorkerError>>>,
}

/// The worker's voice state: the loaded model, the live sessions, and the file jobs' inboxes.
#[derive(Default)]
pub struct VoiceState {
    model: Option<SileroVad>,
    sessions: HashMap<JobId, Session>,
    /// Sessions still loading the model: what came for them meanwhile, so no audio (or Stop) is lost.
    starting: HashMap<JobId, Early>,
    /// File jobs waiting for pieces of their audio from the page.
    pub(crate) inboxes:
        HashMap<JobId, futures::channel::mpsc::UnboundedSender<crate::protocol::FileData>>,
}

/// Microphone audio and a Stop that arrived before the session's model was loaded.
#[derive(Default)]
struct Early {
    audio: Vec<(Vec<f32>, u32)>,
    stopped: bool,
}

/// Shared handle (sessions are fed from `received`, outside any job future).
pub type SharedVoice = Rc<RefCell<VoiceState>>;

pub(crate) fn internal(msg: impl Into<String>) -> WorkerError {
    WorkerError::new(ErrorKind::Internal, msg)
}

pub(crate) fn settings_of(s: &VadSettings) -> Result<SegmenterSettings, WorkerError> {
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
pub(crate) async fn model(
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

/// A segment for the page: its times, and its audio as a WAV file when it was kept.
pub(crate) fn segment_of(speech: &Speech) -> Result<SpeechSegment, WorkerError> {
    let [start_s, end_s] = speech.seconds();
    let wav = match &speech.audio {
        Some(audio) => {
            Some(write_wav_16bit(audio, SPEECH_RATE).map_err(|e| internal(e.to_string()))?)
        }
        None => None,
    };
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
            vad: Some(vad),
            settings: seg_settings,
            scanner: None,
            out: ScanOutput::default(),
            trace: ProbTrace::new(PLOT_POINTS),
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
    /// The scanner, started (or switched) at `rate`.
    fn scanner_at(&mut self, rate: u32) -> Result<&mut SpeechScanner, WorkerError> {
        let bad_rate = |e: offgrid_engine::Error| {
            WorkerError::new(
                ErrorKind::BadInput,
                format!("The microphone's sample rate cannot be used: {e}"),
            )
        };
        if self.scanner.is_none() {
            let vad = self
                .vad
                .take()
                .ok_or_else(|| internal("the session lost its model"))?;
            let scanner = SpeechScanner::new(vad, self.settings, rate)
                .map_err(bad_rate)?
                .keeping_audio(MAX_LIVE_SEGMENT_S);
            self.scanner = Some(scanner);
        }
        let scanner = self
            .scanner
            .as_mut()
            .ok_or_else(|| internal("the session has no scanner"))?;
        scanner.set_input_rate(rate).map_err(bad_rate)?;
        Ok(scanner)
    }

    /// Turns what the scanner produced into the update to send, keeping the results.
    fn update(&mut self) -> Result<VoiceUpdate, WorkerError> {
        let segments = self
            .out
            .speech
            .iter()
            .map(segment_of)
            .collect::<Result<Vec<_>, _>>()?;
        for &p in &self.out.probs {
            self.trace.push(p);
        }
        self.segments.extend(segments.iter().cloned());
        let probs = std::mem::take(&mut self.out.probs);
        self.out.clear();
        let (speaking, seconds) = self
            .scanner
            .as_ref()
            .map_or((false, 0.0), |s| (s.is_speaking(), s.seconds()));
        Ok(VoiceUpdate {
            probs,
            speaking,
            segments,
            seconds,
        })
    }
}

/// Ends a session with `error`.
fn fail(st: &mut VoiceState, job: JobId, error: WorkerError) {
    if let Some(done) = st.sessions.remove(&job).and_then(|mut s| s.done.take()) {
        let _ = done.send(Err(error));
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
    let mut out = std::mem::take(&mut session.out);
    let too_long = match session.scanner_at(rate) {
        Ok(scanner) => {
            scanner.push(samples, &mut out);
            scanner.seconds() > MAX_SESSION_SECONDS
        }
        Err(e) => return fail(&mut st, job, e),
    };
    session.out = out;
    match session.update() {
        Ok(update) if !update.probs.is_empty() || !update.segments.is_empty() => {
            (session.emit)(WorkerEvent::Voice { job, update })
        }
        Ok(_) => {}
        Err(e) => return fail(&mut st, job, e),
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
    if let Some(scanner) = session.scanner.as_mut() {
        scanner.finish(&mut session.out);
    }
    let result = session.update().map(|update| {
        if !update.probs.is_empty() || !update.segments.is_empty() {
            (session.emit)(WorkerEvent::Voice { job, update });
        }
        let seconds = session.scanner.as_ref().map_or(0.0, SpeechScanner::seconds);
        let (probs, prob_frames) =
            std::mem::replace(&mut session.trace, ProbTrace::new(1)).finish();
        JobResult::Voice {
            probs,
            prob_frames,
            segments: std::mem::take(&mut session.segments),
            seconds,
            notice: None,
        }
    });
    if let Some(done) = session.done.take() {
        let _ = done.send(result);
    }
}

/// Drops a live session or a file job's inbox (Cancel): its job ends as cancelled.
pub fn cancel(state: &SharedVoice, job: JobId) {
    let mut st = state.borrow_mut();
    st.sessions.remove(&job);
    st.starting.remove(&job);
    st.inboxes.remove(&job);
}
