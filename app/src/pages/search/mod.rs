//! Search (`#/search?c=<collection>&q=<query>`): bring a corpus, build an index in the worker with
//! progress, search as you type. The URL carries the collection and the query, so a shared link opens
//! the same search (the sample collection is built on first open).

mod corpus;
mod results;

use crate::app::Nav;
use crate::components::job_status::time_left;
use crate::engine::Engine;
use crate::hooks::use_device_plan::{planned_dtype, DevicePlan, ProbeState};
use crate::hooks::use_job::use_job;
use crate::pages::models::effective_mirror;
use corpus::{read_text_file, split, Splitting, MAX_BYTES, SAMPLE, SAMPLE_NAME};
use offgrid_catalog::Task;
use offgrid_workers::protocol::{
    Backend, CollectionInfo, JobResult, ModelChoice, Request, SearchRequest, WorkerEvent,
};
use results::Results;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// The model and backend the plan (or the person's override) picked for search.
fn search_choice(plan: Option<&DevicePlan>) -> (String, Backend) {
    let default = ("minilm-l6-v2".to_string(), Backend::Cpu);
    let Some(DevicePlan {
        state: ProbeState::Ready { plan, .. },
        ..
    }) = plan
    else {
        return default;
    };
    match plan.task(Task::Search) {
        Some(tp) => (tp.variant.clone().unwrap_or(default.0), tp.backend),
        None => default,
    }
}

