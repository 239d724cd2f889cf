//! safetensors and GGUF readers and the VarBuilder, checked against files written by the reference
//! packages (`safetensors`, and `gguf`'s GGUFWriter). Fixtures: `scripts/fixtures/quant_fixtures.py`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod quant_common;

use offgrid_engine::io::{
    DTypePolicy, Gguf, MetadataArray, MetadataValue, SafeTensors, VarBuilder,
};
use offgrid_engine::storage::{CpuStorage, Storage};
use offgrid_engine::{DType, Device, Error, Tensor};
use quant_common::{field, unhex, unhex_f32};
use std::sync::Arc;

const ST: &[u8] = include_bytes!("fixtures/quant_tiny.safetensors");
const GGUF: &[u8] = include_bytes!("fixtures/quant_tiny.gguf");

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

fn dims(v: &serde_json::Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

fn assert_bits(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.to_bits(), w.to_bits(), "{what}[{i}]: {g} vs {w}");
    }
}

fn quantized_bytes(t: &Tensor) -> Vec<u8> {
    match t.storage() {
        Storage::Cpu(CpuStorage::Quantized { bytes, .. }) => bytes.clone(),
        other => panic!("not quantized: {other:?}"),
    }
}

#[test]
fn safetensors_values_shapes_and_metadata_match_the_reference() {
    let fx = json(include_str!("fixtures/quant_tiny_safetensors.json"));
    let st = SafeTensors::from_bytes(ST.to_vec()).unwrap();
    assert_eq!(
        st.metadata().get("note").map(String::as_str),
        Some("offgrid fixture")
    );
    assert_eq!(st.metadata().get("format").map(String::as_str), Some("pt"));
    let expected = field(&fx, &["tensors"]).as_object().unwrap();
    assert_eq!(st.names().count(), expected.len());
    for (name, e) in expected {
        let info = st.info(name).unwrap();
        assert_eq!(info.dtype_name, e["dtype"].as_str().unwrap(), "{name}");
        assert_eq!(info.shape, dims(&e["shape"]), "{name}");
        let t = st.load(name, DTypePolicy::AsStored, &Device::Cpu).unwrap();
        assert_eq!(t.dims(), &info.shape[..]);
        // BF16 is converted on load; F32 and F16 stay as stored.
        let want_dtype = if info.dtype_name == "F16" {
            DType::F16
        } else {
            DType::F32
        };
        assert_eq!(t.dtype(), want_dtype, "{name}");
        assert_bits(
            &t.to_vec_f32().unwrap(),
            &unhex_f32(e["values"].as_str().unwrap()),
            name,
        );
    }
}

#[test]
fn safetensors_dtype_policies_convert() {
    let st = SafeTensors::from_bytes(ST.to_vec()).unwrap();
    let f32s = st
        .load(
            "encoder.layer.0.weight",
            DTypePolicy::AsStored,
            &Device::Cpu,
        )
        .unwrap();
    let as_f16 = st
        .load("encoder.layer.0.weight", DTypePolicy::F16, &Device::Cpu)
        .unwrap();
    assert_eq!(as_f16.dtype(), DType::F16);
    let rounded: Vec<f32> = f32s
        .to_vec_f32()
        .unwrap()
        .iter()
        .map(|&v| half::f16::from_f32(v).to_f32())
        .collect();
    assert_bits(&as_f16.to_vec_f32().unwrap(), &rounded, "f32 → f16");
    let bias = st
        .load("encoder.layer.0.bias", DTypePolicy::F32, &Device::Cpu)
        .unwrap();
    assert_eq!(bias.dtype(), DType::F32);
    let bf = st
        .load("encoder.layer.1.weight", DTypePolicy::F16, &Device::Cpu)
        .unwrap();
    assert_eq!((bf.dtype(), bf.dims()), (DType::F16, &[2, 2, 3][..]));
}

#[test]
fn gguf_metadata_matches_what_gguf_py_wrote() {
    let g = Gguf::from_bytes(GGUF.to_vec()).unwrap();
    assert_eq!((g.version(), g.alignment()), (3, 64));
    assert_eq!(g.data_offset() % 64, 0);
    let m = |k: &str| g.get(k).unwrap_or_else(|| panic!("missing {k}")).clone();
    assert_eq!(m("general.architecture").as_str(), Some("llama"));
    assert_eq!(m("test.u8"), MetadataValue::U8(200));
    assert_eq!(m("test.i8"), MetadataValue::I8(-100));
    assert_eq!(m("test.u16"), MetadataValue::U16(60000));
    assert_eq!(m("test.i16"), MetadataValue::I16(-30000));
    assert_eq!(m("test.u32"), MetadataValue::U32(4_000_000_000));
    assert_eq!(m("test.i32"), MetadataValue::I32(-2_000_000_000));
    assert_eq!(m("test.f32"), MetadataValue::F32(0.25));
    assert_eq!(m("test.bool"), MetadataValue::Bool(true));
    assert_eq!(m("test.string").as_str(), Some("héllo, gguf"));
    assert_eq!(m("test.u64"), MetadataValue::U64((1 << 63) + 5));
    assert_eq!(m("test.i64"), MetadataValue::I64(-(1 << 62)));
    assert_eq!(m("test.f64"), MetadataValue::F64(-1.5e300));
    assert_eq!(m("test.u32").as_u64(), Some(4_000_000_000));
    assert_eq!(m("test.i8").as_u64(), None);
    assert_eq!(
        m("test.array_i32"),
        MetadataValue::Array(MetadataArray::I32(vec![1, -2, 3]))
    );
    let strs = m("test.array_str");
    assert_eq!(
        strs.as_array().unwrap().as_strings().unwrap(),
        ["a", "bc", ""]
    );
    assert_eq!(
        m("test.array_nested"),
        MetadataValue::Array(MetadataArray::Array(vec![
            MetadataArray::I32(vec![1, 2]),
            MetadataArray::I32(vec![3])
        ]))
    );
}

