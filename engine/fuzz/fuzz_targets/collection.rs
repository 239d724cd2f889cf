//! A search collection as it is read back from OPFS (`Collection::from_bytes`: magic, version, JSON header,
//! vectors), then searched and written again.
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or an allocation the file does not back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_search::Collection;

fuzz_target!(|data: &[u8]| {
    let Ok(c) = Collection::from_bytes(data) else {
        return;
    };
    let dim = c.vectors().dim();
    let query = vec![1.0 / (dim as f32).sqrt(); dim];
    if let Ok(hits) = c.search(&query, 3) {
        assert!(hits.len() <= 3.min(c.passages.len()));
        for h in hits {
            assert!(h.index < c.passages.len());
        }
    }
    let again = c.to_bytes().expect("a collection that loaded can be saved");
    let back = Collection::from_bytes(&again).expect("what was saved loads");
    assert_eq!(back.passages, c.passages);
});
