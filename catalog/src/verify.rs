//! SHA-256 checks for downloaded model files, with errors a person can act on.

use sha2::{Digest, Sha256};

use crate::{human_bytes, ModelFile};

/// Streaming SHA-256: feed chunks as they arrive, get lowercase hex at the end.
#[derive(Debug, Clone, Default)]
pub struct Sha256Verifier {
    hasher: Sha256,
    bytes: u64,
}

impl Sha256Verifier {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hash the next chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
    }

    /// Bytes hashed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The digest as lowercase hex.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

/// Why a downloaded file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The bytes differ from the published file.
    #[error("The download of {name} was corrupted (hash mismatch). It was not saved. Retry, or check your model mirror.")]
    Mismatch {
        /// File name.
        name: String,
        /// Digest the catalog expects.
        expected: String,
        /// Digest of what arrived.
        actual: String,
    },
    /// Fewer (or more) bytes than the published file.
    #[error(
        "The download of {name} is incomplete ({got} of {expected}). It was not saved. Retry?"
    )]
    WrongSize {
        /// File name.
        name: String,
        /// Size received, for people.
        got: String,
        /// Size expected, for people.
        expected: String,
    },
    /// The catalog has no digest for this file, so it cannot be trusted as verified.
    #[error("{name} has no known checksum in the catalog, so it cannot be verified. This model is not available yet.")]
    Unknown {
        /// File name.
        name: String,
    },
}

/// Check a finished download's digest (lowercase or uppercase hex) against the catalog.
pub fn verify(file: &ModelFile, digest: &str) -> Result<(), VerifyError> {
    let Some(expected) = &file.sha256 else {
        return Err(VerifyError::Unknown {
            name: file.name().to_string(),
        });
    };
    if expected.eq_ignore_ascii_case(digest.trim()) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch {
            name: file.name().to_string(),
            expected: expected.clone(),
            actual: digest.trim().to_ascii_lowercase(),
        })
    }
}

/// Check a download's length against the catalog before hashing (cheap, and a clearer message when cut short).
pub fn verify_len(file: &ModelFile, len: u64) -> Result<(), VerifyError> {
    match file.size {
        None => Err(VerifyError::Unknown {
            name: file.name().to_string(),
        }),
        Some(size) if size == len => Ok(()),
        Some(size) => Err(VerifyError::WrongSize {
            name: file.name().to_string(),
            got: human_bytes(len),
            expected: human_bytes(size),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sha: Option<&str>) -> ModelFile {
        ModelFile {
            path: "onnx/model.safetensors".into(),
            size: Some(3),
            sha256: sha.map(str::to_string),
        }
    }

    #[test]
    fn streaming_digest_matches_known_vectors() {
        // FIPS 180-2 test vector "abc", fed in two chunks.
        let mut v = Sha256Verifier::new();
        v.update(b"a");
        v.update(b"bc");
        assert_eq!(v.bytes(), 3);
        assert_eq!(
            v.finish(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Sha256Verifier::new().finish(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn verify_accepts_the_right_digest_only() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(verify(&file(Some(abc)), &abc.to_ascii_uppercase()), Ok(()));
        let err = verify(&file(Some(abc)), &"0".repeat(64)).err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("The download of model.safetensors was corrupted (hash mismatch). It was not saved. Retry, or check your model mirror.")
        );
        assert!(matches!(
            verify(&file(None), abc),
            Err(VerifyError::Unknown { .. })
        ));
        assert_eq!(verify_len(&file(Some(abc)), 3), Ok(()));
        assert_eq!(
            verify_len(&file(Some(abc)), 2).err().map(|e| e.to_string()).as_deref(),
            Some("The download of model.safetensors is incomplete (2 bytes of 3 bytes). It was not saved. Retry?")
        );
    }
}
