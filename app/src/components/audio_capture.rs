//! The microphone into the app, through an AudioWorklet: chunks go to the worker as they come, at the
//! device's rate. (Files come in through [`crate::components::audio_file`].)

use js_sys::Float32Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AudioContext, AudioWorkletNode, MediaStream, MediaStreamConstraints, MediaStreamTrack,
    MessageEvent,
};
use yew::Callback;

/// The worklet script, copied into the build beside `index.html`.
const WORKLET_URL: &str = "./audio-capture-worklet.js";

fn js_name(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Words for a `getUserMedia` failure.
pub fn mic_error_message(e: &JsValue) -> String {
    match js_name(e).as_str() {
        "NotAllowedError" | "SecurityError" => {
            "Microphone access was refused. Allow the microphone for this site (in the address bar's site settings) and press Start again.".into()
        }
        "NotFoundError" | "OverconstrainedError" => "No microphone was found. Plug one in, or upload a recording instead.".into(),
        "NotReadableError" | "AbortError" => {
            "The microphone could not be opened (another app may be using it). Close that app and try again.".into()
        }
        _ => format!("The microphone could not be started ({}).", js_message(e)),
    }
}

fn js_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// A running microphone capture. Dropping it does not stop it: call [`MicCapture::stop`].
pub struct MicCapture {
    context: AudioContext,
    stream: MediaStream,
    node: AudioWorkletNode,
    _on_chunk: Closure<dyn FnMut(MessageEvent)>,
    on_ended: Closure<dyn FnMut()>,
}

impl MicCapture {
    /// Asks for the microphone and starts posting mono chunks `(samples, rate)` to `on_chunk`;
    /// `on_lost` hears when the device goes away.
    pub async fn start(
        on_chunk: Callback<(Vec<f32>, u32)>,
        on_lost: Callback<String>,
    ) -> Result<MicCapture, String> {
        let window = web_sys::window().ok_or("no window")?;
        let devices = window.navigator().media_devices().map_err(|_| {
            "This browser gives no microphone access here (the page must be opened over https or on localhost).".to_string()
        })?;
        let constraints = MediaStreamConstraints::new();
        constraints.set_audio(&JsValue::TRUE);
        let promise = devices
            .get_user_media_with_constraints(&constraints)
            .map_err(|e| mic_error_message(&e))?;
        let stream: MediaStream = JsFuture::from(promise)
            .await
            .map_err(|e| mic_error_message(&e))?
            .dyn_into()
            .map_err(|_| "not a MediaStream")?;
        // `Clone::clone`, not `stream.clone()`: the latter is MediaStream's own JS `clone()`, a second stream
        // with new tracks, which would leave these tracks (and the microphone) running after Stop.
        match Self::wire(Clone::clone(&stream), on_chunk, on_lost).await {
            Ok(capture) => Ok(capture),
            Err(e) => {
                stop_tracks(&stream);
                Err(e)
            }
        }
    }

    async fn wire(
        stream: MediaStream,
        on_chunk: Callback<(Vec<f32>, u32)>,
        on_lost: Callback<String>,
    ) -> Result<MicCapture, String> {
        let fail = |what: &str, e: JsValue| format!("{what} ({}).", js_message(&e));
        let context =
            AudioContext::new().map_err(|e| fail("Audio is unavailable in this browser", e))?;
        let worklet = context
            .audio_worklet()
            .map_err(|e| fail("AudioWorklet is unavailable in this browser", e))?;
        let module = worklet
            .add_module(WORKLET_URL)
            .map_err(|e| fail("The audio capture script could not load", e))?;
        JsFuture::from(module)
            .await
            .map_err(|e| fail("The audio capture script could not load", e))?;
        let source = context
            .create_media_stream_source(&stream)
            .map_err(|e| fail("The microphone could not be connected", e))?;
        let node = AudioWorkletNode::new(&context, "offgrid-capture")
            .map_err(|e| fail("The audio capture could not start", e))?;
        let rate = context.sample_rate().round() as u32;
        let on_chunk = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(chunk) = event.data().dyn_into::<Float32Array>() {
                on_chunk.emit((chunk.to_vec(), rate));
            }
        });
        let port = node
            .port()
            .map_err(|e| fail("The audio capture could not start", e))?;
        port.set_onmessage(Some(on_chunk.as_ref().unchecked_ref()));
        source
            .connect_with_audio_node(&node)
            .map_err(|e| fail("The microphone could not be connected", e))?;
        let on_ended = Closure::<dyn FnMut()>::new(move || {
            on_lost.emit("The microphone stopped (it was unplugged or turned off). What was heard so far is kept.".into());
        });
        for track in stream.get_audio_tracks().iter() {
            let _ = track
                .unchecked_into::<MediaStreamTrack>()
                .add_event_listener_with_callback("ended", on_ended.as_ref().unchecked_ref());
        }
        // The worklet outputs silence; joining the graph keeps it pulled in every browser.
        let _ = node.connect_with_audio_node(&context.destination());
        let _ = context.resume();
        Ok(MicCapture {
            context,
            stream,
            node,
            _on_chunk: on_chunk,
            on_ended,
        })
    }

    /// Stops the microphone and releases the audio graph.
    pub fn stop(self) {
        if let Ok(port) = self.node.port() {
            port.set_onmessage(None);
        }
        for track in self.stream.get_audio_tracks().iter() {
            let _ = track
                .unchecked_into::<MediaStreamTrack>()
                .remove_event_listener_with_callback(
                    "ended",
                    self.on_ended.as_ref().unchecked_ref(),
                );
        }
        stop_tracks(&self.stream);
        let _ = self.node.disconnect();
        let _ = self.context.close();
    }
}

fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}