#[function_component(SearchPage)]
pub fn search_page() -> Html {
    let nav = use_context::<Nav>();
    let engine = use_context::<Rc<Engine>>();
    let plan = use_context::<DevicePlan>();
    let probe_ready = matches!(
        plan.as_ref().map(|p| &p.state),
        Some(ProbeState::Ready { .. })
    );
    let (variant_id, backend) = search_choice(plan.as_ref());
    // What a query runs on: the plan's model, backend and weight type.
    let query_model = ModelChoice {
        variant_id: variant_id.clone(),
        mirror: nav.as_ref().and_then(effective_mirror),
        backend,
        dtype: planned_dtype(plan.as_ref(), Task::Search, &variant_id),
    };
    let mirror = nav.as_ref().and_then(effective_mirror);
    let collection = nav
        .as_ref()
        .and_then(|n| n.location.get("c").map(str::to_string));
    let query = nav
        .as_ref()
        .and_then(|n| n.location.get("q").map(str::to_string))
        .unwrap_or_default();

    let collections = use_state(|| None::<Vec<CollectionInfo>>);
    let refresh = use_state(|| 0u32);
    let build = use_job();
    let input_error = use_state(|| None::<String>);
    let pasted = use_state(String::new);
    let files_text = use_state(Vec::<(String, String)>::new);
    let splitting = use_state(|| Splitting::Paragraphs);
    let new_name = use_state(String::new);
    // The indexing pace: when the first "Running" progress of a build came (wall ms, passages done then).
    // Download and model load come before it, so they do not slow the estimate down.
    let pace = use_mut_ref(|| None::<(u32, f64, u64)>);
    // The last build asked for, for Retry.
    let last_build = use_mut_ref(|| None::<(String, Vec<String>)>);
    // A build whose name is taken, waiting for the person to say Replace.
    let confirm_replace = use_state(|| None::<(String, Vec<String>)>);

    // Saved collections (refreshed after builds and deletes).
    {
        let collections = collections.clone();
        let engine = engine.clone();
        use_effect_with(*refresh, move |_| {
            if let Some(engine) = engine {
                engine.run(
                    Request::Search(SearchRequest::List),
                    Callback::from(move |e: WorkerEvent| match e {
                        WorkerEvent::Done {
                            result: JobResult::Collections(list),
                            ..
                        } => collections.set(Some(list)),
                        WorkerEvent::Failed { .. } => collections.set(Some(Vec::new())),
                        _ => {}
                    }),
                );
            }
        });
    }
    let build_ended = build.last.as_ref().is_some_and(|e| e.is_final());
    {
        let refresh = refresh.clone();
        use_effect_with(build_ended, move |ended| {
            if *ended {
                refresh.set(*refresh + 1);
            }
        });
    }

    let start_build = {
        let build = build.clone();
        let variant_id = variant_id.clone();
        let mirror = mirror.clone();
        let last_build = last_build.clone();
        let plan = plan.clone();
        Callback::from(move |(name, passages): (String, Vec<String>)| {
            let variant_id = variant_id.clone();
            let dtype = planned_dtype(plan.as_ref(), Task::Search, &variant_id);
            let mirror = mirror.clone();
            *last_build.borrow_mut() = Some((name.clone(), passages.clone()));
            build.start(Request::Search(SearchRequest::BuildIndex {
                collection: name,
                model: ModelChoice {
                    variant_id,
                    mirror,
                    backend,
                    dtype,
                },
                passages,
            }));
        })
    };

    // A shared link to the sample collection builds it on first open.
    {
        let collections_known = (*collections)
            .as_ref()
            .map(|list| list.iter().any(|c| c.name == SAMPLE_NAME));
        let wants_sample = collection.as_deref() == Some(SAMPLE_NAME);
        let start_build = start_build.clone();
        // Not only on a fresh page: a link opened after a failed build (another model source, say) builds
        // too. The effect runs when one of its inputs changes, so a failure does not retry in a loop.
        let idle = build.running.is_none();
        use_effect_with(
            (collections_known, wants_sample, probe_ready, mirror.clone()),
            move |(known, wants, ready, _)| {
                if *wants && *known == Some(false) && *ready && idle {
                    start_build.emit((
                        SAMPLE_NAME.to_string(),
                        split(SAMPLE, Splitting::Paragraphs),
                    ));
                }
            },
        );
    }

    let passages: Vec<String> = {
        let mut text = (*pasted).clone();
        for (_, t) in files_text.iter() {
            text.push_str("\n\n");
            text.push_str(t);
        }
        split(&text, *splitting)
    };

    let on_paste = {
        let pasted = pasted.clone();
        Callback::from(move |e: InputEvent| {
            pasted.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let add_files = {
        let files_text = files_text.clone();
        let input_error = input_error.clone();
        Callback::from(move |files: Vec<web_sys::File>| {
            let files_text = files_text.clone();
            let input_error = input_error.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mut added = (*files_text).clone();
                let mut errors = Vec::new();
                for file in files {
                    match read_text_file(&file).await {
                        Ok(text) => added.push((file.name(), text)),
                        Err(e) => errors.push(e),
                    }
                }
                let total: usize = added.iter().map(|(_, t)| t.len()).sum();
                if total > MAX_BYTES {
                    errors.push(format!(
                        "Together these files are over {} MB; remove some.",
                        MAX_BYTES / 1_000_000
                    ));
                    added.truncate(added.len().saturating_sub(1));
                }
                input_error.set((!errors.is_empty()).then(|| errors.join(" ")));
                files_text.set(added);
            });
        })
    };
    let on_files = {
        let add_files = add_files.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            let files = input
                .files()
                .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
                .unwrap_or_default();
            add_files.emit(files);
            input.set_value("");
        })
    };
    let on_drop = {
        let add_files = add_files.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            let files = e
                .data_transfer()
                .and_then(|dt| dt.files())
                .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
                .unwrap_or_default();
            add_files.emit(files);
        })
    };
    let on_name = {
        let new_name = new_name.clone();
        Callback::from(move |e: InputEvent| {
            new_name.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let on_split = {
        let splitting = splitting.clone();
        Callback::from(move |e: Event| {
            let value = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            splitting.set(match value.parse::<usize>() {
                Ok(words) => Splitting::Words(words),
                Err(_) => Splitting::Paragraphs,
            });
        })
    };
    let on_build = {
        let start_build = start_build.clone();
        let new_name = new_name.clone();
        let input_error = input_error.clone();
        let passages = passages.clone();
        let nav = nav.clone();
        let saved_names: Vec<String> = (*collections)
            .iter()
            .flatten()
            .map(|c| c.name.clone())
            .collect();
        let confirm_replace = confirm_replace.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let name = new_name.trim().to_string();
            if passages.is_empty() {
                input_error.set(Some(
                    "The corpus is empty: paste text, add .txt/.md files, or load the sample."
                        .into(),
                ));
                return;
            }
            if name.is_empty() {
                input_error.set(Some("Give the collection a name.".into()));
                return;
            }
            input_error.set(None);
            if saved_names.contains(&name) {
                // A saved collection would be overwritten: ask first.
                confirm_replace.set(Some((name, passages.clone())));
                return;
            }
            if let Some(nav) = &nav {
                nav.replace(nav.location.with("c", &name));
            }
            start_build.emit((name, passages.clone()));
        })
    };
    let on_replace = {
        let start_build = start_build.clone();
        let confirm_replace = confirm_replace.clone();
        let nav = nav.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some((name, passages)) = (*confirm_replace).clone() {
                if let Some(nav) = &nav {
                    nav.replace(nav.location.with("c", &name));
                }
                start_build.emit((name, passages));
            }
            confirm_replace.set(None);
        })
    };
    let on_keep = {
        let confirm_replace = confirm_replace.clone();
        Callback::from(move |_: MouseEvent| confirm_replace.set(None))
    };
    let retry_build = {
        let start_build = start_build.clone();
        let last_build = last_build.clone();
        Callback::from(move |_: ()| {
            let again = last_build.borrow().clone();
            if let Some(build) = again {
                start_build.emit(build);
            }
        })
    };
    let load_sample = {
        let pasted = pasted.clone();
        let new_name = new_name.clone();
        Callback::from(move |_| {
            pasted.set(SAMPLE.to_string());
            new_name.set(SAMPLE_NAME.to_string());
        })
    };
    let choose = {
        let nav = nav.clone();
        Callback::from(move |name: String| {
            if let Some(nav) = &nav {
                nav.replace(nav.location.with("c", &name));
            }
        })
    };
    let delete = {
        let engine = engine.clone();
        let refresh = refresh.clone();
        Callback::from(move |name: String| {
            if let Some(engine) = &engine {
                let refresh = refresh.clone();
                engine.run(
                    Request::Search(SearchRequest::Delete { collection: name }),
                    Callback::from(move |e: WorkerEvent| {
                        if e.is_final() {
                            refresh.set(*refresh + 1);
                        }
                    }),
                );
            }
        })
    };
    let cancel = {
        let build = build.clone();
        Callback::from(move |_| build.cancel())
    };

    let building = build.running.is_some();
    let saved = (*collections).clone().unwrap_or_default();
    let build_status = build_status(&build.last, building, &mut pace.borrow_mut(), retry_build);
    let replace_prompt = (*confirm_replace).as_ref().map(|(name, _)| {
        let count = saved
            .iter()
            .find(|c| &c.name == name)
            .map_or(0, |c| c.passages);
        html! {
            <div class="status warn" role="alert" id="replace-prompt">
                <p>{ format!("A collection called \"{name}\" already exists ({count} passages). Building it again replaces it.") }</p>
                <div class="row">
                    <button type="button" id="replace-collection" onclick={on_replace}>{ "Replace it" }</button>
                    <button type="button" class="secondary" onclick={on_keep}>{ "Keep it" }</button>
                </div>
            </div>
        }
    });

    html! {
        <section class="search-page">
            <div class="collections">
                <h2>{ "Collections" }</h2>
                if saved.is_empty() {
                    <p>{ if collections.is_none() { "Loading saved collections…" } else { "No collections yet: build one below, or load the sample." } }</p>
                }
                <ul class="collection-list">
                { for saved.iter().map(|c| {
                    let name = c.name.clone();
                    let current = collection.as_deref() == Some(c.name.as_str());
                    let choose = choose.clone();
                    let delete = delete.clone();
                    let (n1, n2) = (name.clone(), name.clone());
                    html! {
                        <li class={classes!("collection", current.then_some("current"))} data-collection={name.clone()}>
                            <button class="link" aria-pressed={current.to_string()} onclick={Callback::from(move |_| choose.emit(n1.clone()))}>
                                { format!("{} ({} passages)", c.name, c.passages) }
                            </button>
                            <button class="secondary" aria-label={format!("Delete collection {}", c.name)}
                                onclick={Callback::from(move |_| delete.emit(n2.clone()))}>{ "Delete" }</button>
                        </li>
                    }
                }) }
                </ul>
            </div>
            <Results collection={collection.clone()} query={query.clone()} model={query_model}
                building={building} saved={saved.iter().any(|c| Some(&c.name) == collection.as_ref())} />
            <form class="new-collection" onsubmit={on_build}>
                <h2>{ "New collection" }</h2>
                <label for="corpus-text">{ "Paste text" }</label>
                <textarea id="corpus-text" rows="6" value={(*pasted).clone()} oninput={on_paste} />
                <div class="dropzone" ondragover={Callback::from(|e: DragEvent| e.prevent_default())} ondrop={on_drop}>
                    <label for="corpus-files">{ "…or add .txt / .md files (or drop them here)" }</label>
                    <input id="corpus-files" type="file" multiple=true accept=".txt,.md,text/plain,text/markdown" onchange={on_files} />
                    if !files_text.is_empty() {
                        <p class="meta">{ files_text.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>().join(", ") }</p>
                    }
                </div>
                <div class="row">
                    <button type="button" class="secondary" onclick={load_sample}>{ "Load the sample corpus" }</button>
                </div>
                <div class="row">
                    <label for="splitting">{ "Split into" }</label>
                    <select id="splitting" onchange={on_split}>
                        <option value="paragraphs" selected={*splitting == Splitting::Paragraphs}>{ "Paragraphs" }</option>
                        <option value="120" selected={*splitting == Splitting::Words(120)}>{ "About 120 words, overlapping" }</option>
                        <option value="200" selected={*splitting == Splitting::Words(200)}>{ "About 200 words, overlapping" }</option>
                    </select>
                </div>
                <p class="meta" id="passage-count">{ format!("{} passages", passages.len()) }</p>
                if !passages.is_empty() {
                    <details><summary>{ "Show the passages" }</summary>
                        <ol class="passages">{ for passages.iter().take(200).map(|p| html! { <li>{ p.clone() }</li> }) }</ol>
                        if passages.len() > 200 { <p class="meta">{ format!("…and {} more", passages.len() - 200) }</p> }
                    </details>
                }
                <label for="collection-name">{ "Collection name" }</label>
                <div class="row">
                    <input id="collection-name" value={(*new_name).clone()} oninput={on_name} />
                    <button type="submit" disabled={building}>{ "Build index" }</button>
                </div>
                <p class="error" role="alert">{ (*input_error).clone().unwrap_or_default() }</p>
                { for replace_prompt }
            </form>
            <div class="build-status">
                { build_status }
                if building { <button class="secondary" onclick={cancel}>{ "Cancel" }</button> }
            </div>
            <p class="meta">{ format!("Model: {variant_id} on the {}.", if backend == Backend::Gpu { "GPU" } else { "CPU" }) }</p>
        </section>
    }
}

