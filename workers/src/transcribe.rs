//! Speech recognition in the worker: Whisper from the model store (downloaded, verified and cached like
//! every catalog model), on the backend the plan chose. Audio is cut into utterances by the voice-activity
//! code ([`crate::voice`]) and each utterance is transcribed as soon as it ends, so text streams out while
//! the person is still talking (live) or while the rest of the file is still being read.

use crate::job::{engine_error, JobCtx};
use crate::protocol::{
    AudioInput, ErrorKind, JobResult, ModelChoice, Progress, Stage, TranscribeRequest,
    TranscribeSettings, TranscriptLine, VadSettings, WorkerError, WorkerEvent,
};
use crate::registry::{engine_weights_as, LoadTarget};
use crate::voice_file::FileScan;
use futures::channel::mpsc;
use futures::StreamExt;
use offgrid_catalog::Task;
use offgrid_engine::audio::{ScanOutput, Speech};
use offgrid_engine::models::whisper::{QualityRules, TranscribeOptions, WhisperTranscriber};
use offgrid_engine::pipelines::speech_to_text::{transcribe_utterance, MAX_UTTERANCE_S};
use std::rc::Rc;

/// The transcribe page's requests.
pub async fn run(ctx: &JobCtx, request: TranscribeRequest) -> Result<JobResult, WorkerError> {
    match request {
        TranscribeRequest::Live {
            vad,
            model,
            settings,
        } => live(ctx, vad, model, settings).await,
        TranscribeRequest::File {
            audio,
            vad,
            model,
            settings,
        } => file(ctx, audio, vad, model, settings).await,
    }
}

/// Whisper for `choice`, from the registry: faster-whisper's CTranslate2 files (`model.bin`) or openai's
/// safetensors layout, with the plan's dtype applied to either.
async fn transcriber(
    ctx: &JobCtx,
    choice: &ModelChoice,
) -> Result<Rc<WhisperTranscriber>, WorkerError> {
    ctx.registry
        .load(
            ctx,
            Task::Transcribe,
            choice,
            async |target: LoadTarget<'_>| {
                let files = &target.files;
                let title = files.variant.title.clone();
                let unloadable = move |e: offgrid_engine::Error| {
                    WorkerError::new(
                        ErrorKind::Internal,
                        format!("{title} could not be loaded: {e}"),
                    )
                };
                let config = files.read("config.json").await?;
                let tokenizer = files.read("tokenizer.json").await?;
                if files.variant.file("model.bin").is_some() {
                    let model_bin = files.read("model.bin").await?;
                    let dtype = target.dtype;
                    return WhisperTranscriber::from_ctranslate2(
                        &model_bin,
                        &config,
                        &tokenizer,
                        &target.device,
                        |vb| engine_weights_as(vb, dtype),
                    )
                    .map_err(unloadable);
                }
                let vb = target.safetensors(files.read("model.safetensors").await?)?;
                let generation = files.read("generation_config.json").await?;
                WhisperTranscriber::from_parts(&config, &generation, Some(&tokenizer), &vb)
                    .map_err(unloadable)
            },
        )
        .await
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
        Some(code) if !gen.is_multilingual && code != "en" => Err(WorkerError::new(
            ErrorKind::BadInput,
            format!("This model understands English only. To transcribe \"{code}\", choose Whisper tiny or base (99 languages) on the Device page."),
        )),
        _ if !gen.is_multilingual
            && opts.task == offgrid_engine::models::whisper::Task::Translate =>
        {
            Err(WorkerError::new(
                ErrorKind::BadInput,
                "This model understands English only, so there is nothing to translate. Choose Whisper tiny or base (99 languages) on the Device page to translate other languages into English.",
            ))
        }
        _ => Ok(()),
    }
}

/// The engine's options for a job; its cancel flag lets Cancel stop Whisper between two tokens.
fn options(ctx: &JobCtx, settings: &TranscribeSettings) -> TranscribeOptions {
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
        // The engine trims the prompt and ignores an empty one.
        initial_prompt: settings.prompt.clone(),
        condition_on_previous_text: false,
        cancel: ctx.cancel_flag().clone(),
        quality: Some(if settings.quick {
            QualityRules::greedy_only()
        } else {
            QualityRules::default()
        }),
    }
}

