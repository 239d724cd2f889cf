//! Voice activity (`#/vad?pos=0.5&neg=0.35&min=400&pad=800&red=1400`): Silero VAD in the engine worker
//! on the microphone (live indicator and plot) or on a file; the detected segments can be played and
//! downloaded as WAV. The settings live in the URL so a shared link detects the same way.

use crate::app::Nav;
use crate::components::audio_file::{feeding, AudioFile};
use crate::components::audio_picker::{use_retryable_input, AudioPicker};
use crate::components::audio_segments::{ProbPlot, SegmentRow};
use crate::components::job_status::JobStatus;
use crate::engine::Engine;
use crate::hooks::use_file_job::use_file_job;
use crate::hooks::use_job_stream::use_job_stream;
use crate::hooks::use_live_mic::use_live_mic;
use crate::job_stream::StreamView;
use offgrid_workers::protocol::{
    JobResult, Request, SpeechSegment, VadSettings, VoiceRequest, WorkerEvent,
};
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The settings in the URL (defaults for missing or unreadable values).
pub fn settings_from(nav: Option<&Nav>) -> VadSettings {
    let d = VadSettings::default();
    let get = |k: &str, v: f32| {
        nav.and_then(|n| n.location.get(k))
            .and_then(|s| s.parse::<f32>().ok())
            .filter(|x| x.is_finite())
            .unwrap_or(v)
    };
    VadSettings {
        positive_threshold: get("pos", d.positive_threshold),
        negative_threshold: get("neg", d.negative_threshold),
        min_speech_ms: get("min", d.min_speech_ms),
        pre_speech_pad_ms: get("pad", d.pre_speech_pad_ms),
        redemption_ms: get("red", d.redemption_ms),
    }
}

/// What the page shows of a voice job (the job itself is tracked by [`use_job_stream`]).
#[derive(Clone, PartialEq, Default)]
pub struct VadView {
    pub probs: Vec<f32>,
    pub speaking: bool,
    pub segments: Vec<SpeechSegment>,
    pub seconds: f64,
    /// A live (microphone) session, still listening.
    pub live: bool,
    /// The job ended with its result.
    pub finished: bool,
    /// The recording of a file job (its segments' audio is cut from it).
    pub source: Option<AudioFile>,
    /// What the result's notice says (a file that was cut short).
    pub notice: Option<String>,
}

impl StreamView for VadView {
    fn apply(&mut self, event: &WorkerEvent) {
        match event {
            WorkerEvent::Voice { update, .. } => {
                self.probs.extend_from_slice(&update.probs);
                self.speaking = update.speaking;
                self.segments.extend(update.segments.iter().cloned());
                self.seconds = update.seconds;
            }
            WorkerEvent::Done {
                result:
                    JobResult::Voice {
                        probs,
                        segments,
                        seconds,
                        notice,
                        ..
                    },
                ..
            } => {
                self.probs = probs.clone();
                self.segments = segments.clone();
                self.seconds = *seconds;
                self.notice = notice.clone();
                self.finished = true;
            }
            _ => {}
        }
    }
    fn ended(&mut self) {
        self.live = false;
        self.speaking = false;
    }
}

