//! Bringing a corpus in: pasted text, dropped or chosen `.txt`/`.md` files, or the built-in sample;
//! checks (size, binary, UTF-8), and the passages previewed before anything is sent (cut by
//! `offgrid_search::split_corpus`, the function the CLI uses too).

use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;

/// The built-in sample corpus (short paragraphs on varied topics).
pub const SAMPLE: &str = include_str!("../../../assets/sample-corpus.md");
/// The sample collection's name (also in shared links: `#/search?c=sample`).
pub const SAMPLE_NAME: &str = "sample";
/// Most text indexed at once; bigger corpora take hours on a phone's CPU.
pub const MAX_BYTES: usize = 5_000_000;

/// How the corpus is cut into passages, and the cutting itself: shared with the CLI (`offgrid search --split`).
pub use offgrid_search::{split_corpus as split, Splitting};

/// Reads a chosen or dropped file as text, refusing binary and non-UTF-8 files with a clear message.
pub async fn read_text_file(file: &web_sys::File) -> Result<String, String> {
    let name = file.name();
    let size = file.size() as usize;
    if size > MAX_BYTES {
        return Err(format!(
            "{name} is {:.1} MB; Offgrid indexes up to {:.0} MB of text at once. Split the file and add the parts as separate collections.",
            size as f64 / 1e6,
            MAX_BYTES as f64 / 1e6
        ));
    }
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("{name} could not be read."))?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    if bytes.contains(&0) {
        return Err(format!(
            "{name} is not a text file. Offgrid reads .txt and .md files."
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        format!("{name} is not UTF-8 text. Save it as UTF-8 (.txt or .md) and try again.")
    })
}

/// Words of a query worth highlighting in results (lowercase, 3+ letters).
pub fn query_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        // Words that appear in every text say nothing about why a passage matched.
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// English words too common to highlight.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "his", "how", "its", "who", "did", "yes", "she", "him", "they",
    "them", "this", "that", "with", "have", "from", "what", "when", "where", "which", "there",
    "their", "would", "could", "should", "about", "into", "than", "then", "does", "each", "some",
    "more",
];

/// Splits `text` into (piece, highlighted) runs: words that start with a query word are highlighted.
pub fn highlight(text: &str, words: &[String]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<(String, bool)>| {
        if word.is_empty() {
            return;
        }
        let lower = word.to_lowercase();
        let hit = words.iter().any(|w| lower.starts_with(w.as_str()));
        match out.last_mut() {
            Some((last, h)) if *h == hit => last.push_str(word),
            _ => out.push((word.clone(), hit)),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            match out.last_mut() {
                Some((last, false)) => last.push(c),
                _ => out.push((c.to_string(), false)),
            }
        }
    }
    flush(&mut word, &mut out);
    out
}
