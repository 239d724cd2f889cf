//! `offgrid vad`: Silero VAD over a WAV file, streamed (decode → resample to 16 kHz → 512-sample frames →
//! model → segmenter) so long recordings use bounded memory besides one probability per frame.

use offgrid_engine::audio::{Resampler, SegmentEvent, Segmenter, SegmenterSettings, WavReader};
use offgrid_engine::models::silero_vad::{SileroVad, FRAME_SAMPLES, SAMPLE_RATE};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// File names tried inside a model folder, in order.
const MODEL_FILES: [&str; 3] = [
    "silero_vad_16k.safetensors",
    "model.safetensors",
    "silero_vad_16k_op15.onnx",
];

/// What `offgrid vad` prints.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VadReport {
    /// Speech segments `[start_s, end_s]`.
    pub segments: Vec<[f64; 2]>,
    /// Speech probability of each 512-sample frame at 16 kHz.
    pub probs: Vec<f32>,
}

/// The model file for `--model`: the file itself, or a known file inside a folder.
pub fn model_file(model: &Path) -> Result<PathBuf, String> {
    if model.is_dir() {
        return MODEL_FILES
            .iter()
            .map(|f| model.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                format!(
                    "no Silero VAD weights in {} (looked for {})",
                    model.display(),
                    MODEL_FILES.join(", ")
                )
            });
    }
    if model.is_file() {
        return Ok(model.to_path_buf());
    }
    Err(format!("{} does not exist", model.display()))
}

/// Loads Silero VAD from a safetensors file, an ONNX file of the package, or a folder holding one.
pub fn load_model(model: &Path) -> Result<SileroVad, String> {
    let path = model_file(model)?;
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let loaded = if path.extension().is_some_and(|e| e == "onnx") {
        SileroVad::load_onnx(&bytes)
    } else {
        SileroVad::load(bytes)
    };
    loaded.map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs the VAD over a WAV stream: any depth, rate and channel count.
pub fn run<R: std::io::Read>(
    vad: &mut SileroVad,
    wav: R,
    settings: SegmenterSettings,
) -> Result<VadReport, String> {
    let mut reader = WavReader::new(wav).map_err(|e| e.to_string())?;
    let mut resampler =
        Resampler::new(reader.info().sample_rate, SAMPLE_RATE).map_err(|e| e.to_string())?;
    let mut segmenter = Segmenter::new(settings);
    vad.reset();
    let mut report = VadReport {
        segments: Vec::new(),
        probs: Vec::new(),
    };
    let mut decoded = Vec::new();
    let mut pending: Vec<f32> = Vec::new();
    let mut feed = |pending: &mut Vec<f32>, report: &mut VadReport, last: bool| {
        let mut frames = pending.chunks_exact(FRAME_SAMPLES);
        let mut frame = [0.0f32; FRAME_SAMPLES];
        for chunk in &mut frames {
            frame.copy_from_slice(chunk);
            push(vad, &mut segmenter, &frame, report);
        }
        let rest = frames.remainder().len();
        if last && rest > 0 {
            // The last partial frame is zero-padded, as the reference does.
            frame[..rest].copy_from_slice(frames.remainder());
            frame[rest..].fill(0.0);
            push(vad, &mut segmenter, &frame, report);
        }
        let keep = if last { 0 } else { rest };
        let len = pending.len();
        pending.drain(..len - keep);
        if last {
            if let SegmentEvent::SpeechEnd(span) = segmenter.finish() {
                report
                    .segments
                    .push(span.seconds(FRAME_SAMPLES, SAMPLE_RATE));
            }
        }
    };
    loop {
        decoded.clear();
        let n = reader
            .read_mono(1 << 15, &mut decoded)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        resampler.process(&decoded, &mut pending);
        feed(&mut pending, &mut report, false);
    }
    resampler.flush(&mut pending);
    feed(&mut pending, &mut report, true);
    Ok(report)
}

fn push(
    vad: &mut SileroVad,
    segmenter: &mut Segmenter,
    frame: &[f32; FRAME_SAMPLES],
    report: &mut VadReport,
) {
    let p = vad.process_frame(frame);
    report.probs.push(p);
    if let SegmentEvent::SpeechEnd(span) = segmenter.push(p) {
        report
            .segments
            .push(span.seconds(FRAME_SAMPLES, SAMPLE_RATE));
    }
}

/// Arguments of `offgrid vad`.
#[derive(Debug, Clone, clap::Args)]
pub struct VadArgs {
    /// `silero_vad_16k.safetensors`, the package's `silero_vad_16k_op15.onnx`, or a folder holding one.
    #[arg(long)]
    pub model: PathBuf,
    /// The WAV file (PCM 8/16/24/32-bit or 32-bit float, any rate, any channels).
    pub wav: PathBuf,
    /// A frame at or above this probability is speech.
    #[arg(long, default_value_t = 0.5)]
    pub positive_threshold: f32,
    /// Frames below this probability count towards the end of speech.
    #[arg(long, default_value_t = 0.35)]
    pub negative_threshold: f32,
    /// Silence (ms) that ends a segment.
    #[arg(long, default_value_t = 1400.0)]
    pub redemption_ms: f32,
    /// Audio (ms) kept before the start of speech.
    #[arg(long, default_value_t = 800.0)]
    pub pre_speech_pad_ms: f32,
    /// Segments with less speech (ms) than this are dropped.
    #[arg(long, default_value_t = 400.0)]
    pub min_speech_ms: f32,
}

/// `offgrid vad`: prints `{"segments": [[start_s, end_s], ...], "probs": [...]}`.
pub fn command(args: VadArgs) -> Result<(), String> {
    let settings = SegmenterSettings::from_ms(
        args.positive_threshold,
        args.negative_threshold,
        args.redemption_ms,
        args.pre_speech_pad_ms,
        args.min_speech_ms,
        (FRAME_SAMPLES as f32) * 1000.0 / SAMPLE_RATE as f32,
    );
    let mut vad = load_model(&args.model)?;
    let file = std::fs::File::open(&args.wav)
        .map_err(|e| format!("cannot open {}: {e}", args.wav.display()))?;
    let report = run(&mut vad, std::io::BufReader::new(file), settings)
        .map_err(|e| format!("{}: {e}", args.wav.display()))?;
    let text = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}
