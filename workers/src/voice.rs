//! Voice activity in the worker: Silero VAD (CPU path) over live microphone chunks, with vad-web-style
//! segmentation through the engine's streaming [`SpeechScanner`]; files stream through the same scanner in
//! [`crate::voice_file`]. The weights ship with the app shell (`models/`), so they are fetched
//! same-origin (the service worker serves them offline) and checked against the catalog's SHA-256.

use crate::job::{cancelled, JobCtx};
use crate::protocol::{
    Backend, ErrorKind, JobInput, JobResult, ModelChoice, Progress, SpeechSegment, Stage,
    VadSettings, VoiceRequest, VoiceUpdate, WorkerError, WorkerEvent,
};
use crate::registry::LoadTarget;
use offgrid_catalog::Task;
use offgrid_engine::audio::{
    write_wav_16bit, ProbTrace, ScanOutput, SegmenterSettings, Speech, SpeechScanner, SPEECH_RATE,
};
use offgrid_engine::models::silero_vad::SileroVad;
use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;

/// The catalog entry whose file ships with the app.
pub const VAD_VARIANT: &str = "silero-vad-16k";
/// Where the build puts the weights, relative to the app (and so to the worker's loader script).
const VAD_URL: &str = "./models/silero_vad_16k_op15.onnx";
/// Frames per second of the model (16 kHz / 512).
const FRAME_MS: f32 = 32.0;
/// A live session longer than this is ended (its results are kept).
const MAX_SESSION_SECONDS: f64 = 4.0 * 3600.0;
/// Longest live segment whose audio is kept in one piece: unbroken "speech" (music, a noisy room) is
/// cut here, so the audio held for the open segment stays bounded.
const MAX_LIVE_SEGMENT_S: f64 = 300.0;
/// Probability values kept for a result's plot (see [`ProbTrace`]).
pub const PLOT_POINTS: usize = 4096;

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

/// The Silero model from the registry (fetched from the app's own files and verified on first use), fresh
/// for a new stream.
pub(crate) async fn model(ctx: &JobCtx) -> Result<SileroVad, WorkerError> {
    let choice = ModelChoice {
        variant_id: VAD_VARIANT.into(),
        mirror: None,
        backend: Backend::Cpu,
        dtype: None,
    };
    let vad = ctx
        .registry
        .load(ctx, Task::Vad, &choice, async |target: LoadTarget<'_>| {
            let file = target
                .files
                .variant
                .files
                .first()
                .ok_or_else(|| internal("the Silero VAD entry lists no file"))?;
            let bytes = fetch_bytes(VAD_URL).await?;
            let got = hex::encode(Sha256::digest(&bytes));
            if file.sha256.as_deref() != Some(got.as_str()) {
                return Err(WorkerError::new(
                    ErrorKind::Integrity,
                    "The bundled voice model is damaged (its checksum does not match). Reload the page to fetch it again.",
                ));
            }
            SileroVad::load_onnx(&bytes)
                .map_err(|e| internal(format!("The voice model could not be read: {e}")))
        })
        .await?;
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

/// The voice page's requests.
pub async fn run(ctx: &JobCtx, request: VoiceRequest) -> Result<JobResult, WorkerError> {
    match request {
        VoiceRequest::Live { settings } => listen(ctx, &settings, |_| {}).await,
        VoiceRequest::File { audio, settings } => {
            crate::voice_file::vad(ctx, audio, settings).await
        }
    }
}

/// A live session's scanner and what it has found so far.
struct Session {
    /// The model until the first audio says at which rate the scanner runs.
    vad: Option<SileroVad>,
    settings: SegmenterSettings,
    scanner: Option<SpeechScanner>,
    out: ScanOutput,
    trace: ProbTrace,
    segments: Vec<SpeechSegment>,
}

/// A live session: the job's input (microphone audio, then Stop) is scanned as it comes; updates stream to
/// the page as [`WorkerEvent::Voice`] and `on_speech` gets each utterance, with its audio, as it ends. Audio
/// that arrives while the model loads waits in the job's inbox, so none is lost.
pub(crate) async fn listen(
    ctx: &JobCtx,
    settings: &VadSettings,
    mut on_speech: impl FnMut(&Speech),
) -> Result<JobResult, WorkerError> {
    let settings = settings_of(settings)?;
    let vad = model(ctx).await?;
    ctx.progress(Progress::steps(Stage::Running, 0, 0));
    let mut session = Session {
        vad: Some(vad),
        settings,
        scanner: None,
        out: ScanOutput::default(),
        trace: ProbTrace::new(PLOT_POINTS),
        segments: Vec::new(),
    };
    loop {
        ctx.check_cancel()?;
        match ctx.next_input().await.ok_or_else(cancelled)? {
            JobInput::Audio { samples, rate } => {
                let mut out = std::mem::take(&mut session.out);
                let scanner = session.scanner_at(rate)?;
                scanner.push(&samples, &mut out);
                let too_long = scanner.seconds() > MAX_SESSION_SECONDS;
                out.speech.iter().for_each(&mut on_speech);
                session.out = out;
                let update = session.update()?;
                if !update.probs.is_empty() || !update.segments.is_empty() {
                    ctx.emit(WorkerEvent::Voice {
                        job: ctx.job,
                        update,
                    });
                }
                if too_long {
                    break;
                }
            }
            JobInput::Stop => break,
            // Not for a live session.
            JobInput::FileAudio { .. } | JobInput::Played { .. } => {}
        }
    }
    // The last partial frame, then every segment.
    if let Some(scanner) = session.scanner.as_mut() {
        scanner.finish(&mut session.out);
    }
    session.out.speech.iter().for_each(&mut on_speech);
    let update = session.update()?;
    if !update.probs.is_empty() || !update.segments.is_empty() {
        ctx.emit(WorkerEvent::Voice {
            job: ctx.job,
            update,
        });
    }
    let seconds = session.scanner.as_ref().map_or(0.0, SpeechScanner::seconds);
    let (probs, prob_frames) = session.trace.finish();
    Ok(JobResult::Voice {
        probs,
        prob_frames,
        segments: session.segments,
        seconds,
        notice: None,
    })
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
