//! Audio into the app: the microphone through an AudioWorklet (chunks go to the worker as they come,
//! at the device's rate), and files (WAV bytes as they are, other formats through `decodeAudioData`).

use js_sys::{ArrayBuffer, Float32Array, Uint8Array};
use offgrid_workers::protocol::AudioInput;
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
/// Larger files are refused before reading (about 2 hours of 16-bit stereo at 44.1 kHz).
pub const MAX_FILE_BYTES: f64 = 1.3e9;

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

fn is_wav(name: &str, bytes: &[u8]) -> bool {
    (bytes.len() >= 12
        && (&bytes[..4] == b"RIFF" || &bytes[..4] == b"RF64")
        && &bytes[8..12] == b"WAVE")
        || name.to_ascii_lowercase().ends_with(".wav")
}

/// Reads an audio file: WAV bytes go to the worker as they are (hound decodes them there); other
/// formats are decoded by the browser and averaged to mono (the worker resamples).
pub async fn read_audio_file(file: &web_sys::File) -> Result<AudioInput, String> {
    let name = file.name();
    if file.size() > MAX_FILE_BYTES {
        return Err(format!(
            "{name} is {:.0} MB; Offgrid reads audio files up to {:.0} MB.",
            file.size() / 1e6,
            MAX_FILE_BYTES / 1e6
        ));
    }
    let buffer: ArrayBuffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("{name} could not be read."))?
        .dyn_into()
        .map_err(|_| format!("{name} could not be read."))?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    if bytes.is_empty() {
        return Err(format!("{name} is empty."));
    }
    if is_wav(&name, &bytes) {
        return Ok(AudioInput::Wav(bytes));
    }
    let unreadable =
        || format!("{name} is not audio this browser can decode. Try a WAV, MP3, OGG or M4A file.");
    let context =
        web_sys::OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
            1, 1, 16_000.0,
        )
        .map_err(|_| unreadable())?;
    let promise = context
        .decode_audio_data(&buffer)
        .map_err(|_| unreadable())?;
    let decoded: web_sys::AudioBuffer = JsFuture::from(promise)
        .await
        .map_err(|_| unreadable())?
        .dyn_into()
        .map_err(|_| unreadable())?;
    let channels = decoded.number_of_channels().max(1);
    let mut mono = vec![0f32; decoded.length() as usize];
    for c in 0..channels {
        let data = decoded.get_channel_data(c).map_err(|_| unreadable())?;
        for (m, s) in mono.iter_mut().zip(&data) {
            *m += s / channels as f32;
        }
    }
    Ok(AudioInput::Pcm {
        samples: mono,
        rate: decoded.sample_rate().round() as u32,
    })
}
