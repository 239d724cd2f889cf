//! Whisper from a CTranslate2 `model.bin` (the `Systran/faster-whisper-*` files): the variables are renamed to
//! the `openai/whisper-*` safetensors names (fused projections split: self-attention q|k|v rows, cross-attention
//! k|v rows; CTranslate2's zero k-biases dropped), and `config.json` / `generation_config.json` are rebuilt
//! from the tensors' shapes, the file's `config.json` (suppressed tokens) and the tokenizer's special tokens.
//! The result goes through the same model code as a safetensors checkpoint: one model, two readers.

use crate::io::ctranslate2::{Ct2DType, Ct2Model};
use crate::io::safetensors::{write_safetensors, TensorToWrite};
use crate::{Error, Result};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// What `WhisperTranscriber::from_parts` reads, made from a CTranslate2 model.
pub struct Ct2Whisper {
    /// A safetensors file with the Hugging Face names.
    pub safetensors: Vec<u8>,
    pub config_json: Vec<u8>,
    pub generation_json: Vec<u8>,
}

/// The file's `config.json` (faster-whisper's).
#[derive(Deserialize)]
struct Ct2Config {
    #[serde(default)]
    suppress_ids: Vec<u32>,
    #[serde(default)]
    suppress_ids_begin: Vec<u32>,
    #[serde(default)]
    lang_ids: Vec<u32>,
}

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
}

#[derive(Deserialize)]
struct TokenizerSpecials {
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid("ctranslate2 whisper", msg)
}

/// One tensor of the safetensors being built.
type Out = TensorToWrite<'static>;

/// Reads variables and slices them into the output tensors.
struct Converter<'a, 'b> {
    model: &'b Ct2Model<'a>,
    out: Vec<Out>,
    /// The last integer weight scaled back to f32, so a fused one is dequantized once for all its parts.
    scaled: Option<(String, Vec<f32>)>,
}

impl Converter<'_, '_> {
    /// Rows `[from, from + rows)` of variable `name` (all rows when `rows` is `None`) as tensor `to`.
    fn rows(&mut self, name: &str, to: &str, from: usize, rows: Option<usize>) -> Result<()> {
        let (var, bytes) = self
            .model
            .get(name)
            .ok_or_else(|| invalid(format!("`{name}` is missing; is this a Whisper model?")))?;
        let total = var.shape.first().copied().unwrap_or(1);
        let rows = rows.unwrap_or(total);
        if from + rows > total {
            return Err(invalid(format!(
                "`{name}` has {total} rows, fewer than the model needs"
            )));
        }
        let mut shape = var.shape.clone();
        if shape.is_empty() {
            return Err(invalid(format!("`{name}` is a scalar, not a tensor")));
        }
        shape[0] = rows;
        let per_row: usize = var.shape[1..].iter().product();
        let (dtype, bytes) = match var.dtype {
            // Floats keep their stored type and bytes.
            Ct2DType::F32 | Ct2DType::F16 | Ct2DType::BF16 => {
                let size = var.dtype.size();
                let range = from * per_row * size..(from + rows) * per_row * size;
                let name = match var.dtype {
                    Ct2DType::F32 => "F32",
                    Ct2DType::F16 => "F16",
                    _ => "BF16",
                };
                (name, bytes[range].to_vec())
            }
            // Integer weights are scaled back to f32 (the plan's dtype may quantize them again).
            _ => {
                if self.scaled.as_ref().is_none_or(|(n, _)| n != name) {
                    self.scaled = Some((name.to_string(), self.model.to_f32(name)?));
                }
                let values = self.scaled.as_ref().map_or(&[][..], |(_, v)| v.as_slice());
                let slice = &values[from * per_row..(from + rows) * per_row];
                ("F32", slice.iter().flat_map(|v| v.to_le_bytes()).collect())
            }
        };
        self.out.push(Out {
            name: to.to_string(),
            dtype,
            shape,
            bytes: bytes.into(),
        });
        Ok(())
    }

    fn whole(&mut self, name: &str, to: &str) -> Result<()> {
        self.rows(name, to, 0, None)
    }

    fn norm(&mut self, ct2: &str, hf: &str) -> Result<()> {
        self.whole(&format!("{ct2}/gamma"), &format!("{hf}.weight"))?;
        self.whole(&format!("{ct2}/beta"), &format!("{hf}.bias"))
    }

    fn linear(&mut self, ct2: &str, hf: &str) -> Result<()> {
        self.whole(&format!("{ct2}/weight"), &format!("{hf}.weight"))?;
        self.whole(&format!("{ct2}/bias"), &format!("{hf}.bias"))
    }

    /// A fused projection whose rows are `parts` of `d` rows each; `None` parts are skipped, and `k_proj`
    /// gets no bias (Whisper's has none; CTranslate2 stores zeros).
    fn fused(&mut self, ct2: &str, hf: &str, parts: &[&str], d: usize) -> Result<()> {
        for (i, part) in parts.iter().enumerate() {
            let to = format!("{hf}.{part}");
            self.rows(
                &format!("{ct2}/weight"),
                &format!("{to}.weight"),
                i * d,
                Some(d),
            )?;
            if *part != "k_proj" {
                self.rows(
                    &format!("{ct2}/bias"),
                    &format!("{to}.bias"),
                    i * d,
                    Some(d),
                )?;
            }
        }
        Ok(())
    }

