//! Recordings into the voice pages without reading them whole. A WAV file stays a `File` handle: the worker
//! asks for one piece at a time ([`WorkerEvent::AudioWanted`]) and [`feeding`] reads just that slice, so a
//! two-hour recording never sits in memory on either side. Other formats must go through the browser's
//! `decodeAudioData`, which decodes everything at once: those are limited to what fits (about an hour),
//! and the person is told to convert longer ones to WAV. A segment's audio is cut from the file only when
//! it is played or downloaded ([`AudioFile::span_wav`]).

use crate::engine::Engine;
use js_sys::{ArrayBuffer, Float32Array, Promise, Uint8Array};
use offgrid_engine::audio::{write_wav_16bit, Resampler, WavInfo, WavStream, SPEECH_RATE};
use offgrid_workers::protocol::{AudioInput, FileData, JobInput, WorkerEvent};
use offgrid_workers::transcript::short_clock;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use yew::Callback;

/// Largest non-WAV file decoded in the browser (it is read and decoded whole).
pub const MAX_DECODE_BYTES: f64 = 300e6;
/// Longest non-WAV recording decoded in the browser: an hour at 16 kHz is 230 MB of samples.
pub const MAX_DECODE_SECONDS: f64 = 3600.0;
/// The rate the browser decodes other formats to (what the speech models take).
const DECODE_RATE: f32 = 16_000.0;
/// Longest span cut out for playback or download.
const MAX_SPAN_SECONDS: f64 = 3600.0;
/// Bytes read at a time when cutting a span out of a WAV file.
const SPAN_PIECE: u64 = 2 << 20;
/// Bytes read at a time while looking for the start of a WAV file's audio.
const HEADER_PIECE: u64 = 64 << 10;
/// Frames mixed to mono at a time when a decoded file is turned into one channel.
const MIX_FRAMES: usize = 1 << 16;

enum Audio {
    /// A WAV file, read in slices; its header once it has been read for a span.
    Wav { header: Cell<Option<WavInfo>> },
    /// Another format, decoded by the browser to mono at `rate` (a JS array: freed with the page's state).
    Decoded { mono: Float32Array, rate: u32 },
}

struct Inner {
    file: web_sys::File,
    audio: Audio,
}

/// An opened recording (cheap to clone; equal when it is the same one).
#[derive(Clone)]
pub struct AudioFile {
    inner: Rc<Inner>,
}

impl PartialEq for AudioFile {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

fn js_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The bytes `[from, to)` of a blob.
async fn read_bytes(blob: &web_sys::Blob, from: f64, to: f64) -> Result<Vec<u8>, JsValue> {
    let slice = blob.slice_with_f64_and_f64(from, to)?;
    let buffer: ArrayBuffer = JsFuture::from(slice.array_buffer()).await?.dyn_into()?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    release(&buffer);
    Ok(bytes)
}

/// Frees an array buffer's memory now (`transfer(0)` detaches it) rather than whenever the garbage
/// collector gets to it: a long file is read as hundreds of pieces, and uncollected pieces pile up.
fn release(buffer: &ArrayBuffer) {
    if let Ok(transfer) = js_sys::Reflect::get(buffer, &JsValue::from_str("transfer")) {
        if let Some(transfer) = transfer.dyn_ref::<js_sys::Function>() {
            let _ = transfer.call1(buffer, &JsValue::from(0));
        }
    }
}

fn convert_hint(name: &str) -> String {
    format!(
        "Convert it to WAV to process a longer recording (for example `ffmpeg -i \"{name}\" -ac 1 -ar 16000 recording.wav`): WAV files of any length are read as a stream."
    )
}

/// The duration the browser reads from the file's metadata (`None` when it cannot tell).
async fn metadata_duration(file: &web_sys::File) -> Option<f64> {
    let url = web_sys::Url::create_object_url_with_blob(file).ok()?;
    let element = web_sys::HtmlAudioElement::new().ok()?;
    element.set_preload("metadata");
    let loaded = Promise::new(&mut |resolve, _| {
        element.set_onloadedmetadata(Some(&resolve));
        element.set_onerror(Some(&resolve));
    });
    // A format the element cannot read may never answer: give up after a few seconds.
    let timeout = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 5000);
        }
    });
    element.set_src(&url);
    let _ = JsFuture::from(Promise::race(&js_sys::Array::of2(&loaded, &timeout))).await;
    let duration = element.duration();
    element.set_onloadedmetadata(None);
    element.set_onerror(None);
    element.set_src("");
    let _ = web_sys::Url::revoke_object_url(&url);
    duration.is_finite().then_some(duration)
}

