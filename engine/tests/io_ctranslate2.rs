//! The CTranslate2 `model.bin` reader on hand-built files (every field checked, every truncation an error,
//! int8 weights scaled back, aliases and their implicit `_scale`), and Whisper conversion refusing what is
//! not a Whisper model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use offgrid_engine::io::ctranslate2::{Ct2DType, Ct2Model};
use offgrid_engine::models::whisper::ct2::convert;

/// Writes CTranslate2's layout (binary version 6).
struct Writer(Vec<u8>);

impl Writer {
    fn new(spec: &str) -> Writer {
        let mut w = Writer(Vec::new());
        w.u32(6);
        w.string(spec);
        w.u32(3);
        w
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.0
            .extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
    }
    fn var(&mut self, name: &str, shape: &[u32], dtype: u8, data: &[u8]) {
        self.string(name);
        self.0.push(shape.len() as u8);
        for &d in shape {
            self.u32(d);
        }
        self.0.push(dtype);
        self.u32(data.len() as u32);
        self.0.extend_from_slice(data);
    }
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Two variables, an int8 weight with per-row scales, and an alias.
fn sample() -> Vec<u8> {
    let mut w = Writer::new("TestSpec");
    w.u32(4);
    w.var("a/weight", &[2, 2], 0, &f32s(&[1.0, 2.0, 3.0, 4.0]));
    w.var("q/weight", &[2, 2], 1, &[10u8, 246, 127, 0]); // 10, -10, 127, 0
    w.var("q/weight_scale", &[2], 0, &f32s(&[10.0, 127.0]));
    w.var("n_heads", &[], 2, &6i16.to_le_bytes());
    w.u32(1);
    w.string("tied/weight");
    w.string("q/weight");
    w.0
}

#[test]
fn variables_scalars_int8_scales_and_aliases_are_read() {
    let bytes = sample();
    let m = Ct2Model::parse(&bytes).expect("parses");
    assert_eq!(m.spec, "TestSpec");
    let (a, _) = m.get("a/weight").unwrap();
    assert_eq!((a.dtype, a.shape.clone()), (Ct2DType::F32, vec![2, 2]));
    assert_eq!(m.to_f32("a/weight").unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
    // CTranslate2 stores round(w * scale): row 0 scale 10, row 1 scale 127.
    assert_eq!(m.to_f32("q/weight").unwrap(), vec![1.0, -1.0, 1.0, 0.0]);
    assert_eq!(m.scalar_int("n_heads"), Some(6));
    // An alias reads its target, and its `_scale` the target's scale.
    assert_eq!(
        m.to_f32("tied/weight").unwrap(),
        m.to_f32("q/weight").unwrap()
    );
    assert_eq!(m.to_f32("tied/weight_scale").unwrap(), vec![10.0, 127.0]);
    assert!(m.get("missing").is_none());
}

#[test]
fn every_truncation_and_bad_field_is_an_error_not_a_panic() {
    let bytes = sample();
    for cut in 0..bytes.len() {
        assert!(Ct2Model::parse(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut wrong_version = bytes.clone();
    wrong_version[0] = 9;
    let err = Ct2Model::parse(&wrong_version).unwrap_err().to_string();
    assert!(err.contains("binary version 9"), "{err}");
    // A byte count that disagrees with the shape.
    let mut w = Writer::new("S");
    w.u32(1);
    w.var("x", &[3], 0, &f32s(&[1.0, 2.0]));
    w.u32(0);
    assert!(Ct2Model::parse(&w.0)
        .unwrap_err()
        .to_string()
        .contains("needs 12"));
    // An alias to nothing.
    let mut w = Writer::new("S");
    w.u32(0);
    w.u32(1);
    w.string("b");
    w.string("nowhere");
    assert!(Ct2Model::parse(&w.0)
        .unwrap_err()
        .to_string()
        .contains("nowhere"));
    // An unknown type id.
    let mut w = Writer::new("S");
    w.u32(1);
    w.var("x", &[1], 9, &[0]);
    w.u32(0);
    assert!(Ct2Model::parse(&w.0)
        .unwrap_err()
        .to_string()
        .contains("type id 9"));
}

#[test]
fn whisper_conversion_refuses_other_models_and_incomplete_ones() {
    let config = br#"{"suppress_ids": [], "suppress_ids_begin": [], "lang_ids": []}"#;
    let tokenizer = br#"{"added_tokens": []}"#;
    let err = convert(&sample(), config, tokenizer)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("TestSpec") && err.contains("not a Whisper"),
        "{err}"
    );
    let mut w = Writer::new("WhisperSpec");
    w.u32(0);
    w.u32(0);
    let err = convert(&w.0, config, tokenizer).err().unwrap().to_string();
    assert!(err.contains("encoder/conv1/weight"), "{err}");
    // Not a model.bin at all (a safetensors header).
    let err = convert(b"\x10\0\0\0\0\0\0\0{}", config, tokenizer)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("model.bin"), "{err}");
}
