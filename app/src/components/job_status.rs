//! Shows a job's progress (stage, bytes, a progress bar), its error, or its end.

use offgrid_workers::download::format_bytes;
use offgrid_workers::protocol::{ErrorKind, Stage, WorkerEvent};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct JobStatusProps {
    pub event: Option<WorkerEvent>,
    #[prop_or_default]
    pub on_cancel: Option<Callback<()>>,
    #[prop_or_default]
    pub running: bool,
    /// Starts the job again; offered after a failure that may not repeat (what was downloaded is kept and
    /// resumes).
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

/// `h:mm:ss` or `m:ss` for a duration in milliseconds.
fn clock_ms(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// "about 3 min left" from the pace since `start` (wall ms, units done then), once there is one.
pub fn time_left(start: (f64, u64), now: f64, done: u64, total: u64) -> Option<String> {
    let (elapsed, gained) = (now - start.0, done.saturating_sub(start.1));
    // Under a few seconds the pace says little (the model may still have been warming up).
    if elapsed < 3000.0 || gained == 0 || total <= done {
        return None;
    }
    let left_s = (total - done) as f64 * elapsed / gained as f64 / 1000.0;
    Some(if left_s < 60.0 {
        format!("about {:.0} s left", left_s.max(1.0))
    } else if left_s < 5400.0 {
        format!("about {:.0} min left", left_s / 60.0)
    } else {
        format!("about {:.1} h left", left_s / 3600.0)
    })
}

/// Whether trying again may succeed: the failure may go away by itself or after the person acts on the
/// message (a connection back, space freed, a new GPU device). A missing file or a bad request would fail
/// again.
pub fn may_retry(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Network
            | ErrorKind::Integrity
            | ErrorKind::Quota
            | ErrorKind::DeviceLost
            | ErrorKind::Internal
    )
}

#[function_component(JobStatus)]
pub fn job_status(props: &JobStatusProps) -> Html {
    // When the audio stage began (wall clock, audio done then), for the time left.
    let pace = use_mut_ref(|| None::<(u32, f64, u64)>);
    let cancel = props.on_cancel.clone().filter(|_| props.running).map(|cb| {
        html! { <button class="secondary" onclick={Callback::from(move |_| cb.emit(()))}>{ "Cancel" }</button> }
    });
    match &props.event {
        Some(WorkerEvent::Progress { progress, .. }) => {
            let (value, max) = (progress.done, progress.total.max(1));
            let label = match progress.stage {
                Stage::Running => format!(
                    "{} ({} of {})",
                    progress.stage.label(),
                    progress.done,
                    progress.total
                ),
                Stage::Listening => {
                    let job = props.event.as_ref().map_or(0, WorkerEvent::job);
                    let now = js_sys::Date::now();
                    let mut pace = pace.borrow_mut();
                    let start = match *pace {
                        Some((j, t, d)) if j == job && d <= progress.done => (t, d),
                        _ => {
                            *pace = Some((job, now, progress.done));
                            (now, progress.done)
                        }
                    };
                    let left = time_left(start, now, progress.done, progress.total)
                        .map(|l| format!(" · {l}"))
                        .unwrap_or_default();
                    if progress.total > 0 {
                        format!(
                            "{}: {} of {}{left}",
                            progress.stage.label(),
                            clock_ms(progress.done),
                            clock_ms(progress.total)
                        )
                    } else {
                        format!("{}: {}", progress.stage.label(), clock_ms(progress.done))
                    }
                }
                // Loading has no byte counts: one step, said in words.
                Stage::Loading if progress.file.is_none() => {
                    "Loading the model into memory…".to_string()
                }
                _ => {
                    let file = progress
                        .file
                        .as_ref()
                        .map(|f| format!(" {f}"))
                        .unwrap_or_default();
                    format!(
                        "{}{file}: {} of {}",
                        progress.stage.label(),
                        format_bytes(progress.done),
                        format_bytes(progress.total)
                    )
                }
            };
            html! {
                <div class="job-status" role="status" aria-live="polite">
                    <progress value={value.to_string()} max={max.to_string()} aria-label={label.clone()}></progress>
                    <span class="job-label">{ label }</span>
                    { for cancel }
                </div>
            }
        }
        Some(WorkerEvent::Failed { error, .. }) => {
            let retry = props
                .on_retry
                .clone()
                .filter(|_| may_retry(error.kind))
                .map(|cb| {
                    html! { <button class="secondary retry" onclick={Callback::from(move |_| cb.emit(()))}>{ "Retry" }</button> }
                });
            html! {
                <div class="job-status error" role="alert">{ error.message.clone() }{ for retry }</div>
            }
        }
        Some(WorkerEvent::Cancelled { .. }) => html! {
            <div class="job-status" role="status">{ "Cancelled. Anything already downloaded is kept and resumes next time." }</div>
        },
        _ if props.running => html! {
            <div class="job-status" role="status" aria-live="polite"><span class="job-label">{ "Starting…" }</span>{ for cancel }</div>
        },
        _ => html! {},
    }
}