impl AudioFile {
    /// Opens a recording: WAV files as they are (nothing read but the first bytes); other formats decoded
    /// by the browser, within [`MAX_DECODE_BYTES`] and [`MAX_DECODE_SECONDS`].
    pub async fn open(file: web_sys::File) -> Result<AudioFile, String> {
        let name = file.name();
        if file.size() == 0.0 {
            return Err(format!("{name} is empty."));
        }
        let head = read_bytes(&file, 0.0, 12.0)
            .await
            .map_err(|_| format!("{name} could not be read."))?;
        let magic = head.get(..4).unwrap_or_default();
        let wav = (head.get(8..12) == Some(b"WAVE")
            && matches!(magic, b"RIFF" | b"RF64" | b"BW64" | b"RIFX"))
            || name.to_ascii_lowercase().ends_with(".wav");
        let audio = if wav {
            Audio::Wav {
                header: Cell::new(None),
            }
        } else {
            Self::decode(&file).await?
        };
        Ok(AudioFile {
            inner: Rc::new(Inner { file, audio }),
        })
    }

    async fn decode(file: &web_sys::File) -> Result<Audio, String> {
        let name = file.name();
        if file.size() > MAX_DECODE_BYTES {
            return Err(format!(
                "{name} is {:.0} MB. Formats other than WAV are decoded whole in the browser, so Offgrid takes them up to {:.0} MB and about an hour. {}",
                file.size() / 1e6,
                MAX_DECODE_BYTES / 1e6,
                convert_hint(&name)
            ));
        }
        let too_long = |seconds: f64| {
            format!(
                "{name} is {} long. Formats other than WAV are decoded whole in the browser, so Offgrid takes them up to an hour. {}",
                short_clock(seconds),
                convert_hint(&name)
            )
        };
        // Refused before decoding: decoding hours of audio at once could take the tab down.
        if let Some(seconds) = metadata_duration(file).await {
            if seconds > MAX_DECODE_SECONDS * 1.01 {
                return Err(too_long(seconds));
            }
        }
        let unreadable = || {
            format!("{name} is not audio this browser can decode. Try a WAV, MP3, OGG or M4A file.")
        };
        let buffer: ArrayBuffer = JsFuture::from(file.array_buffer())
            .await
            .map_err(|_| format!("{name} could not be read."))?
            .dyn_into()
            .map_err(|_| format!("{name} could not be read."))?;
        // An offline context at 16 kHz makes the browser resample while it decodes.
        let context =
            web_sys::OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
                1,
                1,
                DECODE_RATE,
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
        if decoded.duration() > MAX_DECODE_SECONDS * 1.01 {
            return Err(too_long(decoded.duration()));
        }
        let channels = decoded.number_of_channels().max(1);
        let length = decoded.length();
        let mono = Float32Array::new_with_length(length);
        // Mixed a block at a time: only a block, never the whole recording, passes through wasm memory.
        let mut block = vec![0f32; MIX_FRAMES];
        let mut sum = vec![0f32; MIX_FRAMES];
        let mut start = 0u32;
        while start < length {
            let n = (length - start).min(MIX_FRAMES as u32) as usize;
            sum[..n].fill(0.0);
            for c in 0..channels {
                decoded
                    .copy_from_channel_with_start_in_channel(&mut block[..n], c as i32, start)
                    .map_err(|_| unreadable())?;
                for (s, b) in sum[..n].iter_mut().zip(&block[..n]) {
                    *s += b / channels as f32;
                }
            }
            mono.subarray(start, start + n as u32).copy_from(&sum[..n]);
            start += n as u32;
        }
        Ok(Audio::Decoded {
            mono,
            rate: decoded.sample_rate().round() as u32,
        })
    }

    /// What the worker is told about the audio it will pull.
    pub fn input(&self) -> AudioInput {
        match &self.inner.audio {
            Audio::Wav { .. } => AudioInput::Wav {
                bytes: self.inner.file.size() as u64,
            },
            Audio::Decoded { mono, rate } => AudioInput::Decoded {
                frames: u64::from(mono.length()),
                rate: *rate,
            },
        }
    }

    /// The piece the worker asked for: `len` bytes (WAV) or frames (decoded audio) from `from`.
    pub async fn piece(&self, from: u64, len: u64) -> FileData {
        match &self.inner.audio {
            Audio::Wav { .. } => {
                let size = self.inner.file.size();
                let (a, b) = ((from as f64).min(size), ((from + len) as f64).min(size));
                match read_bytes(&self.inner.file, a, b).await {
                    Ok(bytes) => FileData::Bytes(bytes),
                    Err(e) => FileData::Unreadable(format!(
                        "{} could not be read any more ({}). Was it moved, changed or deleted? Choose it again.",
                        self.inner.file.name(),
                        js_message(&e)
                    )),
                }
            }
            Audio::Decoded { mono, .. } => {
                let a = (from as u32).min(mono.length());
                let b = ((from + len) as u32).min(mono.length());
                FileData::Samples(mono.subarray(a, b).to_vec())
            }
        }
    }

