//! Download model files natively with `hf-hub` (its sync ureq API) from the Hub or a mirror with the Hub's
//! layout, into the Hugging Face cache layout, verifying each file against the catalog.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};
use offgrid_catalog::{verify, verify_len, ModelFile, ModelSource, ModelVariant, VerifyError};
use serde::Serialize;

use crate::model_dir::{sha256_file, ModelDirError};

/// Files fetched for a repo that is not in the catalog, unless the user names others.
pub const DEFAULT_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Where to fetch from and where to keep the files.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// The Hub or a mirror.
    pub source: ModelSource,
    /// Cache folder; `None` uses the Hugging Face default (`$HF_HOME/hub` or `~/.cache/huggingface/hub`).
    pub cache_dir: Option<PathBuf>,
    /// Show progress bars on the terminal.
    pub progress: bool,
    /// Resume attempts per file after a dropped connection.
    pub retries: usize,
}

/// One file on disk after a fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchedFile {
    /// Path inside the repo.
    pub path: String,
    /// Where it is on disk.
    pub local: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256 (lowercase hex).
    pub sha256: String,
    /// Whether it matched a digest from the catalog (`false`: no digest known, not trusted).
    pub verified: bool,
}

/// The result of a fetch: a folder in HF layout (the cache snapshot) and what is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fetched {
    /// Repo id.
    pub repo: String,
    /// Revision asked for.
    pub revision: String,
    /// The snapshot folder holding the files in repo layout; open it with `ModelDir::open`.
    pub dir: PathBuf,
    /// Every file fetched.
    pub files: Vec<FetchedFile>,
}

/// Why a fetch failed, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server has no such file.
    #[error("{url} was not found (HTTP 404). Check the repo id and revision, or that the mirror holds this model.")]
    NotFound {
        /// What was asked for.
        url: String,
    },
    /// Another HTTP error.
    #[error(
        "The model server answered HTTP {status} for {url}. Retry later, or check the mirror."
    )]
    Http {
        /// Status code.
        status: u16,
        /// What was asked for.
        url: String,
    },
    /// No connection.
    #[error("Could not reach the model server at {base} ({detail}). Check your connection or the mirror address.")]
    Unreachable {
        /// Base URL of the source.
        base: String,
        /// What the network layer said.
        detail: String,
    },
    /// The server answers, but not like the Hub.
    #[error("The server at {base} did not send the `{header}` header that Hub downloads need. Is it a Hugging Face mirror (same /{{repo}}/resolve/{{revision}}/{{file}} layout and headers)?")]
    NotAMirror {
        /// Base URL of the source.
        base: String,
        /// The missing header.
        header: String,
    },
    /// The model is served by the app itself.
    #[error("{0} ships with the app and is not on the Hub. Pass its folder with --model instead.")]
    Bundled(String),
    /// The file arrived but is not the published one; it has been deleted.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A local file problem.
    #[error(transparent)]
    Dir(#[from] ModelDirError),
    /// Anything else (disk full, lock held…).
    #[error("The download failed: {0}")]
    Other(String),
}

fn map_api_error(err: ApiError, base: &str) -> FetchError {
    match err {
        ApiError::RequestError(boxed) => match *boxed {
            ureq::Error::Status(404, resp) => FetchError::NotFound {
                url: resp.get_url().to_string(),
            },
            ureq::Error::Status(status, resp) => FetchError::Http {
                status,
                url: resp.get_url().to_string(),
            },
            ureq::Error::Transport(t) => FetchError::Unreachable {
                base: base.to_string(),
                detail: t.to_string(),
            },
        },
        ApiError::TooManyRetries(inner) => map_api_error(*inner, base),
        ApiError::MissingHeader(h) | ApiError::InvalidHeader(h) => FetchError::NotAMirror {
            base: base.to_string(),
            header: h.to_string(),
        },
        other => FetchError::Other(other.to_string()),
    }
}

/// The folder that holds `local`, the on-disk copy of repo file `repo_path` (which may have folders).
fn snapshot_dir(local: &Path, repo_path: &str) -> PathBuf {
    let depth = repo_path.split('/').count();
    local
        .ancestors()
        .nth(depth)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| local.to_path_buf())
}

/// Remove a cached file that failed verification: the snapshot entry and the blob it points to.
fn discard(local: &Path) {
    let blob = std::fs::canonicalize(local).ok();
    let _ = std::fs::remove_file(local);
    if let Some(blob) = blob {
        let _ = std::fs::remove_file(blob);
    }
}

/// Fetch `files` of `repo` at `revision`, checking each against `expect` (a catalog entry) when given.
fn fetch_files(
    repo: &str,
    revision: &str,
    files: &[ModelFile],
    opts: &FetchOptions,
) -> Result<Fetched, FetchError> {
    let base = opts.source.base().to_string();
    let cache = match &opts.cache_dir {
        Some(dir) => Cache::new(dir.clone()),
        None => Cache::from_env(),
    };
    let api = ApiBuilder::from_cache(cache)
        .with_endpoint(base.clone())
        .with_progress(opts.progress)
        .with_retries(opts.retries)
        .build()
        .map_err(|e| map_api_error(e, &base))?;
    let api_repo = api.repo(Repo::with_revision(
        repo.to_string(),
        RepoType::Model,
        revision.to_string(),
    ));
    let mut fetched = Vec::new();
    let mut dir = None;
    for file in files {
        let local = api_repo
            .get(&file.path)
            .map_err(|e| map_api_error(e, &base))?;
        let bytes = std::fs::metadata(&local)
            .map_err(|source| ModelDirError::Io {
                path: local.clone(),
                source,
            })?
            .len();
        let sha256 = sha256_file(&local)?;
        // A file without a catalog digest is kept but never called verified.
        let verified = file.sha256.is_some();
        if verified {
            if let Err(err) = verify_len(file, bytes).and_then(|()| verify(file, &sha256)) {
                discard(&local);
                return Err(err.into());
            }
        }
        dir.get_or_insert_with(|| snapshot_dir(&local, &file.path));
        fetched.push(FetchedFile {
            path: file.path.clone(),
            local,
            bytes,
            sha256,
            verified,
        });
    }
    Ok(Fetched {
        repo: repo.to_string(),
        revision: revision.to_string(),
        dir: dir.unwrap_or_default(),
        files: fetched,
    })
}

/// Fetch every file of a catalog variant and verify it; a file that fails is deleted and reported.
pub fn fetch_variant(variant: &ModelVariant, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    if variant.bundled {
        return Err(FetchError::Bundled(variant.title.clone()));
    }
    fetch_files(&variant.repo, &variant.revision, &variant.files, opts)
}

/// Fetch named files of any repo (not in the catalog): downloaded and hashed, but not verified.
pub fn fetch_repo(
    repo: &str,
    revision: &str,
    files: &[String],
    opts: &FetchOptions,
) -> Result<Fetched, FetchError> {
    let files: Vec<ModelFile> = files
        .iter()
        .map(|path| ModelFile {
            path: path.clone(),
            size: None,
            sha256: None,
        })
        .collect();
    fetch_files(repo, revision, &files, opts)
}
