//! Piper voices: a VITS model exported to ONNX (`<voice>.onnx`) plus its `<voice>.onnx.json` (sample rate,
//! default scales, the phoneme → id map). The exporter removed weight norm and names most weights as PyTorch
//! does (`enc_p.*`, `dp.*`, `flow.*`, `dec.*`), with three exceptions this module resolves through the graph:
//! the phoneme embedding is the initializer `sid` (read by `/enc_p/emb/Gather`), the coupling layers' WN
//! convolutions are anonymous (`onnx::Conv_8168`; their node `/flow/flows.6/enc/in_layers.0/Conv` names them),
//! and `dp.flows.0.logs` was folded into `exp(-logs)` (`/dp/flows.0/Mul`'s constant). Every weight is renamed to
//! its PyTorch name in an in-memory safetensors file; sizes the weights cannot tell (upsampling strides, dilations)
//! come from the nodes' attributes.

use super::config::VitsConfig;
use crate::io::onnx::{OnnxModel, OnnxNode};
use crate::io::safetensors::{write_safetensors, TensorToWrite};
use crate::{Error, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

fn not_piper(msg: impl Into<String>) -> Error {
    Error::Malformed(format!(
        "this file is not a Piper VITS voice: {}",
        msg.into()
    ))
}

/// The parts of `<voice>.onnx.json` synthesis needs.
#[derive(Debug, Clone, Deserialize)]
pub struct PiperConfig {
    pub audio: PiperAudio,
    #[serde(default)]
    pub espeak: Option<PiperEspeak>,
    #[serde(default)]
    pub inference: PiperInference,
    /// One phoneme (a Unicode code point) → its ids (always one id in published voices).
    pub phoneme_id_map: HashMap<String, Vec<u32>>,
    #[serde(default)]
    pub num_speakers: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PiperAudio {
    pub sample_rate: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PiperEspeak {
    /// espeak-ng's voice name the phonemes were made with (`en-us`, `en-gb-x-rp`, …).
    pub voice: String,
}

/// The voice's default scales.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct PiperInference {
    pub noise_scale: f32,
    pub length_scale: f32,
    pub noise_w: f32,
}

impl Default for PiperInference {
    fn default() -> Self {
        PiperInference {
            noise_scale: 0.667,
            length_scale: 1.0,
            noise_w: 0.8,
        }
    }
}

impl PiperConfig {
    /// Parses `<voice>.onnx.json`.
    pub fn parse(json: &str) -> Result<Self> {
        let config: PiperConfig = serde_json::from_str(json)
            .map_err(|e| not_piper(format!("its .onnx.json could not be read ({e})")))?;
        for key in ["^", "$", "_"] {
            if !config.phoneme_id_map.contains_key(key) {
                return Err(not_piper(format!(
                    "its phoneme map has no `{key}` (begin, end or pad)"
                )));
            }
        }
        if config.num_speakers > 1 {
            return Err(Error::Unsupported(
                "voices with several speakers are not supported yet".into(),
            ));
        }
        Ok(config)
    }

    /// The id of one phoneme.
    pub fn id(&self, phoneme: char) -> Option<u32> {
        let mut buf = [0u8; 4];
        self.phoneme_id_map
            .get(phoneme.encode_utf8(&mut buf) as &str)
            .and_then(|ids| ids.first().copied())
    }
}

/// `/flow/flows.6/enc/in_layers.0/Conv` → `flow.flows.6.enc.in_layers.0`.
fn module_path(node: &OnnxNode) -> Option<String> {
    let path = node
        .name
        .strip_prefix('/')?
        .strip_suffix(&format!("/{}", node.op_type))?;
    (!path.is_empty()).then(|| path.replace('/', "."))
}

fn float_tensor(
    model: &OnnxModel,
    value: &str,
    name: String,
    out: &mut BTreeMap<String, TensorToWrite<'static>>,
) -> Result<()> {
    let tensor = model
        .constant(value)
        .ok_or_else(|| not_piper(format!("`{name}` is not stored in the file")))?;
    let (dtype, bytes) = tensor.float_bytes()?;
    out.insert(
        name.clone(),
        TensorToWrite {
            name,
            dtype,
            shape: tensor.dims.clone(),
            bytes: std::borrow::Cow::Owned(bytes.into_owned()),
        },
    );
    Ok(())
}

/// The weights of a Piper `.onnx` file under PyTorch names, as safetensors bytes, and the model's sizes.
pub fn to_safetensors(file: &[u8], sample_rate: u32) -> Result<(Vec<u8>, VitsConfig)> {
    let model = OnnxModel::parse(file)?;
    let mut tensors: BTreeMap<String, TensorToWrite<'static>> = BTreeMap::new();
    // Weights with their PyTorch names.
    for t in &model.initializers {
        let pytorch = ["enc_p.", "dp.", "flow.", "dec."]
            .iter()
            .any(|p| t.name.starts_with(p));
        if pytorch && t.elem_count() > 0 {
            float_tensor(&model, &t.name, t.name.clone(), &mut tensors)?;
        }
    }
    // Convolutions, named after their nodes (this also covers the anonymous WN weights).
    let mut upsample = Vec::new();
    let mut dilations: BTreeMap<String, usize> = BTreeMap::new();
    for node in model
        .nodes
        .iter()
        .filter(|n| n.op_type == "Conv" || n.op_type == "ConvTranspose")
    {
        let Some(path) = module_path(node) else {
            continue;
        };
        for (input, part) in node.inputs.iter().skip(1).zip(["weight", "bias"]) {
            if !input.is_empty() {
                float_tensor(&model, input, format!("{path}.{part}"), &mut tensors)?;
            }
        }
        if node.op_type == "ConvTranspose" {
            let stride = node.ints("strides", &[1]).first().copied().unwrap_or(1);
            let pad = node.ints("pads", &[0]).first().copied().unwrap_or(0);
            upsample.push((path, stride.max(1) as usize, pad.max(0) as usize));
        } else {
            let d = node.ints("dilations", &[1]).first().copied().unwrap_or(1);
            dilations.insert(path, d.max(1) as usize);
        }
    }
    // The phoneme embedding.
    let gather = model
        .nodes
        .iter()
        .find(|n| n.op_type == "Gather" && n.name == "/enc_p/emb/Gather")
        .ok_or_else(|| not_piper("it has no phoneme embedding (`/enc_p/emb/Gather`)"))?;
    let table = gather
        .inputs
        .first()
        .ok_or_else(|| not_piper("the phoneme embedding has no table"))?;
    float_tensor(&model, table, "enc_p.emb.weight".into(), &mut tensors)?;
    // The duration predictor's first flow: `(z - m) * exp(-logs)`; the export keeps exp(-logs).
    if !tensors.contains_key("dp.flows.0.logs") {
        let mul = model
            .nodes
            .iter()
            .find(|n| n.name == "/dp/flows.0/Mul")
            .ok_or_else(|| not_piper("its duration predictor has no affine flow"))?;
        let scale = mul
            .inputs
            .iter()
            .find_map(|i| model.constant(i))
            .ok_or_else(|| not_piper("the duration predictor's affine flow has no scale"))?;
        let logs: Vec<f32> = scale.to_f32()?.iter().map(|v| -v.ln()).collect();
        tensors.insert(
            "dp.flows.0.logs".into(),
            TensorToWrite::f32("dp.flows.0.logs", scale.dims.clone(), &logs),
        );
    }
    upsample.sort_by_key(|(path, _, _)| path.clone());
    let config = VitsConfig::from_weights(
        &|name| tensors.get(name).map(|t| t.shape.clone()),
        upsample.iter().map(|(_, s, p)| (*s, *p)).collect(),
        &|path| dilations.get(path).copied(),
        sample_rate,
    )?;
    let list: Vec<TensorToWrite> = tensors.into_values().collect();
    Ok((write_safetensors(&list)?, config))
}
