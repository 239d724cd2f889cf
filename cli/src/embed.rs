//! `offgrid embed` and `offgrid search`: sentence embeddings and semantic search over a corpus file, on the
//! engine's CPU or GPU path.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use offgrid_catalog::{Catalog, ModelSource};
use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::io::{ModelFolder, VarBuilder};
use offgrid_engine::models::bert::SentenceEncoder;
use offgrid_engine::Device;
use offgrid_search::FlatIndex;
use serde_json::json;

use crate::{fetch_repo, fetch_variant, FetchOptions};

/// A model folder on disk, or a catalog id / Hub repo fetched (and cached) first.
pub fn resolve_model(model: &str) -> Result<PathBuf, String> {
    let path = Path::new(model);
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let opts = FetchOptions {
        source: ModelSource::HuggingFace,
        cache_dir: None,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        retries: 3,
    };
    let catalog = Catalog::builtin();
    let fetched = match catalog.find(model) {
        Some(variant) => fetch_variant(variant, &opts),
        None if model.contains('/') => {
            let files: Vec<String> = [
                "config.json",
                "tokenizer.json",
                "model.safetensors",
                "1_Pooling/config.json",
                "sentence_bert_config.json",
            ]
            .iter()
            .map(|f| f.to_string())
            .collect();
            fetch_repo(model, "main", &files, &opts)
        }
        None => {
            return Err(format!(
                "\"{model}\" is not a folder, a catalog id or a repo id (org/name)"
            ))
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(fetched.dir)
}

/// The device named on the command line.
pub fn device(name: &str) -> Result<Device, String> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "gpu" => pollster::block_on(GpuDevice::new())
            .map(Device::Gpu)
            .map_err(|e| format!("{e} (use --device cpu)")),
        other => Err(format!("unknown device \"{other}\": use cpu or gpu")),
    }
}

/// Loads the sentence encoder of a model folder onto `device`.
pub fn load_encoder(model: &str, device: &Device) -> Result<SentenceEncoder, String> {
    let dir = resolve_model(model)?;
    let folder = ModelFolder::new(&dir);
    let vb: VarBuilder = folder.var_builder(device).map_err(|e| e.to_string())?;
    SentenceEncoder::from_folder(&folder, &vb).map_err(|e| e.to_string())
}

fn vec_json(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
    format!("[{}]", parts.join(","))
}

/// `offgrid embed`: one JSON array per stdin line, in order; lines are embedded in batches.
pub fn embed(model: &str, device_name: &str) -> Result<(), String> {
    let device = device(device_name)?;
    let encoder = load_encoder(model, &device)?;
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut lines = Vec::new();
    let flush = |lines: &mut Vec<String>,
                 out: &mut std::io::StdoutLock<'_>|
     -> Result<(), String> {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let got = pollster::block_on(encoder.encode_passages(&refs)).map_err(|e| e.to_string())?;
        for (i, v) in got.vectors.iter().enumerate() {
            if got.truncated[i] {
                eprintln!(
                    "line {}: longer than the model's {} tokens; the rest was cut",
                    i + 1,
                    encoder.tokenizer().max_len()
                );
            }
            writeln!(out, "{}", vec_json(v)).map_err(|e| e.to_string())?;
        }
        lines.clear();
        Ok(())
    };
    for line in stdin.lock().lines() {
        lines.push(line.map_err(|e| format!("stdin is not UTF-8 text: {e}"))?);
        if lines.len() == 64 {
            flush(&mut lines, &mut out)?;
        }
    }
    flush(&mut lines, &mut out)
}

/// `offgrid search`: embeds every line of `corpus` and prints the `top` best lines for `query` as JSON.
pub fn search(
    model: &str,
    corpus: &Path,
    split: offgrid_search::Splitting,
    query: &str,
    top: usize,
    device_name: &str,
) -> Result<(), String> {
    let text =
        std::fs::read(corpus).map_err(|e| format!("cannot read {}: {e}", corpus.display()))?;
    let text =
        String::from_utf8(text).map_err(|_| format!("{} is not UTF-8 text", corpus.display()))?;
    let passages = offgrid_search::split_corpus(&text, split);
    let passages: Vec<&str> = passages.iter().map(String::as_str).collect();
    if passages.is_empty() {
        return Err(format!("{} has no passages", corpus.display()));
    }
    let device = device(device_name)?;
    let encoder = load_encoder(model, &device)?;
    let emb = pollster::block_on(encoder.encode_passages(&passages)).map_err(|e| e.to_string())?;
    let cut = emb.truncated.iter().filter(|t| **t).count();
    if cut > 0 {
        eprintln!(
            "{cut} passage(s) exceed the model's {} tokens and were truncated",
            encoder.tokenizer().max_len()
        );
    }
    let mut index = FlatIndex::new(encoder.dim());
    for v in &emb.vectors {
        index.push(v).map_err(|e| e.to_string())?;
    }
    let q = pollster::block_on(encoder.encode_queries(&[query])).map_err(|e| e.to_string())?;
    let qv = q.vectors.first().ok_or("the query gave no vector")?;
    let hits = index.top_k(qv, top).map_err(|e| e.to_string())?;
    let rows: Vec<_> = hits
        .iter()
        .map(|h| json!({ "index": h.index, "score": h.score, "text": passages[h.index] }))
        .collect();
    let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?;
    writeln!(std::io::stdout().lock(), "{text}").map_err(|e| e.to_string())
}