    fn ffn(&mut self, ct2: &str, hf: &str) -> Result<()> {
        self.norm(
            &format!("{ct2}/ffn/layer_norm"),
            &format!("{hf}.final_layer_norm"),
        )?;
        self.linear(&format!("{ct2}/ffn/linear_0"), &format!("{hf}.fc1"))?;
        self.linear(&format!("{ct2}/ffn/linear_1"), &format!("{hf}.fc2"))
    }

    fn self_attention(&mut self, ct2: &str, hf: &str, d: usize) -> Result<()> {
        let s = format!("{ct2}/self_attention");
        self.norm(
            &format!("{s}/layer_norm"),
            &format!("{hf}.self_attn_layer_norm"),
        )?;
        self.fused(
            &format!("{s}/linear_0"),
            &format!("{hf}.self_attn"),
            &["q_proj", "k_proj", "v_proj"],
            d,
        )?;
        self.linear(
            &format!("{s}/linear_1"),
            &format!("{hf}.self_attn.out_proj"),
        )
    }
}

/// Layers `prefix/layer_N` present in the file.
fn layer_count(model: &Ct2Model, prefix: &str) -> usize {
    let start = format!("{prefix}/layer_");
    model
        .names()
        .filter_map(|n| n.strip_prefix(&start))
        .filter_map(|rest| rest.split('/').next()?.parse::<usize>().ok())
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

fn dims<'m>(model: &'m Ct2Model, name: &str) -> Result<&'m [usize]> {
    model
        .get(name)
        .map(|(v, _)| v.shape.as_slice())
        .ok_or_else(|| invalid(format!("`{name}` is missing; is this a Whisper model?")))
}

/// The first dimension of a variable that must be a matrix (a scalar is an error, not a panic).
fn rows(model: &Ct2Model, name: &str) -> Result<usize> {
    match dims(model, name)? {
        [rows, _, ..] => Ok(*rows),
        other => Err(invalid(format!(
            "`{name}` has shape {other:?}, not a matrix"
        ))),
    }
}

/// Converts a CTranslate2 Whisper (`model.bin`, its `config.json`, `tokenizer.json`).
pub fn convert(model_bin: &[u8], ct2_config: &[u8], tokenizer_json: &[u8]) -> Result<Ct2Whisper> {
    let model = Ct2Model::parse(model_bin)?;
    if model.spec != "WhisperSpec" {
        return Err(invalid(format!(
            "the file is a CTranslate2 `{}`, not a Whisper model",
            model.spec
        )));
    }
    let conv1 = dims(&model, "encoder/conv1/weight")?.to_vec();
    let [d, mels, 3] = conv1[..] else {
        return Err(invalid(format!("encoder/conv1/weight has shape {conv1:?}")));
    };
    let vocab = rows(&model, "decoder/embeddings/weight")?;
    let ffn = rows(&model, "encoder/layer_0/ffn/linear_0/weight")?;
    let sources = rows(&model, "encoder/position_encodings/encodings")?;
    let targets = rows(&model, "decoder/position_encodings/encodings")?;
    let (enc_layers, dec_layers) = (
        layer_count(&model, "encoder"),
        layer_count(&model, "decoder"),
    );
    // Whisper's heads are 64 wide; the file says so too.
    let heads = |scope: &str| {
        model
            .scalar_int(&format!("{scope}/num_heads"))
            .filter(|&h| h > 0)
            .map_or(d / 64, |h| h as usize)
    };
    let (enc_heads, dec_heads) = (heads("encoder"), heads("decoder"));

    let mut c = Converter {
        model: &model,
        out: Vec::new(),
        scaled: None,
    };
    let enc = "model.encoder";
    for conv in ["conv1", "conv2"] {
        c.linear(&format!("encoder/{conv}"), &format!("{enc}.{conv}"))?;
    }
    c.whole(
        "encoder/position_encodings/encodings",
        &format!("{enc}.embed_positions.weight"),
    )?;
    c.norm("encoder/layer_norm", &format!("{enc}.layer_norm"))?;
    for i in 0..enc_layers {
        let (ct2, hf) = (format!("encoder/layer_{i}"), format!("{enc}.layers.{i}"));
        c.self_attention(&ct2, &hf, d)?;
        c.ffn(&ct2, &hf)?;
    }
    let dec = "model.decoder";
    c.whole(
        "decoder/embeddings/weight",
        &format!("{dec}.embed_tokens.weight"),
    )?;
    c.whole(
        "decoder/position_encodings/encodings",
        &format!("{dec}.embed_positions.weight"),
    )?;
    c.norm("decoder/layer_norm", &format!("{dec}.layer_norm"))?;
    for i in 0..dec_layers {
        let (ct2, hf) = (format!("decoder/layer_{i}"), format!("{dec}.layers.{i}"));
        c.self_attention(&ct2, &hf, d)?;
        let a = format!("{ct2}/attention");
        c.norm(
            &format!("{a}/layer_norm"),
            &format!("{hf}.encoder_attn_layer_norm"),
        )?;
        c.linear(
            &format!("{a}/linear_0"),
            &format!("{hf}.encoder_attn.q_proj"),
        )?;
        c.fused(
            &format!("{a}/linear_1"),
            &format!("{hf}.encoder_attn"),
            &["k_proj", "v_proj"],
            d,
        )?;
        c.linear(
            &format!("{a}/linear_2"),
            &format!("{hf}.encoder_attn.out_proj"),
        )?;
        c.ffn(&ct2, &hf)?;
    }
    let safetensors = write_safetensors(&c.out)?;

    let config_json = serde_json::to_vec(&json!({
        "vocab_size": vocab,
        "num_mel_bins": mels,
        "d_model": d,
        "encoder_layers": enc_layers,
        "encoder_attention_heads": enc_heads,
        "encoder_ffn_dim": ffn,
        "decoder_layers": dec_layers,
        "decoder_attention_heads": dec_heads,
        "decoder_ffn_dim": ffn,
        "max_source_positions": sources,
        "max_target_positions": targets,
        "activation_function": "gelu",
    }))
    .map_err(|e| invalid(e.to_string()))?;
    let generation_json = generation_config(ct2_config, tokenizer_json, vocab, targets)?;
    Ok(Ct2Whisper {
        safetensors,
        config_json,
        generation_json,
    })
}

