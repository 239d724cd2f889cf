//! Text to speech in the worker: a Piper voice from the model store on the plan's backend; the text split
//! into sentences, each phonemized and spoken, and sent to the page as soon as it is made so playback starts
//! after the first sentence. With `ahead` set, the worker stays at most that many sentences ahead of what the
//! page plays, so a long text is made as it is heard.

use crate::job::{engine_error, JobCtx};
use crate::protocol::{
    ErrorKind, JobInput, JobResult, ModelChoice, Progress, SpeakRequest, SpeechSummary,
    SpokenSentence, Stage, WorkerError, WorkerEvent,
};
use crate::registry::LoadTarget;
use offgrid_catalog::Task;
use offgrid_engine::microbench::now_ms;
use offgrid_engine::models::vits::Noise;
use offgrid_engine::pipelines::speak::{split_sentences, Voice};
use std::rc::Rc;

/// The longest text one job takes, in characters (about two hours of speech).
pub const MAX_TEXT_CHARS: usize = 200_000;

async fn voice(ctx: &JobCtx, choice: &ModelChoice) -> Result<Rc<Voice>, WorkerError> {
    ctx.registry
        .load(ctx, Task::Speak, choice, async |target: LoadTarget<'_>| {
            let variant = target.files.variant;
            let find = |suffix: &str| {
                variant
                    .files
                    .iter()
                    .find(|f| f.path.ends_with(suffix))
                    .map(|f| f.path.clone())
            };
            let missing = |what: &str| {
                WorkerError::new(
                    ErrorKind::Internal,
                    format!("{} has no {what} file in the catalog", variant.title),
                )
            };
            let loaded = if let Some(model) = find("model.safetensors") {
                // MMS: a Hugging Face VitsModel reading characters.
                let config = find("config.json").ok_or_else(|| missing("config.json"))?;
                let vocab = find("vocab.json").ok_or_else(|| missing("vocab.json"))?;
                let config = target.files.read(&config).await?;
                let vocab = target.files.read(&vocab).await?;
                let model = target.files.read(&model).await?;
                Voice::from_mms(
                    &model,
                    &String::from_utf8_lossy(&config),
                    &String::from_utf8_lossy(&vocab),
                    &target.device,
                )
            } else {
                let onnx = target
                    .files
                    .read(&find(".onnx").ok_or_else(|| missing(".onnx"))?)
                    .await?;
                let json = target
                    .files
                    .read(&find(".onnx.json").ok_or_else(|| missing(".onnx.json"))?)
                    .await?;
                Voice::from_piper(&onnx, &String::from_utf8_lossy(&json), &target.device)
            };
            loaded.map_err(|e| {
                WorkerError::new(
                    ErrorKind::Internal,
                    format!("{} could not be loaded: {e}", variant.title),
                )
            })
        })
        .await
}

/// Waits until the page plays sentence `index − ahead` (or stops the job).
async fn wait_for_playback(
    ctx: &JobCtx,
    index: u32,
    ahead: u32,
    played: &mut Option<u32>,
) -> Result<(), WorkerError> {
    while ahead > 0 && index > played.map_or(0, |p| p + 1) + ahead - 1 {
        match ctx.next_input().await {
            Some(JobInput::Played { index }) => {
                *played = Some(played.map_or(index, |p| p.max(index)))
            }
            Some(JobInput::Stop) | None => return Err(crate::job::cancelled()),
            Some(_) => {}
        }
        ctx.check_cancel()?;
    }
    Ok(())
}

/// Says one text.
pub async fn run(ctx: &JobCtx, request: SpeakRequest) -> Result<JobResult, WorkerError> {
    let chars = request.text.chars().count();
    if request.text.trim().is_empty() {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            "There is nothing to say: type some text first.",
        ));
    }
    if chars > MAX_TEXT_CHARS {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            format!("The text has {chars} characters; Offgrid says up to {MAX_TEXT_CHARS} at a time. Split it in parts."),
        ));
    }
    let sentences = split_sentences(&request.text);
    let voice = voice(ctx, &request.model).await?;
    let scales = voice.scales(request.speed);
    let mut noise = Noise::new(request.seed);
    let start = now_ms();
    let mut first_audio = None;
    let mut samples_total = 0usize;
    let mut skipped_all: Vec<String> = Vec::new();
    let mut played = None;
    let mut spoken = 0u32;
    for (i, sentence) in sentences.iter().enumerate() {
        ctx.progress(Progress::steps(
            Stage::Running,
            i as u64,
            sentences.len() as u64,
        ));
        wait_for_playback(ctx, spoken, request.ahead, &mut played).await?;
        ctx.check_cancel()?;
        let t = now_ms();
        let prepared = voice.prepare(&sentence.text);
        for s in &prepared.skipped {
            if !skipped_all.contains(s) {
                skipped_all.push(s.clone());
            }
        }
        if prepared.is_empty() {
            continue;
        }
        let out = voice
            .vits()
            .synthesize(&prepared.ids, scales, &mut noise)
            .await
            .map_err(engine_error)?;
        samples_total += out.audio.len();
        let pcm: Vec<i16> = out
            .audio
            .iter()
            .map(|v| (v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .collect();
        first_audio.get_or_insert_with(|| now_ms() - start);
        ctx.emit(WorkerEvent::Speech {
            job: ctx.job,
            sentence: Box::new(SpokenSentence {
                index: spoken,
                start: sentence.range.start as u32,
                end: sentence.range.end as u32,
                samples: pcm,
                sample_rate: voice.sample_rate(),
                phonemes: prepared.shown,
                skipped: prepared.skipped,
                millis: now_ms() - t,
            }),
        });
        spoken += 1;
        // A turn of the event loop, so Stop and Played arrive between sentences.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    if spoken == 0 {
        return Err(WorkerError::new(
            ErrorKind::BadInput,
            if skipped_all.is_empty() {
                "There is nothing to say: the text has no words.".to_string()
            } else {
                format!(
                    "Nothing could be said: {} is not English text.",
                    skipped_all.join(" ")
                )
            },
        ));
    }
    Ok(JobResult::Spoken(SpeechSummary {
        sentences: spoken,
        audio_seconds: samples_total as f64 / f64::from(voice.sample_rate()),
        first_audio_millis: first_audio.unwrap_or(0.0),
        total_millis: now_ms() - start,
        backend: request.model.backend,
        skipped: skipped_all,
    }))
}
