//! Where a search collection is stored: a file name derived from the collection's name.

/// The storage file stem of a collection: a readable slug plus a hash, so any name is safe on disk and
/// different names never collide.
pub fn file_stem(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let mut slug: String = slug.chars().take(40).collect();
    if slug.is_empty() {
        slug = "collection".into();
    }
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{slug}-{:08x}", hash as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_and_distinct() {
        let a = file_stem("My notes / 2026");
        assert!(a.starts_with("my-notes-2026-"), "{a}");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert_ne!(file_stem("Notes"), file_stem("notes"));
        assert!(file_stem("日本語").starts_with("collection-"));
        assert_ne!(file_stem("日本語"), file_stem("中文"));
    }
}
