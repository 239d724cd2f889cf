//! Speech recognition in the worker: Whisper from the model store (downloaded, verified and cached like
//! every catalog model), on the backend the plan chose. Audio is cut into utterances by the voice-activity
//! code ([`crate::voice`]) and each utterance is transcribed as soon as it ends, so text streams out while
//! the person is still talking (live) or while the rest of the file is still being read.

use crate::protocol::{
    AudioInput, Backend, ErrorKind, JobId, JobResult, ModelChoice, Progress, SpeechSegment, Stage,
    TranscribeSettings, TranscriptLine, VadSettings, WorkerError, WorkerEvent,
};
use crate::selftest::engine_error;
use crate::store::{self, CancelFlag};
use crate::voice::{Emit, SharedVoice};
use crate::voice_file::FileScan;
use futures::channel::mpsc;
use futures::StreamExt;
use offgrid_catalog::{Catalog, ModelVariant, Task};
use offgrid_engine::audio::{read_wav, ScanOutput};
use offgrid_engine::io::VarBuilder;
use offgrid_engine::models::whisper::{TranscribeOptions, WhisperTranscriber};
use std::cell::RefCell;
use std::rc::Rc;

/// The worker's Whisper: the model loaded last, kept for the next job.
#[derive(Default)]
pub struct TranscribeState {
    model: Option<(String, Backend, Rc<WhisperTranscriber>)>,
}

/// Longest utterance of a file given to Whisper in one piece: unbroken speech is cut here, so the audio
/// held for the utterance in progress stays bounded (Whisper reads long input in 30 s windows anyway).
const MAX_UTTERANCE_S: f64 = 120.0;

/// Shared handle (a live session and a file job may overlap).
pub type SharedTranscribe = Rc<RefCell<TranscribeState>>;

fn cancelled() -> WorkerError {
    WorkerError::new(ErrorKind::Internal, "cancelled")
}

fn variant<'a>(catalog: &'a Catalog, id: &str) -> Result<&'a ModelVariant, WorkerError> {
    let v = catalog
        .get(id)
        .filter(|v| v.task == Task::Transcribe)
        .ok_or_else(|| {
            WorkerError::new(
                ErrorKind::BadInput,
                format!("There is no speech-recognition model called \"{id}\"."),
            )
        })?;
    if !v.is_verifiable() {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            format!(
                "{} cannot be downloaded in this version of Offgrid: the catalog does not know its files' checksums yet, so the download could not be verified. Choose another model on the Device page.",
                v.title
            ),
        ));
    }
    Ok(v)
}

/// The transcriber for `choice`, downloading and loading it when needed.
async fn transcriber(
    state: &SharedTranscribe,
    catalog: &Catalog,
    choice: &ModelChoice,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<Rc<WhisperTranscriber>, WorkerError> {
    if let Some((id, b, t)) = &state.borrow().model {
        if *id == choice.variant_id && *b == choice.backend {
            return Ok(t.clone());
        }
    }
    let variant = variant(catalog, &choice.variant_id)?;
    store::download_variant(variant, choice.mirror.as_deref(), cancel, report).await?;
    if cancel.get() {
        return Err(cancelled());
    }
    report(Progress::steps(Stage::Loading, 0, 1));
    let weights = store::read_cached(variant, "model.safetensors").await?;
    let config = store::read_cached(variant, "config.json").await?;
    let generation = store::read_cached(variant, "generation_config.json").await?;
    let tokenizer = store::read_cached(variant, "tokenizer.json").await?;
    let device = crate::selftest::device_for(choice.backend).await?;
    let vb = VarBuilder::from_safetensors(weights, &device).map_err(engine_error)?;
    let model = WhisperTranscriber::from_parts(&config, &generation, Some(&tokenizer), &vb)
        .map_err(|e| {
            WorkerError::new(
                ErrorKind::Internal,
                format!("{} could not be loaded: {e}", variant.title),
            )
        })?;
    let model = Rc::new(model);
    state.borrow_mut().model = Some((choice.variant_id.clone(), choice.backend, model.clone()));
    Ok(model)
}

/// Refuses a language the model has no token for, before any audio is decoded.
fn check_language(model: &WhisperTranscriber, opts: &TranscribeOptions) -> Result<(), WorkerError> {
    let gen = model.generation_config();
    match &opts.language {
        Some(code) if gen.is_multilingual && gen.language_token(code).is_err() => {
            Err(WorkerError::new(
                ErrorKind::BadInput,
                format!("This model does not know the language \"{code}\". Use a code such as en, fr or de, or leave the language on automatic."),
            ))
        }
        _ => Ok(()),
    }
}

fn options(settings: &TranscribeSettings) -> TranscribeOptions {
    TranscribeOptions {
        language: settings
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_ascii_lowercase),
        task: if settings.translate {
            offgrid_engine::models::whisper::Task::Translate
        } else {
            offgrid_engine::models::whisper::Task::Transcribe
        },
        timestamps: true,
        max_new_tokens: None,
    }
}

/// Transcribes one utterance (16 kHz mono from `start_s` to `end_s`); its lines are placed on the
/// recording's clock and kept inside the utterance.
async fn utterance(
    model: &WhisperTranscriber,
    [start, end]: [f64; 2],
    samples: &[f32],
    opts: &TranscribeOptions,
) -> Result<(Vec<TranscriptLine>, Option<String>), WorkerError> {
    let end = end.max(start);
    let transcript = model
        .transcribe(samples, opts)
        .await
        .map_err(engine_error)?;
    let lines = transcript
        .segments
        .into_iter()
        .map(|s| TranscriptLine {
            start_s: (start + s.start).min(end),
            end_s: (start + s.end).clamp(start, end),
            text: s.text.trim().to_string(),
        })
        .collect();
    Ok((lines, transcript.language))
}

