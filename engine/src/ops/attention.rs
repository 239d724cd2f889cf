//! Fused scaled-dot-product attention with additive masks, end-aligned causal masking and grouped-query heads.

use crate::{Device, Error, Result, Tensor};

impl Tensor {
    /// `softmax(q·kᵀ·scale + mask) · v` with `self = q [b, hq, tq, d]`, `k`/`v` `[b, hkv, tk, d]` (`hq` a multiple
    /// of `hkv`), an additive `mask` broadcastable to `[b, hq, tq, tk]`, and `causal` aligned to the end (query `i`
    /// sees keys `≤ tk − tq + i`, as when decoding with a KV cache).
    pub fn attention(
        &self,
        k: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
        causal: bool,
        scale: f32,
    ) -> Result<Tensor> {
        let q = self;
        crate::ops::same_device("attention", &[q, k, v])?;
        for t in [q, k, v] {
            crate::ops::float_input("attention", t)?;
            crate::ops::rank_is("attention", t, 4)?;
        }
        let (b, hq, tq, d) = (q.dims()[0], q.dims()[1], q.dims()[2], q.dims()[3]);
        let (hkv, tk) = (k.dims()[1], k.dims()[2]);
        let bad = k.dims() != v.dims()
            || k.dims()[0] != b
            || k.dims()[3] != d
            || hkv == 0
            || !hq.is_multiple_of(hkv)
            || (causal && tq > tk);
        if bad {
            return Err(Error::invalid(
                "attention",
                format!(
                    "q {:?}, k {:?}, v {:?} do not fit together (causal: {causal})",
                    q.dims(),
                    k.dims(),
                    v.dims()
                ),
            ));
        }
        if let Some(m) = mask {
            crate::ops::same_device("attention", &[q, m])?;
            crate::ops::float_input("attention", m)?;
            let full = crate::Shape::from([b, hq, tq, tk]);
            if m.shape().broadcast(&full, "attention")? != full {
                return Err(Error::ShapeMismatch {
                    op: "attention",
                    lhs: m.shape().clone(),
                    rhs: full,
                });
            }
        }
        match q.device() {
            Device::Cpu => crate::cpu::attention::attention(q, k, v, mask, causal, scale),
            Device::Gpu(_) => crate::gpu::nn::attention(
                q,
                k,
                v,
                mask,
                crate::gpu::nn::AttentionOpts { scale, causal },
            ),
        }
    }

    /// Rotary position embedding of `[.., t, d]` with `cos`/`sin` `[t, d/2]`: rotate-half pairs `(i, i + d/2)`, or
    /// `interleaved` (GPT-J) pairs `(2i, 2i + 1)`.
    pub fn rope(&self, cos: &Tensor, sin: &Tensor, interleaved: bool) -> Result<Tensor> {
        crate::ops::same_device("rope", &[self, cos, sin])?;
        for t in [self, cos, sin] {
            crate::ops::float_input("rope", t)?;
        }
        let d = self.shape().last_dim();
        let t = if self.rank() >= 2 {
            self.dims()[self.rank() - 2]
        } else {
            0
        };
        if self.rank() < 2
            || !d.is_multiple_of(2)
            || cos.dims() != [t, d / 2]
            || sin.dims() != [t, d / 2]
        {
            return Err(Error::invalid(
                "rope",
                format!(
                    "x {:?} needs an even last axis and cos/sin of [{t}, {}], got {:?} and {:?}",
                    self.dims(),
                    d / 2,
                    cos.dims(),
                    sin.dims()
                ),
            ));
        }
        match self.device() {
            Device::Cpu => crate::cpu::attention::rope(self, cos, sin, interleaved),
            Device::Gpu(_) => crate::gpu::nn::rope(self, cos, sin, interleaved),
        }
    }
}