/// Transcribes one utterance with the pipeline the CLI runs too (`offgrid transcribe --vad`).
async fn utterance(
    model: &WhisperTranscriber,
    speech: &Speech,
    opts: &TranscribeOptions,
    heard_s: f64,
) -> Result<(Vec<TranscriptLine>, Option<String>), WorkerError> {
    let heard = transcribe_utterance(model, speech, opts, heard_s)
        .await
        .map_err(engine_error)?;
    let lines = heard
        .lines
        .into_iter()
        .map(|l| TranscriptLine {
            start_s: l.start_s,
            end_s: l.end_s,
            text: l.text,
        })
        .collect();
    Ok((lines, heard.language))
}

/// The lines of a job so far and the language last detected; each utterance's lines also go to the page at once.
#[derive(Default)]
struct Collected {
    lines: Vec<TranscriptLine>,
    language: Option<String>,
}

impl Collected {
    fn publish(&mut self, ctx: &JobCtx, lines: Vec<TranscriptLine>, language: Option<String>) {
        self.language = language.clone().or(self.language.take());
        ctx.emit(WorkerEvent::Transcript {
            job: ctx.job,
            lines: lines.clone(),
            language,
        });
        self.lines.extend(lines);
    }
}

/// Transcribes utterances as they arrive on `queue` until it closes (the voice session ended).
async fn consume(
    ctx: &JobCtx,
    choice: &ModelChoice,
    settings: &TranscribeSettings,
    queue: &mut mpsc::UnboundedReceiver<Speech>,
) -> Result<(Vec<TranscriptLine>, Option<String>), WorkerError> {
    let model = transcriber(ctx, choice).await?;
    ctx.progress(Progress::steps(Stage::Running, 0, 0));
    let opts = options(ctx, settings);
    check_language(&model, &opts)?;
    let mut heard = Collected::default();
    while let Some(speech) = queue.next().await {
        ctx.check_cancel()?;
        let (lines, lang) = utterance(&model, &speech, &opts, f64::INFINITY).await?;
        heard.publish(ctx, lines, lang);
    }
    Ok((heard.lines, heard.language))
}

/// Live transcription: a voice session fed by the microphone (the job's `Audio` input, ended by `Stop`),
/// each utterance handed to Whisper as samples as soon as it ends. The model loads while the session
/// already listens.
async fn live(
    ctx: &JobCtx,
    vad: VadSettings,
    choice: ModelChoice,
    settings: TranscribeSettings,
) -> Result<JobResult, WorkerError> {
    let (sender, mut queue) = mpsc::unbounded::<Speech>();
    // The closure owns the sender: when the session ends it drops and the queue closes.
    let hand_over = move |speech: &Speech| {
        let _ = sender.unbounded_send(speech.clone());
    };
    let listening = crate::voice::listen(ctx, &vad, hand_over);
    let transcribing = consume(ctx, &choice, &settings, &mut queue);
    // Whisper failing (say, it cannot be downloaded) ends the job at once instead of listening on.
    futures::pin_mut!(listening, transcribing);
    let (heard, text) = match futures::future::select(listening, transcribing).await {
        futures::future::Either::Left((heard, transcribing)) => (heard, transcribing.await),
        futures::future::Either::Right((text, listening)) => {
            let text = text?;
            (listening.await, Ok(text))
        }
    };
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
async fn file(
    ctx: &JobCtx,
    audio: AudioInput,
    vad: VadSettings,
    choice: ModelChoice,
    settings: TranscribeSettings,
) -> Result<JobResult, WorkerError> {
    let vad = crate::voice::settings_of(&vad)?;
    // Fail on a model that cannot load before reading a long file.
    let model = transcriber(ctx, &choice).await?;
    let opts = options(ctx, &settings);
    check_language(&model, &opts)?;
    let mut scan = FileScan::start(ctx, audio, vad, Some(MAX_UTTERANCE_S)).await?;
    let mut out = ScanOutput::default();
    let mut transcript = Collected::default();
    loop {
        let more = scan.step(&mut out).await?;
        for speech in out.speech.drain(..) {
            ctx.check_cancel()?;
            // The last frame is zero-padded, so an utterance may end up to 32 ms past the audio.
            let heard = if more { f64::INFINITY } else { scan.seconds() };
            let (lines, lang) = utterance(&model, &speech, &opts, heard).await?;
            transcript.publish(ctx, lines, lang);
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