/// The lines of a job so far and the language last detected; each utterance's lines also go to the page at once.
#[derive(Default)]
struct Collected {
    lines: Vec<TranscriptLine>,
    language: Option<String>,
}

impl Collected {
    fn publish(
        &mut self,
        job: JobId,
        emit: &Emit,
        lines: Vec<TranscriptLine>,
        language: Option<String>,
    ) {
        self.language = language.clone().or(self.language.take());
        emit(WorkerEvent::Transcript {
            job,
            lines: lines.clone(),
            language,
        });
        self.lines.extend(lines);
    }
}

/// Transcribes utterances as they arrive on `queue` until it closes (the voice session ended).
#[allow(clippy::too_many_arguments)] // the live job's context, passed through
async fn consume(
    state: &SharedTranscribe,
    catalog: &Catalog,
    job: JobId,
    choice: &ModelChoice,
    settings: &TranscribeSettings,
    queue: &mut mpsc::UnboundedReceiver<SpeechSegment>,
    emit: &Emit,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<(Vec<TranscriptLine>, Option<String>), WorkerError> {
    let model = transcriber(state, catalog, choice, cancel, report).await?;
    report(Progress::steps(Stage::Running, 0, 0));
    let opts = options(settings);
    check_language(&model, &opts)?;
    let mut heard = Collected::default();
    while let Some(segment) = queue.next().await {
        if cancel.get() {
            return Err(cancelled());
        }
        // The live session sends each utterance as the WAV the page can also play.
        let samples = match &segment.wav {
            Some(wav) => {
                read_wav(wav)
                    .map_err(|e| crate::voice::internal(e.to_string()))?
                    .samples
            }
            None => Vec::new(),
        };
        let span = [segment.start_s, segment.end_s];
        let (lines, lang) = utterance(&model, span, &samples, &opts).await?;
        heard.publish(job, emit, lines, lang);
    }
    Ok((heard.lines, heard.language))
}

/// Live transcription: a voice session fed by the microphone (`VoiceAudio`/`VoiceStop` for this job),
/// each utterance transcribed as it ends. The model loads while the session already listens.
#[allow(clippy::too_many_arguments)] // the request's fields, passed through
pub async fn live(
    voice: &SharedVoice,
    state: &SharedTranscribe,
    catalog: &Catalog,
    job: JobId,
    vad: VadSettings,
    choice: ModelChoice,
    settings: TranscribeSettings,
    emit: Emit,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    let (sender, mut queue) = mpsc::unbounded();
    // The session owns this closure; when it ends the sender drops and the queue closes.
    let forward: Emit = {
        let emit = emit.clone();
        Rc::new(move |event: WorkerEvent| {
            if let WorkerEvent::Voice { update, .. } = &event {
                for s in &update.segments {
                    let _ = sender.unbounded_send(s.clone());
                }
            }
            emit(event)
        })
    };
    // The voice session reports nothing: progress is the model's download.
    let quiet = |_: Progress| {};
    let listening = crate::voice::live(voice, catalog, job, vad, forward, &quiet);
    let transcribing = async {
        let out = consume(
            state, catalog, job, &choice, &settings, &mut queue, &emit, cancel, report,
        )
        .await;
        if out.is_err() {
            // Nothing more can be transcribed: end the session instead of listening on.
            crate::voice::stop(voice, job);
        }
        out
    };
    let (heard, text) = futures::future::join(listening, transcribing).await;
    let (lines, language) = text?;
    let seconds = match heard? {
        JobResult::Voice { seconds, .. } => seconds,
        _ => 0.0,
    };
    Ok(JobResult::Transcript {
        lines,
        language,
        seconds,
        notice: None,
    })
}

/// A file, streamed: voice activity cuts it into utterances as it is read, and each is transcribed and
/// sent to the page as soon as it ends, before more of the file is read.
#[allow(clippy::too_many_arguments)] // the request's fields, passed through
pub async fn file(
    voice: &SharedVoice,
    state: &SharedTranscribe,
    catalog: &Catalog,
    job: JobId,
    audio: AudioInput,
    vad: VadSettings,
    choice: ModelChoice,
    settings: TranscribeSettings,
    emit: Emit,
    cancel: &CancelFlag,
    report: &dyn Fn(Progress),
) -> Result<JobResult, WorkerError> {
    let vad = crate::voice::settings_of(&vad)?;
    // Fail on a model that cannot load before reading a long file.
    let model = transcriber(state, catalog, &choice, cancel, report).await?;
    let opts = options(&settings);
    check_language(&model, &opts)?;
    let mut scan = FileScan::start(
        voice,
        catalog,
        job,
        audio,
        vad,
        Some(MAX_UTTERANCE_S),
        emit.clone(),
        cancel,
        report,
    )
    .await?;
    let mut out = ScanOutput::default();
    let mut transcript = Collected::default();
    loop {
        let more = scan.step(&mut out).await?;
        for speech in out.speech.drain(..) {
            if cancel.get() {
                return Err(cancelled());
            }
            let samples = speech.audio.as_deref().unwrap_or_default();
            let (mut lines, lang) = utterance(&model, speech.seconds(), samples, &opts).await?;
            // The last frame is zero-padded, so an utterance may end up to 32 ms past the audio.
            let heard = if more { f64::INFINITY } else { scan.seconds() };
            for line in &mut lines {
                line.start_s = line.start_s.min(heard);
                line.end_s = line.end_s.min(heard);
            }
            transcript.publish(job, &emit, lines, lang);
        }
        out.clear();
        if !more {
            break;
        }
    }
    let notice = scan.finish()?;
    Ok(JobResult::Transcript {
        lines: transcript.lines,
        language: transcript.language,
        seconds: scan.seconds(),
        notice,
    })
}
