//! A rough alignment of a word's spelling with its pronunciation: the vowel letter groups of the spelling
//! ("family" → `a`, `i`, `y`), matched in order to the vowel phones when both counts agree. Several of espeak's
//! conventions depend on how a reduced vowel is spelled (`ɐ` for an `a`, `ɪ` for an `i`), which CMUdict's
//! phones alone do not say.

/// One vowel letter group and where it starts in the word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub letters: String,
    pub start: usize,
}

fn is_vowel_letter(word: &[u8], i: usize) -> bool {
    match word[i] {
        b'a' | b'e' | b'i' | b'o' | b'u' => true,
        // y is a vowel after a consonant ("family", "myth"), a consonant before a vowel ("yes", "beyond").
        b'y' => i > 0 && !word.get(i + 1).is_some_and(|n| b"aeiou".contains(n)),
        _ => false,
    }
}

/// The vowel letter groups of a lower-case ASCII word, a silent final `e` left out ("make", "little" keep
/// one group fewer than they have vowel letters).
pub fn vowel_groups(word: &str) -> Vec<Group> {
    let w = word.as_bytes();
    let mut groups: Vec<Group> = Vec::new();
    let mut i = 0;
    while i < w.len() {
        if is_vowel_letter(w, i) {
            let start = i;
            while i < w.len() && is_vowel_letter(w, i) {
                i += 1;
            }
            groups.push(Group {
                letters: word[start..i].to_string(),
                start,
            });
        } else {
            i += 1;
        }
    }
    let silent_e = groups.len() > 1
        && groups
            .last()
            .is_some_and(|g| g.letters == "e" && g.start + 1 == w.len())
        && w.len() >= 2
        && !is_vowel_letter(w, w.len() - 2);
    if silent_e {
        groups.pop();
    }
    groups
}

/// Per vowel phone, its spelling group, when the counts agree.
pub fn align(word: &str, vowel_phones: usize) -> Option<Vec<Group>> {
    let groups = vowel_groups(word);
    (groups.len() == vowel_phones && vowel_phones > 0).then_some(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters(word: &str) -> Vec<String> {
        vowel_groups(word).into_iter().map(|g| g.letters).collect()
    }

    #[test]
    fn vowel_groups_follow_the_spelling() {
        assert_eq!(letters("family"), ["a", "i", "y"]);
        assert_eq!(letters("make"), ["a"]);
        assert_eq!(letters("beyond"), ["e", "o"]);
        assert_eq!(letters("about"), ["a", "ou"]);
        assert_eq!(letters("the"), ["e"]);
        assert!(align("little", 2).is_none());
    }
}
