//! The built-in catalog's entries: unique ids, stored dtype first, and every available entry verifiable (sizes
//! adding up to the download size, well-formed SHA-256s).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on a bad catalog

use offgrid_catalog::{Catalog, Task};

#[test]
fn catalog_entries_are_consistent() {
    let catalog = Catalog::builtin();
    for task in Task::ALL {
        assert!(
            catalog.for_task(task).next().is_some(),
            "{task} has no variant"
        );
    }
    let mut ids = std::collections::HashSet::new();
    for v in &catalog.variants {
        assert!(ids.insert(v.id.clone()), "duplicate id {}", v.id);
        assert_eq!(v.runtime_dtypes.first(), Some(&v.dtype), "{}", v.id);
        // Only measured entries are available, and their sizes add up to the download size.
        assert_eq!(v.available, v.is_verifiable(), "{}", v.id);
        if v.is_verifiable() {
            let total: u64 = v.files.iter().filter_map(|f| f.size).sum();
            assert_eq!(total, v.download_bytes, "{}", v.id);
            for f in &v.files {
                let sha = f.sha256.as_deref().unwrap_or_default();
                assert!(
                    sha.len() == 64
                        && sha
                            .bytes()
                            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                    "{}",
                    f.path
                );
            }
        }
    }
    assert_eq!(
        catalog
            .find("sentence-transformers/all-minilm-l6-v2")
            .map(|v| v.id.as_str()),
        Some("minilm-l6-v2")
    );
    assert_eq!(
        catalog.find("whisper-base").map(|v| v.task),
        Some(Task::Transcribe)
    );
}
