//! Remove background (`#/remove-background?bg=color&color=%23ffffff&refine=0`): IS-Net in the engine worker
//! cuts the subject of each photo out at the photo's own resolution. Photos come from the file picker, a
//! drop, a paste, or the share target; several are processed one after another, each with its progress.
//! The photo's bytes go to the worker and the cut-out comes back: nothing leaves the device.
//! The background (transparent, a colour, the photo blurred, another image) is a preview over the cut-out;
//! the downloads are the cut-out itself, PNG or WebP with alpha.

mod card;
mod receive;

use crate::app::Nav;
use crate::components::job_status::may_retry;
use crate::components::model_line::{check_model, ModelLine};
use crate::engine::Engine;
use crate::hooks::use_device_plan::{planned_dtype, DevicePlan, ProbeState};
use crate::pages::models::effective_mirror;
use card::{Background, CutoutCard, Item, ItemState};
use js_sys::Uint8Array;
use offgrid_catalog::{Catalog, Task};
use offgrid_workers::protocol::{
    Backend, JobResult, ModelChoice, RemoveBackgroundRequest, Request, WorkerEvent,
};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The largest file accepted (a 64-megapixel JPEG is about 30 MB).
const MAX_FILE_BYTES: f64 = 100e6;

/// The model: `?model=` wins, then the plan's choice (with its backend), else IS-Net on the CPU.
fn model_choice(nav: Option<&Nav>, plan: Option<&DevicePlan>) -> ModelChoice {
    let planned = match plan.map(|p| &p.state) {
        Some(ProbeState::Ready { plan, .. }) => plan.task(Task::RemoveBackground).cloned(),
        _ => None,
    };
    let backend = planned.as_ref().map_or(Backend::Cpu, |t| t.backend);
    let variant_id = nav
        .and_then(|n| n.location.get("model"))
        .map(str::to_string)
        .or_else(|| planned.and_then(|t| t.variant))
        .unwrap_or_else(|| "isnet-general".to_string());
    ModelChoice {
        dtype: planned_dtype(plan, Task::RemoveBackground, &variant_id),
        variant_id,
        mirror: nav.and_then(effective_mirror),
        backend,
    }
}

/// The background preview from the URL (`bg`: none, color, blur, image; `color`: #rrggbb).
fn background_from(nav: Option<&Nav>) -> Background {
    let get = |k: &str| nav.and_then(|n| n.location.get(k)).unwrap_or("");
    match get("bg") {
        "color" => {
            let c = get("color");
            let valid =
                c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit());
            Background::Color(if valid {
                c.to_string()
            } else {
                "#ffffff".into()
            })
        }
        "blur" => Background::Blur,
        "image" => Background::Image,
        _ => Background::Transparent,
    }
}

/// Changes to the list of photos.
enum Action {
    Add(Item),
    Update(u32, ItemState),
    Remove(u32),
    /// A failed photo whose bytes were kept goes back in the queue.
    Retry(u32),
}

#[derive(Default, PartialEq)]
struct Items(Vec<Item>);

impl Reducible for Items {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut items = self.0.clone();
        match action {
            Action::Add(item) => items.push(item),
            Action::Update(id, state) => {
                if let Some(item) = items.iter_mut().find(|i| i.id == id) {
                    item.state = state;
                }
            }
            Action::Retry(id) => {
                if let Some(item) = items.iter_mut().find(|i| i.id == id) {
                    if let ItemState::Failed(_, Some(bytes)) = &item.state {
                        item.state = ItemState::Queued(bytes.clone());
                    }
                }
            }
            Action::Remove(id) => {
                if let Some(at) = items.iter().position(|i| i.id == id) {
                    items.remove(at).release();
                }
            }
        }
        Rc::new(Items(items))
    }
}

/// An object URL for bytes of type `mime`.
pub fn blob_url(bytes: &[u8], mime: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&Uint8Array::from(bytes).into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts.into(), &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let name = file.name();
    if file.size() > MAX_FILE_BYTES {
        return Err(format!(
            "{name} is {:.0} MB; Offgrid opens photos of up to {:.0} MB.",
            file.size() / 1e6,
            MAX_FILE_BYTES / 1e6
        ));
    }
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("{name} could not be read."))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

