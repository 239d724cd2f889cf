//! IS-Net (DIS, "Highly Accurate Dichotomous Image Segmentation", Qin et al. 2022): the U²-Net-style
//! segmenter behind imgly's background removal and BRIA's RMBG-1.4. A stride-2 stem, six encoder stages and
//! five decoder stages built from RSU blocks (small U-Nets with a residual), and a 3×3 side head whose
//! upsampled sigmoid is the mask.
//!
//! One model reads two layouts: PyTorch's state dict (RMBG-1.4's `model.safetensors`, batch norm folded into
//! each convolution at load) and an ONNX export (weights found through the graph's node names, see
//! [`onnx`]). Only the path to the final mask (side 1) is built; the deeper side heads only serve training.

pub mod onnx;

use crate::io::VarBuilder;
use crate::nn::{as_f32, Conv2d};
use crate::ops::Conv2dParams;
use crate::{Error, Result, Tensor};

/// Batch norm's epsilon in the PyTorch module (`nn.BatchNorm2d` default).
const BN_EPS: f32 = 1e-5;

/// How the model wants its input: square side and per-channel normalisation `(v - mean) / std` on 0–255 RGB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsNetInput {
    pub size: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl IsNetInput {
    /// imgly's models: `(v - 128) / 256`.
    pub const IMGLY: IsNetInput = IsNetInput {
        size: 1024,
        mean: [128.0; 3],
        std: [256.0; 3],
    };
    /// RMBG-1.4 (`preprocessor_config.json`): `v / 255 - 0.5`, i.e. mean 127.5 and std 255 in pixel units.
    pub const RMBG: IsNetInput = IsNetInput {
        size: 1024,
        mean: [127.5; 3],
        std: [255.0; 3],
    };
}

/// `REBNCONV`: 3×3 convolution (dilation = padding) with its batch norm folded in, then ReLU.
struct ConvRelu {
    conv: Conv2d,
}

impl ConvRelu {
    fn load(vb: &VarBuilder, c_in: usize, c_out: usize, dilation: usize) -> Result<Self> {
        let params = Conv2dParams {
            padding: (dilation, dilation),
            dilation: (dilation, dilation),
            ..Conv2dParams::default()
        };
        let conv = if vb.contains("bn_s1.running_mean") {
            fold_batch_norm(vb, c_in, c_out, params)?
        } else {
            Conv2d::load(&vb.pp("conv_s1"), c_out, c_in, (3, 3), true, params)?
        };
        Ok(ConvRelu { conv })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv.forward(x)?.relu()
    }
}

/// `conv_s1` followed by `bn_s1` as one convolution: `w' = w·γ/√(σ²+ε)`, `b' = (b − μ)·γ/√(σ²+ε) + β`.
fn fold_batch_norm(
    vb: &VarBuilder,
    c_in: usize,
    c_out: usize,
    params: Conv2dParams,
) -> Result<Conv2d> {
    // The folding is arithmetic on the host: read the stored values there whatever device the model is for
    // (a GPU tensor cannot be read back synchronously), and upload only the folded result.
    let host = vb.on_device(&crate::Device::Cpu);
    let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
        as_f32(host.get_float(name, shape.to_vec())?)?.to_vec_f32()
    };
    let w = read("conv_s1.weight", &[c_out, c_in, 3, 3])?;
    let b = if vb.contains("conv_s1.bias") {
        read("conv_s1.bias", &[c_out])?
    } else {
        vec![0.0; c_out]
    };
    let gamma = read("bn_s1.weight", &[c_out])?;
    let beta = read("bn_s1.bias", &[c_out])?;
    let mean = read("bn_s1.running_mean", &[c_out])?;
    let var = read("bn_s1.running_var", &[c_out])?;
    let per_out = c_in * 9;
    let mut folded_w = w;
    let mut folded_b = vec![0.0; c_out];
    for o in 0..c_out {
        let scale = gamma[o] / (var[o] + BN_EPS).sqrt();
        folded_w[o * per_out..(o + 1) * per_out]
            .iter_mut()
            .for_each(|v| *v *= scale);
        folded_b[o] = (b[o] - mean[o]) * scale + beta[o];
    }
    let device = vb.device();
    Ok(Conv2d::from_tensors(
        Tensor::from_f32(folded_w, [c_out, c_in, 3, 3], device)?,
        Some(Tensor::from_f32(folded_b, [c_out], device)?),
        params,
    ))
}

