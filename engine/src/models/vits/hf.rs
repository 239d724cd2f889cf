//! Hugging Face `VitsModel` checkpoints (Meta's MMS-TTS, `facebook/mms-tts-*`): `model.safetensors`,
//! `config.json` and `vocab.json`. The architecture is VITS itself; only the names differ, and the WaveNets keep
//! weight norm (`weight_g`/`weight_v`, or `parametrizations.weight.original0/1` from newer exports), folded
//! here as `w = v · g / ‖v‖` with the norm per output channel. Weights are renamed to the PyTorch VITS names
//! [`super::Vits::load`] reads (HF drops VITS's flip layers from its module lists, so its duration flow `j` is
//! VITS's `2j − 1` and its coupling `k` is `2k`); training-only parts (posterior encoder, the duration
//! predictor's `post_*`) are left out. MMS reads characters, not phonemes: [`CharVocab`].

use super::config::VitsConfig;
use crate::io::safetensors::{write_safetensors, SafeTensors, TensorToWrite};
use crate::io::DTypePolicy;
use crate::{DType, Device, Error, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

fn not_vits(msg: impl Into<String>) -> Error {
    Error::Malformed(format!(
        "this is not a Hugging Face VitsModel checkpoint: {}",
        msg.into()
    ))
}

/// The fields of `config.json` inference needs.
#[derive(Debug, Clone, Deserialize)]
pub struct HfVitsConfig {
    pub sampling_rate: u32,
    pub upsample_rates: Vec<usize>,
    pub upsample_kernel_sizes: Vec<usize>,
    pub resblock_dilation_sizes: Vec<Vec<usize>>,
    #[serde(default = "one")]
    pub wavenet_dilation_rate: usize,
    #[serde(default = "yes")]
    pub use_stochastic_duration_prediction: bool,
    #[serde(default = "one")]
    pub num_speakers: usize,
    #[serde(default = "relu")]
    pub hidden_act: String,
    #[serde(default = "five")]
    pub duration_predictor_tail_bound: f32,
    #[serde(default = "default_noise")]
    pub noise_scale: f32,
    #[serde(default = "default_noise_w")]
    pub noise_scale_duration: f32,
    #[serde(default = "one_f")]
    pub speaking_rate: f32,
    #[serde(default = "eps")]
    pub layer_norm_eps: f32,
}

fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn relu() -> String {
    "relu".into()
}
fn five() -> f32 {
    5.0
}
fn default_noise() -> f32 {
    0.667
}
fn default_noise_w() -> f32 {
    0.8
}
fn one_f() -> f32 {
    1.0
}
fn eps() -> f32 {
    1e-5
}

impl HfVitsConfig {
    pub fn parse(json: &str) -> Result<Self> {
        let c: HfVitsConfig = serde_json::from_str(json)
            .map_err(|e| not_vits(format!("its config.json could not be read ({e})")))?;
        let unsupported = |what: &str| {
            Err(Error::Unsupported(format!(
                "VITS models with {what} are not supported yet"
            )))
        };
        if !c.use_stochastic_duration_prediction {
            return unsupported("a deterministic duration predictor");
        }
        if c.num_speakers > 1 {
            return unsupported("several speakers");
        }
        if c.hidden_act != "relu" {
            return unsupported(&format!("the {} activation", c.hidden_act));
        }
        if c.duration_predictor_tail_bound != super::config::SPLINE_TAIL_BOUND
            || (c.layer_norm_eps - 1e-5).abs() > 1e-9
        {
            return unsupported(
                "a spline bound other than 5 or a layer norm epsilon other than 1e-5",
            );
        }
        if c.upsample_rates.len() != c.upsample_kernel_sizes.len() || c.upsample_rates.is_empty() {
            return Err(not_vits("its upsampling rates and kernels do not pair up"));
        }
        Ok(c)
    }
}

/// An HF name → the VITS name, `None` for what inference does not use.
fn rename(name: &str) -> Option<String> {
    if name.starts_with("posterior_encoder.") || name.starts_with("duration_predictor.post_") {
        return None;
    }
    let renumber = |rest: &str, map: &dyn Fn(usize) -> usize| -> Option<String> {
        let (index, tail) = rest.split_once('.')?;
        let index: usize = index.parse().ok()?;
        Some(format!("{}.{tail}", map(index)))
    };
    let s = if let Some(rest) = name.strip_prefix("text_encoder.") {
        let rest = rest
            .replace("embed_tokens", "emb")
            .replace("encoder.layers.", "encoder.LAYER.")
            .replace("project", "proj");
        // encoder.LAYER.i.<part> → encoder.<part-list>.i.<leaf>
        if let Some(tail) = rest.strip_prefix("encoder.LAYER.") {
            let (i, part) = tail.split_once('.')?;
            let (list, leaf) = if let Some(leaf) = part.strip_prefix("attention.") {
                let leaf = leaf
                    .replace("q_proj", "conv_q")
                    .replace("k_proj", "conv_k")
                    .replace("v_proj", "conv_v")
                    .replace("out_proj", "conv_o");
                ("attn_layers", leaf)
            } else if let Some(leaf) = part.strip_prefix("feed_forward.") {
                ("ffn_layers", leaf.to_string())
            } else if let Some(leaf) = part.strip_prefix("final_layer_norm.") {
                (
                    "norm_layers_2",
                    leaf.replace("weight", "gamma").replace("bias", "beta"),
                )
            } else if let Some(leaf) = part.strip_prefix("layer_norm.") {
                (
                    "norm_layers_1",
                    leaf.replace("weight", "gamma").replace("bias", "beta"),
                )
            } else {
                return None;
            };
            format!("enc_p.encoder.{list}.{i}.{leaf}")
        } else {
            format!("enc_p.{rest}")
        }
    } else if let Some(rest) = name.strip_prefix("duration_predictor.") {
        let dds = |s: &str| {
            s.replace("conv_dds.convs_dilated", "convs.convs_sep")
                .replace("conv_dds.convs_pointwise", "convs.convs_1x1")
                .replace("conv_dds.norms_1", "convs.norms_1")
                .replace("conv_dds.norms_2", "convs.norms_2")
                .replace("conv_pre", "pre")
                .replace("conv_proj", "proj")
        };
        let rest = if let Some(flows) = rest.strip_prefix("flows.") {
            let renamed = renumber(flows, &|j| if j == 0 { 0 } else { 2 * j - 1 })?;
            format!(
                "flows.{}",
                dds(&renamed)
                    .replace("translate", "m")
                    .replace("log_scale", "logs")
            )
        } else {
            dds(rest)
        };
        let rest = if rest.contains("norms_") {
            rest.replace(".weight", ".gamma").replace(".bias", ".beta")
        } else {
            rest
        };
        format!("dp.{rest}")
    } else if let Some(rest) = name.strip_prefix("flow.flows.") {
        let renamed = renumber(rest, &|k| 2 * k)?;
        format!(
            "flow.flows.{}",
            renamed
                .replace("conv_pre", "pre")
                .replace("conv_post", "post")
                .replace("wavenet", "enc")
        )
    } else if let Some(rest) = name.strip_prefix("decoder.") {
        format!("dec.{}", rest.replace("upsampler.", "ups."))
    } else {
        return None;
    };
    Some(s)
}

/// Weight-norm pieces of one convolution: `(g, v)` by the convolution's VITS name.
type NormPieces = BTreeMap<String, (Option<Vec<f32>>, Option<(Vec<f32>, Vec<usize>)>)>;

/// `w = v · g / ‖v‖`, the norm over every axis but the first.
fn fold_weight_norm(g: &[f32], v: &[f32], dims: &[usize]) -> Vec<f32> {
    let rows = dims.first().copied().unwrap_or(1).max(1);
    let per = v.len() / rows;
    let mut w = Vec::with_capacity(v.len());
    for (o, row) in v.chunks_exact(per.max(1)).enumerate() {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        let scale = g.get(o).copied().unwrap_or(1.0) / norm.max(f32::MIN_POSITIVE);
        w.extend(row.iter().map(|x| x * scale));
    }
    w
}

/// The weights of an HF `VitsModel` under VITS names, as safetensors bytes, and the model's sizes.
pub fn to_safetensors(model: &[u8], config: &HfVitsConfig) -> Result<(Vec<u8>, VitsConfig)> {
    let file = SafeTensors::from_bytes(model.to_vec())?;
    let mut out: BTreeMap<String, TensorToWrite<'_>> = BTreeMap::new();
    let mut norms: NormPieces = BTreeMap::new();
    for name in file.names() {
        let Some(target) = rename(name) else {
            continue;
        };
        let info = file
            .info(name)
            .ok_or_else(|| Error::MissingWeight(name.to_string()))?;
        let mut dims = info.shape.clone();
        // Weight norm: collect g and v (as f32), fold once both are in.
        let piece = [
            (".weight_g", true),
            (".parametrizations.weight.original0", true),
            (".weight_v", false),
            (".parametrizations.weight.original1", false),
        ]
        .iter()
        .find_map(|(suffix, is_g)| {
            target
                .strip_suffix(suffix)
                .map(|base| (base.to_string(), *is_g))
        });
        if let Some((base, is_g)) = piece {
            let values = file
                .load(name, DTypePolicy::F32, &Device::Cpu)?
                .to_vec_f32()?;
            let entry = norms.entry(base).or_default();
            if is_g {
                entry.0 = Some(values);
            } else {
                entry.1 = Some((values, dims));
            }
            continue;
        }
        // q/k/v/o are linear layers in HF: VITS's 1×1 convolutions have a kernel axis (same bytes).
        if target.contains(".attn_layers.") && target.ends_with(".weight") && dims.len() == 2 {
            dims.push(1);
        }
        // Everything else keeps its stored bytes, borrowed from the file (F32 or F16; the model widens at load).
        let tensor = match info.dtype {
            Some(DType::F32) | Some(DType::F16) => TensorToWrite {
                name: target.clone(),
                dtype: if info.dtype == Some(DType::F32) {
                    "F32"
                } else {
                    "F16"
                },
                shape: dims,
                bytes: std::borrow::Cow::Borrowed(file.raw(name)?),
            },
            _ => TensorToWrite::f32(
                target.clone(),
                dims,
                &file
                    .load(name, DTypePolicy::F32, &Device::Cpu)?
                    .to_vec_f32()?,
            ),
        };
        out.insert(target, tensor);
    }
    for (base, (g, v)) in norms {
        let (Some(g), Some((v, dims))) = (g, v) else {
            return Err(not_vits(format!("`{base}` has half of its weight norm")));
        };
        let name = format!("{base}.weight");
        let folded = fold_weight_norm(&g, &v, &dims);
        out.insert(name.clone(), TensorToWrite::f32(name, dims, &folded));
    }
    if !out.contains_key("enc_p.emb.weight") {
        return Err(not_vits("it has no text encoder embedding"));
    }
    let upsample = config
        .upsample_rates
        .iter()
        .zip(&config.upsample_kernel_sizes)
        .map(|(&rate, &kernel)| (rate, kernel.saturating_sub(rate) / 2))
        .collect();
    let per_stage = config.resblock_dilation_sizes.len().max(1);
    let dilation_of = |path: &str| -> Option<usize> {
        if let Some(rest) = path.strip_prefix("dec.resblocks.") {
            let (r, tail) = rest.split_once('.')?;
            let j: usize = tail.rsplit('.').next()?.parse().ok()?;
            if tail.starts_with("convs2") {
                return Some(1);
            }
            let r: usize = r.parse().ok()?;
            config
                .resblock_dilation_sizes
                .get(r % per_stage)?
                .get(j)
                .copied()
        } else if path.contains(".enc.in_layers.") {
            let l: usize = path.rsplit('.').next()?.parse().ok()?;
            Some(config.wavenet_dilation_rate.pow(l as u32))
        } else {
            None
        }
    };
    let shape_of = |name: &str| out.get(name).map(|t| t.shape.clone());
    let vits = VitsConfig::from_weights(&shape_of, upsample, &dilation_of, config.sampling_rate)?;
    let list: Vec<TensorToWrite> = out.into_values().collect();
    Ok((write_safetensors(&list)?, vits))
}

/// MMS's character vocabulary (`vocab.json`): text is lower-cased where a character is not in the vocabulary
/// as written, characters still unknown are dropped, and the blank (id 0, itself a character of the
/// vocabulary) goes before, between and after the characters, as `VitsTokenizer` with `add_blank` does.
#[derive(Debug, Clone)]
pub struct CharVocab {
    ids: HashMap<char, u32>,
}

impl CharVocab {
    pub fn parse(json: &str) -> Result<Self> {
        let map: HashMap<String, u32> = serde_json::from_str(json)
            .map_err(|e| not_vits(format!("its vocab.json could not be read ({e})")))?;
        let ids = map
            .into_iter()
            .filter_map(|(k, v)| {
                let mut chars = k.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some((c, v)),
                    _ => None,
                }
            })
            .collect::<HashMap<_, _>>();
        if !ids.values().any(|&v| v == 0) {
            return Err(not_vits("its vocabulary has no blank (id 0)"));
        }
        Ok(CharVocab { ids })
    }

    /// Ids for `text`, and the characters left out.
    pub fn encode(&self, text: &str) -> (Vec<u32>, Vec<char>) {
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for c in text.chars() {
            let c = if self.ids.contains_key(&c) {
                c
            } else {
                c.to_lowercase().next().unwrap_or(c)
            };
            if self.ids.contains_key(&c) {
                kept.push(c);
            } else if !c.is_whitespace() && !dropped.contains(&c) {
                dropped.push(c);
            }
        }
        // `.strip()` of the normalised text.
        while kept.first().is_some_and(|c| c.is_whitespace()) {
            kept.remove(0);
        }
        while kept.last().is_some_and(|c| c.is_whitespace()) {
            kept.pop();
        }
        // The blank's own character is a special token to HF's tokenizer: each occurrence stands alone as one
        // 0, and the runs between occurrences are interspersed with blanks of their own.
        let mut ids = Vec::with_capacity(2 * kept.len() + 1);
        let mut run: Vec<u32> = Vec::new();
        let flush = |run: &mut Vec<u32>, ids: &mut Vec<u32>| {
            if !run.is_empty() {
                ids.push(0);
                for &id in run.iter() {
                    ids.extend([id, 0]);
                }
                run.clear();
            }
        };
        for c in kept {
            let id = self.ids[&c];
            if id == 0 {
                flush(&mut run, &mut ids);
                ids.push(0);
            } else {
                run.push(id);
            }
        }
        flush(&mut run, &mut ids);
        (ids, dropped)
    }
}
