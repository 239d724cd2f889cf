//! 2-D pooling and bilinear resizing of NCHW tensors.

use crate::{Device, Error, Result, Tensor};

/// Output length of a pooling window along one axis, following PyTorch (including `ceil_mode`, where the last
/// window must start inside the input or its left padding).
pub fn pool_out_len(
    len: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    ceil_mode: bool,
) -> Result<usize> {
    if kernel == 0 || stride == 0 || padding * 2 > kernel || len + 2 * padding < kernel {
        return Err(Error::invalid(
            "pool2d",
            format!("kernel {kernel}, stride {stride}, padding {padding} do not fit length {len}"),
        ));
    }
    let span = len + 2 * padding - kernel;
    let mut out = if ceil_mode {
        span.div_ceil(stride) + 1
    } else {
        span / stride + 1
    };
    if ceil_mode && (out - 1) * stride >= len + padding {
        out -= 1;
    }
    Ok(out)
}

/// A pooling window: kernel, stride and padding as `(height, width)`.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub out: (usize, usize),
}

fn window(
    x: &Tensor,
    op: &'static str,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    ceil_mode: bool,
) -> Result<Window> {
    crate::ops::float_input(op, x)?;
    crate::ops::rank_is(op, x, 4)?;
    let oh = pool_out_len(x.dims()[2], kernel.0, stride.0, padding.0, ceil_mode)?;
    let ow = pool_out_len(x.dims()[3], kernel.1, stride.1, padding.1, ceil_mode)?;
    Ok(Window {
        kernel,
        stride,
        padding,
        out: (oh, ow),
    })
}

impl Tensor {
    /// Max pooling of `[n, c, h, w]` (padding counts as `-inf`).
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        ceil_mode: bool,
    ) -> Result<Tensor> {
        let win = window(self, "max_pool2d", kernel, stride, padding, ceil_mode)?;
        match self.device() {
            Device::Cpu => crate::cpu::pool::pool2d(self, win, None),
            Device::Gpu(_) => crate::gpu::spatial::pool2d(self, win, None),
        }
    }

    /// Average pooling of `[n, c, h, w]`; `count_include_pad` divides by the window size including padding.
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> Result<Tensor> {
        let win = window(self, "avg_pool2d", kernel, stride, padding, ceil_mode)?;
        match self.device() {
            Device::Cpu => crate::cpu::pool::pool2d(self, win, Some(count_include_pad)),
            Device::Gpu(_) => crate::gpu::spatial::pool2d(self, win, Some(count_include_pad)),
        }
    }

    /// Bilinear resize of `[n, c, h, w]` to `[n, c, out_h, out_w]` (as `F.interpolate(mode="bilinear")`).
    pub fn resize_bilinear(
        &self,
        out_h: usize,
        out_w: usize,
        align_corners: bool,
    ) -> Result<Tensor> {
        crate::ops::float_input("resize_bilinear", self)?;
        crate::ops::rank_is("resize_bilinear", self, 4)?;
        if out_h == 0 || out_w == 0 || self.dims()[2] == 0 || self.dims()[3] == 0 {
            return Err(Error::invalid(
                "resize_bilinear",
                format!("cannot resize {:?} to {out_h}×{out_w}", self.dims()),
            ));
        }
        match self.device() {
            Device::Cpu => crate::cpu::pool::resize_bilinear(self, out_h, out_w, align_corners),
            Device::Gpu(_) => {
                crate::gpu::spatial::resize_bilinear(self, out_h, out_w, align_corners)
            }
        }
    }
}
