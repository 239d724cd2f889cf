//! The `offgrid` command's library half: model folders, model downloads and the native GPU probe, so that other
//! subcommands (embed, search, transcribe…) and tests reuse them.

pub mod bench;
pub mod chat;
pub mod embed;
pub mod fetch;
pub mod model_dir;
pub mod probe;
pub mod remove_background;
pub mod speak;
pub mod transcribe;
pub mod vad;

pub use fetch::{fetch_repo, fetch_variant, FetchError, FetchOptions, Fetched, FetchedFile};
pub use model_dir::{ModelDir, ModelDirError};
