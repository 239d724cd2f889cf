//! The engine's one error type.

use crate::{DType, Shape};

/// Everything that can go wrong in the engine. Messages are written for the person who reads them.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("shape mismatch in {op}: {lhs:?} vs {rhs:?}")]
    ShapeMismatch {
        op: &'static str,
        lhs: Shape,
        rhs: Shape,
    },
    #[error("{op} does not support dtype {dtype:?}")]
    UnsupportedDType { op: &'static str, dtype: DType },
    #[error("{op} is not available on the {device} backend")]
    UnsupportedOnDevice {
        op: &'static str,
        device: &'static str,
    },
    #[error("tensors are on different devices in {op}")]
    DeviceMismatch { op: &'static str },
    #[error("invalid argument to {op}: {msg}")]
    InvalidArgument { op: &'static str, msg: String },
    #[error("the model file is malformed: {0}")]
    Malformed(String),
    #[error("weight `{0}` is missing from the model file")]
    MissingWeight(String),
    #[error("the GPU is unavailable: {0}")]
    GpuUnavailable(String),
    #[error("the GPU device was lost: {0}. Reload the page or switch to the CPU.")]
    DeviceLost(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    /// An audio file that cannot be read (not WAV, compressed, cut short…), worded for the person who chose it.
    #[error("{0}")]
    Audio(String),
    /// An image that cannot be read or saved, worded for the person who chose it.
    #[error("{0}")]
    Image(String),
    /// Text that cannot be spoken (empty, no letters of a supported script…), worded for the person who typed it.
    #[error("{0}")]
    Text(String),
    /// A model file that is well formed but uses something this engine does not run yet.
    #[error("{0}")]
    Unsupported(String),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The caller's [`crate::generation::CancelFlag`] was set; the work stopped between two steps.
    #[error("stopped on request")]
    Cancelled,
}

/// Result with the engine's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            msg: msg.into(),
        }
    }
}
