//! A key/value cache for autoregressive decoding: preallocated once, appended in place.

use crate::{DType, Device, Error, Result, Tensor};

/// Keys and values of past positions, `[b, h, max_len, d]` each, filled from the front.
#[derive(Debug)]
pub struct KvCache {
    k: Tensor,
    v: Tensor,
    len: usize,
    max_len: usize,
}

impl KvCache {
    /// An empty cache for `max_len` positions.
    pub fn new(
        batch: usize,
        heads: usize,
        max_len: usize,
        head_dim: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<KvCache> {
        let shape = [batch, heads, max_len, head_dim];
        Ok(KvCache {
            k: Tensor::zeros(shape, dtype, device)?,
            v: Tensor::zeros(shape, dtype, device)?,
            len: 0,
            max_len,
        })
    }

    /// Number of positions held.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether no position is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Capacity in positions.
    pub fn max_len(&self) -> usize {
        self.max_len
    }
    /// Keeps the first `len` positions and forgets the rest (the buffers are kept).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
    /// Forgets every position (the buffers are kept).
    pub fn reset(&mut self) {
        self.len = 0;
    }

    /// Appends `k`/`v` `[b, h, t, d]` and returns views of everything held so far. Writes in place; the buffers
    /// are copied only if a view from an earlier call is still alive (drop them before the next step).
    pub fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let dims = self.k.dims();
        let t = k.dims().get(2).copied().unwrap_or(0);
        if k.rank() != 4
            || k.dims() != v.dims()
            || k.dims()[0] != dims[0]
            || k.dims()[1] != dims[1]
            || k.dims()[3] != dims[3]
        {
            return Err(Error::invalid(
                "kv_cache",
                format!(
                    "k {:?} / v {:?} do not fit a cache of {:?}",
                    k.dims(),
                    v.dims(),
                    dims
                ),
            ));
        }
        if self.len + t > self.max_len {
            return Err(Error::invalid(
                "kv_cache",
                format!(
                    "the cache is full: {} + {t} positions exceed its {} (start a new conversation or raise the context length)",
                    self.len, self.max_len
                ),
            ));
        }
        crate::ops::same_device("kv_cache", &[&self.k, k, v])?;
        match self.k.device() {
            Device::Cpu => {
                crate::cpu::index::write_seq(&mut self.k, k, self.len)?;
                crate::cpu::index::write_seq(&mut self.v, v, self.len)?;
            }
            Device::Gpu(_) => {
                // In place: the GPU writes into the preallocated buffers, ordered in the pending encoder.
                crate::gpu::elementwise::copy_into(&self.k.narrow(2, self.len, t)?, k)?;
                crate::gpu::elementwise::copy_into(&self.v.narrow(2, self.len, t)?, v)?;
            }
        }
        self.len += t;
        Ok((
            self.k.narrow(2, 0, self.len)?,
            self.v.narrow(2, 0, self.len)?,
        ))
    }
}