#[test]
fn gguf_tensors_match_gguf_py_dequantization() {
    let fx = json(include_str!("fixtures/quant_tiny_gguf.json"));
    let g = Gguf::from_bytes(GGUF.to_vec()).unwrap();
    let expected = field(&fx, &["tensors"]).as_object().unwrap();
    assert_eq!(g.tensors().len(), expected.len());
    for (name, e) in expected {
        let info = g.info(name).unwrap();
        assert_eq!(info.ggml_type.name, e["dtype"].as_str().unwrap(), "{name}");
        // GGUF stores dims innermost first; we expose them outermost first like PyTorch.
        assert_eq!(info.shape, dims(&e["shape"]), "{name}");
        assert_eq!(info.range.start % 64, 0, "{name} is aligned");
        let t = g.load(name, DTypePolicy::AsStored, &Device::Cpu).unwrap();
        let want = match info.ggml_type.name {
            "BF16" => DType::F32,
            other => info.ggml_type.dtype().unwrap_or_else(|| panic!("{other}")),
        };
        assert_eq!(t.dtype(), want, "{name}");
        assert_bits(
            &t.to_vec_f32().unwrap(),
            &unhex_f32(e["values"].as_str().unwrap()),
            name,
        );
    }
}

#[test]
fn var_builder_paths_shapes_and_missing_weights() {
    let vb = VarBuilder::from_safetensors(Arc::<[u8]>::from(ST), &Device::Cpu).unwrap();
    let layer = vb.pp("encoder").pp("layer.0");
    assert_eq!(layer.prefix(), "encoder.layer.0");
    assert!(layer.contains("weight") && !layer.contains("gamma"));
    let w = layer.get("weight", [4, 3]).unwrap();
    assert_eq!(w.dims(), &[4, 3]);
    let direct = vb.get_unchecked("encoder.layer.0.weight").unwrap();
    assert_eq!(w.to_vec_f32().unwrap(), direct.to_vec_f32().unwrap());
    let err = layer.get("weight", [3, 4]).unwrap_err().to_string();
    assert!(
        err.contains("encoder.layer.0.weight") && err.contains("[4, 3]"),
        "{err}"
    );
    match layer.get("gamma", [4]) {
        Err(Error::MissingWeight(name)) => assert_eq!(name, "encoder.layer.0.gamma"),
        other => panic!("expected MissingWeight, got {other:?}"),
    }
    assert_eq!(vb.get("scalar", ()).unwrap().to_vec_f32().unwrap(), [3.5]);
}

#[test]
fn load_time_quantization_matches_gguf_py() {
    let fx = json(include_str!("fixtures/quant_tiny_safetensors.json"));
    let vb = VarBuilder::from_safetensors(Arc::<[u8]>::from(ST), &Device::Cpu).unwrap();
    for (dtype, key) in [(DType::Q8_0, "Q8_0"), (DType::Q4_0, "Q4_0")] {
        let q = vb.clone().with_quantization(Some(dtype)).unwrap();
        let t = q.get("proj.weight", [8, 64]).unwrap();
        assert_eq!(t.dtype(), dtype);
        let want = unhex(
            field(&fx, &["tensors", "proj.weight", key])
                .as_str()
                .unwrap(),
        );
        assert_eq!(quantized_bytes(&t), want, "{key} bytes equal gguf-py's");
        // 1-D weights and get_float are never quantized.
        assert_eq!(
            q.get("encoder.layer.0.bias", [4]).unwrap().dtype(),
            DType::F16
        );
        assert_eq!(
            q.get_float("proj.weight", [8, 64]).unwrap().dtype(),
            DType::F32
        );
    }
    assert!(vb.clone().with_quantization(Some(DType::Q4_K)).is_err());
}

#[test]
fn var_builder_over_gguf_keeps_blocks() {
    let vb = VarBuilder::from_gguf(Arc::<[u8]>::from(GGUF), &Device::Cpu).unwrap();
    let t = vb.pp("t");
    let q = t.get("q4_k", [2, 256]).unwrap();
    assert_eq!(q.dtype(), DType::Q4_K);
    assert_eq!(
        quantized_bytes(&q),
        vb.gguf().unwrap().raw("t.q4_k").unwrap()
    );
    assert_eq!(t.get("f16", [3, 5]).unwrap().dtype(), DType::F16);
    assert_eq!(
        t.clone()
            .with_dtype(DTypePolicy::F32)
            .get("f16", [3, 5])
            .unwrap()
            .dtype(),
        DType::F32
    );
    assert_eq!(
        vb.gguf()
            .unwrap()
            .get("test.u8")
            .and_then(MetadataValue::as_u64),
        Some(200)
    );
}

#[test]
fn config_json_parses_into_a_serde_struct() {
    #[derive(serde::Deserialize)]
    struct Config {
        hidden_size: usize,
        #[serde(default)]
        rope_theta: Option<f64>,
    }
    let c: Config =
        offgrid_engine::io::parse_config(br#"{"hidden_size": 896, "model_type": "qwen2"}"#)
            .unwrap();
    assert_eq!((c.hidden_size, c.rope_theta), (896, None));
    assert!(offgrid_engine::io::parse_config::<Config>(b"{\"hidden_size\": -1}").is_err());
}
