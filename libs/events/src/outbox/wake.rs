//! Waking a relay or worker after a consumer's commit only when the
//! transaction queued work for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

use super::OutboxSignal;

/// The wake of a relay or worker, for a consumer whose transactions mostly
/// queue nothing for it: its handlers call [`WakeAfterCommit::queued`] when
/// the transaction queued work (or may have), and its `after_commit` calls
/// [`WakeAfterCommit::after_commit`], which wakes only then. A wake costs
/// the woken a query; a mark left by a transaction that rolled back costs
/// one needless wake later, never a missed one.
#[derive(Default)]
pub struct WakeAfterCommit {
    notify: Arc<Notify>,
    pending: AtomicBool,
}

impl WakeAfterCommit {
    /// Wakes the outbox relay behind `signal`.
    pub fn new(signal: OutboxSignal) -> Self {
        Self::notifying(signal.0)
    }

    /// Wakes whoever waits on `notify` (a webhook or channel worker).
    pub fn notifying(notify: Arc<Notify>) -> Self {
        Self {
            notify,
            pending: AtomicBool::new(false),
        }
    }

    /// The transaction being applied queued work, or may have.
    pub fn queued(&self) {
        self.pending.store(true, Ordering::Relaxed);
    }

    /// After a commit: wakes if the transaction queued work.
    pub fn after_commit(&self) {
        if self.pending.swap(false, Ordering::Relaxed) {
            self.notify.notify_one();
        }
    }
}
