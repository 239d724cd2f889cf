//! `offgrid transcribe`: Whisper over a WAV file (any depth, rate and channels, resampled to 16 kHz mono),
//! on the CPU or the GPU, printing the text or (with `--json`) segments with times and token ids.

use offgrid_engine::audio::{Resampler, SegmenterSettings, WavReader, SPEECH_RATE};
use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::models::silero_vad::{FRAME_SAMPLES, SAMPLE_RATE};
use offgrid_engine::models::whisper::{Task, TranscribeOptions, Transcript, WhisperTranscriber};
use offgrid_engine::pipelines::speech_to_text::{Heard, SpeechToText};
use offgrid_engine::Device;
use std::path::Path;

/// Frames decoded from the file per step of the streamed pipeline (about 2 s at 16 kHz).
const READ_FRAMES: usize = 1 << 15;

/// Parses `--task`.
pub fn parse_task(task: &str) -> Result<Task, String> {
    match task {
        "transcribe" => Ok(Task::Transcribe),
        "translate" => Ok(Task::Translate),
        other => Err(format!(
            "--task must be transcribe or translate, not \"{other}\""
        )),
    }
}

/// Opens the device named by `--device` (`cpu` or `gpu`).
pub fn open_device(name: &str) -> Result<Device, String> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "gpu" => pollster::block_on(GpuDevice::new())
            .map(Device::Gpu)
            .map_err(|e| format!("no usable GPU ({e}); try --device cpu")),
        other => Err(format!("--device must be cpu or gpu, not \"{other}\"")),
    }
}

/// Loads the model folder and transcribes `wav`.
pub fn run(
    model_dir: &Path,
    wav: &Path,
    device: &Device,
    opts: &TranscribeOptions,
) -> Result<Transcript, String> {
    let samples = read_16k(wav)?;
    let model = WhisperTranscriber::from_folder(model_dir, device)
        .map_err(|e| format!("{}: {e}", model_dir.display()))?;
    pollster::block_on(model.transcribe(&samples, opts)).map_err(|e| e.to_string())
}

/// The file's audio at 16 kHz mono, decoded and resampled as it streams from disk (the file's own bytes are
/// never all in memory; the 16 kHz samples Whisper reads are). A file cut short is transcribed as far as
/// it goes, with a warning.
pub fn read_16k(path: &Path) -> Result<Vec<f32>, String> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let mut reader =
        WavReader::new(std::io::BufReader::new(file)).map_err(|e| format!("{name}: {e}"))?;
    let rate = reader.info().sample_rate;
    let mut resampler = Resampler::new(rate, SPEECH_RATE).map_err(|e| format!("{name}: {e}"))?;
    let mut block = Vec::new();
    let mut samples = Vec::new();
    while reader
        .read_mono(1 << 16, &mut block)
        .map_err(|e| format!("{name}: {e}"))?
        > 0
    {
        resampler.process(&block, &mut samples);
        block.clear();
    }
    resampler.flush(&mut samples);
    if reader.end().is_some_and(|e| e.truncated) {
        eprintln!(
            "warning: {name} is truncated (it ends before the audio its header announces); transcribing the {:.1} s that are there",
            samples.len() as f64 / f64::from(SPEECH_RATE)
        );
    }
    Ok(samples)
}

/// Streams `wav` through voice activity (Silero from `vad`) and Whisper — the pipeline the app's worker runs
/// — calling `on_heard` with each utterance's lines as soon as it is transcribed. Memory does not grow with
/// the length of the file: a block of samples, the scanner, and the utterance in progress. Returns the
/// seconds of audio read.
pub fn stream(
    model_dir: &Path,
    vad: &Path,
    wav: &Path,
    device: &Device,
    opts: &TranscribeOptions,
    mut on_heard: impl FnMut(&Heard) -> Result<(), String>,
) -> Result<f64, String> {
    let name = wav.display();
    let model = WhisperTranscriber::from_folder(model_dir, device)
        .map_err(|e| format!("{}: {e}", model_dir.display()))?;
    let silero = crate::vad::load_model(vad)?;
    let file = std::fs::File::open(wav).map_err(|e| format!("cannot read {name}: {e}"))?;
    let mut reader =
        WavReader::new(std::io::BufReader::new(file)).map_err(|e| format!("{name}: {e}"))?;
    // vad-web's defaults for Silero v5, as the app uses.
    let settings = SegmenterSettings::from_ms(
        0.5,
        0.35,
        1400.0,
        800.0,
        400.0,
        (FRAME_SAMPLES as f32) * 1000.0 / SAMPLE_RATE as f32,
    );
    let rate = reader.info().sample_rate;
    let mut pipeline = SpeechToText::new(&model, opts.clone(), silero, settings, rate)
        .map_err(|e| format!("{name}: {e}"))?;
    let mut block = Vec::new();
    loop {
        block.clear();
        let n = reader
            .read_mono(READ_FRAMES, &mut block)
            .map_err(|e| format!("{name}: {e}"))?;
        let heard = if n == 0 {
            pollster::block_on(pipeline.finish())
        } else {
            pollster::block_on(pipeline.push(&block))
        }
        .map_err(|e| e.to_string())?;
        for h in &heard {
            on_heard(h)?;
        }
        if n == 0 {
            break;
        }
    }
    if reader.end().is_some_and(|e| e.truncated) {
        eprintln!(
            "warning: {name} is truncated (it ends before the audio its header announces); transcribed the {:.1} s that are there",
            pipeline.seconds()
        );
    }
    Ok(pipeline.seconds())
}

/// This process's peak resident memory in bytes (Linux: `VmHWM`), for `--peak-memory`.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// `[start → end] text` lines, or the plain text.
pub fn render(t: &Transcript, timestamps: bool) -> String {
    if !timestamps {
        return t.text.trim().to_string();
    }
    t.segments
        .iter()
        .map(|s| format!("[{:>7.2} → {:>7.2}] {}", s.start, s.end, s.text.trim()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_and_devices_parse() {
        assert_eq!(parse_task("translate"), Ok(Task::Translate));
        assert!(parse_task("summarise").is_err());
        assert!(matches!(open_device("cpu"), Ok(Device::Cpu)));
        assert!(open_device("tpu").is_err());
    }
}
