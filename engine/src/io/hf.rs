//! Hugging Face model-folder layout: `config.json` into a serde struct, and (natively) a local folder.

use crate::Result;
use serde::de::DeserializeOwned;

/// Parses a `config.json` (or any JSON file of the folder) into the model's `Config` struct.
pub fn parse_config<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    Ok(serde_json::from_slice(bytes)?)
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::ModelFolder;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use crate::io::VarBuilder;
    use crate::Device;
    use crate::Error;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    /// A model folder on disk in Hugging Face layout (CLI and tests; the browser fetches files instead).
    #[derive(Debug, Clone)]
    pub struct ModelFolder {
        root: PathBuf,
    }

    impl ModelFolder {
        /// A folder at `root`.
        pub fn new(root: impl AsRef<Path>) -> Self {
            ModelFolder {
                root: root.as_ref().to_path_buf(),
            }
        }

        /// The bytes of `file` in the folder.
        pub fn read(&self, file: &str) -> Result<Vec<u8>> {
            let path = self.root.join(file);
            std::fs::read(&path).map_err(|e| {
                Error::invalid(
                    "read model file",
                    format!("cannot read {}: {e}", path.display()),
                )
            })
        }

        /// `config.json` parsed into `T`.
        pub fn config<T: DeserializeOwned>(&self) -> Result<T> {
            parse_config(&self.read("config.json")?)
        }

        /// A [`VarBuilder`] over `model.safetensors`, or the shards listed by `model.safetensors.index.json`.
        pub fn var_builder(&self, device: &Device) -> Result<VarBuilder> {
            if !self.root.join("model.safetensors.index.json").exists() {
                return VarBuilder::from_safetensors(self.read("model.safetensors")?, device);
            }
            #[derive(serde::Deserialize)]
            struct Index {
                weight_map: std::collections::BTreeMap<String, String>,
            }
            let index: Index = parse_config(&self.read("model.safetensors.index.json")?)?;
            let files: std::collections::BTreeSet<&String> = index.weight_map.values().collect();
            let shards = files
                .into_iter()
                .map(|f| self.read(f).map(Arc::<[u8]>::from))
                .collect::<Result<Vec<_>>>()?;
            VarBuilder::from_safetensors_shards(shards, device)
        }
    }
}
