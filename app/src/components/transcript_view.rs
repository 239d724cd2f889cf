//! A transcript on screen: timed lines (click one to hear that span of the recording) and export as
//! `.txt`, `.srt` or `.vtt` (formatted by `offgrid_workers::transcript`, downloaded from a blob).

use crate::components::audio_file::AudioFile;
use crate::components::audio_segments::{clock, wav_url};
use offgrid_workers::protocol::TranscriptLine;
use offgrid_workers::transcript::ExportFormat;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlMediaElement;
use yew::prelude::*;

/// Audio the page can play: a stretch of the recording (a live utterance, or a whole file from 0 s).
#[derive(Clone, PartialEq)]
pub struct AudioSource {
    /// Where this audio starts on the recording's clock.
    pub start_s: f64,
    pub end_s: f64,
    /// A `blob:` URL the page owns (revoked with [`revoke`]).
    pub url: String,
    /// The opened file behind `url`, to cut a line's span from when the browser cannot play the file
    /// itself (a WAV of 64-bit floats, say).
    pub file: Option<AudioFile>,
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

/// Starts the player. A file it cannot play rejects the promise: that is handled by the `error` event
/// (which cuts the span instead), so the rejection is awaited here rather than left unhandled.
fn start(el: &HtmlMediaElement) {
    if let Ok(promise) = el.play() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
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
    // A span cut from the file because the player could not play the file: revoked when replaced.
    let cut_url = use_mut_ref(|| None::<String>);
    {
        let cut_url = cut_url.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some(u) = cut_url.borrow_mut().take() {
                    let _ = web_sys::Url::revoke_object_url(&u);
                }
            }
        });
    }

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
            start(&el);
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
    // The browser could not play the file: play the line's span, cut from the file and made a WAV here.
    let on_error = {
        let playing = playing.clone();
        let stop_at = stop_at.clone();
        let cut_url = cut_url.clone();
        let sources = props.sources.clone();
        let lines = props.lines.clone();
        Callback::from(move |e: Event| {
            let el: HtmlMediaElement = e.target_unchecked_into();
            let Some(line) = (*playing).and_then(|i| lines.get(i)).cloned() else {
                return;
            };
            let Some(file) = source_at(&sources, line.start_s)
                .filter(|s| s.url == el.src())
                .and_then(|s| s.file.clone())
            else {
                return;
            };
            let (stop_at, cut_url, playing) = (stop_at.clone(), cut_url.clone(), playing.clone());
            wasm_bindgen_futures::spawn_local(async move {
                // The same stretch the file would have played (it pauses 50 ms after the end).
                let Some(url) = file
                    .span_wav(line.start_s, line.end_s + 0.05)
                    .await
                    .ok()
                    .and_then(|wav| wav_url(&wav))
                else {
                    return playing.set(None);
                };
                if let Some(old) = cut_url.borrow_mut().replace(url.clone()) {
                    let _ = web_sys::Url::revoke_object_url(&old);
                }
                el.set_src(&url);
                *stop_at.borrow_mut() = f64::INFINITY;
                start(&el);
            });
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
            <audio ref={player} id="player" preload="auto" ontimeupdate={on_time} onended={on_ended} onerror={on_error}></audio>
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
