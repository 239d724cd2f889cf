//! Buffer pool by size class (sixteen per power of two): ops take buffers from it and [`super::GpuStorage`] gives them
//! back on drop, so a forward pass creates no buffers once the pool is warm.

use std::collections::HashMap;

/// Smallest size class in bytes (also keeps every binding a multiple of 4 and 256-aligned in size).
const MIN_CLASS: u64 = 256;

/// Counts a test can compare before and after loading and dropping a model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PoolStats {
    /// Buffers created over the device's life.
    pub created: u64,
    /// Buffers handed out and not yet returned.
    pub in_use: u64,
    /// Bytes held by buffers in use (their size classes).
    pub in_use_bytes: u64,
    /// Buffers idle in the pool.
    pub idle: u64,
    /// Bytes held by idle buffers.
    pub idle_bytes: u64,
}

/// Idle buffers by size class. `recycled` holds buffers given back since the last submit: kernels recorded
/// later in the same encoder may reuse them (the GPU runs the encoder in order), but `queue.write_buffer`
/// may not, because queue writes land before the pending encoder's commands run.
#[derive(Default)]
pub(crate) struct BufferPool {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    recycled: HashMap<u64, Vec<wgpu::Buffer>>,
    stats: PoolStats,
    /// Whether commands were recorded since the last submit (only then must returned buffers wait).
    pub(crate) pending_work: bool,
}

/// The size class holding `bytes`: sixteen classes per power of two, so big weights waste at most 1/16.
pub(crate) fn size_class(bytes: u64) -> u64 {
    let bytes = bytes.max(MIN_CLASS);
    let step = (bytes.next_power_of_two() / 16).max(MIN_CLASS);
    bytes.next_multiple_of(step)
}

impl BufferPool {
    /// A buffer of at least `bytes`; `for_queue_write` when the caller fills it with `queue.write_buffer`.
    pub(crate) fn take(
        &mut self,
        device: &wgpu::Device,
        bytes: u64,
        for_queue_write: bool,
    ) -> wgpu::Buffer {
        let class = size_class(bytes);
        let reused = if for_queue_write {
            None
        } else {
            self.recycled.get_mut(&class).and_then(Vec::pop)
        }
        .or_else(|| self.free.get_mut(&class).and_then(Vec::pop));
        let buffer = match reused {
            Some(b) => {
                self.stats.idle -= 1;
                self.stats.idle_bytes -= class;
                b
            }
            None => {
                self.stats.created += 1;
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("offgrid pool"),
                    size: class,
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            }
        };
        self.stats.in_use += 1;
        self.stats.in_use_bytes += class;
        buffer
    }

    /// Returns a buffer; it becomes reusable by kernels now and by queue writes after the next submit.
    pub(crate) fn give_back(&mut self, buffer: wgpu::Buffer) {
        let class = buffer.size();
        self.stats.in_use -= 1;
        self.stats.in_use_bytes -= class;
        self.stats.idle += 1;
        self.stats.idle_bytes += class;
        let list = if self.pending_work {
            &mut self.recycled
        } else {
            &mut self.free
        };
        list.entry(class).or_default().push(buffer);
    }

    /// Called after a submit: every recycled buffer is now safe for queue writes.
    pub(crate) fn after_submit(&mut self) {
        self.pending_work = false;
        for (class, mut list) in self.recycled.drain() {
            self.free.entry(class).or_default().append(&mut list);
        }
    }

    /// Current counts.
    pub(crate) fn stats(&self) -> PoolStats {
        self.stats
    }

    /// Destroys idle buffers (e.g. after a model is dropped) to give memory back to the system.
    pub(crate) fn trim(&mut self) {
        for list in self.free.values_mut().chain(self.recycled.values_mut()) {
            for b in list.drain(..) {
                b.destroy();
            }
        }
        self.stats.idle = 0;
        self.stats.idle_bytes = 0;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_round_up_at_most_a_sixteenth() {
        assert_eq!(size_class(1), 256);
        assert_eq!(size_class(256), 256);
        assert_eq!(size_class(257), 512);
        assert_eq!(size_class(5000), 5120);
        assert_eq!(size_class(1 << 20), 1 << 20);
        assert_eq!(size_class((1 << 20) + 1), (1 << 20) + (1 << 17));
    }
}
