//! Transcribe (`#/transcribe?lang=fr&task=translate&decode=quick`): Whisper in the engine worker on the microphone (voice
//! activity cuts utterances, each is transcribed as it ends, so text appears while the person still talks)
//! or on a file. Lines carry times; a click plays that span; the transcript exports as .txt, .srt or .vtt.
//! The model is the plan's (or `?model=<catalog id>`), downloaded through the model store.

use crate::app::Nav;
use crate::components::audio_file::{feeding, AudioFile};
use crate::components::audio_picker::{use_retryable_input, AudioPicker};
use crate::components::job_status::JobStatus;
use crate::components::model_line::{check_model, ModelLine};
use crate::components::transcript_view::{revoke, AudioSource, TranscriptView};
use crate::engine::Engine;
use crate::hooks::use_device_plan::{planned_dtype, DevicePlan, ProbeState};
use crate::hooks::use_file_job::use_file_job;
use crate::hooks::use_job_stream::use_job_stream;
use crate::hooks::use_live_mic::use_live_mic;
use crate::job_stream::StreamView;
use crate::pages::models::effective_mirror;
use offgrid_catalog::{Catalog, Task};
use offgrid_workers::protocol::{
    Backend, JobResult, ModelChoice, Request, TranscribeRequest, TranscribeSettings,
    TranscriptLine, VadSettings, WorkerEvent,
};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Languages offered in the menu (any other code in the URL is kept and offered too).
const LANGUAGES: [(&str, &str); 14] = [
    ("en", "English"),
    ("fr", "French"),
    ("de", "German"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("pt", "Portuguese"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("ru", "Russian"),
    ("uk", "Ukrainian"),
    ("tr", "Turkish"),
    ("ar", "Arabic"),
    ("zh", "Chinese"),
    ("ja", "Japanese"),
];

/// Language and task from the URL (`lang` missing = detect; `task=translate` = into English).
pub fn settings_from(nav: Option<&Nav>) -> TranscribeSettings {
    let get = |k: &str| nav.and_then(|n| n.location.get(k)).map(str::trim);
    TranscribeSettings {
        language: get("lang")
            .filter(|l| !l.is_empty() && l.len() <= 8 && l.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_lowercase),
        translate: get("task") == Some("translate"),
        // A prompt is a few words (Whisper reads at most half its 448-token context of it).
        prompt: get("prompt")
            .filter(|p| !p.is_empty())
            .map(|p| p.chars().take(PROMPT_CHARS).collect()),
        quick: get("decode") == Some("quick"),
    }
}

/// The longest prompt the page passes on.
const PROMPT_CHARS: usize = 600;

/// The model: `?model=` wins, then the plan's choice (with its backend), else Whisper tiny.en on the CPU.
fn model_choice(nav: Option<&Nav>, plan: Option<&DevicePlan>) -> ModelChoice {
    let planned = match plan.map(|p| &p.state) {
        Some(ProbeState::Ready { plan, .. }) => plan.task(Task::Transcribe).cloned(),
        _ => None,
    };
    let backend = planned.as_ref().map_or(Backend::Cpu, |t| t.backend);
    let variant_id = nav
        .and_then(|n| n.location.get("model"))
        .map(str::to_string)
        .or_else(|| planned.and_then(|t| t.variant))
        .unwrap_or_else(|| "whisper-tiny-en".to_string());
    ModelChoice {
        dtype: planned_dtype(plan, Task::Transcribe, &variant_id),
        variant_id,
        mirror: nav.and_then(effective_mirror),
        backend,
    }
}

/// What the page shows of a transcription job (the job itself is tracked by [`use_job_stream`]).
#[derive(Clone, PartialEq, Default)]
pub struct TranscribeView {
    pub lines: Vec<TranscriptLine>,
    pub sources: Vec<AudioSource>,
    pub language: Option<String>,
    pub speaking: bool,
    pub heard_s: f64,
    pub utterances: usize,
    /// A live (microphone) session, still listening.
    pub live: bool,
    /// The job ended with a transcript.
    pub finished: bool,
    pub stem: String,
    /// What the result's notice says (a file that was cut short).
    pub notice: Option<String>,
}

impl StreamView for TranscribeView {
    fn apply(&mut self, event: &WorkerEvent) {
        match event {
            WorkerEvent::Voice { update, .. } => {
                self.speaking = update.speaking;
                self.heard_s = update.seconds;
                self.utterances += update.segments.len();
                self.sources.extend(update.segments.iter().filter_map(|s| {
                    let wav = s.wav.as_deref()?;
                    crate::components::audio_segments::wav_url(wav).map(|url| AudioSource {
                        start_s: s.start_s,
                        end_s: s.end_s,
                        url,
                        file: None,
                    })
                }));
            }
            WorkerEvent::Transcript {
                lines, language, ..
            } => {
                self.lines.extend(lines.iter().cloned());
                self.language = language.clone().or(self.language.take());
            }
            WorkerEvent::Done {
                result:
                    JobResult::Transcript {
                        lines,
                        language,
                        seconds,
                        notice,
                    },
                ..
            } => {
                self.notice = notice.clone();
                self.lines = lines.clone();
                self.language = language.clone();
                self.heard_s = *seconds;
                self.finished = true;
            }
            _ => {}
        }
    }
    fn ended(&mut self) {
        self.live = false;
        self.speaking = false;
    }
    fn dropped(&mut self) {
        // The previous run's audio is no longer reachable from the page.
        revoke(&self.sources);
    }
}

#[function_component(TranscribePage)]
pub fn transcribe_page() -> Html {
    let nav = use_context::<Nav>();
    let engine = use_context::<Rc<Engine>>();
    let plan = use_context::<DevicePlan>();
    let catalog = use_memo((), |_| Catalog::builtin());
    let settings = settings_from(nav.as_ref());
    let choice = model_choice(nav.as_ref(), plan.as_ref());
    let stream = use_job_stream::<TranscribeView>();
    let mic = use_live_mic();
    // The file job in progress, for Cancel (a long recording takes a while).
    let file_job = use_file_job(engine.clone());
    // Leaving the page releases the blob URLs of the audio (the latest list, read at unmount).
    let latest_sources = use_mut_ref(Vec::<AudioSource>::new);
    *latest_sources.borrow_mut() = stream.state().view.sources.clone();
    {
        let latest = latest_sources.clone();
        use_effect_with((), move |_| move || revoke(&latest.borrow()));
    }

    let start = {
        let stream = stream.clone();
        let settings = settings.clone();
        let choice = choice.clone();
        let mic = mic.clone();
        Callback::from(move |_: ()| {
            let (settings, model) = (settings.clone(), choice.clone());
            let request = Request::Transcribe(TranscribeRequest::Live {
                vad: VadSettings::default(),
                model,
                settings,
            });
            let view = TranscribeView {
                live: true,
                stem: "transcript".into(),
                ..TranscribeView::default()
            };
            let Some(job) = stream.start(request, view, std::convert::identity) else {
                return;
            };
            let stream = stream.clone();
            mic.start(job, Callback::from(move |e| stream.fail(e)));
        })
    };
    let stop = {
        let mic = mic.clone();
        Callback::from(move |_: ()| mic.stop())
    };
    let cancel = {
        let engine = engine.clone();
        let file_job = file_job.clone();
        Callback::from(move |_: ()| {
            if let (Some(engine), Some(job)) = (engine.as_ref(), *file_job.borrow()) {
                engine.cancel(job);
            }
        })
    };
    let open_file = {
        let engine = engine.clone();
        let stream = stream.clone();
        let file_job = file_job.clone();
        let settings = settings.clone();
        let choice = choice.clone();
        Callback::from(move |file: web_sys::File| {
            let Some(engine) = engine.clone() else {
                return;
            };
            let stream = stream.clone();
            let file_job = file_job.clone();
            let (settings, model) = (settings.clone(), choice.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let audio_file = match AudioFile::open(file.clone()).await {
                    Ok(audio) => audio,
                    Err(e) => return stream.fail(e),
                };
                let audio = audio_file.input();
                // The file itself plays the lines back (the browser seeks in it; nothing is decoded
                // ahead and no audio is kept on the page). A file the browser cannot play has the
                // line's span cut from it instead.
                let source = web_sys::Url::create_object_url_with_blob(&file)
                    .ok()
                    .map(|url| AudioSource {
                        start_s: 0.0,
                        end_s: f64::INFINITY,
                        url,
                        file: Some(audio_file.clone()),
                    });
                let name = file.name();
                let stem = name
                    .rsplit_once('.')
                    .map_or(name.as_str(), |(s, _)| s)
                    .to_string();
                let view = TranscribeView {
                    sources: source.into_iter().collect(),
                    stem,
                    ..TranscribeView::default()
                };
                let request = Request::Transcribe(TranscribeRequest::File {
                    audio,
                    vad: VadSettings::default(),
                    model,
                    settings,
                });
                *file_job.borrow_mut() =
                    stream.start(request, view, |events| feeding(engine, audio_file, events));
            });
        })
    };

    let input = use_retryable_input(open_file, start);

    let set = |key: &'static str| {
        let nav = nav.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if let Some(nav) = &nav {
                nav.replace(nav.location.with(key, &select.value()));
            }
        })
    };
    let set_prompt = {
        let nav = nav.clone();
        Callback::from(move |e: Event| {
            let field: HtmlInputElement = e.target_unchecked_into();
            if let Some(nav) = &nav {
                nav.replace(nav.location.with("prompt", field.value().trim()));
            }
        })
    };
    let state = stream.state();
    let view = &state.view;
    let live = view.live;
    let busy = state.busy;
    let plan_state = match plan.as_ref().map(|p| &p.state) {
        Some(ProbeState::Ready { .. }) => "ready",
        Some(ProbeState::Failed(_)) => "failed",
        _ => "pending",
    };
    let model_ok = check_model(&catalog, Task::Transcribe, &choice.variant_id).is_ok();
    let model_line = html! {
        <ModelLine task={Task::Transcribe} variant_id={choice.variant_id.clone()} backend={choice.backend}
            plan_state={Some(plan_state)} />
    };
    let mut languages: Vec<(String, String)> = LANGUAGES
        .iter()
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect();
    if let Some(code) = settings
        .language
        .as_ref()
        .filter(|c| !LANGUAGES.iter().any(|(l, _)| l == &c.as_str()))
    {
        languages.push((code.clone(), code.clone()));
    }
    let done = view.finished;

    html! {
        <section class="transcribe">
            <p class="lead">{ "Speech to text with Whisper, live from the microphone or from a recording. Nothing leaves this device." }</p>
            <div class="settings-grid">
                <label>{ "Language" }
                    <select id="lang" onchange={set("lang")} disabled={busy}>
                        <option value="" selected={settings.language.is_none()}>{ "Detect automatically" }</option>
                        { for languages.iter().map(|(code, name)| html! {
                            <option value={code.clone()} selected={settings.language.as_deref() == Some(code.as_str())}>{ name.clone() }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Task" }
                    <select id="task" onchange={set("task")} disabled={busy}>
                        <option value="" selected={!settings.translate}>{ "Transcribe" }</option>
                        <option value="translate" selected={settings.translate}>{ "Translate to English" }</option>
                    </select>
                </label>
                <label>{ "Decoding" }
                    <select id="decode" onchange={set("decode")} disabled={busy}>
                        <option value="" selected={!settings.quick}>{ "Careful: retry unsure parts" }</option>
                        <option value="quick" selected={settings.quick}>{ "Quick: one pass" }</option>
                    </select>
                </label>
                <label class="wide">{ "Spelling hints (names, terms)" }
                    <input id="prompt" type="text" maxlength={PROMPT_CHARS.to_string()} disabled={busy}
                        placeholder="e.g. Glossary: Offgrid, Whisper, Kyiv."
                        value={settings.prompt.clone().unwrap_or_default()} onchange={set_prompt} />
                </label>
            </div>
            { model_line }
            <AudioPicker live={live} busy={busy || !model_ok} on_start={input.on_start.clone()} on_stop={stop} on_file={input.on_file.clone()} />
            if live {
                <p class={classes!("vad-indicator", if view.speaking { "speaking" } else { "silent" })} role="status" aria-live="polite">
                    { format!("{} · {:.0} s heard · {} utterance(s), {} line(s)",
                        if view.speaking { "Speaking" } else { "Listening" }, view.heard_s, view.utterances, view.lines.len()) }
                </p>
            }
            if let Some(e) = &state.error {
                <p class="job-status error" role="alert">{ e.clone() }</p>
            }
            if state.error.is_none() && !done {
                <JobStatus event={state.last.clone()} running={busy && !live} on_cancel={cancel} on_retry={input.retry.clone()} />
            }
            if let Some(lang) = &view.language {
                <p class="muted" id="language">{ format!("Language: {lang}") }</p>
            }
            if let Some(notice) = &view.notice {
                <p class="status warn" role="status" id="file-notice">{ notice.clone() }</p>
            }
            if done && view.lines.is_empty() {
                <p role="status" id="no-speech">{ "No speech was found in this audio." }</p>
            } else if done {
                <p class="muted" id="transcribe-done">{ format!("{} line(s) from {:.1} s of audio.", view.lines.len(), view.heard_s) }</p>
            }
            <TranscriptView lines={view.lines.clone()} sources={view.sources.clone()} stem={view.stem.clone()} />
        </section>
    }
}
