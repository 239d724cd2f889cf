//! [`CancelFlag`]: how a caller asks a long decode to stop between steps (the page's Cancel, a new job).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set once by whoever wants the work stopped, read by the decode loop before each step. An `Arc` so the
/// same type serves the browser worker and the native CLI's threads; clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether stopping was asked for.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Asks for a stop (`true`), or clears the flag.
    pub fn set(&self, value: bool) {
        self.0.store(value, Ordering::Relaxed);
    }

    /// `Err(Error::Cancelled)` once a stop was asked for: `flag.check()?` between steps.
    pub fn check(&self) -> crate::Result<()> {
        if self.get() {
            Err(crate::Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let flag = CancelFlag::new();
        let seen_by_decoder = flag.clone();
        assert!(seen_by_decoder.check().is_ok());
        flag.set(true);
        assert!(matches!(
            seen_by_decoder.check(),
            Err(crate::Error::Cancelled)
        ));
    }
}
