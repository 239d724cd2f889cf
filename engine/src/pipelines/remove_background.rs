//! Photo → cut-out: decode, resize to the segmenter's input, IS-Net, then the matte at full resolution.
//! Shared by the app's worker and `offgrid remove-background`.

use crate::image::{cut_out, decode_photo, resize_u8, Cutout, Photo, Refinement};
use crate::io::VarBuilder;
use crate::models::isnet::{IsNet, IsNetInput};
use crate::{DType, Device, Result, Tensor};

/// A loaded background remover.
pub struct BackgroundRemover {
    model: IsNet,
    device: Device,
}

impl BackgroundRemover {
    /// From an IS-Net `.onnx` file (imgly's or RMBG-1.4's export); `input` is the model's normalisation.
    pub fn from_onnx(file: &[u8], input: IsNetInput, device: &Device) -> Result<Self> {
        let safetensors = crate::models::isnet::onnx::to_safetensors(file)?;
        Self::from_safetensors(safetensors, input, device)
    }

    /// From PyTorch names in a safetensors file (RMBG-1.4's `model.safetensors`; batch norm folded at load).
    pub fn from_safetensors(bytes: Vec<u8>, input: IsNetInput, device: &Device) -> Result<Self> {
        let vb = VarBuilder::from_safetensors(bytes, device)?;
        Ok(BackgroundRemover {
            model: IsNet::load(&vb, input)?,
            device: device.clone(),
        })
    }

    /// The model's input side.
    pub fn input_side(&self) -> usize {
        self.model.input.size
    }

    /// The photo resized to the model's input (bilinear, half-pixel centres, rounded to 8 bits) and
    /// normalised, `[1, 3, side, side]`.
    pub fn model_input(&self, photo: &Photo) -> Result<Tensor> {
        let side = self.model.input.size;
        let rgba = resize_u8(&photo.rgba, (photo.width, photo.height), 4, (side, side));
        let IsNetInput { mean, std, .. } = self.model.input;
        let mut planes = vec![0.0f32; 3 * side * side];
        for (k, px) in rgba.chunks_exact(4).enumerate() {
            for c in 0..3 {
                planes[c * side * side + k] = (f32::from(px[c]) - mean[c]) / std[c];
            }
        }
        Tensor::from_f32(planes, [1, 3, side, side], &self.device)
    }

    /// The model's mask for a photo: `side²` values in 0–1.
    pub async fn mask(&self, photo: &Photo) -> Result<Vec<f32>> {
        let mask = self.model.forward(&self.model_input(photo)?)?;
        let mask = if mask.dtype() == DType::F32 {
            mask
        } else {
            mask.cast(DType::F32)?
        };
        mask.to_vec_f32_async().await
    }

    /// Decodes `file` and cuts its subject out at the photo's resolution.
    pub async fn remove(&self, file: &[u8], refine: Refinement) -> Result<Cutout> {
        let photo = decode_photo(file)?;
        let mask = self.mask(&photo).await?;
        Ok(cut_out(photo, &mask, self.model.input.size, refine))
    }
}
