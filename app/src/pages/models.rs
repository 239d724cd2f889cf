//! Models: every catalog variant with its download state; download (with progress, cancel, resume),
//! delete; storage used and available; the model source (Hugging Face or a mirror, also `?models=`).

use crate::app::Nav;
use crate::browser;
use crate::components::job_status::JobStatus;
use crate::components::loaded_models::LoadedModels;
use crate::hooks::use_cache_report::{storage_line, use_cache_report};
use crate::hooks::use_device_plan::{planned_dtype, DevicePlan};
use crate::hooks::use_job::use_job;
use offgrid_catalog::{human_bytes, Catalog, ModelSource, ModelVariant};
use offgrid_workers::protocol::{CachedModel, JobResult, ModelsRequest, Request, WorkerEvent};
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

const MIRROR_KEY: &str = "offgrid.mirror";

/// The model source in effect: `?models=` in the URL wins over the saved setting.
pub fn effective_mirror(nav: &Nav) -> Option<String> {
    nav.location
        .get("models")
        .map(str::to_string)
        .or_else(|| browser::load_setting(MIRROR_KEY))
        .filter(|m| !m.trim().is_empty())
}

#[function_component(ModelsPage)]
pub fn models_page() -> Html {
    let nav = use_context::<Nav>();
    let catalog = use_memo((), |_| Catalog::builtin());
    let refresh_count = use_state(|| 0u32);
    let report = use_cache_report(*refresh_count);
    let mirror = nav.as_ref().and_then(effective_mirror);
    let developer = browser::developer_mode();

    let refresh = {
        let refresh_count = refresh_count.clone();
        Callback::from(move |_: ()| refresh_count.set(*refresh_count + 1))
    };

    let storage = storage_line(report.as_ref());
    let cached = |v: &ModelVariant| {
        report
            .as_ref()
            .and_then(|r| r.models.iter().find(|m| m.variant_id == v.id).cloned())
    };

    html! {
        <section>
            <p id="storage" role="status">{ storage }</p>
            <LoadedModels />
            <MirrorSetting mirror={mirror.clone()} />
            <ul class="models">
            // Test checkpoints (random weights, only on test mirrors) are for developers: listed in developer mode,
            // or while their files are stored, so that the storage can always be freed.
            { for catalog.variants.iter().filter(|v| v.available && (developer || !v.is_test_checkpoint() || cached(v).is_some())).map(|v| html! {
                <ModelRow variant={Rc::new(v.clone())} cached={cached(v)}
                    mirror={mirror.clone()} on_change={refresh.clone()} />
            }) }
            </ul>
            <details>
                <summary>{ "Coming later" }</summary>
                <ul>{ for catalog.variants.iter().filter(|v| !v.available).map(|v| html! { <li>{ format!("{} ({})", v.title, v.task.title()) }</li> }) }</ul>
            </details>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct MirrorSettingProps {
    mirror: Option<String>,
}

#[function_component(MirrorSetting)]
fn mirror_setting(props: &MirrorSettingProps) -> Html {
    let nav = use_context::<Nav>();
    let input = use_node_ref();
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let input = input.clone();
        let error = error.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(value) = input.cast::<HtmlInputElement>().map(|i| i.value()) else {
                return;
            };
            let value = value.trim().to_string();
            if !value.is_empty() {
                if let Err(e) = ModelSource::mirror(&value) {
                    error.set(Some(e.to_string()));
                    return;
                }
            }
            error.set(None);
            browser::save_setting(MIRROR_KEY, (!value.is_empty()).then_some(value.as_str()));
            if let Some(nav) = &nav {
                nav.replace(nav.location.with("models", &value));
            }
        })
    };
    let source = props
        .mirror
        .clone()
        .unwrap_or_else(|| "Hugging Face Hub (huggingface.co)".into());
    html! {
        <form class="mirror" {onsubmit}>
            <p>{ format!("Models come from: {source}") }</p>
            <label for="mirror-url">{ "Model mirror URL (leave empty for Hugging Face)" }</label>
            <div class="row">
                <input id="mirror-url" type="url" inputmode="url" ref={input} value={props.mirror.clone().unwrap_or_default()}
                    placeholder="https://models.example.org" aria-describedby="mirror-error" />
                <button type="submit">{ "Save" }</button>
            </div>
            <p id="mirror-error" class="error" role="alert">{ (*error).clone().unwrap_or_default() }</p>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct ModelRowProps {
    variant: Rc<ModelVariant>,
    cached: Option<CachedModel>,
    mirror: Option<String>,
    on_change: Callback<()>,
}

#[function_component(ModelRow)]
fn model_row(props: &ModelRowProps) -> Html {
    let job = use_job();
    let v = props.variant.clone();
    let complete = matches!(&props.cached, Some(c) if c.files_cached == c.files_total);
    // Refresh the list when a job of ours ends.
    {
        let on_change = props.on_change.clone();
        let ended = job.last.as_ref().is_some_and(|e| e.is_final());
        use_effect_with(ended, move |ended| {
            if *ended {
                on_change.emit(());
            }
        });
    }
    let start_download = {
        let job = job.clone();
        let id = v.id.clone();
        let mirror = props.mirror.clone();
        Callback::from(move |_: ()| {
            let id = id.clone();
            let mirror = mirror.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // Ask once that models are not evicted; a refusal still lets the download go on.
                let _ = browser::request_persistent_storage().await;
            });
            job.start(Request::Models(ModelsRequest::Download {
                variant_id: id,
                mirror,
            }));
        })
    };
    let delete = {
        let job = job.clone();
        let id = v.id.clone();
        Callback::from(move |_| {
            let id = id.clone();
            job.start(Request::Models(ModelsRequest::Delete { variant_id: id }));
        })
    };
    let cancel = {
        let job = job.clone();
        Callback::from(move |_| job.cancel())
    };
    let state = match &props.cached {
        // Served with the app itself: nothing to download, cached with the app for offline use.
        _ if v.bundled => format!(
            "Ships with the app ({}), works offline",
            human_bytes(v.download_bytes)
        ),
        Some(c) if c.files_cached == c.files_total => {
            format!("Downloaded ({}), works offline", human_bytes(c.bytes))
        }
        // Saved pieces of an unfinished file count: a reload or a lost connection keeps them.
        Some(c) => format!(
            "Partly downloaded ({} of {}); the download resumes where it stopped",
            human_bytes(c.bytes + c.partial_bytes),
            human_bytes(v.download_bytes)
        ),
        None => format!("Not downloaded ({})", human_bytes(v.download_bytes)),
    };
    let done_line = match &job.last {
        Some(WorkerEvent::Done {
            result: JobResult::Downloaded {
                bytes, from_cache, ..
            },
            ..
        }) => {
            let text = if *from_cache {
                "Already downloaded.".to_string()
            } else {
                format!("Downloaded and verified {}.", human_bytes(*bytes))
            };
            html! { <p class="status ready" role="status">{ text }</p> }
        }
        Some(WorkerEvent::Done {
            result: JobResult::Deleted { .. },
            ..
        }) => html! { <p role="status">{ "Deleted." }</p> },
        _ => html! {},
    };
    // The weight type that runs is the plan's when this is the task's planned model (the Device page's
    // figure); the row says so when it differs from the type the files store.
    let plan = use_context::<DevicePlan>();
    let runs_as = planned_dtype(plan.as_ref(), v.task, &v.id).unwrap_or(v.dtype);
    let dtype_text = if runs_as == v.dtype {
        v.dtype.name().to_string()
    } else {
        format!(
            "stored as {}, runs as {} on this device",
            v.dtype.name(),
            runs_as.name()
        )
    };
    let busy = job.running.is_some();
    let download = start_download.reform(|_: MouseEvent| ());
    let retry = start_download;
    html! {
        <li class="model" data-variant={v.id.clone()} data-dtype={runs_as.name()} data-size={human_bytes(v.download_bytes)}>
            <h2>{ v.title.clone() }</h2>
            <p class="meta">{ format!("{} · {} · {dtype_text}", v.task.title(), v.repo) }</p>
            <p class="model-state">{ state }</p>
            <div class="row">
                if !complete && !v.bundled {
                    <button class="download" onclick={download} disabled={busy}>{ if props.cached.is_some() { "Resume download" } else { "Download" } }</button>
                }
                if props.cached.is_some() {
                    <button class="secondary delete" onclick={delete} disabled={busy}>{ "Delete" }</button>
                }
            </div>
            <JobStatus event={job.last.clone()} running={busy} on_cancel={cancel} on_retry={retry} />
            { done_line }
        </li>
    }
}
