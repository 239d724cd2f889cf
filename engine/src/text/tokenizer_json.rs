//! Reading a Hugging Face `tokenizer.json` with the `tokenizers` crate, after refusing what that crate would
//! panic on instead of returning an error. Fuzzing (`engine/fuzz/fuzz_targets/tokenizer_json.rs`) found the
//! first and third; the second was found reading the crate's code around them.
//!
//! - a syntax error inside the `decoder` object (its deserializer `expect`s): the file is parsed as JSON first;
//! - a SentencePiece `Precompiled` normalizer (multilingual-e5's) whose `precompiled_charsmap` does not
//!   deserialize (`expect`ed too), or whose double-array trie points outside itself or whose replacements
//!   point outside their text: `spm_precompiled` indexes both unchecked on every text normalized. The trie is
//!   walked here once, from every node every byte can reach;
//! - a `TemplateProcessing` post-processor naming a special token it does not define, defining one with more
//!   ids than tokens, or putting the second sequence (`$B`) in the single-text template: deserializing skips
//!   the checks its builder makes, and encoding indexes by them. It is checked in the form the crate writes
//!   back, after it has been read.

use crate::{Error, Result};
use serde_json::Value;

fn bad(msg: impl Into<String>) -> Error {
    Error::Malformed(format!("tokenizer.json could not be read: {}", msg.into()))
}

/// Parses `tokenizer.json` bytes into a tokenizer; damaged files are errors, never panics.
pub(crate) fn read_tokenizer(bytes: &[u8]) -> Result<tokenizers::Tokenizer> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    check(&value)?;
    let tokenizer: tokenizers::Tokenizer =
        serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    if let Some(post) = tokenizer.get_post_processor() {
        check_post(&serde_json::to_value(post).map_err(|e| bad(e.to_string()))?)?;
    }
    Ok(tokenizer)
}

/// Checks every `TemplateProcessing` in a post-processor (as `tokenizers` serializes it).
fn check_post(value: &Value) -> Result<()> {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("TemplateProcessing") {
                check_template(map)?;
            }
            map.values().try_for_each(check_post)
        }
        Value::Array(items) => items.iter().try_for_each(check_post),
        _ => Ok(()),
    }
}

fn check_template(map: &serde_json::Map<String, Value>) -> Result<()> {
    let damaged = |what: &str| bad(format!("its post-processor template {what}"));
    let specials = map.get("special_tokens").and_then(Value::as_object);
    for (key, token) in specials.into_iter().flatten() {
        let len = |field: &str| token.get(field).and_then(Value::as_array).map(Vec::len);
        if len("ids") != len("tokens") {
            return Err(damaged(&format!(
                "gives `{key}` a different number of ids and tokens"
            )));
        }
    }
    for (name, template) in ["single", "pair"].map(|n| (n, map.get(n))) {
        for piece in template.and_then(Value::as_array).into_iter().flatten() {
            if let Some(id) = piece.pointer("/SpecialToken/id").and_then(Value::as_str) {
                if !specials.is_some_and(|s| s.contains_key(id)) {
                    return Err(damaged(&format!("uses `{id}`, which it does not define")));
                }
            }
            if name == "single"
                && piece.pointer("/Sequence/id").and_then(Value::as_str) == Some("B")
            {
                return Err(damaged("puts a second text in the template for one"));
            }
        }
    }
    Ok(())
}

/// Checks every `Precompiled` normalizer in the tree.
fn check(value: &Value) -> Result<()> {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("Precompiled") {
                let charsmap = map
                    .get("precompiled_charsmap")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("a Precompiled normalizer has no charsmap"))?;
                let bytes = base64(charsmap).ok_or_else(|| bad("a charsmap is not base64"))?;
                check_charsmap(&bytes)?;
            }
            map.values().try_for_each(check)
        }
        Value::Array(items) => items.iter().try_for_each(check),
        _ => Ok(()),
    }
}

/// Standard base64 with optional padding.
fn base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

// SentencePiece's double-array unit: bit 8 says a value hangs below, bits 0-7 (and 31) are the label, the
// offset is bits 10-31, shifted by 8 more when bit 9 is set; a value unit holds its value in bits 0-30.
fn has_leaf(u: usize) -> bool {
    (u >> 8) & 1 == 1
}
fn label(u: usize) -> usize {
    u & ((1 << 31) | 0xFF)
}
fn offset(u: usize) -> usize {
    (u >> 10) << ((u & (1 << 9)) >> 6)
}
fn value(u: usize) -> usize {
    u & ((1 << 31) - 1)
}

