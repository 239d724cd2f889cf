//! Background removal requests and their results.

use super::{Backend, ModelChoice};
use serde::{Deserialize, Serialize};

/// Cut the subject of one photo out. The photo's bytes travel to the worker and the cut-out comes back;
/// nothing leaves the device.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RemoveBackgroundRequest {
    /// The file as the person chose it (PNG, JPEG, WebP or GIF).
    pub photo: Vec<u8>,
    /// Its name, for messages.
    pub name: String,
    pub model: ModelChoice,
    /// Edge refinement and foreground colours (off: the mask only upsampled).
    pub refine: bool,
}

/// A finished cut-out.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Cutout {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// The cut-out as PNG with alpha.
    pub png: Vec<u8>,
    /// The same as lossless WebP.
    pub webp: Vec<u8>,
    /// Time of the segmentation model alone, and of the whole job after the model was loaded.
    pub model_millis: f64,
    pub total_millis: f64,
    pub backend: Backend,
}
