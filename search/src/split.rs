//! Splitting a corpus into passages: by paragraph (blank lines), or into windows of about N tokens with overlap.
//! Token positions come from the caller's tokenizer as byte offsets, so this crate does not depend on one.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A piece of the corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    /// The text, trimmed.
    pub text: String,
    /// Byte offset of the text in the corpus.
    pub start: usize,
    /// Byte offset just past the text.
    pub end: usize,
}

fn passage(corpus: &str, start: usize, end: usize) -> Option<Passage> {
    let raw = corpus.get(start..end)?;
    let lead = raw.len() - raw.trim_start().len();
    let text = raw.trim();
    (!text.is_empty()).then(|| Passage {
        text: text.to_string(),
        start: start + lead,
        end: start + lead + text.len(),
    })
}

/// Paragraphs: runs of text separated by one or more blank lines (whitespace-only lines count as blank).
pub fn paragraphs(corpus: &str) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    let mut blank_run = false;
    for line in corpus.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if blank && !blank_run {
            out.extend(passage(corpus, start, pos));
        }
        if !blank && blank_run {
            start = pos;
        }
        blank_run = blank;
        pos += line.len();
    }
    if !blank_run {
        out.extend(passage(corpus, start, pos));
    }
    out
}

/// Windows of `size` tokens, each starting `size − overlap` tokens after the previous one. `offsets` are the
/// tokens' byte ranges in `text` (as a tokenizer reports them, without special tokens).
pub fn windows(
    text: &str,
    offsets: &[(usize, usize)],
    size: usize,
    overlap: usize,
) -> Result<Vec<Passage>> {
    if size == 0 || overlap >= size {
        return Err(Error::Invalid(format!(
            "a window of {size} tokens needs an overlap below it (got {overlap})"
        )));
    }
    if offsets.iter().any(|&(s, e)| s > e || e > text.len()) {
        return Err(Error::Invalid("token offsets fall outside the text".into()));
    }
    let mut out = Vec::new();
    let mut first = 0;
    while first < offsets.len() {
        let last = (first + size).min(offsets.len()) - 1;
        out.extend(passage(text, offsets[first].0, offsets[last].1));
        if last + 1 == offsets.len() {
            break;
        }
        first += size - overlap;
    }
    Ok(out)
}

/// Paragraphs, where a paragraph longer than `max_tokens` is split into windows of `max_tokens` with `overlap`
/// (so nothing is silently truncated by the model). `offsets_of` tokenizes a paragraph into byte ranges.
/// Returns the passages and how many paragraphs had to be split.
pub fn paragraphs_within(
    corpus: &str,
    max_tokens: usize,
    overlap: usize,
    mut offsets_of: impl FnMut(&str) -> Vec<(usize, usize)>,
) -> Result<(Vec<Passage>, usize)> {
    let mut out = Vec::new();
    let mut split = 0;
    for p in paragraphs(corpus) {
        let offsets = offsets_of(&p.text);
        if offsets.len() <= max_tokens {
            out.push(p);
            continue;
        }
        split += 1;
        for w in windows(&p.text, &offsets, max_tokens, overlap)? {
            out.push(Passage {
                start: p.start + w.start,
                end: p.start + w.end,
                text: w.text,
            });
        }
    }
    Ok((out, split))
}
