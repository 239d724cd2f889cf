//! Large f32 buffers go back to a small pool when their tensor is dropped, and ops whose kernels write every
//! value of their output take them from there instead of from the allocator.
//!
//! Why: a fresh output from the allocator is either heap memory that `calloc` clears on the calling thread, or
//! new pages that the OS faults in and later unmaps. Either way it is slow next to a fast kernel: on 16
//! threads a 512³ product's kernel took 290–400 µs and clearing its 1 MB output added 50–100 µs; at
//! 100×1536×384 (a Whisper prefill layer) the output cost 25–35% of the product (`examples/cpu_gemm_lab.rs`,
//! "fresh output" against "not zeroed"). A forward pass frees and needs the same sizes again and again, so a
//! handful of kept buffers serve nearly every large output. The contents of a recycled buffer are stale
//! values, always initialized: no `unsafe` is involved.

use std::sync::Mutex;

/// Buffers smaller than this (in values; 256 KB) go straight back to the allocator, which serves them well.
const MIN_KEPT: usize = 1 << 16;
/// At most this many bytes are kept (the browser's memory is the tighter budget).
#[cfg(not(target_arch = "wasm32"))]
const MAX_BYTES: usize = 64 << 20;
#[cfg(target_arch = "wasm32")]
const MAX_BYTES: usize = 32 << 20;
/// At most this many buffers are kept: enough for the outputs alive at once in one layer of a forward pass.
const MAX_BUFFERS: usize = 16;

/// The f32 values of a CPU tensor. Dropping it gives large buffers to the pool.
#[derive(Clone, Debug)]
pub struct F32Buffer(Vec<f32>);

impl From<Vec<f32>> for F32Buffer {
    fn from(v: Vec<f32>) -> F32Buffer {
        F32Buffer(v)
    }
}

impl std::ops::Deref for F32Buffer {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.0
    }
}

impl std::ops::DerefMut for F32Buffer {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.0
    }
}

impl Drop for F32Buffer {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.0));
    }
}

/// The kept buffers, oldest first.
#[derive(Default)]
struct Pool {
    buffers: Vec<Vec<f32>>,
    bytes: usize,
}

impl Pool {
    fn keep(&mut self, v: Vec<f32>) {
        let bytes = v.capacity() * 4;
        if v.capacity() < MIN_KEPT || bytes > MAX_BYTES {
            return;
        }
        // Make room by dropping the oldest: the sizes a model needs now are the ones freed last.
        while !self.buffers.is_empty()
            && (self.buffers.len() >= MAX_BUFFERS || self.bytes + bytes > MAX_BYTES)
        {
            let old = self.buffers.remove(0);
            self.bytes -= old.capacity() * 4;
        }
        self.bytes += bytes;
        self.buffers.push(v);
    }

    /// The smallest kept buffer that holds `len` values without wasting more than half of itself, resized to
    /// `len` (values past its old length are zero, the others stale).
    fn take(&mut self, len: usize) -> Option<Vec<f32>> {
        let (at, _) = self
            .buffers
            .iter()
            .enumerate()
            .filter(|(_, v)| v.capacity() >= len && v.capacity() / 2 <= len)
            .min_by_key(|(_, v)| v.capacity())?;
        let mut v = self.buffers.remove(at);
        self.bytes -= v.capacity() * 4;
        v.resize(len, 0.0);
        Some(v)
    }
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    buffers: Vec::new(),
    bytes: 0,
});

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // A panic while the lock was held cannot leave the pool inconsistent in a way that matters: at worst its
    // byte count is off until it empties.
    POOL.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn give_back(v: Vec<f32>) {
    if v.capacity() >= MIN_KEPT {
        pool().keep(v);
    }
}

/// A kept buffer of `len` values, if the pool has one that fits; its contents are stale values.
pub(crate) fn take(len: usize) -> Option<Vec<f32>> {
    if len < MIN_KEPT {
        return None;
    }
    pool().take(len)
}

