//! `offgrid speak`: text (or phonemes) to a WAV file with a Piper voice, sentence by sentence, printing each
//! sentence as it is made; `offgrid phonemize`: the phonemes the voice would be given, one line per sentence.

use crate::transcribe::open_device;
use clap::Args;
use offgrid_engine::audio::wav::write_wav_16bit;
use offgrid_engine::models::vits::{Noise, Scales};
use offgrid_engine::pipelines::speak::{split_sentences, Prepared, Voice};
use offgrid_engine::text::phonemize::Phonemizer;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `offgrid speak` arguments.
#[derive(Debug, Args)]
pub struct SpeakArgs {
    /// A Piper voice (its .onnx file, the .onnx.json beside it, or their folder) or an MMS folder
    /// (model.safetensors, config.json, vocab.json).
    #[arg(long)]
    pub model: PathBuf,
    /// The text to say.
    #[arg(long, conflicts_with = "phonemes")]
    pub text: Option<String>,
    /// espeak-ng-style IPA phonemes to say instead of text (one sentence).
    #[arg(long)]
    pub phonemes: Option<String>,
    /// Where to write the WAV (default: speech.wav).
    #[arg(long, default_value = "speech.wav")]
    pub out: PathBuf,
    /// Speaking rate: 1 as the voice was trained, 2 twice as fast.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f32,
    /// Voice variation (default: the voice's own, usually 0.667); 0 is flat and repeatable.
    #[arg(long)]
    pub noise_scale: Option<f32>,
    /// Rhythm variation (default: the voice's own, usually 0.8).
    #[arg(long)]
    pub noise_w: Option<f32>,
    /// Seed of the noise: the same seed says it the same way.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// cpu or gpu.
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// `offgrid phonemize` arguments.
#[derive(Debug, Args)]
pub struct PhonemizeArgs {
    /// The language variant: en-us or en-gb.
    #[arg(long, default_value = "en-us")]
    pub voice: String,
    /// The text.
    #[arg(long)]
    pub text: String,
}

/// The `.onnx` and `.onnx.json` of `--model`.
pub fn voice_files(model: &Path) -> Result<(PathBuf, PathBuf), String> {
    let onnx = if model.is_dir() {
        let mut found: Vec<PathBuf> = std::fs::read_dir(model)
            .map_err(|e| format!("{}: {e}", model.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
            .collect();
        found.sort();
        match found.len() {
            1 => found.remove(0),
            0 => return Err(format!("no .onnx voice in {}", model.display())),
            _ => {
                return Err(format!(
                    "several .onnx files in {}: name one",
                    model.display()
                ))
            }
        }
    } else {
        model.to_path_buf()
    };
    let mut json = onnx.clone().into_os_string();
    json.push(".json");
    let json = PathBuf::from(json);
    if !json.is_file() {
        return Err(format!(
            "{} has no {} beside it (a Piper voice is the two files)",
            onnx.display(),
            json.display()
        ));
    }
    Ok((onnx, json))
}

/// Loads a voice: a Piper `.onnx` (with its `.onnx.json`), or an MMS folder (`model.safetensors`,
/// `config.json`, `vocab.json`).
pub fn load(model: &Path, device: &str) -> Result<Voice, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    if model.is_dir() && model.join("model.safetensors").is_file() {
        let device = open_device(device)?;
        let text = |name: &str| {
            std::fs::read_to_string(model.join(name))
                .map_err(|e| format!("{}: {e}", model.join(name).display()))
        };
        return Voice::from_mms(
            &read(&model.join("model.safetensors"))?,
            &text("config.json")?,
            &text("vocab.json")?,
            &device,
        )
        .map_err(|e| format!("{}: {e}", model.display()));
    }
    let (onnx, json) = voice_files(model)?;
    let device = open_device(device)?;
    let bytes = read(&onnx)?;
    let config = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    Voice::from_piper(&bytes, &config, &device).map_err(|e| format!("{}: {e}", onnx.display()))
}

/// The scales from the voice's defaults and the flags.
pub fn scales(voice: &Voice, args: &SpeakArgs) -> Scales {
    let mut s = voice.scales(args.speed);
    if let Some(n) = args.noise_scale {
        s.noise = n;
    }
    if let Some(n) = args.noise_w {
        s.noise_w = n;
    }
    s
}

pub fn command(args: SpeakArgs) -> Result<(), String> {
    let start = Instant::now();
    let voice = load(&args.model, &args.device)?;
    eprintln!("voice loaded in {:.2} s", start.elapsed().as_secs_f64());
    let scales = scales(&voice, &args);
    let mut noise = Noise::new(args.seed);
    let prepared: Vec<(String, Prepared)> = match (&args.text, &args.phonemes) {
        (_, Some(p)) => {
            let ids = voice.ids(p);
            let skipped = ids.unknown.iter().map(|c| c.to_string()).collect();
            vec![(
                p.clone(),
                Prepared {
                    ids: ids.ids,
                    shown: p.clone(),
                    skipped,
                },
            )]
        }
        (Some(text), None) => {
            let sentences = split_sentences(text);
            if sentences.is_empty() {
                return Err("There is nothing to say: the text is empty.".into());
            }
            sentences
                .into_iter()
                .map(|s| {
                    let p = voice.prepare(&s.text);
                    (s.text, p)
                })
                .collect()
        }
        (None, None) => return Err("give --text or --phonemes".into()),
    };
    let mut audio = Vec::new();
    for (text, p) in &prepared {
        if !p.skipped.is_empty() {
            eprintln!(
                "skipped (the voice cannot say them): {}",
                p.skipped.join(" ")
            );
        }
        if p.is_empty() {
            eprintln!("skipped (nothing to say): {text}");
            continue;
        }
        let (ids, ph) = (&p.ids, &p.shown);
        let t = Instant::now();
        let out = pollster::block_on(voice.vits().synthesize(ids, scales, &mut noise))
            .map_err(|e| e.to_string())?;
        let secs = out.audio.len() as f64 / f64::from(voice.sample_rate());
        eprintln!(
            "{:.2} s of audio in {:.2} s: {text}  [{ph}]",
            secs,
            t.elapsed().as_secs_f64()
        );
        audio.extend_from_slice(&out.audio);
    }
    if audio.is_empty() {
        return Err("There is nothing to say: no sentence had letters the voice can speak.".into());
    }
    let wav = write_wav_16bit(&audio, voice.sample_rate()).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, wav).map_err(|e| format!("{}: {e}", args.out.display()))?;
    println!(
        "{} ({:.2} s of audio)",
        args.out.display(),
        audio.len() as f64 / f64::from(voice.sample_rate())
    );
    Ok(())
}

pub fn phonemize_command(args: PhonemizeArgs) -> Result<(), String> {
    let phonemizer = Phonemizer::new(&args.voice).map_err(|e| e.to_string())?;
    for sentence in split_sentences(&args.text) {
        let p = phonemizer.phonemize(&sentence.text);
        if !p.skipped.is_empty() {
            eprintln!("skipped (not English letters): {}", p.skipped.join(" "));
        }
        println!("{}", p.text);
    }
    Ok(())
}
