//! Speech segments as a list (play, download) and the speech-probability plot.

use crate::components::audio_file::AudioFile;
use offgrid_workers::protocol::SpeechSegment;
use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

/// A `blob:` URL for WAV bytes (the caller revokes it).
pub fn wav_url(wav: &[u8]) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(wav).into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("audio/wav");
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&JsValue::from(parts), &options)
            .ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// `m:ss.s` for a time in seconds.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    format!("{}:{:04.1}", (s / 60.0).floor() as u64, s % 60.0)
}

#[derive(Properties, PartialEq)]
pub struct SegmentRowProps {
    pub index: usize,
    pub segment: SpeechSegment,
    /// The recording a file job's segments are cut from (they carry no audio of their own).
    #[prop_or_default]
    pub source: Option<AudioFile>,
}

/// Saves the file at `url` as `name` through a temporary link.
fn save(url: &str, name: &str) {
    let link = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(link) = link {
        link.set_href(url);
        link.set_download(name);
        link.click();
    }
}

/// One segment: its times, a player and a WAV download. A live segment brings its audio; a file's
/// segment is cut from the file on the first Play or Download, so no decoded audio is held before.
#[function_component(SegmentRow)]
pub fn segment_row(props: &SegmentRowProps) -> Html {
    let url = use_state({
        let wav = props.segment.wav.clone();
        move || wav.as_deref().and_then(wav_url)
    });
    let autoplay = use_state(|| false);
    let error = use_state(|| None::<String>);
    let cutting = use_state(|| false);
    {
        let url = (*url).clone();
        use_effect_with(url, |url| {
            let url = url.clone();
            move || {
                if let Some(u) = url {
                    let _ = web_sys::Url::revoke_object_url(&u);
                }
            }
        });
    }
    let s = &props.segment;
    let label = format!("{} – {}", clock(s.start_s), clock(s.end_s));
    let file = format!("speech-{:03}-{:.1}s.wav", props.index + 1, s.start_s);
    let cut = |download: bool| {
        let (url, autoplay, error, cutting) = (
            url.clone(),
            autoplay.clone(),
            error.clone(),
            cutting.clone(),
        );
        let source = props.source.clone();
        let (start, end, file) = (s.start_s, s.end_s, file.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(source) = source.clone() else {
                return;
            };
            let (url, autoplay, error, cutting, file) = (
                url.clone(),
                autoplay.clone(),
                error.clone(),
                cutting.clone(),
                file.clone(),
            );
            cutting.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match source.span_wav(start, end).await {
                    Ok(wav) => match wav_url(&wav) {
                        Some(u) => {
                            if download {
                                save(&u, &file);
                            }
                            autoplay.set(!download);
                            url.set(Some(u));
                        }
                        None => error.set(Some("The audio could not be prepared.".into())),
                    },
                    Err(e) => error.set(Some(e)),
                }
                cutting.set(false);
            });
        })
    };
    html! {
        <li class="segment" data-start={format!("{:.3}", s.start_s)} data-end={format!("{:.3}", s.end_s)}>
            <span class="segment-time">{ label.clone() }</span>
            if let Some(u) = (*url).clone() {
                <audio controls={true} preload="none" autoplay={*autoplay} src={u.clone()} aria-label={format!("Play speech {label}")}></audio>
                <a href={u} download={file} class="button secondary">{ "Download WAV" }</a>
            } else if props.source.is_some() {
                <button class="secondary segment-play" onclick={cut(false)} disabled={*cutting}
                    aria-label={format!("Play speech {label}")}>{ "Play" }</button>
                <button class="secondary segment-download" onclick={cut(true)} disabled={*cutting}>{ "Download WAV" }</button>
            }
            if let Some(e) = &*error {
                <span class="job-status error" role="alert">{ e.clone() }</span>
            }
        </li>
    }
}

#[derive(Properties, PartialEq)]
pub struct ProbPlotProps {
    /// Probabilities, oldest first (the plot shows the last `width` of them).
    pub probs: Vec<f32>,
    pub positive: f32,
    pub negative: f32,
    #[prop_or(300)]
    pub width: usize,
}

/// Seconds of audio per probability (one Silero frame: 512 samples at 16 kHz).
const FRAME_S: f64 = 0.032;

/// A scrolling plot of the speech probability per 32 ms frame, with the two thresholds, a time axis and a
/// legend. Text is HTML beside the SVG, which is stretched to the page's width and would distort it.
#[function_component(ProbPlot)]
pub fn prob_plot(props: &ProbPlotProps) -> Html {
    let w = props.width.max(2);
    let first = props.probs.len().saturating_sub(w);
    let tail = &props.probs[first..];
    let points: String = tail
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{},{:.1} ", i, 100.0 - p.clamp(0.0, 1.0) * 100.0))
        .collect();
    let y = |t: f32| format!("{:.1}", 100.0 - t.clamp(0.0, 1.0) * 100.0);
    // Five ticks across the plot, labelled with the time of the audio at that point.
    let ticks: Vec<(f64, String)> = (0..5)
        .map(|k| {
            let at = k as f64 / 4.0;
            let seconds = (first as f64 + at * (w - 1) as f64) * FRAME_S;
            (at * 100.0, clock(seconds))
        })
        .collect();
    html! {
        <figure class="prob-figure">
            <svg class="prob-plot" viewBox={format!("0 0 {w} 100")} preserveAspectRatio="none" role="img"
                aria-label="Speech probability over time, with the two thresholds">
                { for ticks.iter().map(|(at, _)| {
                    let x = format!("{:.1}", at / 100.0 * (w - 1) as f64);
                    html! { <line x1={x.clone()} x2={x} y1="0" y2="100" class="tick" /> }
                }) }
                <line x1="0" x2={w.to_string()} y1={y(props.positive)} y2={y(props.positive)} class="threshold positive" />
                <line x1="0" x2={w.to_string()} y1={y(props.negative)} y2={y(props.negative)} class="threshold negative" />
                <polyline points={points} fill="none" class="prob-line" vector-effect="non-scaling-stroke" />
            </svg>
            <div class="prob-axis" aria-hidden="true">
                { for ticks.iter().map(|(at, label)| html! {
                    <span style={format!("left: {at:.1}%")}>{ label.clone() }</span>
                }) }
            </div>
            <figcaption class="prob-legend">
                <span><i class="key prob-line"></i>{ "speech probability" }</span>
                <span><i class="key threshold positive"></i>{ format!("speech starts above {:.2}", props.positive) }</span>
                <span><i class="key threshold negative"></i>{ format!("and ends below {:.2}", props.negative) }</span>
            </figcaption>
        </figure>
    }
}
