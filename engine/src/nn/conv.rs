//! Convolution layers. [`Conv1dK3`] is Whisper's stem on time-major activations; [`Conv1d`], [`ConvTranspose1d`]
//! and [`Conv2d`] are PyTorch's modules on channel-major `[batch, channels, ...]` (VITS, image models).

use super::as_f32;
use crate::io::VarBuilder;
use crate::ops::Conv2dParams;
use crate::{DType, Result, Tensor};

/// `nn.Conv1d(kernel_size=3, padding=1)` (Whisper's stem) as im2col + `linear`, so it runs on every device with the same kernels.
/// Works on time-major activations `[len, channels]`.
pub struct Conv1dK3 {
    /// `[out, 3 * in]`, tap-major (the PyTorch `[out, in, 3]` weight permuted once at load).
    w: Tensor,
    b: Tensor,
    c_in: usize,
    stride: usize,
}

impl Conv1dK3 {
    /// Loads `weight` `[c_out, c_in, 3]` and `bias` `[c_out]`; `stride` is 1 or 2.
    pub fn load(vb: &VarBuilder, c_out: usize, c_in: usize, stride: usize) -> Result<Self> {
        let w = as_f32(vb.get_float("weight", [c_out, c_in, 3])?)?;
        let w = w
            .permute(&[0, 2, 1])?
            .contiguous()?
            .reshape([c_out, 3 * c_in])?;
        let b = as_f32(vb.get_float("bias", [c_out])?)?;
        Ok(Conv1dK3 { w, b, c_in, stride })
    }

    /// `x` `[len, c_in]` → `[out_len, c_out]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let len = x.dims()[0];
        let zero = Tensor::zeros([1, self.c_in], DType::F32, x.device())?;
        let padded = Tensor::concat(&[&zero, x, &zero], 0)?;
        let taps: Vec<Tensor> = if self.stride == 1 {
            (0..3)
                .map(|k| padded.narrow(0, k, len)?.unsqueeze(1))
                .collect::<Result<_>>()?
        } else {
            // Stride 2: view rows as pairs so that taps 2t, 2t+1 and 2t+2 are plain narrows.
            let out_len = (len - 1) / 2 + 1;
            let padded = if (len + 2) % 2 == 1 {
                Tensor::concat(&[&padded, &zero], 0)?
            } else {
                padded
            };
            let pairs = padded.reshape([padded.dims()[0] / 2, 2, self.c_in])?;
            vec![
                pairs.narrow(0, 0, out_len)?.narrow(1, 0, 1)?,
                pairs.narrow(0, 0, out_len)?.narrow(1, 1, 1)?,
                pairs.narrow(0, 1, out_len)?.narrow(1, 0, 1)?,
            ]
        };
        let refs: Vec<&Tensor> = taps.iter().collect();
        let cols = Tensor::concat(&refs, 1)?;
        let out_len = cols.dims()[0];
        cols.reshape([out_len, 3 * self.c_in])?
            .linear(&self.w, Some(&self.b))
    }
}

/// `nn.Conv2d` with PyTorch's weight layout `[c_out, c_in / groups, kh, kw]`.
#[derive(Debug, Clone)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    params: Conv2dParams,
}

impl Conv2d {
    /// Loads `weight` (and `bias` `[c_out]` when `bias`).
    pub fn load(
        vb: &VarBuilder,
        c_out: usize,
        c_in: usize,
        kernel: (usize, usize),
        bias: bool,
        params: Conv2dParams,
    ) -> Result<Self> {
        let weight = as_f32(vb.get_float(
            "weight",
            [c_out, c_in / params.groups.max(1), kernel.0, kernel.1],
        )?)?;
        let bias = if bias {
            Some(as_f32(vb.get_float("bias", [c_out])?)?)
        } else {
            None
        };
        Ok(Conv2d {
            weight,
            bias,
            params,
        })
    }

    /// From tensors already in place (e.g. a convolution with its batch norm folded in).
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>, params: Conv2dParams) -> Self {
        Conv2d {
            weight,
            bias,
            params,
        }
    }

    /// `x` `[batch, c_in, h, w]` → `[batch, c_out, h', w']`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.conv2d(&self.weight, self.bias.as_ref(), self.params)
    }
}

/// The hyper-parameters of `nn.Conv1d` besides its sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv1dParams {
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub groups: usize,
}

impl Conv1dParams {
    /// Stride 1 and the padding that keeps the length ("same") for an odd `kernel` at `dilation`.
    pub fn same(kernel: usize, dilation: usize) -> Self {
        Conv1dParams {
            stride: 1,
            padding: dilation * (kernel.saturating_sub(1)) / 2,
            dilation,
            groups: 1,
        }
    }
}

/// `nn.Conv1d` with PyTorch's weight layout `[c_out, c_in / groups, k]`, on `[batch, channels, length]`.
#[derive(Debug, Clone)]
pub struct Conv1d {
    weight: Tensor,
    bias: Option<Tensor>,
    params: Conv1dParams,
}

impl Conv1d {
    /// Loads `weight` (and `bias` `[c_out]` when `bias`).
    pub fn load(
        vb: &VarBuilder,
        c_out: usize,
        c_in: usize,
        kernel: usize,
        bias: bool,
        params: Conv1dParams,
    ) -> Result<Self> {
        let weight = as_f32(vb.get_float("weight", [c_out, c_in / params.groups.max(1), kernel])?)?;
        let bias = if bias {
            Some(as_f32(vb.get_float("bias", [c_out])?)?)
        } else {
            None
        };
        Ok(Conv1d {
            weight,
            bias,
            params,
        })
    }

    /// `x` `[batch, c_in, len]` → `[batch, c_out, len']`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let p = self.params;
        x.conv1d(
            &self.weight,
            self.bias.as_ref(),
            p.stride,
            p.padding,
            p.dilation,
            p.groups,
        )
    }
}

/// `nn.ConvTranspose1d` (groups 1, dilation 1) with PyTorch's weight layout `[c_in, c_out, k]`.
#[derive(Debug, Clone)]
pub struct ConvTranspose1d {
    weight: Tensor,
    bias: Option<Tensor>,
    stride: usize,
    padding: usize,
}

impl ConvTranspose1d {
    /// Loads `weight` `[c_in, c_out, kernel]` and `bias` `[c_out]`.
    pub fn load(
        vb: &VarBuilder,
        c_in: usize,
        c_out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Self> {
        Ok(ConvTranspose1d {
            weight: as_f32(vb.get_float("weight", [c_in, c_out, kernel])?)?,
            bias: Some(as_f32(vb.get_float("bias", [c_out])?)?),
            stride,
            padding,
        })
    }

    /// `x` `[batch, c_in, len]` → `[batch, c_out, (len - 1) * stride - 2 * padding + kernel]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.conv_transpose1d(
            &self.weight,
            self.bias.as_ref(),
            self.stride,
            self.padding,
            0,
            1,
            1,
        )
    }
}