/// A buffer of `len` values whose contents are unspecified (stale values of an earlier tensor, or zeros): for
/// ops that write every value of their output before reading any.
pub(crate) fn overwritable(len: usize) -> Vec<f32> {
    take(len).unwrap_or_else(|| fresh(len))
}

/// A new zeroed buffer. From 4 MB on natively the threads write the zeros, each its own range (an indexed
/// parallel iterator collects in place): a product's output is written by all of them, but one thread clearing
/// 25 MB first (a 4096 × 1536 linear layer) cost 15–25% of the product on 16 threads.
fn fresh(len: usize) -> Vec<f32> {
    #[cfg(not(target_arch = "wasm32"))]
    if len >= 1 << 20 {
        use rayon::prelude::*;
        return rayon::iter::repeat_n(0.0f32, len).collect();
    }
    vec![0.0; len]
}

/// Empties the pool, giving its memory back to the allocator (e.g. after a model is dropped).
pub fn release_kept_buffers() {
    let mut pool = pool();
    pool.buffers.clear();
    pool.bytes = 0;
}

#[cfg(test)]
mod tests {
    use super::{F32Buffer, Pool, MAX_BUFFERS, MAX_BYTES, MIN_KEPT};

    #[test]
    fn overwritable_has_the_length_asked_for_fresh_or_recycled() {
        // Both sides of the pool's smallest size and of the size where the threads write a fresh buffer's zeros.
        for len in [
            0,
            5,
            MIN_KEPT - 1,
            MIN_KEPT,
            (1 << 20) - 1,
            1 << 20,
            (1 << 20) + 77,
        ] {
            let v = super::overwritable(len);
            assert_eq!(v.len(), len);
            drop(F32Buffer::from(v));
            assert_eq!(super::overwritable(len).len(), len);
        }
        let fresh = super::fresh((1 << 20) + 77);
        assert!(fresh.iter().all(|&x| x.to_bits() == 0));
    }

    #[test]
    fn a_kept_buffer_serves_the_next_request_of_its_size() {
        let mut pool = Pool::default();
        let v = vec![7.0f32; MIN_KEPT * 2];
        let at = v.as_ptr();
        pool.keep(v);
        assert!(
            pool.take(MIN_KEPT * 4).is_none(),
            "too small for the request"
        );
        assert!(
            pool.take(MIN_KEPT / 2).is_none(),
            "would waste three quarters"
        );
        let got = pool.take(MIN_KEPT * 2 - 3).expect("reused");
        assert_eq!(got.as_ptr(), at);
        assert_eq!(got.len(), MIN_KEPT * 2 - 3);
        assert_eq!(pool.bytes, 0);
        assert!(pool.buffers.is_empty());
    }

    #[test]
    fn the_pool_stays_within_its_limits_and_drops_the_oldest() {
        let mut pool = Pool::default();
        pool.keep(vec![0.0; MIN_KEPT - 1]);
        assert!(pool.buffers.is_empty(), "small buffers are not kept");
        for i in 0..MAX_BUFFERS + 3 {
            pool.keep(vec![i as f32; MIN_KEPT]);
            assert!(pool.buffers.len() <= MAX_BUFFERS);
        }
        assert_eq!(pool.buffers[0][0], 3.0, "the three oldest went first");
        let big = MAX_BYTES / 4 / 2 + 1;
        pool.keep(vec![1.0; big]);
        pool.keep(vec![2.0; big]);
        assert_eq!(
            pool.buffers.len(),
            1,
            "two halves of the limit do not fit together"
        );
        assert!(pool.bytes <= MAX_BYTES);
        assert_eq!(
            pool.bytes,
            pool.buffers.iter().map(|v| v.capacity() * 4).sum::<usize>()
        );
        pool.keep(vec![0.0; MAX_BYTES / 4 + 1]);
        assert_eq!(
            pool.buffers.len(),
            1,
            "a buffer over the whole limit is not kept"
        );
        assert!(
            pool.take(MIN_KEPT).is_none(),
            "a small request leaves a big buffer"
        );
        let got = pool
            .take(big - 5)
            .expect("a slightly smaller request takes it");
        assert_eq!((got.len(), got[0]), (big - 5, 2.0));
    }
}
