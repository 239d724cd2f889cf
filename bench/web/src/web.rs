//! What the bench page calls: the kernel cases, MiniLM loaded from bytes the page fetched (the browser has
//! no files) on the wasm CPU path or on WebGPU, and a Piper voice (VITS) on the wasm CPU path.

use crate::kernels;
use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::io::VarBuilder;
use offgrid_engine::models::bert::{EncoderFiles, SentenceEncoder};
use offgrid_engine::models::vits::{Noise, Scales, Vits};
use offgrid_engine::{Device, Tensor};
use wasm_bindgen::prelude::*;

fn js_error(e: offgrid_engine::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// Seconds from `performance.now()` (ms, coarsened to 0.1 ms outside cross-origin isolation: far below the
/// times measured here).
fn now_s() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now() / 1e3)
}

/// The kernel cases' names, in order.
#[wasm_bindgen]
pub fn kernel_cases() -> Vec<String> {
    kernels::cases().into_iter().map(|c| c.name).collect()
}

/// Runs kernel case `index` for about `budget_s` seconds; one JSON object, as `kernels_native` prints.
#[wasm_bindgen]
pub fn run_kernel_case(index: usize, budget_s: f64) -> Result<String, JsError> {
    let cases = kernels::cases();
    let case = cases
        .get(index)
        .ok_or_else(|| JsError::new(&format!("no kernel case {index}")))?;
    Ok(kernels::run(case, budget_s, &now_s)
        .map_err(js_error)?
        .to_json())
}

/// all-MiniLM-L6-v2 (or any sentence-transformers BERT folder) on one device.
#[wasm_bindgen]
pub struct MiniLm {
    encoder: SentenceEncoder,
    device: Device,
}

#[wasm_bindgen]
impl MiniLm {
    /// Loads the model from the folder's files on WebGPU (`gpu`) or the wasm CPU path.
    pub async fn load(
        gpu: bool,
        weights: Vec<u8>,
        config: Vec<u8>,
        tokenizer: Vec<u8>,
        pooling: Option<Vec<u8>>,
        sentence_bert_config: Option<Vec<u8>>,
    ) -> Result<MiniLm, JsError> {
        let device = if gpu {
            Device::Gpu(GpuDevice::new().await.map_err(js_error)?)
        } else {
            Device::Cpu
        };
        let vb = VarBuilder::from_safetensors(weights, &device).map_err(js_error)?;
        let files = EncoderFiles {
            config: &config,
            tokenizer: &tokenizer,
            pooling: pooling.as_deref(),
            sentence_bert_config: sentence_bert_config.as_deref(),
            sentence_transformers_config: None,
        };
        let encoder = SentenceEncoder::from_files(&files, &vb).map_err(js_error)?;
        Ok(MiniLm { encoder, device })
    }

    /// The backend in words: the wasm CPU path, or the WebGPU adapter as wgpu reports it.
    pub fn backend(&self) -> String {
        match &self.device {
            Device::Cpu => "wasm32 CPU (simd128, 1 thread)".into(),
            Device::Gpu(g) => {
                let info = g.adapter_info();
                format!("WebGPU {} {} {}", info.name, info.driver, info.driver_info)
                    .trim()
                    .to_string()
            }
        }
    }

    /// Sentence vectors of `texts` (tokenized, padded, pooled, unit length), `dim` floats each, concatenated.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<f32>, JsError> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let vectors = self.encoder.encode(&refs).await.map_err(js_error)?;
        Ok(vectors.concat())
    }

    /// The benchmark's unit of work: `batch` rows of `seq` token ids (no padding) through the model, mean-pooled
    /// and normalised; `batch × dim` floats. Tokenization is left out, as on the Transformers.js side.
    pub async fn embed_ids(
        &self,
        ids: Vec<u32>,
        batch: usize,
        seq: usize,
    ) -> Result<Vec<f32>, JsError> {
        let device = &self.device;
        let ids = Tensor::from_u32(ids, [batch, seq], device).map_err(js_error)?;
        let mask =
            Tensor::from_f32(vec![1.0; batch * seq], [batch, seq], device).map_err(js_error)?;
        let hidden = self
            .encoder
            .model()
            .forward(&ids, &mask)
            .map_err(js_error)?;
        // No padding: the masked mean of the encoder is the plain mean over tokens.
        let pooled = hidden.mean(1, false).map_err(js_error)?;
        let mut flat = pooled.to_vec_f32_async().await.map_err(js_error)?;
        let dim = self.encoder.dim();
        for v in flat.chunks_mut(dim) {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            v.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(flat)
    }

    /// Width of the vectors.
    pub fn dim(&self) -> usize {
        self.encoder.dim()
    }
}

/// A Piper voice (VITS) on the wasm CPU path, for the Speak benchmark: phoneme ids in, samples out (the
/// phonemizer is left out, as on the onnxruntime-web side).
#[wasm_bindgen]
pub struct Piper {
    vits: Vits,
}

#[wasm_bindgen]
impl Piper {
    /// Reads the voice's `.onnx` with our own ONNX reader into our VITS; `sample_rate` is the `.onnx.json`'s
    /// `audio.sample_rate`.
    pub fn load(onnx: Vec<u8>, sample_rate: u32) -> Result<Piper, JsError> {
        let vits = Vits::from_piper_onnx(&onnx, sample_rate, &Device::Cpu).map_err(js_error)?;
        Ok(Piper { vits })
    }

    /// The backend in words.
    pub fn backend(&self) -> String {
        "wasm32 CPU (simd128, 1 thread)".into()
    }

    /// One sentence's audio (mono, the voice's sample rate) from its phoneme ids, with the given scales; noise
    /// from seed 0 (none is drawn when both noise scales are 0, which makes the output deterministic).
    pub async fn synthesize(
        &self,
        ids: Vec<u32>,
        noise: f32,
        length: f32,
        noise_w: f32,
    ) -> Result<Vec<f32>, JsError> {
        let scales = Scales {
            noise,
            length,
            noise_w,
        };
        let out = self
            .vits
            .synthesize(&ids, scales, &mut Noise::new(0))
            .await
            .map_err(js_error)?;
        Ok(out.audio)
    }
}
