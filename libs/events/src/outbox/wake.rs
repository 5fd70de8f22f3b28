//! Waking the relay after a consumer's commit only when it enqueued.

use std::sync::atomic::{AtomicBool, Ordering};

use super::OutboxSignal;

/// The relay's wake for a consumer whose transactions mostly enqueue
/// nothing: its handlers call [`WakeAfterCommit::enqueued`] when the
/// transaction enqueued (or may have), and its `after_commit` calls
/// [`WakeAfterCommit::after_commit`], which wakes the relay only then. A
/// wake costs the relay a query; a mark left by a transaction that rolled
/// back costs one needless wake later, never a missed one.
#[derive(Default)]
pub struct WakeAfterCommit {
    signal: OutboxSignal,
    pending: AtomicBool,
}

impl WakeAfterCommit {
    /// Wakes through `signal`.
    pub fn new(signal: OutboxSignal) -> Self {
        Self {
            signal,
            pending: AtomicBool::new(false),
        }
    }

    /// The transaction being applied enqueued, or may have.
    pub fn enqueued(&self) {
        self.pending.store(true, Ordering::Relaxed);
    }

    /// After a commit: wakes the relay if the transaction enqueued.
    pub fn after_commit(&self) {
        if self.pending.swap(false, Ordering::Relaxed) {
            self.signal.wake();
        }
    }
}
