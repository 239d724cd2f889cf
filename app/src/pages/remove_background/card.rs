//! One photo on the remove-background page: queued, running (with its progress), failed (with the reason),
//! or done — a before/after slider over the chosen background, and the downloads.

use super::blob_url;
use crate::components::job_status::JobStatus;
use offgrid_workers::protocol::{Backend, Cutout, WorkerEvent};
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What is shown behind the cut-out.
#[derive(Clone, PartialEq)]
pub enum Background {
    /// A checkerboard (the PNG's transparency).
    Transparent,
    /// `#rrggbb`.
    Color(String),
    /// The original photo, blurred.
    Blur,
    /// An image the person chose.
    Image,
}

/// A finished cut-out's object URLs and figures.
#[derive(Clone, PartialEq)]
pub struct Done {
    pub png_url: String,
    pub webp_url: String,
    pub width: u32,
    pub height: u32,
    pub png_bytes: usize,
    pub model_millis: f64,
    pub total_millis: f64,
    pub backend: Backend,
}

#[derive(Clone, PartialEq)]
pub enum ItemState {
    /// Read, waiting for its turn.
    Queued(Rc<Vec<u8>>),
    /// In the worker; the latest progress event.
    Running(Option<WorkerEvent>),
    Done(Rc<Done>),
    /// The message, and the photo's bytes when trying again may help (the model failed, not the photo).
    Failed(String, Option<Rc<Vec<u8>>>),
}

impl ItemState {
    /// A finished job's result as object URLs.
    pub fn done(cut: &Cutout) -> ItemState {
        match (
            blob_url(&cut.png, "image/png"),
            blob_url(&cut.webp, "image/webp"),
        ) {
            (Some(png_url), Some(webp_url)) => ItemState::Done(Rc::new(Done {
                png_url,
                webp_url,
                width: cut.width,
                height: cut.height,
                png_bytes: cut.png.len(),
                model_millis: cut.model_millis,
                total_millis: cut.total_millis,
                backend: cut.backend,
            })),
            _ => ItemState::Failed("The browser could not hold the result.".into(), None),
        }
    }
}

/// One photo and what became of it.
#[derive(Clone, PartialEq)]
pub struct Item {
    pub id: u32,
    pub name: String,
    /// Object URL of the photo as opened.
    pub original: Option<String>,
    pub state: ItemState,
}

impl Item {
    /// Releases the object URLs (the item leaves the page).
    pub fn release(&self) {
        let urls = [self.original.clone()]
            .into_iter()
            .flatten()
            .chain(match &self.state {
                ItemState::Done(d) => vec![d.png_url.clone(), d.webp_url.clone()],
                _ => vec![],
            });
        for url in urls {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct CutoutCardProps {
    pub item: Item,
    pub background: Background,
    /// Object URL of the image chosen as background.
    pub backdrop: Option<String>,
    pub on_remove: Callback<u32>,
    /// Queues a failed photo again.
    pub on_retry: Callback<u32>,
}

fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

#[function_component(CutoutCard)]
pub fn cutout_card(props: &CutoutCardProps) -> Html {
    // Where the before/after divide is, in percent from the left (the cut-out is right of it).
    let split = use_state(|| 50u32);
    let item = &props.item;
    let id = item.id;
    let remove = {
        let cb = props.on_remove.clone();
        Callback::from(move |_| cb.emit(id))
    };
    let body = match &item.state {
        ItemState::Queued(_) => html! { <p class="muted">{ "Waiting…" }</p> },
        ItemState::Running(event) => html! {
            <JobStatus event={event.clone()} running=true on_cancel={props.on_remove.reform(move |_| id)} />
        },
        ItemState::Failed(message, again) => {
            let retry = again.as_ref().map(|_| {
                let cb = props.on_retry.clone();
                html! { <button class="secondary retry" onclick={Callback::from(move |_| cb.emit(id))}>{ "Retry" }</button> }
            });
            html! { <p class="job-status error" role="alert">{ message.clone() }{ for retry }</p> }
        }
        ItemState::Done(done) => {
            let on_split = {
                let split = split.clone();
                Callback::from(move |e: InputEvent| {
                    let input: HtmlInputElement = e.target_unchecked_into();
                    split.set(input.value().parse().unwrap_or(50));
                })
            };
            let original = item.original.clone().unwrap_or_default();
            let (bg_class, bg_style) = match &props.background {
                Background::Transparent => ("bg-checker", String::new()),
                Background::Color(c) => ("bg-color", format!("background-color: {c}")),
                Background::Blur => ("bg-blur", String::new()),
                Background::Image => (
                    "bg-image",
                    props
                        .backdrop
                        .as_ref()
                        .map_or(String::new(), |u| format!("background-image: url(\"{u}\")")),
                ),
            };
            html! {
                <>
                    <div class={classes!("compare", bg_class)} style={bg_style}
                        aspect={format!("{}/{}", done.width, done.height)}>
                        if props.background == Background::Blur {
                            <img class="blurred" src={original.clone()} alt="" aria-hidden="true" />
                        }
                        <img class="cutout" src={done.png_url.clone()} alt={format!("{} without its background", item.name)}
                            data-width={done.width.to_string()} data-height={done.height.to_string()} />
                        <img class="before" src={original} alt={format!("{} as it was", item.name)}
                            style={format!("clip-path: inset(0 {}% 0 0)", 100 - *split)} />
                    </div>
                    <label class="slider">{ "Before / after" }
                        <input type="range" min="0" max="100" value={split.to_string()} oninput={on_split} />
                    </label>
                    <p class="muted cut-stats">
                        { format!("{} × {} · model {:.1} s on the {} · {:.1} s in all",
                            done.width, done.height, done.model_millis / 1000.0,
                            match done.backend { Backend::Gpu => "GPU", Backend::Cpu => "CPU" },
                            done.total_millis / 1000.0) }
                    </p>
                    <p class="downloads">
                        <a class="button download-png" href={done.png_url.clone()} download={format!("{}-cutout.png", stem(&item.name))}>
                            { format!("Download PNG ({:.1} MB)", done.png_bytes as f64 / 1e6) }</a>
                        <a class="button secondary download-webp" href={done.webp_url.clone()} download={format!("{}-cutout.webp", stem(&item.name))}>
                            { "Download WebP" }</a>
                    </p>
                </>
            }
        }
    };
    let state = match &item.state {
        ItemState::Queued(_) => "queued",
        ItemState::Running(_) => "running",
        ItemState::Done(_) => "done",
        ItemState::Failed(..) => "failed",
    };
    html! {
        <li class="cutout-card" data-state={state} data-name={item.name.clone()}>
            <div class="cutout-head">
                <strong>{ item.name.clone() }</strong>
                <button class="secondary small" onclick={remove} aria-label={format!("Remove {}", item.name)}>{ "Remove" }</button>
            </div>
            { body }
        </li>
    }
}
