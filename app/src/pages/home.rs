//! Home: the six tasks as cards, each saying whether it is ready on this device.

use crate::hooks::use_device_plan::{DevicePlan, ProbeState};
use crate::route::{Location, Route};
use offgrid_catalog::{Backend, Task};
use yew::prelude::*;

/// The page of a task.
pub fn task_route(task: Task) -> Route {
    match task {
        Task::Vad => Route::Vad,
        Task::Transcribe => Route::Transcribe,
        Task::Speak => Route::Speak,
        Task::RemoveBackground => Route::RemoveBackground,
        Task::Search => Route::Search,
        Task::Chat => Route::Chat,
    }
}

/// One line on whether a task can run here, from the probe's plan (a task with no model the app can run is
/// planned as not ready, so it says "coming").
pub fn readiness(plan: &DevicePlan, task: Task) -> (String, &'static str) {
    match &plan.state {
        ProbeState::Running => ("Checking this device…".into(), "pending"),
        ProbeState::Failed(_) => ("Could not check this device".into(), "warn"),
        ProbeState::Ready { plan, .. } => match plan.task(task) {
            Some(tp) if !tp.ready => ("Coming soon".into(), "coming"),
            Some(tp) if tp.variant.is_some() => {
                let backend = match tp.backend {
                    Backend::Gpu => "GPU",
                    Backend::Cpu => "CPU",
                };
                (format!("Ready on this device ({backend})"), "ready")
            }
            Some(tp) => (
                tp.reasons
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "Not supported here".into()),
                "warn",
            ),
            None => ("Coming soon".into(), "coming"),
        },
    }
}

#[function_component(Home)]
pub fn home() -> Html {
    let plan = use_context::<DevicePlan>();
    // Say what exists: the tasks with a model the app can run, and the ones still coming.
    let catalog = offgrid_catalog::Catalog::builtin();
    let (ready, coming): (Vec<Task>, Vec<Task>) = Task::ALL.iter().copied().partition(|t| {
        catalog
            .for_task(*t)
            .any(|v| v.available && !v.is_test_checkpoint())
    });
    let names = |tasks: &[Task]| {
        tasks
            .iter()
            .map(|t| t.title().to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let lead = if coming.is_empty() {
        format!(
            "{} AI tools that run entirely on this device, online or off.",
            ready.len()
        )
    } else {
        format!(
            "{} AI tools that run entirely on this device, online or off: {}. Coming: {}.",
            ready.len(),
            names(&ready),
            names(&coming)
        )
    };
    html! {
        <section>
            <p class="lead" id="home-lead">{ lead }</p>
            <ul class="cards">
            { for Task::ALL.iter().map(|task| {
                let (status, class) = plan.as_ref().map(|p| readiness(p, *task)).unwrap_or(("".into(), "pending"));
                html! {
                    <li class="card">
                        <a href={Location::of(task_route(*task)).to_hash()}>
                            <h2>{ task.title() }</h2>
                            <p>{ task.description() }</p>
                            <p class={classes!("status", class)}>{ status }</p>
                        </a>
                    </li>
                }
            }) }
            </ul>
            <p><a href="#/device">{ "How Offgrid chose models for this device" }</a>{ " · " }<a href="#/models">{ "Manage downloaded models" }</a></p>
        </section>
    }
}
