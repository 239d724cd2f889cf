//! Letter-to-sound rules for words the lexicon lacks (names, new words, typos): spelling patterns, longest
//! first, to ARPAbet, with the first vowel stressed. Rough by nature; they keep unknown words audible rather
//! than silent. Written for this project from general English spelling patterns.

/// Patterns tried longest first at each position: (letters, ARPAbet, vowel stress applies).
const PATTERNS: [(&str, &str); 62] = [
    ("tion", "SH AH N"),
    ("sion", "ZH AH N"),
    ("ough", "AO"),
    ("augh", "AO"),
    ("eigh", "EY"),
    ("igh", "AY"),
    ("tch", "CH"),
    ("dge", "JH"),
    ("sch", "S K"),
    ("ch", "CH"),
    ("sh", "SH"),
    ("th", "TH"),
    ("ph", "F"),
    ("wh", "W"),
    ("ck", "K"),
    ("ng", "NG"),
    ("qu", "K W"),
    ("kn", "N"),
    ("wr", "R"),
    ("gh", "G"),
    ("ee", "IY"),
    ("ea", "IY"),
    ("oo", "UW"),
    ("ou", "AW"),
    ("ow", "OW"),
    ("oa", "OW"),
    ("oi", "OY"),
    ("oy", "OY"),
    ("ai", "EY"),
    ("ay", "EY"),
    ("au", "AO"),
    ("aw", "AO"),
    ("ie", "IY"),
    ("ei", "EY"),
    ("ew", "UW"),
    ("ar", "AA R"),
    ("or", "AO R"),
    ("er", "ER"),
    ("ir", "ER"),
    ("ur", "ER"),
    ("a", "AE"),
    ("e", "EH"),
    ("i", "IH"),
    ("o", "AA"),
    ("u", "AH"),
    ("y", "IY"),
    ("b", "B"),
    ("c", "K"),
    ("d", "D"),
    ("f", "F"),
    ("g", "G"),
    ("h", "HH"),
    ("j", "JH"),
    ("k", "K"),
    ("l", "L"),
    ("m", "M"),
    ("n", "N"),
    ("p", "P"),
    ("r", "R"),
    ("s", "S"),
    ("t", "T"),
    ("v", "V"),
];

fn is_vowel(s: &str) -> bool {
    matches!(
        s,
        "AA" | "AE"
            | "AH"
            | "AO"
            | "AW"
            | "AY"
            | "EH"
            | "ER"
            | "EY"
            | "IH"
            | "IY"
            | "OW"
            | "OY"
            | "UH"
            | "UW"
    )
}

/// ARPAbet (with stress digits) for a lower-case word of ASCII letters.
pub fn guess(word: &str) -> String {
    let w = word.as_bytes();
    let mut phones: Vec<String> = Vec::new();
    let mut i = 0;
    while i < w.len() {
        let rest = &word[i..];
        // Silent final e after a consonant ("make"): the vowel before it says its name.
        if rest == "e" && phones.len() >= 2 && !is_vowel(&phones[phones.len() - 1]) {
            let k = phones.len() - 2;
            let long = match phones[k].as_str() {
                "AE" => Some("EY"),
                "IH" => Some("AY"),
                "AA" => Some("OW"),
                "AH" => Some("UW"),
                "EH" => Some("IY"),
                _ => None,
            };
            if let Some(l) = long {
                phones[k] = l.to_string();
            }
            break;
        }
        let (len, arpa) = match rest.as_bytes()[0] {
            b'c' if matches!(rest.as_bytes().get(1), Some(b'e' | b'i' | b'y')) => (1, "S"),
            b'g' if matches!(rest.as_bytes().get(1), Some(b'e' | b'i')) && i > 0 => (1, "JH"),
            b'x' => (1, "K S"),
            b'z' => (1, "Z"),
            b'w' => (1, "W"),
            b'y' if i == 0 => (1, "Y"),
            b'y' if i + 1 == w.len() && phones.iter().filter(|p| is_vowel(p)).count() == 0 => {
                (1, "AY")
            }
            _ => PATTERNS
                .iter()
                .find(|(p, _)| rest.starts_with(p))
                .map(|(p, a)| (p.len(), *a))
                .unwrap_or((1, "")),
        };
        phones.extend(arpa.split_whitespace().map(str::to_string));
        i += len;
    }
    let mut first = true;
    phones
        .into_iter()
        .map(|p| {
            if is_vowel(&p) {
                let stress = if first { 1 } else { 0 };
                first = false;
                format!("{p}{stress}")
            } else {
                p
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_words_get_a_plausible_pronunciation() {
        assert_eq!(guess("blick"), "B L IH1 K");
        assert_eq!(guess("trake"), "T R EY1 K");
        assert_eq!(guess("shoon"), "SH UW1 N");
        assert!(guess("zzzz").contains('Z'));
    }
}