#[function_component(VadPage)]
pub fn vad_page() -> Html {
    let nav = use_context::<Nav>();
    let engine = use_context::<Rc<Engine>>();
    let settings = settings_from(nav.as_ref());
    let stream = use_job_stream::<VadView>();
    let mic = use_live_mic();
    // The file job in progress, for Cancel (a long recording takes a while).
    let file_job = use_file_job(engine.clone());

    let run_file = {
        let engine = engine.clone();
        let stream = stream.clone();
        let file_job = file_job.clone();
        Callback::from(move |file: AudioFile| {
            let Some(engine) = engine.clone() else {
                return;
            };
            let audio = file.input();
            let view = VadView {
                source: Some(file.clone()),
                ..VadView::default()
            };
            *file_job.borrow_mut() = stream.start(
                Request::Voice(VoiceRequest::File { audio, settings }),
                view,
                |events| feeding(engine, file, events),
            );
        })
    };
    let cancel = {
        let engine = engine.clone();
        Callback::from(move |_: ()| {
            if let (Some(engine), Some(job)) = (engine.as_ref(), *file_job.borrow()) {
                engine.cancel(job);
            }
        })
    };
    let open_file = {
        let stream = stream.clone();
        let run_file = run_file.clone();
        Callback::from(move |file: web_sys::File| {
            let stream = stream.clone();
            let run_file = run_file.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match AudioFile::open(file).await {
                    Ok(audio) => run_file.emit(audio),
                    Err(e) => stream.fail(e),
                }
            });
        })
    };
    let stop = {
        let mic = mic.clone();
        Callback::from(move |_: ()| mic.stop())
    };
    let start = {
        let stream = stream.clone();
        Callback::from(move |_: ()| {
            let view = VadView {
                live: true,
                ..VadView::default()
            };
            let request = Request::Voice(VoiceRequest::Live { settings });
            let Some(job) = stream.start(request, view, std::convert::identity) else {
                return;
            };
            let stream = stream.clone();
            mic.start(job, Callback::from(move |e| stream.fail(e)));
        })
    };

    let input = use_retryable_input(open_file, start);

    let set = |key: &'static str| {
        let nav = nav.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(nav) = &nav {
                nav.replace(nav.location.with(key, &input.value()));
            }
        })
    };
    let state = stream.state();
    let view = &state.view;
    let live = view.live;
    let busy = state.busy;
    let indicator = if !live {
        html! {}
    } else if view.speaking {
        html! { <p class="vad-indicator speaking" role="status" aria-live="polite">{ "Speaking" }</p> }
    } else {
        html! { <p class="vad-indicator silent" role="status" aria-live="polite">{ "Silent" }</p> }
    };
    let field = |key: &'static str, label: &str, value: f32, step: &str, max: &str| {
        html! {
            <label>{ label }
                <input type="number" name={key} min="0" max={max.to_string()} step={step.to_string()}
                    value={value.to_string()} onchange={set(key)} disabled={busy} />
            </label>
        }
    };
    let done_empty = !busy && view.segments.is_empty() && view.finished;

    html! {
        <section class="vad">
            <p class="lead">{ "Finds where people speak, live from the microphone or in a recording. Nothing leaves this device." }</p>
            <AudioPicker live={live} busy={busy} on_start={input.on_start.clone()} on_stop={stop} on_file={input.on_file.clone()} />
            { indicator }
            if let Some(e) = &state.error {
                <p class="job-status error" role="alert">{ e.clone() }</p>
            }
            if state.error.is_none() {
                <JobStatus event={state.last.clone()} running={busy && !live} on_cancel={cancel} on_retry={input.retry.clone()} />
            }
            if !view.probs.is_empty() {
                <ProbPlot probs={view.probs.clone()} positive={settings.positive_threshold} negative={settings.negative_threshold}
                    width={if live { 300 } else { view.probs.len().max(2) }} />
                <p class="muted" id="vad-summary">{ format!("{:.1} s of audio, {} segment(s)", view.seconds, view.segments.len()) }</p>
            }
            if let Some(notice) = &view.notice {
                <p class="status warn" role="status" id="file-notice">{ notice.clone() }</p>
            }
            if done_empty {
                <p role="status" id="no-speech">{ "No speech was found in this audio." }</p>
            }
            <ol class="segments" aria-label="Speech segments">
                { for view.segments.iter().enumerate().map(|(i, s)| html! {
                    <SegmentRow key={format!("{:.3}-{:.3}", s.start_s, s.end_s)} index={i} segment={s.clone()} source={view.source.clone()} />
                }) }
            </ol>
            <details class="settings">
                <summary>{ "Settings" }</summary>
                <div class="settings-grid">
                    { field("pos", "Speech threshold", settings.positive_threshold, "0.05", "1") }
                    { field("neg", "Silence threshold", settings.negative_threshold, "0.05", "1") }
                    { field("min", "Minimum speech (ms)", settings.min_speech_ms, "32", "10000") }
                    { field("pad", "Padding before speech (ms)", settings.pre_speech_pad_ms, "32", "10000") }
                    { field("red", "Silence that ends speech (ms)", settings.redemption_ms, "32", "10000") }
                </div>
            </details>
        </section>
    }
}
