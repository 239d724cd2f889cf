//! `offgrid remove-background`: cut the subject of a photo out of its background with IS-Net (imgly's ONNX
//! export, RMBG-1.4's ONNX or safetensors), at the photo's own resolution, and save a PNG with alpha.

use crate::transcribe::open_device;
use clap::Args;
use offgrid_engine::image::{encode_gray_png, encode_rgba_png, encode_rgba_webp, Refinement};
use offgrid_engine::models::isnet::IsNetInput;
use offgrid_engine::pipelines::remove_background::BackgroundRemover;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// File names tried inside a model folder, in order.
const MODEL_FILES: [&str; 5] = [
    "model_fp16.onnx",
    "onnx/model_fp16.onnx",
    "model.onnx",
    "onnx/model.onnx",
    "model.safetensors",
];

/// `offgrid remove-background` arguments.
#[derive(Debug, Args)]
pub struct RemoveBackgroundArgs {
    /// An IS-Net .onnx or .safetensors file, or a folder holding one.
    #[arg(long)]
    pub model: PathBuf,
    /// The photo (PNG, JPEG, WebP or GIF).
    pub input: PathBuf,
    /// Where to write the cut-out: .png (default: <input>-cutout.png) or .webp (lossless).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the mask (alpha at the photo's resolution) as a greyscale PNG.
    #[arg(long)]
    pub mask: Option<PathBuf>,
    /// The model's input normalisation: imgly ((v-128)/256) or rmbg (v/255-0.5). Default: rmbg for a
    /// folder or file whose path names RMBG, else imgly.
    #[arg(long)]
    pub normalise: Option<String>,
    /// Only upsample the mask (no edge refinement, no foreground colour estimation).
    #[arg(long)]
    pub no_refine: bool,
    /// cpu or gpu.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// The weights file for `--model`.
pub fn model_file(model: &Path) -> Result<PathBuf, String> {
    if model.is_dir() {
        return MODEL_FILES
            .iter()
            .map(|f| model.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                format!(
                    "no IS-Net weights in {} (looked for {})",
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

fn normalisation(arg: Option<&str>, model: &Path) -> Result<IsNetInput, String> {
    match arg {
        Some("imgly") => Ok(IsNetInput::IMGLY),
        Some("rmbg") => Ok(IsNetInput::RMBG),
        Some(other) => Err(format!("--normalise {other}: use imgly or rmbg")),
        None if model.to_string_lossy().to_lowercase().contains("rmbg") => Ok(IsNetInput::RMBG),
        None => Ok(IsNetInput::IMGLY),
    }
}

/// Loads the model for `--model` on `device` (`cpu` or `gpu`).
pub fn load(
    model: &Path,
    normalise: Option<&str>,
    device: &str,
) -> Result<BackgroundRemover, String> {
    let path = model_file(model)?;
    let input = normalisation(normalise, model)?;
    let device = open_device(device)?;
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let loaded = if path.extension().is_some_and(|e| e == "onnx") {
        BackgroundRemover::from_onnx(&bytes, input, &device)
    } else {
        BackgroundRemover::from_safetensors(bytes, input, &device)
    };
    loaded.map_err(|e| format!("{}: {e}", path.display()))
}

pub fn command(args: RemoveBackgroundArgs) -> Result<(), String> {
    let remover = load(&args.model, args.normalise.as_deref(), &args.device)?;
    let file = std::fs::read(&args.input)
        .map_err(|e| format!("cannot read {}: {e}", args.input.display()))?;
    let refine = if args.no_refine {
        Refinement::None
    } else {
        Refinement::Edges
    };
    let start = Instant::now();
    let cut = pollster::block_on(remover.remove(&file, refine)).map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .input
            .file_stem()
            .map_or("photo".into(), |s| s.to_string_lossy().into_owned());
        args.input.with_file_name(format!("{stem}-cutout.png"))
    });
    let encoded = if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("webp"))
    {
        encode_rgba_webp(&cut.rgba, cut.width, cut.height)
    } else {
        encode_rgba_png(&cut.rgba, cut.width, cut.height)
    }
    .map_err(|e| e.to_string())?;
    std::fs::write(&out, encoded).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    if let Some(mask) = &args.mask {
        let png =
            encode_gray_png(&cut.alpha(), cut.width, cut.height).map_err(|e| e.to_string())?;
        std::fs::write(mask, png).map_err(|e| format!("cannot write {}: {e}", mask.display()))?;
    }
    eprintln!(
        "{} × {} cut out in {seconds:.2} s → {}",
        cut.width,
        cut.height,
        out.display()
    );
    Ok(())
}
