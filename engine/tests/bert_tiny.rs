//! Tiny random BERT checkpoints of the real architecture against `transformers.BertModel` + sentence-transformers
//! pooling (`scripts/fixtures/bert_fixtures.py`): bge-style CLS pooling with `bert.`-prefixed F32 weights (also
//! loaded as F16 and quantized to Q8_0), and e5-style mean pooling with F16 weights and query/passage prompts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bert_common;

use bert_common::{assert_cosines, fixture_dir, gpu, load};
use offgrid_engine::io::DTypePolicy;
use offgrid_engine::models::bert::Pooling;
use offgrid_engine::{DType, Device};
use serde_json::Value;

fn golden(variant: &str, key: &str) -> Vec<Vec<f32>> {
    let v: Value = serde_json::from_str(include_str!("fixtures/bert_tiny.json")).unwrap();
    serde_json::from_value(v[variant][key].clone()).unwrap()
}

fn texts(variant: &str, key: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(include_str!("fixtures/bert_tiny.json")).unwrap();
    serde_json::from_value(v[variant][key].clone()).unwrap()
}

fn run(device: &Device, variant: &str, policy: DTypePolicy, q8: bool, key: &str, min_cos: f32) {
    let enc = load(
        &fixture_dir(&format!("bert_tiny_{variant}")),
        device,
        |vb| {
            let vb = vb.with_dtype(policy);
            if q8 {
                vb.with_quantization(Some(DType::Q8_0)).unwrap()
            } else {
                vb
            }
        },
    );
    let raw = texts(variant, "texts");
    let refs: Vec<&str> = raw.iter().map(String::as_str).collect();
    let got = pollster::block_on(enc.encode_queries(&refs)).unwrap();
    assert_cosines(
        &got.vectors,
        &golden(variant, key),
        min_cos,
        &format!("{variant} {key} {policy:?} on {}", device.name()),
    );
    let v: Value = serde_json::from_str(include_str!("fixtures/bert_tiny.json")).unwrap();
    let want: Vec<bool> = serde_json::from_value(v[variant]["truncated"].clone()).unwrap();
    assert_eq!(got.truncated, want);
    assert!(want.iter().any(|t| *t), "the fixture has a truncated text");
}

#[test]
fn bge_cls_pooling_f32() {
    run(
        &Device::Cpu,
        "bge",
        DTypePolicy::AsStored,
        false,
        "embeddings",
        0.9999,
    );
}

#[test]
fn bge_loaded_as_f16() {
    run(
        &Device::Cpu,
        "bge",
        DTypePolicy::F16,
        false,
        "embeddings",
        0.999,
    );
}

#[test]
fn bge_quantized_q8_0() {
    // Our Q8_0 matmul also quantizes the activations, the reference only the weights.
    run(
        &Device::Cpu,
        "bge",
        DTypePolicy::AsStored,
        true,
        "embeddings_q8_0",
        0.995,
    );
}

#[test]
fn e5_mean_pooling_f16_weights_with_prompts() {
    run(
        &Device::Cpu,
        "e5",
        DTypePolicy::AsStored,
        false,
        "embeddings",
        0.9995,
    );
}

#[test]
fn configs_pick_pooling_prefix_and_ids() {
    let bge = load(&fixture_dir("bert_tiny_bge"), &Device::Cpu, |vb| vb);
    let e5 = load(&fixture_dir("bert_tiny_e5"), &Device::Cpu, |vb| vb);
    assert_eq!(bge.pooling(), Pooling::Cls);
    assert_eq!(e5.pooling(), Pooling::Mean);
    assert_eq!(e5.prefixes(), ("query: ", "passage: "));
    assert_eq!(bge.tokenizer().max_len(), 32);
    let v: Value = serde_json::from_str(include_str!("fixtures/bert_tiny.json")).unwrap();
    for variant in ["bge", "e5"] {
        let enc = if variant == "bge" { &bge } else { &e5 };
        let ids: Vec<Vec<u32>> = serde_json::from_value(v[variant]["ids"].clone()).unwrap();
        for (text, want) in texts(variant, "prefixed").iter().zip(ids) {
            assert_eq!(enc.tokenizer().encode(text).unwrap().ids, want, "{text}");
        }
    }
}

#[test]
fn tiny_on_gpu() {
    let device = gpu();
    run(
        &device,
        "bge",
        DTypePolicy::AsStored,
        false,
        "embeddings",
        0.9999,
    );
    run(
        &device,
        "e5",
        DTypePolicy::AsStored,
        false,
        "embeddings",
        0.999,
    );
    run(
        &device,
        "bge",
        DTypePolicy::AsStored,
        true,
        "embeddings_q8_0",
        0.995,
    );
}
