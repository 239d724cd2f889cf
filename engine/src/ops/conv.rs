//! Convolutions: conv1d, conv_transpose1d and conv2d (stride, padding, dilation, groups; depthwise is
//! `groups == channels`). Weights use PyTorch's layout.

use crate::{Device, Error, Result, Tensor};

/// Hyper-parameters of a 2-D convolution, as `(height, width)` pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
            groups: 1,
        }
    }
}

/// Output length of a convolution along one axis, or an error when the kernel does not fit.
pub(crate) fn conv_out_len(
    op: &'static str,
    len: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Result<usize> {
    let span = dilation * (kernel.max(1) - 1) + 1;
    let padded = len + 2 * padding;
    if stride == 0 || dilation == 0 || kernel == 0 || padded < span {
        return Err(Error::invalid(
            op,
            format!("kernel {kernel} (dilation {dilation}, stride {stride}) does not fit length {len} + 2×{padding}"),
        ));
    }
    Ok((padded - span) / stride + 1)
}

fn check_conv(
    op: &'static str,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    rank: usize,
    groups: usize,
    transposed: bool,
) -> Result<()> {
    crate::ops::same_device(op, &[x, w])?;
    crate::ops::float_input(op, x)?;
    crate::ops::float_input(op, w)?;
    crate::ops::rank_is(op, x, rank)?;
    crate::ops::rank_is(op, w, rank)?;
    let c_in = x.dims()[1];
    let (w0, w1) = (w.dims()[0], w.dims()[1]);
    let ok = if transposed {
        groups > 0 && w0 == c_in && c_in.is_multiple_of(groups)
    } else {
        groups > 0
            && c_in.is_multiple_of(groups)
            && w0.is_multiple_of(groups)
            && w1 * groups == c_in
    };
    if !ok {
        return Err(Error::invalid(
            op,
            format!(
                "input {:?} and weight {:?} do not agree with {groups} groups",
                x.dims(),
                w.dims()
            ),
        ));
    }
    if let Some(b) = b {
        crate::ops::same_device(op, &[x, b])?;
        let out_c = if transposed { w1 * groups } else { w0 };
        if b.dims() != [out_c] {
            return Err(Error::invalid(
                op,
                format!("bias {:?} should be [{out_c}]", b.dims()),
            ));
        }
    }
    Ok(())
}

impl Tensor {
    /// 2-D convolution of `[n, c_in, h, w]` with a weight `[c_out, c_in / groups, kh, kw]`.
    pub fn conv2d(&self, w: &Tensor, b: Option<&Tensor>, p: Conv2dParams) -> Result<Tensor> {
        check_conv("conv2d", self, w, b, 4, p.groups, false)?;
        let oh = conv_out_len(
            "conv2d",
            self.dims()[2],
            w.dims()[2],
            p.stride.0,
            p.padding.0,
            p.dilation.0,
        )?;
        let ow = conv_out_len(
            "conv2d",
            self.dims()[3],
            w.dims()[3],
            p.stride.1,
            p.padding.1,
            p.dilation.1,
        )?;
        match self.device() {
            Device::Cpu => crate::cpu::conv::conv2d(self, w, b, p, (oh, ow)),
            Device::Gpu(_) => crate::gpu::spatial::conv2d(self, w, b, p, (oh, ow)),
        }
    }

    /// 1-D convolution of `[n, c_in, l]` with a weight `[c_out, c_in / groups, k]`.
    pub fn conv1d(
        &self,
        w: &Tensor,
        b: Option<&Tensor>,
        stride: usize,
        padding: usize,
        dilation: usize,
        groups: usize,
    ) -> Result<Tensor> {
        check_conv("conv1d", self, w, b, 3, groups, false)?;
        let p = Conv2dParams {
            stride: (1, stride),
            padding: (0, padding),
            dilation: (1, dilation),
            groups,
        };
        // A 1-D convolution is a 2-D one of height 1.
        let out = self.unsqueeze(2)?.conv2d(&w.unsqueeze(2)?, b, p)?;
        out.squeeze(2)
    }

    /// Transposed 1-D convolution of `[n, c_in, l]` with a weight `[c_in, c_out / groups, k]`.
    #[allow(clippy::too_many_arguments)] // the hyper-parameters of torch.nn.ConvTranspose1d
    pub fn conv_transpose1d(
        &self,
        w: &Tensor,
        b: Option<&Tensor>,
        stride: usize,
        padding: usize,
        output_padding: usize,
        dilation: usize,
        groups: usize,
    ) -> Result<Tensor> {
        check_conv("conv_transpose1d", self, w, b, 3, groups, true)?;
        let (l, k) = (self.dims()[2], w.dims()[2]);
        let full = (l.max(1) - 1) * stride + dilation * (k.max(1) - 1) + output_padding + 1;
        if stride == 0
            || dilation == 0
            || l == 0
            || k == 0
            || output_padding >= stride.max(dilation)
            || full <= 2 * padding
        {
            return Err(Error::invalid(
                "conv_transpose1d",
                format!("invalid stride {stride}, padding {padding}, output_padding {output_padding}, dilation {dilation} for length {l} and kernel {k}"),
            ));
        }
        let out_len = full - 2 * padding;
        match self.device() {
            Device::Cpu => crate::cpu::conv::conv_transpose1d(
                self,
                w,
                b,
                (stride, padding, dilation, groups),
                out_len,
            ),
            Device::Gpu(_) => crate::gpu::spatial::conv_transpose1d(
                self,
                w,
                b,
                (stride, padding, dilation, groups),
                out_len,
            ),
        }
    }
}
