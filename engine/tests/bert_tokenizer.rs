//! Token ids against HF `tokenizers` (Python) on accents, emoji, CJK, whitespace, empty and very long input
//! (`scripts/fixtures/bert_fixtures.py` wrote `fixtures/bert_tokenizer_ids.json`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bert_common;

use offgrid_engine::text::TextTokenizer;
use serde_json::Value;

fn tokenizer(max_len: usize) -> TextTokenizer {
    let bytes = std::fs::read(bert_common::minilm_dir().join("tokenizer.json")).unwrap();
    TextTokenizer::from_bytes(&bytes, max_len).unwrap()
}

#[test]
fn ids_match_hf_tokenizers() {
    let fx: Value = serde_json::from_str(include_str!("fixtures/bert_tokenizer_ids.json")).unwrap();
    let tok = tokenizer(fx["max_len"].as_u64().unwrap() as usize);
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let got = tok.encode(text).unwrap();
        assert_eq!(got.ids, want, "ids of {text:?}");
        assert_eq!(
            got.truncated,
            case["truncated"].as_bool().unwrap(),
            "{text:?}"
        );
        let untruncated = case["untruncated_len"].as_u64().unwrap() as usize;
        assert_eq!(tok.ids_untruncated(text).unwrap().len(), untruncated);
    }
}

#[test]
fn batch_is_padded_with_a_mask() {
    let tok = tokenizer(8);
    let b = tok
        .encode_batch(&[
            "short",
            "a somewhat longer sentence than that one, indeed",
            "",
        ])
        .unwrap();
    assert_eq!((b.batch, b.seq_len), (3, 8));
    assert_eq!(b.truncated, vec![false, true, false]);
    // "short" = [CLS] short [SEP] then padding.
    assert_eq!(&b.attention_mask[0..8], &[1, 1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(&b.ids[0..4], &[101, 2460, 102, 0]);
    assert_eq!(&b.attention_mask[8..16], &[1; 8]);
    assert_eq!(b.ids[15], 102, "a truncated row still ends with [SEP]");
    assert_eq!(&b.attention_mask[16..24], &[1, 1, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn malformed_json_is_an_error() {
    assert!(TextTokenizer::from_bytes(b"{not json", 128).is_err());
    assert!(TextTokenizer::from_bytes(b"{}", 128).is_err());
}
