//! A local model folder in Hugging Face layout (config.json, model.safetensors, tokenizer.json…) or holding a GGUF.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use offgrid_catalog::{verify, verify_len, ModelVariant, Sha256Verifier, VerifyError};

/// Why a folder cannot be used as a model, in words for the person who named it.
#[derive(Debug, thiserror::Error)]
pub enum ModelDirError {
    /// Nothing at that path.
    #[error(
        "No folder at {0}. Pass the folder that holds the model's config.json (or its .gguf file)."
    )]
    Missing(PathBuf),
    /// A file where a folder was expected.
    #[error("{0} is a file. Pass the folder that holds it, in Hugging Face layout.")]
    NotAFolder(PathBuf),
    /// The folder lacks a file the model needs.
    #[error("{dir} has no {file}. A Hugging Face model folder needs config.json and model.safetensors (or a .gguf file); download it with `offgrid models fetch <repo>`.")]
    MissingFile {
        /// The folder.
        dir: PathBuf,
        /// The missing file, relative to the folder.
        file: String,
    },
    /// A file could not be read.
    #[error("Could not read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A file does not match the catalog.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// An opened, checked model folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    root: PathBuf,
}

impl ModelDir {
    /// Open a folder and check it holds a model: `config.json` with `model.safetensors` (or a sharded
    /// `model.safetensors.index.json`), or any `.gguf` file.
    pub fn open(path: impl AsRef<Path>) -> Result<ModelDir, ModelDirError> {
        let root = path.as_ref().to_path_buf();
        if !root.exists() {
            return Err(ModelDirError::Missing(root));
        }
        if !root.is_dir() {
            return Err(ModelDirError::NotAFolder(root));
        }
        let dir = ModelDir { root };
        if dir.gguf().is_some() {
            return Ok(dir);
        }
        dir.require(&["config.json"])?;
        if !dir.root.join("model.safetensors.index.json").is_file() {
            dir.require(&["model.safetensors"])?;
        }
        Ok(dir)
    }

    /// Open a folder and check it holds every file of `variant`.
    pub fn open_for(
        path: impl AsRef<Path>,
        variant: &ModelVariant,
    ) -> Result<ModelDir, ModelDirError> {
        let root = path.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(if root.exists() {
                ModelDirError::NotAFolder(root)
            } else {
                ModelDirError::Missing(root)
            });
        }
        let dir = ModelDir { root };
        let paths: Vec<&str> = variant.files.iter().map(|f| f.path.as_str()).collect();
        dir.require(&paths)?;
        Ok(dir)
    }

    /// Fail with a clear error unless every file in `files` (relative paths) exists.
    pub fn require(&self, files: &[&str]) -> Result<(), ModelDirError> {
        for file in files {
            if !self.root.join(file).is_file() {
                return Err(ModelDirError::MissingFile {
                    dir: self.root.clone(),
                    file: (*file).to_string(),
                });
            }
        }
        Ok(())
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The path of `file` inside the folder, if it exists.
    pub fn file(&self, file: &str) -> Result<PathBuf, ModelDirError> {
        self.require(&[file])?;
        Ok(self.root.join(file))
    }

    /// The first `.gguf` file in the folder (alphabetical), if any.
    pub fn gguf(&self) -> Option<PathBuf> {
        let mut ggufs: Vec<PathBuf> = std::fs::read_dir(&self.root)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("gguf"))
            })
            .collect();
        ggufs.sort();
        ggufs.into_iter().next()
    }

    /// Check every file of `variant` against the catalog's size and SHA-256. Files without a known hash are
    /// reported as unverified (`Ok(false)` for that file), never as verified.
    pub fn verify(&self, variant: &ModelVariant) -> Result<Vec<(String, bool)>, ModelDirError> {
        let mut report = Vec::new();
        for file in &variant.files {
            let path = self.file(&file.path)?;
            if file.sha256.is_none() {
                report.push((file.path.clone(), false));
                continue;
            }
            let len = std::fs::metadata(&path)
                .map_err(|source| ModelDirError::Io {
                    path: path.clone(),
                    source,
                })?
                .len();
            verify_len(file, len)?;
            verify(file, &sha256_file(&path)?)?;
            report.push((file.path.clone(), true));
        }
        Ok(report)
    }
}

/// SHA-256 of a file, streamed in 1 MiB chunks.
pub fn sha256_file(path: &Path) -> Result<String, ModelDirError> {
    let io = |source| ModelDirError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = File::open(path).map_err(io)?;
    let mut hasher = Sha256Verifier::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finish())
}