#[function_component(RemoveBackgroundPage)]
pub fn remove_background_page() -> Html {
    let nav = use_context::<Nav>();
    let engine = use_context::<Rc<Engine>>();
    let plan = use_context::<DevicePlan>();
    let catalog = use_memo((), |_| Catalog::builtin());
    let choice = model_choice(nav.as_ref(), plan.as_ref());
    let background = background_from(nav.as_ref());
    let refine = nav.as_ref().and_then(|n| n.location.get("refine")) != Some("0");
    let items = use_reducer(Items::default);
    let next_id = use_mut_ref(|| 0u32);
    // The job running now (one photo at a time, in the order they came).
    let running = use_mut_ref(|| None::<(u32, u32)>);
    let backdrop = use_state(|| None::<String>);

    // Start the next queued photo whenever nothing runs.
    {
        let items_handle = items.clone();
        let engine = engine.clone();
        let running = running.clone();
        let choice = choice.clone();
        use_effect_with(items.clone(), move |items| {
            let idle = running.borrow().is_none();
            let next = items
                .0
                .iter()
                .find(|i| matches!(i.state, ItemState::Queued(_)));
            if let (true, Some(item), Some(engine)) = (idle, next, engine.as_ref()) {
                let ItemState::Queued(bytes) = &item.state else {
                    return;
                };
                let id = item.id;
                let request = Request::RemoveBackground(RemoveBackgroundRequest {
                    photo: bytes.as_ref().clone(),
                    name: item.name.clone(),
                    model: choice,
                    refine,
                });
                items_handle.dispatch(Action::Update(id, ItemState::Running(None)));
                let (items, running_ref) = (items_handle.clone(), running.clone());
                let photo = bytes.clone();
                let job = engine.run(
                    request,
                    Callback::from(move |event: WorkerEvent| {
                        let state = match event {
                            WorkerEvent::Progress { .. } => ItemState::Running(Some(event)),
                            WorkerEvent::Done {
                                result: JobResult::Cutout(cut),
                                ..
                            } => ItemState::done(&cut),
                            WorkerEvent::Done { .. } => ItemState::Failed(
                                "The worker answered something else.".into(),
                                Some(photo.clone()),
                            ),
                            WorkerEvent::Failed { error, .. } => {
                                let again = may_retry(error.kind).then(|| photo.clone());
                                ItemState::Failed(error.message, again)
                            }
                            WorkerEvent::Cancelled { .. } => {
                                ItemState::Failed("Stopped.".into(), Some(photo.clone()))
                            }
                            _ => return,
                        };
                        if !matches!(state, ItemState::Running(_)) {
                            *running_ref.borrow_mut() = None;
                        }
                        items.dispatch(Action::Update(id, state));
                    }),
                );
                *running.borrow_mut() = Some((id, job));
            }
        });
    }

    let add_files = {
        let items = items.clone();
        let next_id = next_id.clone();
        Callback::from(move |files: Vec<web_sys::File>| {
            for file in files {
                let items = items.clone();
                let id = {
                    let mut n = next_id.borrow_mut();
                    *n += 1;
                    *n
                };
                wasm_bindgen_futures::spawn_local(async move {
                    let name = file.name();
                    let original = web_sys::Url::create_object_url_with_blob(&file).ok();
                    let state = match read_file(&file).await {
                        Ok(bytes) => ItemState::Queued(Rc::new(bytes)),
                        Err(e) => ItemState::Failed(e, None),
                    };
                    items.dispatch(Action::Add(Item {
                        id,
                        name,
                        original,
                        state,
                    }));
                });
            }
        })
    };
    let on_pick = {
        let add_files = add_files.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            add_files.emit(file_list(input.files()));
            input.set_value("");
        })
    };
    let on_drop = {
        let add_files = add_files.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            add_files.emit(file_list(e.data_transfer().and_then(|d| d.files())));
        })
    };
    // A photo shared from another app, or opened with Offgrid: into the queue like a picked one, once the
    // plan has settled (so it is cut out by the model the person chose, not the fallback).
    let plan_settled = !matches!(plan.as_ref().map(|p| &p.state), Some(ProbeState::Running));
    {
        let add_files = add_files.clone();
        let items = items.clone();
        let nav = nav.clone();
        let shared = nav
            .as_ref()
            .and_then(|n| n.location.get("shared"))
            .map(str::to_string);
        let next_id = next_id.clone();
        use_effect_with((shared, plan_settled), move |(shared, settled)| {
            if let (Some(key), true) = (shared.clone(), *settled) {
                if let Some(nav) = &nav {
                    nav.replace(nav.location.with("shared", ""));
                }
                wasm_bindgen_futures::spawn_local(async move {
                    match receive::take_shared(&key).await {
                        Ok(file) => add_files.emit(vec![file]),
                        Err(e) => {
                            let id = {
                                let mut n = next_id.borrow_mut();
                                *n += 1;
                                *n
                            };
                            items.dispatch(Action::Add(Item {
                                id,
                                name: "Shared image".into(),
                                original: None,
                                state: ItemState::Failed(e, None),
                            }));
                        }
                    }
                });
            }
        });
    }
    {
        let add_files = add_files.clone();
        use_effect_with(plan_settled, move |settled| {
            if *settled {
                receive::on_launch(move |files| add_files.emit(files));
            }
        });
    }
    // Paste anywhere on the page.
    {
        let add_files = add_files.clone();
        use_effect_with((), move |_| {
            let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::ClipboardEvent)>::new(
                move |e: web_sys::ClipboardEvent| {
                    let files = file_list(e.clipboard_data().and_then(|d| d.files()));
                    if !files.is_empty() {
                        e.prevent_default();
                        add_files.emit(files);
                    }
                },
            );
            let document = web_sys::window().and_then(|w| w.document());
            if let Some(d) = &document {
                let _ =
                    d.add_event_listener_with_callback("paste", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(d) = &document {
                    let _ = d.remove_event_listener_with_callback(
                        "paste",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    let on_retry = {
        let items = items.clone();
        Callback::from(move |id: u32| items.dispatch(Action::Retry(id)))
    };
    let on_remove = {
        let items = items.clone();
        let engine = engine.clone();
        let running = running.clone();
        Callback::from(move |id: u32| {
            let job = running
                .borrow()
                .filter(|(i, _)| *i == id)
                .map(|(_, job)| job);
            if let (Some(job), Some(engine)) = (job, engine.as_ref()) {
                engine.cancel(job);
            }
            items.dispatch(Action::Remove(id));
        })
    };
    let set_query = {
        let nav = nav.clone();
        move |pairs: Vec<(&'static str, String)>| {
            if let Some(nav) = &nav {
                let mut location = nav.location.clone();
                for (k, v) in pairs {
                    location = location.with(k, &v);
                }
                nav.replace(location);
            }
        }
    };
    let on_background = {
        let set = set_query.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            set(vec![("bg", select.value())]);
        })
    };
    let on_color = {
        let set = set_query.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            set(vec![("bg", "color".into()), ("color", input.value())]);
        })
    };
    let on_refine = {
        let set = set_query.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            set(vec![(
                "refine",
                if input.checked() {
                    String::new()
                } else {
                    "0".into()
                },
            )]);
        })
    };
    let on_backdrop = {
        let backdrop = backdrop.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                if let Some(old) = backdrop.as_ref() {
                    let _ = web_sys::Url::revoke_object_url(old);
                }
                backdrop.set(web_sys::Url::create_object_url_with_blob(&file).ok());
            }
        })
    };

    let model_ok = check_model(&catalog, Task::RemoveBackground, &choice.variant_id).is_ok();
    let model_line = html! {
        <ModelLine task={Task::RemoveBackground} variant_id={choice.variant_id.clone()} backend={choice.backend}
            show_license=true />
    };
    let color = match &background {
        Background::Color(c) => c.clone(),
        _ => "#ffffff".into(),
    };
    let bg_value = match background {
        Background::Transparent => "none",
        Background::Color(_) => "color",
        Background::Blur => "blur",
        Background::Image => "image",
    };
    html! {
        <section class="remove-background" ondrop={on_drop} ondragover={Callback::from(|e: DragEvent| e.prevent_default())}>
            <p class="lead">{ "Cut the subject of a photo out of its background. Photos stay on this device: open, drop or paste them here." }</p>
            { model_line }
            <div class="picker">
                <label class="button">{ "Open photos" }
                    <input id="photo-input" type="file" accept="image/png,image/jpeg,image/webp,image/gif" multiple=true onchange={on_pick} disabled={!model_ok} />
                </label>
                <span class="muted">{ "or drop / paste images (PNG, JPEG, WebP, GIF; up to 64 megapixels)" }</span>
            </div>
            <div class="settings-grid">
                <label>{ "Background" }
                    <select id="bg" onchange={on_background}>
                        <option value="none" selected={bg_value == "none"}>{ "Transparent" }</option>
                        <option value="color" selected={bg_value == "color"}>{ "A colour" }</option>
                        <option value="blur" selected={bg_value == "blur"}>{ "The photo, blurred" }</option>
                        <option value="image" selected={bg_value == "image"}>{ "Another image" }</option>
                    </select>
                </label>
                if bg_value == "color" {
                    <label>{ "Colour" }<input id="bg-color" type="color" value={color} onchange={on_color} /></label>
                }
                if bg_value == "image" {
                    <label>{ "Image" }<input id="bg-image" type="file" accept="image/*" onchange={on_backdrop} /></label>
                }
                <label class="check"><input id="refine" type="checkbox" checked={refine} onchange={on_refine} />{ "Refine edges" }</label>
            </div>
            <ul class="cutouts" id="cutouts">
                { for items.0.iter().map(|item| html! {
                    <CutoutCard key={item.id} item={item.clone()} background={background.clone()}
                        backdrop={(*backdrop).clone()} on_remove={on_remove.clone()} on_retry={on_retry.clone()} />
                }) }
            </ul>
        </section>
    }
}

fn file_list(files: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    files
        .map(|f| (0..f.length()).filter_map(|i| f.get(i)).collect())
        .unwrap_or_default()
}