fn build_status(
    last: &Option<WorkerEvent>,
    building: bool,
    pace: &mut Option<(u32, f64, u64)>,
    on_retry: Callback<()>,
) -> Html {
    match last {
        Some(event @ WorkerEvent::Progress { progress, .. })
            if progress.stage == offgrid_workers::protocol::Stage::Running =>
        {
            let now = js_sys::Date::now();
            let start = match *pace {
                Some((job, t, d)) if job == event.job() && d <= progress.done => (t, d),
                _ => {
                    *pace = Some((event.job(), now, progress.done));
                    (now, progress.done)
                }
            };
            let left = time_left(start, now, progress.done, progress.total)
                .map(|l| format!(" · {l}"))
                .unwrap_or_default();
            html! {
                <div role="status" aria-live="polite" id="build-progress">
                    <progress value={progress.done.to_string()} max={progress.total.max(1).to_string()} aria-label="Indexing"></progress>
                    <span>{ format!("Indexed {} of {} passages{left}", progress.done, progress.total) }</span>
                </div>
            }
        }
        Some(WorkerEvent::Progress { .. }) | None if building => html! {
            <crate::components::job_status::JobStatus event={last.clone()} running={true} />
        },
        Some(WorkerEvent::Done {
            result:
                JobResult::IndexBuilt {
                    collection,
                    passages,
                    truncated,
                    millis,
                    ..
                },
            ..
        }) => html! {
            <div role="status" id="build-done">
                <p class="status ready">{ format!("Indexed {passages} passages into \"{collection}\" in {:.1} s.", millis / 1000.0) }</p>
                if !truncated.is_empty() {
                    <p class="warn">{ format!("{} passages were longer than the model reads; only their beginning was indexed. Split into ~120 words to index all of them.", truncated.len()) }</p>
                }
            </div>
        },
        Some(failed @ WorkerEvent::Failed { .. }) => html! {
            <crate::components::job_status::JobStatus event={Some(failed.clone())} on_retry={on_retry} />
        },
        Some(WorkerEvent::Cancelled { .. }) => {
            html! { <p role="status">{ "Indexing cancelled; the saved collections are unchanged." }</p> }
        }
        _ => html! {},
    }
}
