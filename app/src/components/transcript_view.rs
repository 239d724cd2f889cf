//! A transcript on screen: timed lines (click one to hear that span of the recording) and export as
//! `.txt`, `.srt` or `.vtt` (formatted by `offgrid_workers::transcript`, downloaded from a blob).

use crate::components::audio_segments::clock;
use offgrid_workers::protocol::TranscriptLine;
use offgrid_workers::transcript::ExportFormat;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlMediaElement;
use yew::prelude::*;

/// Audio the page can play: a stretch of the recording (a live utterance, or a whole file from 0 s).
#[derive(Clone, Debug, PartialEq)]
pub struct AudioSource {
    /// Where this audio starts on the recording's clock.
    pub start_s: f64,
    pub end_s: f64,
    /// A `blob:` URL the page owns (revoked with [`revoke`]).
    pub url: String,
}

/// Releases the blob URLs of `sources`.
pub fn revoke(sources: &[AudioSource]) {
    for s in sources {
        let _ = web_sys::Url::revoke_object_url(&s.url);
    }
}

/// The source that holds time `t`: the last one starting at or before it.
fn source_at(sources: &[AudioSource], t: f64) -> Option<&AudioSource> {
    sources
        .iter()
        .filter(|s| s.start_s <= t + 0.001)
        .max_by(|a, b| a.start_s.total_cmp(&b.start_s))
}

/// Saves `text` as a file named `name` through a temporary link.
fn download_text(name: &str, mime: &str, text: &str) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(
        &js_sys::Array::of1(&JsValue::from_str(text)),
        &options,
    )?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The browser reads the blob after this task; a later revoke keeps the download intact.
    gloo_timers::callback::Timeout::new(30_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

#[derive(Properties, PartialEq)]
pub struct TranscriptViewProps {
    pub lines: Vec<TranscriptLine>,
    pub sources: Vec<AudioSource>,
    /// File name without extension for exports.
    pub stem: String,
}

#[function_component(TranscriptView)]
pub fn transcript_view(props: &TranscriptViewProps) -> Html {
    let player = use_node_ref();
    let playing = use_state(|| None::<usize>);
    // Where the player must pause (seconds on its own source's clock); read by `ontimeupdate`.
    let stop_at = use_mut_ref(|| f64::INFINITY);
    let export_error = use_state(|| None::<String>);

    let play = {
        let player = player.clone();
        let playing = playing.clone();
        let stop_at = stop_at.clone();
        let sources = props.sources.clone();
        let lines = props.lines.clone();
        Callback::from(move |index: usize| {
            let (Some(line), Some(el)) = (lines.get(index), player.cast::<HtmlMediaElement>())
            else {
                return;
            };
            let Some(source) = source_at(&sources, line.start_s) else {
                return;
            };
            if el.src() != source.url {
                el.set_src(&source.url);
            }
            el.set_current_time((line.start_s - source.start_s).max(0.0));
            *stop_at.borrow_mut() = (line.end_s - source.start_s).max(0.0) + 0.05;
            let _ = el.play();
            playing.set(Some(index));
        })
    };
    let on_time = {
        let stop_at = stop_at.clone();
        let playing = playing.clone();
        Callback::from(move |e: Event| {
            let el: HtmlMediaElement = e.target_unchecked_into();
            if el.current_time() >= *stop_at.borrow() {
                let _ = el.pause();
                *stop_at.borrow_mut() = f64::INFINITY;
                playing.set(None);
            }
        })
    };
    let on_ended = {
        let playing = playing.clone();
        Callback::from(move |_: Event| playing.set(None))
    };
    let export = |format: ExportFormat| {
        let lines = props.lines.clone();
        let name = format!("{}.{}", props.stem, format.extension());
        let export_error = export_error.clone();
        Callback::from(move |_: MouseEvent| {
            let text = format.render(&lines);
            export_error.set(
                download_text(&name, format.mime(), &text)
                    .err()
                    .map(|_| "The file could not be saved from this browser.".to_string()),
            );
        })
    };

    html! {
        <div class="transcript">
            <audio ref={player} id="player" preload="auto" ontimeupdate={on_time} onended={on_ended}></audio>
            <ol class="transcript-lines" aria-label="Transcript">
            { for props.lines.iter().enumerate().map(|(i, line)| {
                let play = play.clone();
                let current = (*playing == Some(i)).then_some("true");
                let text = if line.text.is_empty() { "…".to_string() } else { line.text.clone() };
                html! {
                    <li class="transcript-line" data-start={format!("{:.3}", line.start_s)} data-end={format!("{:.3}", line.end_s)}>
                        <button class="line-button" aria-current={current}
                            title="Play this part" onclick={Callback::from(move |_| play.emit(i))}>
                            <span class="line-time">{ format!("{} – {}", clock(line.start_s), clock(line.end_s)) }</span>
                            <span class="line-text">{ text }</span>
                        </button>
                    </li>
                }
            }) }
            </ol>
            if !props.lines.is_empty() {
                <div class="export" role="group" aria-label="Export">
                    { for ExportFormat::ALL.iter().map(|f| html! {
                        <button class="secondary" id={format!("export-{}", f.extension())} onclick={export(*f)}>
                            { format!("Download .{}", f.extension()) }
                        </button>
                    }) }
                </div>
            }
            if let Some(e) = &*export_error {
                <p class="job-status error" role="alert">{ e.clone() }</p>
            }
        </div>
    }
}
