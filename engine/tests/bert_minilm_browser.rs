//! all-MiniLM-L6-v2 with the REAL weights in headless Chromium, on the wasm CPU path and on WebGPU, against
//! sentence-transformers' own output (`fixtures/bert_minilm.json`): the browser half of `bert_minilm.rs`.
//!
//! The browser has no files, so the test fetches the model folder over HTTP from wasm-bindgen-test-runner's
//! own server, which serves the crate folder (`engine/`) besides its generated files. `scripts/test-wasm.sh`
//! hard-links `.cache/weights/all-MiniLM-L6-v2` into `engine/.test-weights/` first: a symlink would point out
//! of the served folder, and the server refuses such paths.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bert_common;

use bert_common::assert_max_abs;
use offgrid_engine::gpu::GpuDevice;
use offgrid_engine::io::VarBuilder;
use offgrid_engine::models::bert::{EncoderFiles, Pooling, SentenceEncoder};
use offgrid_engine::Device;
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

// WebGPU needs a browser page, not Node.
wasm_bindgen_test_configure!(run_in_browser);

const MODEL_URL: &str = "/.test-weights/all-MiniLM-L6-v2";

/// The bytes at `url`, or `None` on a 404 (optional files of the model folder).
async fn fetch(url: &str) -> Option<Vec<u8>> {
    let window = web_sys::window().expect("a browser window");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .unwrap_or_else(|e| panic!("fetch {url}: {e:?}"))
        .dyn_into()
        .expect("a Response");
    if response.status() == 404 {
        return None;
    }
    assert!(response.ok(), "fetch {url}: HTTP {}", response.status());
    let buffer = JsFuture::from(response.array_buffer().expect("array_buffer"))
        .await
        .expect("body");
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn required(name: &str) -> Vec<u8> {
    fetch(&format!("{MODEL_URL}/{name}")).await.unwrap_or_else(|| {
        panic!(
            "{MODEL_URL}/{name} is not served: run this test through scripts/test-wasm.sh, which links the \
             weights from .cache/weights (scripts/fetch-test-weights.sh fetches them)"
        )
    })
}

/// Loads the encoder from the served folder the way the search worker does (`EncoderFiles` + safetensors bytes).
async fn load(device: &Device) -> SentenceEncoder {
    let weights = required("model.safetensors").await;
    let config = required("config.json").await;
    let tokenizer = required("tokenizer.json").await;
    let pooling = fetch(&format!("{MODEL_URL}/1_Pooling/config.json")).await;
    let sbert = fetch(&format!("{MODEL_URL}/sentence_bert_config.json")).await;
    let st = fetch(&format!("{MODEL_URL}/config_sentence_transformers.json")).await;
    let vb = VarBuilder::from_safetensors(weights, device).expect("safetensors");
    let files = EncoderFiles {
        config: &config,
        tokenizer: &tokenizer,
        pooling: pooling.as_deref(),
        sentence_bert_config: sbert.as_deref(),
        sentence_transformers_config: st.as_deref(),
    };
    SentenceEncoder::from_files(&files, &vb)
        .expect("encoder")
        .with_batch_size(8)
}

fn fixture() -> (Vec<String>, Vec<Vec<f32>>) {
    let v: Value = serde_json::from_str(include_str!("fixtures/bert_minilm.json")).unwrap();
    let sentences = serde_json::from_value(v["sentences"].clone()).unwrap();
    let embeddings = serde_json::from_value(v["embeddings"].clone()).unwrap();
    (sentences, embeddings)
}

async fn check(device: Device) {
    let (sentences, want) = fixture();
    assert!(sentences.len() >= 20);
    let enc = load(&device).await;
    assert_eq!(enc.pooling(), Pooling::Mean);
    assert_eq!(enc.tokenizer().max_len(), 256);
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    // The last sentence is ~400 tokens; the others are short and go through padded batches of up to 8. Encoded
    // together, the long one would pad a batch of 8 to 256 tokens, and WebGPU here is SwiftShader (a software
    // GPU, about 0.2 s per token for this model on 2 cores): encode it on its own so the run stays in minutes.
    let last = texts.len() - 1;
    let short = enc.encode_detailed(&texts[..last]).await.expect("encode");
    // The same per-value bound as the native test (bert_minilm.rs): fixture rounding plus f32 summation order.
    assert_max_abs(&short.vectors, &want[..last], 1e-5, device.name());
    assert!(
        short.truncated.iter().all(|t| !t),
        "short sentences are not cut"
    );
    let long = enc
        .encode_detailed(&texts[last..])
        .await
        .expect("encode long");
    assert_max_abs(&long.vectors, &want[last..], 1e-5, device.name());
    assert_eq!(
        long.truncated,
        vec![true],
        "the long sentence is cut at 256 and reported"
    );
}

#[wasm_bindgen_test]
async fn minilm_wasm_cpu_matches_sentence_transformers() {
    check(Device::Cpu).await;
}

#[wasm_bindgen_test]
async fn minilm_webgpu_matches_sentence_transformers() {
    let gpu = match GpuDevice::new().await {
        Ok(g) => g,
        Err(e) => panic!("no WebGPU adapter ({e}): Chromium needs --enable-unsafe-webgpu (engine/webdriver.json)"),
    };
    check(Device::Gpu(gpu)).await;
}