/// The charsmap is `u32 trie bytes`, the trie as u32 units, then the replacement text (NUL-separated,
/// UTF-8). From every node a key can reach, every next byte must land inside the trie, and every value must
/// be a boundary of the text.
fn check_charsmap(bytes: &[u8]) -> Result<()> {
    let damaged = || bad("a Precompiled normalizer's charsmap is damaged");
    let word = |i: usize| -> Option<usize> {
        let b = bytes.get(i..i.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let units = word(0).ok_or_else(damaged)? / 4;
    let text_at = units
        .checked_mul(4)
        .and_then(|n| n.checked_add(4))
        .filter(|&n| n <= bytes.len())
        .ok_or_else(damaged)?;
    let trie: Vec<usize> = (0..units)
        .map(|i| word(4 + 4 * i))
        .collect::<Option<_>>()
        .ok_or_else(damaged)?;
    let text = std::str::from_utf8(&bytes[text_at..]).map_err(|_| damaged())?;
    let first = *trie.first().ok_or_else(damaged)?;
    // Each base is walked once. A base past the end fails at once unless one byte keeps it inside, so
    // `seen` needs one block more than the trie.
    let mut seen = vec![false; trie.len() + 256];
    let mut todo = vec![offset(first)];
    while let Some(base) = todo.pop() {
        if std::mem::replace(seen.get_mut(base).ok_or_else(damaged)?, true) {
            continue;
        }
        for c in 1..=255usize {
            let at = base ^ c;
            let unit = *trie.get(at).ok_or_else(damaged)?;
            if label(unit) != c {
                continue;
            }
            let next = at ^ offset(unit);
            if has_leaf(unit) {
                let v = value(*trie.get(next).ok_or_else(damaged)?);
                if !text.is_char_boundary(v) {
                    return Err(damaged());
                }
            }
            todo.push(next);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64("a!"), None);
    }

    /// Found by fuzzing: a `decoder` with a syntax error in it panicked inside `tokenizers` ("Helper").
    #[test]
    fn a_syntax_error_in_the_decoder_is_an_error() {
        let json = br#"{"version":"1.0","model":{"type":"WordLevel","vocab":{},"unk_token":"x"},"decoder":{"type":"Fuse",]}}"#;
        let err = read_tokenizer(json).expect_err("refused");
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
    }

    /// Found by fuzzing: a template naming a special token it does not define panicked at the first encode.
    #[test]
    fn a_template_with_an_undefined_token_is_an_error() {
        let json = br#"{"version":"1.0","model":{"type":"WordLevel","vocab":{"a":0},"unk_token":"a"},
            "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},
            {"Sequence":{"id":"A","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{}}}"#;
        let err = read_tokenizer(json).expect_err("refused");
        assert!(err.to_string().contains("`[CLS]`"), "{err}");
    }

    /// A Precompiled normalizer without its charsmap, and one whose trie points outside itself.
    #[test]
    fn a_damaged_precompiled_normalizer_is_an_error() {
        let with = |normalizer: &str| {
            format!(
                r#"{{"version":"1.0","normalizer":{normalizer},"model":{{"type":"WordLevel","vocab":{{"a":0}},"unk_token":"a"}}}}"#
            )
        };
        let err = read_tokenizer(with(r#"{"type":"Precompiled"}"#).as_bytes()).expect_err("no map");
        assert!(err.to_string().contains("charsmap"), "{err}");
        // Trie of one unit whose offset is 0: every byte from base 0 lands outside the one-unit trie.
        let map = [4u8, 0, 0, 0, 0, 0, 0, 0];
        let b64 = "BAAAAAAAAAA=";
        assert_eq!(base64(b64).as_deref(), Some(&map[..]));
        let json = with(&format!(
            r#"{{"type":"Sequence","normalizers":[{{"type":"Precompiled","precompiled_charsmap":"{b64}"}}]}}"#
        ));
        let err = read_tokenizer(json.as_bytes()).expect_err("damaged trie");
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}