    /// The WAV header, read once (metadata before the audio is skipped, not read).
    async fn wav_header(&self) -> Result<WavInfo, String> {
        if let Audio::Wav { header } = &self.inner.audio {
            if let Some(info) = header.get() {
                return Ok(info);
            }
            let file = &self.inner.file;
            let mut stream = WavStream::new();
            let mut ignored = Vec::new();
            while stream.info().is_none() {
                let at = stream.position() as f64;
                if at >= file.size() {
                    break;
                }
                let bytes = read_bytes(file, at, at + HEADER_PIECE as f64)
                    .await
                    .map_err(|e| js_message(&e))?;
                stream
                    .push(&bytes, &mut ignored)
                    .map_err(|e| e.to_string())?;
                ignored.clear();
            }
            let info = *stream.info().ok_or("the WAV header is incomplete")?;
            header.set(Some(info));
            return Ok(info);
        }
        Err("not a WAV file".into())
    }

    /// The audio from `start_s` to `end_s` as a 16 kHz 16-bit mono WAV file, cut from the file now (for
    /// playing or downloading one segment).
    pub async fn span_wav(&self, start_s: f64, end_s: f64) -> Result<Vec<u8>, String> {
        let fail = |e: String| format!("This part of the recording could not be read: {e}.");
        let (start_s, end_s) = (start_s.max(0.0), end_s.max(start_s.max(0.0)));
        if end_s - start_s > MAX_SPAN_SECONDS {
            return Err(format!(
                "This segment is {} long; segments up to an hour can be played or saved here.",
                short_clock(end_s - start_s)
            ));
        }
        let samples = match &self.inner.audio {
            Audio::Decoded { mono, rate } => {
                let at = |t: f64| ((t * f64::from(*rate)).round() as u32).min(mono.length());
                let samples = mono.subarray(at(start_s), at(end_s)).to_vec();
                if *rate == SPEECH_RATE {
                    samples
                } else {
                    offgrid_engine::audio::resample(&samples, *rate, SPEECH_RATE)
                        .map_err(|e| fail(e.to_string()))?
                }
            }
            Audio::Wav { .. } => self.wav_span(start_s, end_s).await.map_err(fail)?,
        };
        write_wav_16bit(&samples, SPEECH_RATE).map_err(|e| fail(e.to_string()))
    }

    /// Samples at 16 kHz of `[start_s, end_s)` of a WAV file, read a piece at a time.
    async fn wav_span(&self, start_s: f64, end_s: f64) -> Result<Vec<f32>, String> {
        let info = self.wav_header().await?;
        let file = &self.inner.file;
        let rate = f64::from(info.sample_rate);
        let data_end = info
            .data_bytes
            .map_or(file.size() as u64, |b| info.data_offset + b)
            .min(file.size() as u64);
        let block = u64::from(info.block_align);
        let first = (start_s * rate).floor() as u64;
        let last = (end_s * rate).ceil() as u64;
        let (mut at, end) = (
            info.frame_offset(first).min(data_end),
            info.frame_offset(last).min(data_end),
        );
        let mut resampler =
            Resampler::new(info.sample_rate, SPEECH_RATE).map_err(|e| e.to_string())?;
        let mut decoded = Vec::new();
        let mut out = Vec::new();
        while at < end {
            let to = (at + SPAN_PIECE / block * block).min(end);
            let bytes = read_bytes(file, at as f64, to as f64)
                .await
                .map_err(|e| js_message(&e))?;
            if bytes.is_empty() {
                break;
            }
            decoded.clear();
            info.decode(&bytes, &mut decoded);
            resampler.process(&decoded, &mut out);
            at = to;
        }
        resampler.flush(&mut out);
        Ok(out)
    }
}

/// Wraps a file job's event callback: the worker's requests for pieces of `file` are answered here, each
/// piece read from the file only when asked for; every other event goes on to `on_event`.
pub fn feeding(
    engine: Rc<Engine>,
    file: AudioFile,
    on_event: Callback<WorkerEvent>,
) -> Callback<WorkerEvent> {
    Callback::from(move |event: WorkerEvent| match event {
        WorkerEvent::AudioWanted { job, from, len } => {
            let (engine, file) = (engine.clone(), file.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let data = file.piece(from, len).await;
                engine.input(job, JobInput::FileAudio { from, data });
            });
        }
        other => on_event.emit(other),
    })
}
