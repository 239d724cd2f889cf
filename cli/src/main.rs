//! `offgrid`: Offgrid's models on the command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use offgrid_catalog::{human_bytes, plan, Catalog, ModelSource};
use offgrid_cli::fetch::DEFAULT_FILES;
use offgrid_cli::probe::{native_adapter, native_profile};
use offgrid_cli::{fetch_repo, fetch_variant, FetchOptions, ModelDir};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "offgrid",
    version,
    about = "Run Offgrid's on-device models natively"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Arguments of `offgrid transcribe`.
#[derive(Debug, clap::Args)]
struct TranscribeArgs {
    /// Model folder in Hugging Face layout (config.json, generation_config.json, tokenizer.json,
    /// model.safetensors), e.g. one fetched with `offgrid models fetch openai/whisper-tiny`.
    #[arg(long)]
    model: PathBuf,
    /// The WAV file (any bit depth, rate and channel count).
    file: PathBuf,
    /// Language code (en, fr…); detected when left out.
    #[arg(long)]
    language: Option<String>,
    /// transcribe or translate (to English).
    #[arg(long, default_value = "transcribe")]
    task: String,
    /// Print segment times.
    #[arg(long)]
    timestamps: bool,
    /// cpu or gpu.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print JSON: language, text, segments with times and token ids (with --vad: one JSON object per
    /// line as each is ready).
    #[arg(long)]
    json: bool,
    /// Silero VAD weights (the package's `silero_vad_16k_op15.onnx`, `silero_vad_16k.safetensors`, or a folder
    /// holding one): stream the file through voice activity and Whisper, utterance by utterance, as the app
    /// does, printing lines as they are ready, in constant memory however long the file.
    #[arg(long)]
    vad: Option<PathBuf>,
    /// Most tokens Whisper writes per 30 s window.
    #[arg(long)]
    max_tokens: Option<usize>,
    /// Text ahead of the audio that sets spelling and style (names, jargon), as faster-whisper's
    /// `initial_prompt`.
    #[arg(long)]
    prompt: Option<String>,
    /// Prompt each 30-second window with the text written before it (faster-whisper's
    /// `condition_on_previous_text`).
    #[arg(long)]
    condition_on_previous_text: bool,
    /// Judge each window as faster-whisper does (its defaults): skip silence, and decode an unsure or
    /// repetitive window again at temperatures 0.2 … 1.0 (5 samples each). Without it: one greedy pass.
    #[arg(long)]
    careful: bool,
    /// Print this process's peak memory to stderr at the end (Linux).
    #[arg(long)]
    peak_memory: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe this machine's GPU (through wgpu) and print the plan the app would make for it, as JSON.
    Probe,
    /// Detect speech in a WAV file with Silero VAD; prints JSON {"segments": [[start_s, end_s]], "probs": [..]}.
    Vad(offgrid_cli::vad::VadArgs),
    /// Transcribe (or translate) a WAV file with Whisper; prints the text, or JSON with --json.
    Transcribe(TranscribeArgs),
    /// Chat with a GGUF model (Llama, SmolLM2, Qwen2/2.5, Qwen3): one reply with --prompt, else a conversation
    /// on stdin.
    Chat(offgrid_cli::chat::ChatArgs),
    /// Cut the subject of a photo out of its background (IS-Net) and save a PNG with alpha.
    RemoveBackground(offgrid_cli::remove_background::RemoveBackgroundArgs),
    /// Say text with a Piper voice and write a WAV file, sentence by sentence.
    Speak(offgrid_cli::speak::SpeakArgs),
    /// Print the phonemes text becomes (espeak-ng-style IPA, as Piper voices expect), one line per sentence.
    Phonemize(offgrid_cli::speak::PhonemizeArgs),
    /// Benchmarks of the engine on this machine.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// List, download and check models.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Embed stdin lines with a sentence encoder: one JSON array per line.
    Embed {
        /// Model folder, catalog id or Hub repo.
        #[arg(long)]
        model: String,
        /// cpu or gpu.
        #[arg(long, default_value = "cpu")]
        device: String,
    },
    /// Semantic search over a corpus file (one passage per line); prints JSON hits, best first.
    Search {
        /// Model folder, catalog id or Hub repo.
        #[arg(long)]
        model: String,
        /// The corpus file.
        #[arg(long)]
        corpus: PathBuf,
        /// The query.
        #[arg(long)]
        query: String,
        /// How many hits.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// cpu or gpu.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Passages: `lines` (one per line), `paragraphs`, or `words:N` (windows of about N words, as the
        /// app's search page offers).
        #[arg(long, default_value = "lines")]
        split: String,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// GFLOP/s and GB/s of GEMM, GEMV, attention, conv2d and a bandwidth copy on the CPU and the GPU.
    Ops(offgrid_cli::bench::BenchOpsArgs),
    /// Prefill and decode tokens/s of a GGUF chat model (greedy, warm, medians), with the tokens it wrote.
    Chat(offgrid_cli::bench::chat::ChatBenchArgs),
    /// Whisper's real-time factor on a recording (greedy, timestamps, warm, median), with the text it wrote.
    Transcribe(offgrid_cli::bench::transcribe::TranscribeBenchArgs),
    /// One IS-Net inference at 1024² (warm, median), with the mask's summary for checking against the peer.
    RemoveBackground(offgrid_cli::bench::remove_background::RemoveBackgroundBenchArgs),
    /// A Piper voice's real-time factor on given phoneme ids (deterministic, warm, median), with its audio.
    Speak(offgrid_cli::bench::speak::SpeakBenchArgs),
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// List the catalog.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Download a catalog variant (by id or repo) or any Hub repo, verify it, and print where it is.
    Fetch {
        /// Catalog variant id (`minilm-l6-v2`) or Hugging Face repo id (`org/name`).
        model: String,
        /// Base URL of a mirror with the Hub's layout (default: https://huggingface.co).
        #[arg(long)]
        mirror: Option<String>,
        /// Cache folder (default: the Hugging Face cache, `$HF_HOME/hub`).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Revision for a repo outside the catalog.
        #[arg(long, default_value = "main")]
        revision: String,
        /// Files to fetch for a repo outside the catalog (repeatable; default: config.json, tokenizer.json,
        /// model.safetensors).
        #[arg(long = "file")]
        files: Vec<String>,
    },
    /// Check a local model folder (Hugging Face layout); with --variant, verify its files' SHA-256 too.
    Check {
        /// The folder.
        #[arg(long)]
        model: PathBuf,
        /// Catalog variant id to verify against.
        #[arg(long)]
        variant: Option<String>,
    },
}

fn print_json(value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    // A closed pipe (`offgrid probe | head`) is the reader's choice, not an error.
    match writeln!(out, "{text}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}

fn probe() -> Result<(), String> {
    let adapter = native_adapter();
    let profile = native_profile(adapter.as_ref());
    let plan = plan(&profile, &Catalog::builtin());
    print_json(&json!({ "adapter": adapter, "profile": profile, "plan": plan }))
}

fn list(json: bool) -> Result<(), String> {
    let catalog = Catalog::builtin();
    if json {
        return print_json(&catalog);
    }
    println!(
        "{:<24} {:<18} {:<6} {:>9}  {:<10} repo",
        "id", "task", "dtype", "size", "status"
    );
    for v in &catalog.variants {
        let status = if v.available { "ready" } else { "coming" };
        let size = if v.is_verifiable() {
            human_bytes(v.download_bytes)
        } else {
            format!("~{}", human_bytes(v.download_bytes))
        };
        println!(
            "{:<24} {:<18} {:<6} {:>9}  {:<10} {}",
            v.id,
            v.task.slug(),
            v.dtype.name(),
            size,
            status,
            v.repo
        );
    }
    Ok(())
}

fn fetch(
    model: &str,
    mirror: Option<&str>,
    cache: Option<PathBuf>,
    revision: &str,
    files: Vec<String>,
) -> Result<(), String> {
    let source = match mirror {
        Some(url) => ModelSource::mirror(url).map_err(|e| e.to_string())?,
        None => ModelSource::HuggingFace,
    };
    let opts = FetchOptions {
        source,
        cache_dir: cache,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        retries: 3,
    };
    let catalog = Catalog::builtin();
    let fetched = match catalog.find(model) {
        Some(variant) if files.is_empty() => {
            if !variant.available {
                eprintln!("{} is not available in the app yet: its files have no known checksums and will not be verified.", variant.title);
            }
            fetch_variant(variant, &opts)
        }
        _ if model.contains('/') => {
            let files = if files.is_empty() {
                DEFAULT_FILES.iter().map(|f| f.to_string()).collect()
            } else {
                files
            };
            fetch_repo(model, revision, &files, &opts)
        }
        _ => {
            return Err(format!(
                "\"{model}\" is neither a catalog id nor a repo id (org/name). See `offgrid models list`."
            ))
        }
    }
    .map_err(|e| e.to_string())?;
    for f in fetched.files.iter().filter(|f| !f.verified) {
        eprintln!("{}: not verified (no known checksum).", f.path);
    }
    print_json(&fetched)
}

fn check(model: PathBuf, variant: Option<String>) -> Result<(), String> {
    let Some(id) = variant else {
        let dir = ModelDir::open(&model).map_err(|e| e.to_string())?;
        return print_json(&json!({ "dir": dir.path(), "ok": true }));
    };
    let catalog = Catalog::builtin();
    let variant = catalog
        .find(&id)
        .ok_or_else(|| format!("\"{id}\" is not in the catalog. See `offgrid models list`."))?;
    let dir = ModelDir::open_for(&model, variant).map_err(|e| e.to_string())?;
    let report = dir.verify(variant).map_err(|e| e.to_string())?;
    let files: Vec<_> = report
        .iter()
        .map(|(path, verified)| json!({ "path": path, "verified": verified }))
        .collect();
    print_json(&json!({ "dir": dir.path(), "variant": variant.id, "files": files }))
}

fn transcribe(args: TranscribeArgs) -> Result<(), String> {
    use offgrid_cli::transcribe as tr;
    let TranscribeArgs {
        model,
        file,
        language,
        task,
        timestamps,
        device,
        json,
        vad,
        max_tokens,
        prompt,
        condition_on_previous_text,
        careful,
        peak_memory,
    } = args;
    let opts = offgrid_engine::models::whisper::TranscribeOptions {
        language,
        task: tr::parse_task(&task)?,
        // JSON always carries segment times; text output shows them only when asked; the streamed
        // pipeline places lines on the recording's clock, so it always needs them.
        timestamps: timestamps || json || vad.is_some(),
        max_new_tokens: max_tokens,
        initial_prompt: prompt,
        condition_on_previous_text,
        quality: careful.then(offgrid_engine::models::whisper::QualityRules::default),
        ..Default::default()
    };
    let device = tr::open_device(&device)?;
    let result = match vad {
        Some(vad) => transcribe_streamed(&model, &vad, &file, &device, &opts, timestamps, json),
        None => transcribe_whole(&model, &file, &device, &opts, timestamps, json),
    };
    if peak_memory {
        if let Some(bytes) = tr::peak_memory_bytes() {
            eprintln!("peak memory: {bytes} bytes");
        }
    }
    result
}

/// Prints each utterance's lines as soon as it is transcribed.
fn transcribe_streamed(
    model: &std::path::Path,
    vad: &std::path::Path,
    file: &std::path::Path,
    device: &offgrid_engine::Device,
    opts: &offgrid_engine::models::whisper::TranscribeOptions,
    timestamps: bool,
    json: bool,
) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    let seconds = offgrid_cli::transcribe::stream(model, vad, file, device, opts, |heard| {
        for line in &heard.lines {
            let text = if json {
                serde_json::json!({
                    "start_s": line.start_s,
                    "end_s": line.end_s,
                    "text": line.text,
                    "language": heard.language,
                })
                .to_string()
            } else if timestamps {
                format!(
                    "[{:>8.2} → {:>8.2}] {}",
                    line.start_s, line.end_s, line.text
                )
            } else {
                line.text.clone()
            };
            writeln!(out, "{text}")
                .and_then(|()| out.flush())
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    eprintln!("{seconds:.1} s of audio transcribed");
    Ok(())
}

/// Reads the whole file and transcribes it in one go.
fn transcribe_whole(
    model: &std::path::Path,
    file: &std::path::Path,
    device: &offgrid_engine::Device,
    opts: &offgrid_engine::models::whisper::TranscribeOptions,
    timestamps: bool,
    json: bool,
) -> Result<(), String> {
    use offgrid_cli::transcribe as tr;
    let transcript = tr::run(model, file, device, opts)?;
    if json {
        return print_json(&transcript);
    }
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", tr::render(&transcript, timestamps)) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Probe => probe(),
        Command::Vad(args) => offgrid_cli::vad::command(args),
        Command::Chat(args) => offgrid_cli::chat::command(args),
        Command::RemoveBackground(args) => offgrid_cli::remove_background::command(args),
        Command::Speak(args) => offgrid_cli::speak::command(args),
        Command::Phonemize(args) => offgrid_cli::speak::phonemize_command(args),
        Command::Transcribe(args) => transcribe(args),
        Command::Bench {
            command: BenchCommand::Ops(args),
        } => offgrid_cli::bench::command(args),
        Command::Bench {
            command: BenchCommand::Chat(args),
        } => offgrid_cli::bench::chat::command(args),
        Command::Bench {
            command: BenchCommand::Transcribe(args),
        } => offgrid_cli::bench::transcribe::command(args),
        Command::Bench {
            command: BenchCommand::RemoveBackground(args),
        } => offgrid_cli::bench::remove_background::command(args),
        Command::Bench {
            command: BenchCommand::Speak(args),
        } => offgrid_cli::bench::speak::command(args),
        Command::Models { command } => match command {
            ModelsCommand::List { json } => list(json),
            ModelsCommand::Fetch {
                model,
                mirror,
                cache,
                revision,
                files,
            } => fetch(&model, mirror.as_deref(), cache, &revision, files),
            ModelsCommand::Check { model, variant } => check(model, variant),
        },
        Command::Embed { model, device } => offgrid_cli::embed::embed(&model, &device),
        Command::Search {
            model,
            corpus,
            query,
            top,
            device,
            split,
        } => offgrid_search::Splitting::parse(&split)
            .map_err(|e| e.to_string())
            .and_then(|how| offgrid_cli::embed::search(&model, &corpus, how, &query, top, &device)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
