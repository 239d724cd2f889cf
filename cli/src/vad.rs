//! `offgrid vad`: Silero VAD over a WAV file, streamed from disk (the engine's incremental WAV decoder and
//! its [`SpeechScanner`]: decode → resample to 16 kHz → 512-sample frames → model → segmenter), so long
//! recordings use bounded memory besides one probability per frame.

use offgrid_engine::audio::{ScanOutput, SegmenterSettings, SpeechScanner, WavReader};
use offgrid_engine::models::silero_vad::{SileroVad, FRAME_SAMPLES, SAMPLE_RATE};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// File names tried inside a model folder, in order: first the checkpoint Silero's own runtime runs (the
/// one the app ships), then the package's older safetensors copy for people who bring that file.
const MODEL_FILES: [&str; 3] = [
    "silero_vad_16k_op15.onnx",
    "silero_vad_16k.safetensors",
    "model.safetensors",
];

/// What `offgrid vad` prints.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VadReport {
    /// Speech segments `[start_s, end_s]`.
    pub segments: Vec<[f64; 2]>,
    /// Speech probability of each 512-sample frame at 16 kHz.
    pub probs: Vec<f32>,
    /// The file ended before the audio its header announced: the report covers what was there.
    pub truncated: bool,
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

/// Frames decoded from the file at a time.
const READ_FRAMES: usize = 1 << 15;

/// Runs the VAD over a WAV stream (any depth, rate and channel count), decoding and scanning it a block at
/// a time. A file cut short is scanned as far as it goes and reported as `truncated`.
pub fn run<R: std::io::Read>(
    vad: &mut SileroVad,
    wav: R,
    settings: SegmenterSettings,
) -> Result<VadReport, String> {
    let mut reader = WavReader::new(wav).map_err(|e| e.to_string())?;
    let mut scanner = SpeechScanner::new(vad.fresh(), settings, reader.info().sample_rate)
        .map_err(|e| e.to_string())?;
    let mut report = VadReport {
        segments: Vec::new(),
        probs: Vec::new(),
        truncated: false,
    };
    let mut decoded = Vec::new();
    let mut out = ScanOutput::default();
    let keep = |out: &mut ScanOutput, report: &mut VadReport| {
        report.probs.append(&mut out.probs);
        report
            .segments
            .extend(out.speech.drain(..).map(|s| s.seconds()));
    };
    loop {
        decoded.clear();
        let n = reader
            .read_mono(READ_FRAMES, &mut decoded)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        scanner.push(&decoded, &mut out);
        keep(&mut out, &mut report);
    }
    scanner.finish(&mut out);
    keep(&mut out, &mut report);
    report.truncated = reader.end().is_some_and(|e| e.truncated);
    Ok(report)
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
    if report.truncated {
        eprintln!(
            "warning: {} is truncated (it ends before the audio its header announces); the report covers the {:.1} s that are there",
            args.wav.display(),
            report.probs.len() as f64 * FRAME_SAMPLES as f64 / f64::from(SAMPLE_RATE)
        );
    }
    let text = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}
