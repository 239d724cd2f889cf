//! Where model files come from: the Hugging Face Hub, or a mirror with the same `{repo}/resolve/{rev}/{path}` layout.

use serde::{Deserialize, Serialize};

use crate::{ModelFile, ModelVariant};

/// The Hub's base URL.
pub const HUGGING_FACE: &str = "https://huggingface.co";

/// A model source setting.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSource {
    /// `https://huggingface.co`.
    #[default]
    HuggingFace,
    /// A self-hosted mirror: its base URL (may carry a path prefix); built with `ModelSource::mirror`.
    Mirror(String),
}

/// A mirror URL that cannot be used, with words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Not a URL at all.
    #[error(
        "\"{url}\" is not a web address. Enter a mirror URL such as https://models.example.org/hf."
    )]
    NotAUrl {
        /// What was entered.
        url: String,
    },
    /// A scheme other than http/https.
    #[error("The mirror address must start with http:// or https:// (got \"{scheme}:\").")]
    BadScheme {
        /// The scheme found.
        scheme: String,
    },
    /// Query strings and fragments would be lost when paths are appended.
    #[error(
        "The mirror address must not contain \"?\" or \"#\"; give just the base URL of the mirror."
    )]
    HasQuery,
}

impl ModelSource {
    /// A mirror source from what a person typed, checked; a trailing slash is dropped.
    pub fn mirror(base: &str) -> Result<ModelSource, SourceError> {
        let trimmed = base.trim();
        let parsed = url::Url::parse(trimmed).map_err(|_| SourceError::NotAUrl {
            url: trimmed.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(SourceError::BadScheme {
                scheme: parsed.scheme().to_string(),
            });
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(SourceError::NotAUrl {
                url: trimmed.to_string(),
            });
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(SourceError::HasQuery);
        }
        Ok(ModelSource::Mirror(
            parsed.as_str().trim_end_matches('/').to_string(),
        ))
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        match self {
            ModelSource::HuggingFace => HUGGING_FACE,
            ModelSource::Mirror(base) => base.trim_end_matches('/'),
        }
    }

    /// `{base}/{repo}/resolve/{revision}/{path}` for one file of a variant.
    pub fn file_url(&self, variant: &ModelVariant, file: &ModelFile) -> String {
        self.url_for(&variant.repo, &variant.revision, &file.path)
    }

    /// `{base}/{repo}/resolve/{revision}/{path}`, for repos outside the catalog (the CLI takes any repo id).
    pub fn url_for(&self, repo: &str, revision: &str, path: &str) -> String {
        format!(
            "{}/{repo}/resolve/{}/{}",
            self.base(),
            encode_segment(revision),
            path.split('/')
                .map(encode_segment)
                .collect::<Vec<_>>()
                .join("/")
        )
    }
}

/// Percent-encode what may not appear raw in a path segment (revisions like `refs/pr/1` are one segment on the Hub).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    #[test]
    fn urls_follow_the_hub_layout() {
        let catalog = Catalog::builtin();
        let Some(v) = catalog.get("minilm-l6-v2") else {
            panic!("minilm-l6-v2 missing from the catalog");
        };
        let pooling = &v.files[3];
        assert_eq!(
            ModelSource::HuggingFace.file_url(v, pooling),
            "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/1110a243fdf4706b3f48f1d95db1a4f5529b4d41/1_Pooling/config.json"
        );
        for typed in ["http://127.0.0.1:8081/hf/", "http://127.0.0.1:8081/hf"] {
            let source = ModelSource::mirror(typed);
            assert_eq!(
                source.map(|s| s.file_url(v, &v.files[0])),
                Ok("http://127.0.0.1:8081/hf/sentence-transformers/all-MiniLM-L6-v2/resolve/1110a243fdf4706b3f48f1d95db1a4f5529b4d41/model.safetensors".into())
            );
        }
        let root = ModelSource::mirror("https://mirror.example.org/");
        assert_eq!(
            root.map(|s| s.url_for("a/b", "refs/pr/1", "x y.json")),
            Ok("https://mirror.example.org/a/b/resolve/refs%2Fpr%2F1/x%20y.json".into())
        );
    }

    #[test]
    fn bad_mirrors_are_refused_with_clear_words() {
        assert!(matches!(
            ModelSource::mirror("ftp://example.org/models"),
            Err(SourceError::BadScheme { .. })
        ));
        assert!(matches!(
            ModelSource::mirror("example.org/models"),
            Err(SourceError::NotAUrl { .. })
        ));
        assert_eq!(
            ModelSource::mirror("https://example.org/?token=1"),
            Err(SourceError::HasQuery)
        );
        let msg = ModelSource::mirror("file:///tmp/models")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            msg.as_deref(),
            Some("The mirror address must start with http:// or https:// (got \"file:\").")
        );
    }
}