/// Bilinear resize of `x` to the height and width of `like` (`F.interpolate(mode="bilinear")`).
fn upsample_like(x: &Tensor, like: &Tensor) -> Result<Tensor> {
    let (h, w) = (like.dims()[2], like.dims()[3]);
    if x.dims()[2] == h && x.dims()[3] == w {
        return Ok(x.clone());
    }
    x.resize_bilinear(h, w, false)
}

fn pool(x: &Tensor) -> Result<Tensor> {
    x.max_pool2d((2, 2), (2, 2), (0, 0), true)
}

/// `RSU-L` (L = 4…7): an L-level U-Net on `mid` channels between an input and an output convolution, plus the
/// residual. `RSU-4F` keeps the resolution and widens the receptive field with dilations 1, 2, 4, 8 instead.
struct Rsu {
    input: ConvRelu,
    /// `rebnconv1 … rebnconv(L-1)`, the last one with dilation 2 in RSU-L (1, 2, 4 in RSU-4F).
    down: Vec<ConvRelu>,
    /// The deepest level: `rebnconvL`, dilation 2 (8 in RSU-4F).
    bottom: ConvRelu,
    /// `rebnconv(L-1)d … rebnconv1d`, from the deepest to the shallowest.
    up: Vec<ConvRelu>,
    /// RSU-4F: no pooling, no resizing.
    dilated: bool,
}

