//! What the engine worker holds in memory: each loaded model with its backend, weight type and size, the
//! memory budget they share (the plan's), and the GPU device they run on.

use crate::engine::Engine;
use offgrid_catalog::human_bytes;
use offgrid_workers::protocol::{
    Backend, JobResult, LoadedReport, ModelsRequest, Request, WorkerEvent,
};
use std::rc::Rc;
use yew::prelude::*;

#[function_component(LoadedModels)]
pub fn loaded_models() -> Html {
    let engine = use_context::<Rc<Engine>>();
    let report = use_state(|| None::<LoadedReport>);
    let refresh_count = use_state(|| 0u32);
    {
        let report = report.clone();
        use_effect_with(*refresh_count, move |_| {
            if let Some(engine) = engine {
                engine.run(
                    Request::Models(ModelsRequest::ListLoaded),
                    Callback::from(move |event: WorkerEvent| {
                        if let WorkerEvent::Done {
                            result: JobResult::Loaded(r),
                            ..
                        } = event
                        {
                            report.set(Some(r));
                        }
                    }),
                );
            }
        });
    }
    let refresh = {
        let refresh_count = refresh_count.clone();
        Callback::from(move |_| refresh_count.set(*refresh_count + 1))
    };
    let Some(r) = (*report).clone() else {
        return html! {};
    };
    let held: u64 = r.models.iter().map(|m| m.bytes).sum();
    html! {
        <div class="loaded" id="loaded-models" data-gpu-devices={r.gpu_devices_created.to_string()}
            data-evictions={r.evictions.to_string()} data-budget={r.budget_bytes.to_string()}>
            <h2>{ "In memory" }</h2>
            <p class="meta">{ format!("{} of {} for models ({} dropped to make room so far).",
                human_bytes(held), human_bytes(r.budget_bytes), r.evictions) }</p>
            if r.models.is_empty() {
                <p>{ "No model is loaded. Each task loads its model when it first runs." }</p>
            } else {
                <ul>
                { for r.models.iter().map(|m| {
                    let gpu = m.gpu_device.map(|d| d.to_string()).unwrap_or_default();
                    let place = match (m.backend, m.gpu_device) {
                        (Backend::Gpu, Some(d)) => format!("GPU (device {d})"),
                        _ => "CPU".to_string(),
                    };
                    html! {
                        <li class="loaded-model" data-variant={m.variant_id.clone()} data-dtype={m.dtype.name()}
                            data-backend={if m.backend == Backend::Gpu { "gpu" } else { "cpu" }} data-gpu-device={gpu}
                            data-bytes={m.bytes.to_string()}>
                            { format!("{} · {place} · {} · {}", m.variant_id, m.dtype.name(), human_bytes(m.bytes)) }
                        </li>
                    }
                }) }
                </ul>
            }
            <button class="secondary" id="loaded-refresh" onclick={refresh}>{ "Refresh" }</button>
        </div>
    }
}
