//! Shows a job's progress (stage, bytes, a progress bar), its error, or its end.

use offgrid_workers::download::format_bytes;
use offgrid_workers::protocol::{Stage, WorkerEvent};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct JobStatusProps {
    pub event: Option<WorkerEvent>,
    #[prop_or_default]
    pub on_cancel: Option<Callback<()>>,
    #[prop_or_default]
    pub running: bool,
}

#[function_component(JobStatus)]
pub fn job_status(props: &JobStatusProps) -> Html {
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
        Some(WorkerEvent::Failed { error, .. }) => html! {
            <div class="job-status error" role="alert">{ error.message.clone() }</div>
        },
        Some(WorkerEvent::Cancelled { .. }) => html! {
            <div class="job-status" role="status">{ "Cancelled. Anything already downloaded is kept and resumes next time." }</div>
        },
        _ if props.running => html! {
            <div class="job-status" role="status" aria-live="polite"><span class="job-label">{ "Starting…" }</span>{ for cancel }</div>
        },
        _ => html! {},
    }
}