/// `generation_config.json` as transformers writes it for the same checkpoint.
fn generation_config(
    ct2_config: &[u8],
    tokenizer_json: &[u8],
    vocab: usize,
    max_length: usize,
) -> Result<Vec<u8>> {
    let cfg: Ct2Config = serde_json::from_slice(ct2_config)
        .map_err(|e| invalid(format!("its config.json cannot be read: {e}")))?;
    let tok: TokenizerSpecials = serde_json::from_slice(tokenizer_json)
        .map_err(|e| invalid(format!("its tokenizer.json cannot be read: {e}")))?;
    let special: BTreeMap<&str, u32> = tok
        .added_tokens
        .iter()
        .map(|t| (t.content.as_str(), t.id))
        .collect();
    let id = |token: &str| {
        special
            .get(token)
            .copied()
            .ok_or_else(|| invalid(format!("the tokenizer has no {token} token")))
    };
    // transformers' rule: the multilingual vocabularies have 51865 tokens or more.
    let multilingual = vocab >= 51_865;
    let lang_to_id: BTreeMap<String, u32> = if multilingual {
        tok.added_tokens
            .iter()
            .filter(|t| cfg.lang_ids.contains(&t.id))
            .map(|t| (t.content.clone(), t.id))
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut task_to_id = BTreeMap::new();
    if multilingual {
        task_to_id.insert("transcribe", id("<|transcribe|>")?);
        task_to_id.insert("translate", id("<|translate|>")?);
    }
    serde_json::to_vec(&json!({
        "decoder_start_token_id": id("<|startoftranscript|>")?,
        "eos_token_id": id("<|endoftext|>")?,
        "no_timestamps_token_id": id("<|notimestamps|>")?,
        "prev_sot_token_id": id("<|startofprev|>")?,
        "suppress_tokens": cfg.suppress_ids,
        "begin_suppress_tokens": cfg.suppress_ids_begin,
        "is_multilingual": multilingual,
        "lang_to_id": lang_to_id,
        "task_to_id": task_to_id,
        // openai-whisper's and faster-whisper's max_initial_timestamp of 1.0 s.
        "max_initial_timestamp_index": 50,
        "max_length": max_length,
    }))
    .map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::io::ctranslate2::write_string as string;

    fn var(out: &mut Vec<u8>, name: &str, shape: &[u32]) {
        string(out, name);
        out.push(shape.len() as u8);
        for d in shape {
            out.extend_from_slice(&d.to_le_bytes());
        }
        let n: u32 = shape.iter().product();
        out.push(1); // int8
        out.extend_from_slice(&n.to_le_bytes());
        out.extend(std::iter::repeat_n(0u8, n as usize));
    }

    /// Found while writing the fuzz target: a scalar where the embeddings' matrix belongs was indexed for its rows.
    #[test]
    fn a_scalar_where_a_matrix_belongs_is_an_error() {
        let mut f = 6u32.to_le_bytes().to_vec();
        string(&mut f, "WhisperSpec");
        f.extend_from_slice(&[3, 0, 0, 0, 2, 0, 0, 0]);
        var(&mut f, "encoder/conv1/weight", &[2, 1, 3]);
        var(&mut f, "decoder/embeddings/weight", &[]);
        f.extend_from_slice(&0u32.to_le_bytes());
        let err = convert(&f, b"{}", b"{}")
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("not a matrix"), "{err}");
    }
}
