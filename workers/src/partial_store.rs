//! The bytes of an unfinished download, kept in Cache Storage as numbered pieces while it runs.
//!
//! A download saves what it has every [`PIECE_BYTES`], so a reloaded tab, a killed worker or a lost
//! connection costs at most one piece: the next attempt resumes with a Range request from the saved bytes.
//! Pieces are only ever appended (never rewritten), so saving stays linear in the file's size. Piece 0
//! lives under the file's `partial_key`, piece `i` under `partial_key.i`.

use crate::download::PartialFile;
use crate::js;
use wasm_bindgen::JsValue;
use web_sys::Cache;

/// How many new bytes a download gathers before it saves them as a piece.
pub const PIECE_BYTES: u64 = 8 << 20;

/// The saved pieces of one file's unfinished download.
pub struct SavedPartial<'a> {
    cache: &'a Cache,
    key: String,
    pieces: u32,
    saved_bytes: u64,
}

impl<'a> SavedPartial<'a> {
    fn piece_key(&self, index: u32) -> String {
        piece_key(&self.key, index)
    }

    /// Reads the saved pieces in order (stopping at the first missing or unreadable one, whose
    /// successors are dropped) and returns the bytes to resume from.
    pub async fn load(cache: &'a Cache, key: String) -> (SavedPartial<'a>, PartialFile) {
        let mut saved = SavedPartial {
            cache,
            key,
            pieces: 0,
            saved_bytes: 0,
        };
        let mut bytes = Vec::new();
        loop {
            match js::cache_read(cache, &saved.piece_key(saved.pieces)).await {
                Ok(Some(piece)) if !piece.is_empty() => {
                    bytes.extend_from_slice(&piece);
                    saved.pieces += 1;
                }
                Ok(_) => break,
                Err(_) => {
                    // A damaged piece: what follows it cannot be used either.
                    saved.delete_from(saved.pieces).await;
                    break;
                }
            }
        }
        saved.saved_bytes = bytes.len() as u64;
        (saved, PartialFile::resume_from(bytes))
    }

    /// How many bytes are saved.
    pub fn bytes(&self) -> u64 {
        self.saved_bytes
    }

    /// Saves the bytes received since the last save as the next piece. A full disk comes back as the
    /// browser's error (`QuotaExceededError`).
    pub async fn save(&mut self, partial: &PartialFile) -> Result<(), JsValue> {
        let from = self.saved_bytes as usize;
        let Some(new) = partial.bytes().get(from..).filter(|b| !b.is_empty()) else {
            return Ok(());
        };
        js::cache_write(self.cache, &self.piece_key(self.pieces), new, "partial").await?;
        self.pieces += 1;
        self.saved_bytes = partial.len();
        Ok(())
    }

    /// Saves a piece once [`PIECE_BYTES`] new bytes have arrived.
    pub async fn checkpoint(&mut self, partial: &PartialFile) -> Result<(), JsValue> {
        if partial.len() >= self.saved_bytes + PIECE_BYTES {
            self.save(partial).await?;
        }
        Ok(())
    }

    /// Saves what is left, best effort: losing it only costs downloading it again.
    pub async fn save_rest(&mut self, partial: &PartialFile) {
        let _ = self.save(partial).await;
    }

    /// Drops every saved piece (the download finished, or the server sent the file from the start).
    pub async fn clear(&mut self) {
        self.delete_from(0).await;
        self.pieces = 0;
        self.saved_bytes = 0;
    }

    async fn delete_from(&self, first: u32) {
        let mut index = first;
        // Pieces after `pieces` may exist when an earlier run saved more than this one read.
        while js::cache_delete(self.cache, &self.piece_key(index)).await || index < self.pieces {
            index += 1;
        }
    }
}

fn piece_key(key: &str, index: u32) -> String {
    if index == 0 {
        key.to_string()
    } else {
        format!("{key}.{index}")
    }
}

/// How many bytes of an unfinished download are saved under `key` (for the Models page).
pub async fn saved_bytes(cache: &Cache, key: &str) -> u64 {
    let mut total = 0;
    let mut index = 0;
    while let Ok(Some(size)) = js::cache_entry_size(cache, &piece_key(key, index)).await {
        total += size;
        index += 1;
    }
    total
}

/// Deletes every saved piece under `key`.
pub async fn delete_all(cache: &Cache, key: &str) {
    let mut saved = SavedPartial {
        cache,
        key: key.to_string(),
        pieces: 0,
        saved_bytes: 0,
    };
    saved.clear().await;
}
