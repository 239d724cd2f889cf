//! Speak (`#/speak?text=…&speed=…`): text read aloud by a Piper voice made on this device. The worker sends
//! each sentence as soon as it is made; the page schedules it in a Web Audio context right after the one
//! before, highlights the sentence being heard, and tells the worker which one plays so it stays two ahead
//! (a long text is made as it is heard). Stop ends both; the whole text can be saved as a WAV file.

use crate::app::Nav;
use crate::components::model_line::{check_model, ModelLine};
use crate::engine::Engine;
use crate::hooks::use_device_plan::{planned_dtype, DevicePlan, ProbeState};
use crate::pages::models::effective_mirror;
use offgrid_catalog::{Catalog, Task};
use offgrid_workers::protocol::{
    Backend, JobId, JobInput, JobResult, ModelChoice, Request, SpeakRequest, SpokenSentence, Stage,
    WorkerEvent,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use web_sys::{AudioContext, HtmlTextAreaElement};
use yew::prelude::*;

/// Sentences made ahead of the one being heard.
const AHEAD: u32 = 2;

/// The voice the plan picked (with the Device page's overrides), else Joe on the CPU.
fn voice_choice(nav: Option<&Nav>, plan: Option<&DevicePlan>) -> (String, Backend) {
    let planned = match plan.map(|p| &p.state) {
        Some(ProbeState::Ready { plan, .. }) => plan.task(Task::Speak).cloned(),
        _ => None,
    };
    let backend = planned.as_ref().map_or(Backend::Cpu, |t| t.backend);
    let id = nav
        .and_then(|n| n.location.get("model"))
        .map(str::to_string)
        .or_else(|| planned.and_then(|t| t.variant))
        .unwrap_or_else(|| "piper-joe-medium".into());
    (id, backend)
}

/// What the page shows about the current text.
#[derive(Clone, PartialEq, Default)]
struct Session {
    /// The running job.
    job: Option<JobId>,
    /// Stop was pressed: sentences already scheduled no longer move the highlight.
    stopped: bool,
    /// Byte ranges of the sentences made so far, and the one being heard.
    made: Vec<(usize, usize)>,
    playing: Option<usize>,
    status: String,
    error: Option<String>,
    wav_url: Option<String>,
    skipped: Vec<String>,
}

/// Audio scheduled so far: the context, when the next sentence may start, and every sample for the WAV.
#[derive(Default)]
struct Player {
    context: Option<AudioContext>,
    next_start: f64,
    pcm: Vec<i16>,
    rate: u32,
}

impl Player {
    /// Queues one sentence after the previous; returns the seconds until it starts.
    fn schedule(&mut self, s: &SpokenSentence) -> Option<f64> {
        if self.context.is_none() {
            self.context = AudioContext::new().ok();
        }
        let ctx = self.context.as_ref()?;
        let samples: Vec<f32> = s.samples.iter().map(|&v| f32::from(v) / 32767.0).collect();
        let buffer = ctx
            .create_buffer(1, samples.len().max(1) as u32, s.sample_rate as f32)
            .ok()?;
        buffer.copy_to_channel(&samples, 0).ok()?;
        let source = ctx.create_buffer_source().ok()?;
        source.set_buffer(Some(&buffer));
        source.connect_with_audio_node(&ctx.destination()).ok()?;
        let now = ctx.current_time();
        let at = self.next_start.max(now + 0.05);
        source.start_with_when(at).ok()?;
        self.next_start = at + samples.len() as f64 / f64::from(s.sample_rate);
        Some(at - now)
    }

    fn stop(&mut self) {
        if let Some(ctx) = self.context.take() {
            let _ = ctx.close();
        }
        self.next_start = 0.0;
    }
}

fn wav_url(pcm: &[i16], rate: u32) -> Option<String> {
    let samples: Vec<f32> = pcm.iter().map(|&v| f32::from(v) / 32767.0).collect();
    let wav = offgrid_engine::audio::wav::write_wav_16bit(&samples, rate).ok()?;
    crate::components::audio_segments::wav_url(&wav)
}

#[function_component(SpeakPage)]
pub fn speak_page() -> Html {
    let nav = use_context::<Nav>();
    let engine = use_context::<Rc<Engine>>();
    let plan = use_context::<DevicePlan>();
    let catalog = use_memo((), |_| Catalog::builtin());
    let url_text = nav
        .as_ref()
        .and_then(|n| n.location.get("text"))
        .unwrap_or("")
        .to_string();
    let speed = nav
        .as_ref()
        .and_then(|n| n.location.get("speed"))
        .and_then(|v| v.parse::<f32>().ok())
        .filter(|v| v.is_finite())
        .map_or(1.0, |v| v.clamp(0.5, 2.0));
    let text = use_state(|| url_text.clone());
    let session = use_state(Session::default);
    let player = use_mut_ref(Player::default);
    // The job the page shows. Each job keeps its own state, and its events and playback timers can arrive
    // after a newer job started (a sentence scheduled seconds ahead, a late Cancelled): only the current
    // job's may touch the page, or an old job's timer would wipe the new job's error or progress.
    let current = use_mut_ref(|| None::<JobId>);
    let (variant_id, backend) = voice_choice(nav.as_ref(), plan.as_ref());
    let mirror = nav.as_ref().and_then(effective_mirror);

    let on_input = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            text.set(area.value());
        })
    };
    // The URL follows the text once the person leaves the box (every keystroke would flood the history).
    let on_change = {
        let nav = nav.clone();
        Callback::from(move |e: Event| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            if let Some(nav) = nav.as_ref() {
                nav.replace(nav.location.with("text", &area.value()));
            }
        })
    };
    let on_speed = {
        let nav = nav.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            if let Some(nav) = nav.as_ref() {
                nav.replace(nav.location.with("speed", &input.value()));
            }
        })
    };
    let speak = {
        let engine = engine.clone();
        let session = session.clone();
        let player = player.clone();
        let text = text.clone();
        let variant_id = variant_id.clone();
        let plan = plan.clone();
        let nav = nav.clone();
        let current = current.clone();
        Callback::from(move |_| {
            let Some(engine) = engine.as_ref() else {
                return;
            };
            if let Some(job) = session.job {
                engine.cancel(job);
            }
            if let Some(url) = &session.wav_url {
                let _ = web_sys::Url::revoke_object_url(url);
            }
            if let Some(nav) = nav.as_ref() {
                nav.replace(nav.location.with("text", &text));
            }
            {
                let mut p = player.borrow_mut();
                p.stop();
                p.pcm.clear();
                // Created inside the click, so the browser lets it play.
                p.context = AudioContext::new().ok();
            }
            let job_cell = Rc::new(Cell::new(None::<JobId>));
            let state = Rc::new(RefCell::new(Session {
                status: "Loading the voice…".into(),
                ..Session::default()
            }));
            let events = {
                let session = session.clone();
                let player = player.clone();
                let engine = engine.clone();
                let job_cell = job_cell.clone();
                let state = state.clone();
                let current = current.clone();
                Callback::from(move |event: WorkerEvent| {
                    if *current.borrow() != job_cell.get() {
                        return;
                    }
                    let mut s = state.borrow_mut();
                    match event {
                        WorkerEvent::Progress { progress, .. }
                            if progress.stage == Stage::Downloading =>
                        {
                            let pct = progress.done * 100 / progress.total.max(1);
                            s.status = format!("Downloading the voice… {pct}%");
                        }
                        WorkerEvent::Speech { sentence, .. } => {
                            let index = sentence.index as usize;
                            s.made
                                .push((sentence.start as usize, sentence.end as usize));
                            s.status = format!("{} sentences ready", s.made.len());
                            for w in &sentence.skipped {
                                if !s.skipped.contains(w) {
                                    s.skipped.push(w.clone());
                                }
                            }
                            let delay = {
                                let mut p = player.borrow_mut();
                                p.rate = sentence.sample_rate;
                                p.pcm.extend_from_slice(&sentence.samples);
                                p.schedule(&sentence)
                            };
                            // When it starts: highlight it and let the worker make the next one.
                            let session = session.clone();
                            let state = state.clone();
                            let engine = engine.clone();
                            let job = job_cell.get();
                            let current = current.clone();
                            let ms = (delay.unwrap_or(0.0) * 1000.0).max(0.0) as u32;
                            gloo_timers::callback::Timeout::new(ms, move || {
                                let mut s = state.borrow_mut();
                                if *current.borrow() == job && !s.stopped {
                                    s.playing = Some(index);
                                    session.set(s.clone());
                                    if let Some(job) = job {
                                        engine.input(
                                            job,
                                            JobInput::Played {
                                                index: index as u32,
                                            },
                                        );
                                    }
                                }
                            })
                            .forget();
                        }
                        WorkerEvent::Done { result, .. } => {
                            s.job = None;
                            if let JobResult::Spoken(summary) = result {
                                s.status = format!(
                                    "{} sentences, {:.1} s of speech; the first was ready after {:.2} s.",
                                    summary.sentences,
                                    summary.audio_seconds,
                                    summary.first_audio_millis / 1000.0
                                );
                            }
                            let p = player.borrow();
                            s.wav_url = wav_url(&p.pcm, p.rate);
                        }
                        WorkerEvent::Failed { error, .. } => {
                            s.job = None;
                            s.error = Some(error.message);
                            s.status.clear();
                        }
                        WorkerEvent::Cancelled { .. } => {
                            s.job = None;
                            s.playing = None;
                            s.stopped = true;
                            s.status = "Stopped.".into();
                            let p = player.borrow();
                            s.wav_url = (!p.pcm.is_empty())
                                .then(|| wav_url(&p.pcm, p.rate))
                                .flatten();
                        }
                        _ => {}
                    }
                    session.set(s.clone());
                })
            };
            let model = ModelChoice {
                variant_id: variant_id.clone(),
                mirror: mirror.clone(),
                backend,
                dtype: planned_dtype(plan.as_ref(), Task::Speak, &variant_id),
            };
            let job = engine.run(
                Request::Speak(SpeakRequest {
                    text: (*text).clone(),
                    model,
                    speed,
                    seed: 0,
                    ahead: AHEAD,
                }),
                events,
            );
            job_cell.set(Some(job));
            *current.borrow_mut() = Some(job);
            state.borrow_mut().job = Some(job);
            session.set(state.borrow().clone());
        })
    };
    let stop = {
        let engine = engine.clone();
        let session = session.clone();
        let player = player.clone();
        Callback::from(move |_| {
            player.borrow_mut().stop();
            if let (Some(engine), Some(job)) = (engine.as_ref(), session.job) {
                engine.cancel(job);
            }
        })
    };

    let voice_ok = check_model(&catalog, Task::Speak, &variant_id).is_ok();
    let voice_line = html! {
        <ModelLine task={Task::Speak} variant_id={variant_id.clone()} backend={backend} noun="Voice" show_license=true />
    };
    // The text with the sentence being heard marked.
    let reading = match (
        session.playing,
        session.made.get(session.playing.unwrap_or(usize::MAX)),
    ) {
        (Some(_), Some(&(start, end)))
            if end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end) =>
        {
            html! {
                <p class="reading" aria-live="polite">
                    { &text[..start] }<mark id="speaking">{ &text[start..end] }</mark>{ &text[end..] }
                </p>
            }
        }
        _ => html! {},
    };
    let running = session.job.is_some();
    html! {
        <section class="speak">
            <p class="lead">{ "Type or paste text; it is read aloud by a voice made on this device. Nothing you type leaves it." }</p>
            { voice_line }
            <label for="speak-text">{ "Text" }</label>
            <textarea id="speak-text" rows="6" value={(*text).clone()} oninput={on_input} onchange={on_change}
                placeholder="Hello! Type something to hear it." />
            <div class="row">
                <label for="speak-speed">{ format!("Speed {speed:.2}×") }</label>
                <input id="speak-speed" type="range" min="0.5" max="2" step="0.05" value={speed.to_string()} onchange={on_speed} />
            </div>
            <div class="row">
                <button id="speak-button" class="primary" onclick={speak.clone()} disabled={text.trim().is_empty() || !voice_ok}>{ "Speak" }</button>
                <button id="stop-button" onclick={stop} disabled={!running}>{ "Stop" }</button>
                if let Some(url) = &session.wav_url {
                    <a id="download-wav" class="button" href={url.clone()} download="speech.wav">{ "Download WAV" }</a>
                }
            </div>
            <p id="speak-status" class="muted" data-running={running.to_string()}>{ &session.status }</p>
            if let Some(e) = &session.error {
                <p id="speak-error" class="status error" role="alert">{ e }
                    <button class="secondary retry" onclick={speak.clone()} disabled={running || !voice_ok}>{ "Retry" }</button></p>
            }
            if !session.skipped.is_empty() {
                <p id="speak-skipped" class="status warn">{ format!("Skipped (not English): {}", session.skipped.join(" ")) }</p>
            }
            { reading }
        </section>
    }
}
