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

/// How a corpus is cut into passages: the search page's choice, and `offgrid search --split`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Splitting {
    /// One passage per non-empty line.
    Lines,
    /// Blank-line separated paragraphs (a paragraph that is only a `# heading` line is dropped).
    Paragraphs,
    /// Windows of about this many words inside each paragraph, overlapping by a quarter.
    Words(usize),
}

impl Splitting {
    /// `lines`, `paragraphs` or `words:N`.
    pub fn parse(text: &str) -> Result<Splitting> {
        match text {
            "lines" => Ok(Splitting::Lines),
            "paragraphs" => Ok(Splitting::Paragraphs),
            other => other
                .strip_prefix("words:")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .map(Splitting::Words)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "split by `lines`, `paragraphs` or `words:N`, not `{other}`"
                    ))
                }),
        }
    }
}

/// The passages' texts of `corpus` cut as `how` says. The app's page (which previews them before indexing) and
/// the CLI use this one function, so a corpus gives the same passages in both.
pub fn split_corpus(corpus: &str, how: Splitting) -> Vec<String> {
    if how == Splitting::Lines {
        return corpus
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
    }
    let paragraphs = paragraphs(corpus)
        .into_iter()
        .map(|p| p.text)
        .filter(|p| !p.starts_with('#') || p.contains('\n'));
    let Splitting::Words(size) = how else {
        return paragraphs.collect();
    };
    let size = size.max(8);
    let step = (size - size / 4).max(1);
    let mut out = Vec::new();
    for paragraph in paragraphs {
        let words: Vec<&str> = paragraph.split_whitespace().collect();
        if words.len() <= size {
            out.push(words.join(" "));
            continue;
        }
        let mut start = 0;
        while start < words.len() {
            let end = (start + size).min(words.len());
            out.push(words[start..end].join(" "));
            if end == words.len() {
                break;
            }
            start += step;
        }
    }
    out
}

#[cfg(test)]
mod corpus_tests {
    use super::*;

    #[test]
    fn lines_paragraphs_and_word_windows() {
        let corpus = "# Notes\n\nFirst line\nsecond line\n\n\n  third  \n";
        assert_eq!(
            split_corpus(corpus, Splitting::Lines),
            ["# Notes", "First line", "second line", "third"]
        );
        // The heading-only paragraph is dropped; paragraphs keep their inner newlines.
        assert_eq!(
            split_corpus(corpus, Splitting::Paragraphs),
            ["First line\nsecond line", "third"]
        );
        let long: String = (0..20).map(|i| format!("w{i} ")).collect();
        let windows = split_corpus(&long, Splitting::Words(8));
        // 8 words, stepping 6: 0-7, 6-13, 12-19.
        assert_eq!(windows.len(), 3);
        assert!(windows[0].starts_with("w0 ") && windows[0].ends_with("w7"));
        assert!(windows[1].starts_with("w6 ") && windows[2].ends_with("w19"));
        assert_eq!(
            split_corpus("short one", Splitting::Words(120)),
            ["short one"]
        );
    }

    #[test]
    fn splitting_parses_from_the_cli_words() {
        assert_eq!(Splitting::parse("lines").ok(), Some(Splitting::Lines));
        assert_eq!(
            Splitting::parse("paragraphs").ok(),
            Some(Splitting::Paragraphs)
        );
        assert_eq!(
            Splitting::parse("words:120").ok(),
            Some(Splitting::Words(120))
        );
        for bad in ["words:0", "words:x", "sentences"] {
            assert!(Splitting::parse(bad).is_err(), "{bad}");
        }
    }
}