impl Rsu {
    fn load(
        vb: &VarBuilder,
        levels: usize,
        dilated: bool,
        io: (usize, usize),
        mid: usize,
    ) -> Result<Self> {
        let (c_in, c_out) = io;
        let input = ConvRelu::load(&vb.pp("rebnconvin"), c_in, c_out, 1)?;
        let dilation = |level: usize| if dilated { 1 << (level - 1) } else { 1 };
        let mut down = Vec::new();
        for level in 1..levels {
            let from = if level == 1 { c_out } else { mid };
            down.push(ConvRelu::load(
                &vb.pp(format!("rebnconv{level}")),
                from,
                mid,
                dilation(level),
            )?);
        }
        let bottom_dilation = if dilated { 1 << (levels - 1) } else { 2 };
        let bottom = ConvRelu::load(
            &vb.pp(format!("rebnconv{levels}")),
            mid,
            mid,
            bottom_dilation,
        )?;
        let mut up = Vec::new();
        for level in (1..levels).rev() {
            let to = if level == 1 { c_out } else { mid };
            up.push(ConvRelu::load(
                &vb.pp(format!("rebnconv{level}d")),
                2 * mid,
                to,
                dilation(level),
            )?);
        }
        Ok(Rsu {
            input,
            down,
            bottom,
            up,
            dilated,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let hx_in = self.input.forward(x)?;
        // Encoder: keep each level's output for its skip connection; pool between levels (not after the last).
        let mut skips: Vec<Tensor> = Vec::with_capacity(self.down.len());
        let mut h = hx_in.clone();
        for (i, conv) in self.down.iter().enumerate() {
            if i > 0 && !self.dilated {
                h = pool(&h)?;
            }
            h = conv.forward(&h)?;
            skips.push(h.clone());
        }
        let mut d = self.bottom.forward(&h)?;
        // Decoder: the deeper map (resized to the skip's size) first, then the skip, as the graph concatenates.
        for (conv, skip) in self.up.iter().zip(skips.iter().rev()) {
            let deeper = upsample_like(&d, skip)?;
            d = conv.forward(&Tensor::concat(&[&deeper, skip], 1)?)?;
        }
        d.add(&hx_in)
    }
}

/// The whole network, from a normalised `[1, 3, size, size]` image to the `[1, 1, size, size]` mask in 0–1.
pub struct IsNet {
    stem: Conv2d,
    /// `stage1 … stage6`.
    encoder: Vec<Rsu>,
    /// `stage5d … stage1d`.
    decoder: Vec<Rsu>,
    side1: Conv2d,
    pub input: IsNetInput,
}

/// (name, levels, RSU-4F, in, mid, out) of each stage.
type StageSpec = (&'static str, usize, bool, usize, usize, usize);

const ENCODER: [StageSpec; 6] = [
    ("stage1", 7, false, 64, 32, 64),
    ("stage2", 6, false, 64, 32, 128),
    ("stage3", 5, false, 128, 64, 256),
    ("stage4", 4, false, 256, 128, 512),
    ("stage5", 4, true, 512, 256, 512),
    ("stage6", 4, true, 512, 256, 512),
];

const DECODER: [StageSpec; 5] = [
    ("stage5d", 4, true, 1024, 256, 512),
    ("stage4d", 4, false, 1024, 128, 256),
    ("stage3d", 5, false, 512, 64, 128),
    ("stage2d", 6, false, 256, 32, 64),
    ("stage1d", 7, false, 128, 16, 64),
];

impl IsNet {
    /// Loads from PyTorch names (`conv_in.*`, `stageN.rebnconv*.conv_s1.*` with or without `bn_s1.*`,
    /// `side1.*`).
    pub fn load(vb: &VarBuilder, input: IsNetInput) -> Result<Self> {
        if !vb.contains("conv_in.weight") || !vb.contains("side1.weight") {
            return Err(Error::Malformed(
                "this is not an IS-Net checkpoint (no `conv_in` or `side1` weights)".into(),
            ));
        }
        let stem = Conv2d::load(
            &vb.pp("conv_in"),
            64,
            3,
            (3, 3),
            true,
            Conv2dParams {
                stride: (2, 2),
                padding: (1, 1),
                ..Conv2dParams::default()
            },
        )?;
        let stages = |specs: &[StageSpec]| -> Result<Vec<Rsu>> {
            specs
                .iter()
                .map(|&(name, levels, dilated, c_in, mid, c_out)| {
                    Rsu::load(&vb.pp(name), levels, dilated, (c_in, c_out), mid)
                })
                .collect()
        };
        let side1 = Conv2d::load(
            &vb.pp("side1"),
            1,
            64,
            (3, 3),
            true,
            Conv2dParams {
                padding: (1, 1),
                ..Conv2dParams::default()
            },
        )?;
        Ok(IsNet {
            stem,
            encoder: stages(&ENCODER)?,
            decoder: stages(&DECODER)?,
            side1,
            input,
        })
    }

    /// `x` `[1, 3, size, size]` normalised → mask `[1, 1, size, size]` in 0–1.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let size = self.input.size;
        if x.dims() != [1, 3, size, size] {
            return Err(Error::invalid(
                "isnet",
                format!("input {:?} should be [1, 3, {size}, {size}]", x.dims()),
            ));
        }
        let mut h = self.stem.forward(x)?;
        let mut skips = Vec::with_capacity(self.encoder.len());
        for (i, stage) in self.encoder.iter().enumerate() {
            if i > 0 {
                h = pool(&h)?;
            }
            h = stage.forward(&h)?;
            skips.push(h.clone());
        }
        // The deepest stage's output feeds the first decoder; the others are its skips, deepest first.
        let mut d = skips
            .pop()
            .ok_or_else(|| Error::invalid("isnet", "no encoder stages"))?;
        for (stage, skip) in self.decoder.iter().zip(skips.iter().rev()) {
            let deeper = upsample_like(&d, skip)?;
            d = stage.forward(&Tensor::concat(&[&deeper, skip], 1)?)?;
        }
        let logits = self.side1.forward(&d)?;
        logits.resize_bilinear(size, size, false)?.sigmoid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::safetensors::{write_safetensors, TensorToWrite};
    use crate::Device;

    /// RMBG-1.4's checkpoint keeps each `REBNCONV`'s batch norm apart: loaded, it must compute what the
    /// convolution followed by the (inference-mode) batch norm and the ReLU computes.
    #[test]
    fn batch_norm_is_folded_into_the_convolution() {
        let (c_in, c_out) = (3, 4);
        let w: Vec<f32> = (0..c_out * c_in * 9)
            .map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5)
            .collect();
        let b = [0.1, -0.2, 0.3, 0.0];
        let gamma = [1.5, 0.5, -1.0, 2.0];
        let beta = [0.2, -0.1, 0.0, 0.4];
        let mean = [0.05, -0.3, 0.2, 0.1];
        let var = [0.5, 2.0, 1.0, 0.1];
        let file = write_safetensors(&[
            TensorToWrite::f32("conv_s1.weight", [c_out, c_in, 3, 3].to_vec(), &w),
            TensorToWrite::f32("conv_s1.bias", [c_out].to_vec(), &b),
            TensorToWrite::f32("bn_s1.weight", [c_out].to_vec(), &gamma),
            TensorToWrite::f32("bn_s1.bias", [c_out].to_vec(), &beta),
            TensorToWrite::f32("bn_s1.running_mean", [c_out].to_vec(), &mean),
            TensorToWrite::f32("bn_s1.running_var", [c_out].to_vec(), &var),
        ])
        .expect("writes");
        // For a GPU model the folding still happens on the host (it once copied GPU tensors back, which fails).
        let gpu = Device::Gpu(
            pollster::block_on(crate::gpu::GpuDevice::new()).expect("a GPU adapter (CI: lavapipe)"),
        );
        let on_gpu = VarBuilder::from_safetensors(file.clone(), &gpu).expect("reads");
        let gpu_layer = ConvRelu::load(&on_gpu, c_in, c_out, 2).expect("loads for the GPU");
        let vb = VarBuilder::from_safetensors(file, &Device::Cpu).expect("reads");
        let layer = ConvRelu::load(&vb, c_in, c_out, 2).expect("loads");
        let (h, wd) = (7, 6);
        let xv: Vec<f32> = (0..c_in * h * wd)
            .map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0)
            .collect();
        let x = Tensor::from_f32(xv, [1, c_in, h, wd], &Device::Cpu).expect("x");
        let got = layer
            .forward(&x)
            .expect("forward")
            .to_vec_f32()
            .expect("values");
        let params = Conv2dParams {
            padding: (2, 2),
            dilation: (2, 2),
            ..Conv2dParams::default()
        };
        let raw = x
            .conv2d(
                &Tensor::from_f32(w, [c_out, c_in, 3, 3], &Device::Cpu).expect("w"),
                Some(&Tensor::from_f32(b.to_vec(), [c_out], &Device::Cpu).expect("b")),
                params,
            )
            .expect("conv")
            .to_vec_f32()
            .expect("values");
        let from_gpu = pollster::block_on(
            gpu_layer
                .forward(&x.to_device(&gpu).expect("upload"))
                .expect("forward on the GPU")
                .to_vec_f32_async(),
        )
        .expect("values");
        assert_eq!(got.len(), raw.len());
        for (g, c) in from_gpu.iter().zip(&got) {
            assert!((g - c).abs() < 1e-5, "GPU {g} vs CPU {c}");
        }
        for (k, (g, r)) in got.iter().zip(&raw).enumerate() {
            let o = k / (h * wd);
            let want = ((r - mean[o]) / (var[o] + BN_EPS).sqrt() * gamma[o] + beta[o]).max(0.0);
            assert!((g - want).abs() < 1e-5, "output {k}: {g} vs {want}");
        }
    }
}
