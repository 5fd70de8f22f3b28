//! What the enterprise service does with each consumed event. Effects go
//! through the consumer's transaction, so each event is applied exactly once
//! however often Kafka redelivers it (the inbox), and the projections are
//! idempotent besides (see `domain::profile`).
//!
//! Two owners read the same events: [`profile`] keeps the 一企一档 record
//! (licences, materials, names), [`rateable`] records what was concluded
//! and may be rated (好差评).

pub mod profile;
pub mod rateable;

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;
use yizhan_events::consumer::Dispatcher;
use yizhan_events::outbox::OutboxSignal;

/// The enterprise service's dispatcher.
pub struct Handlers {
    /// Wakes the relay after a handler enqueued events.
    pub signal: OutboxSignal,
}

#[async_trait::async_trait]
impl Dispatcher for Handlers {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        // Events neither projects are recorded in the inbox table (so never
        // re-examined) and otherwise ignored.
        profile::apply(txn, event).await?;
        rateable::apply(txn, event).await?;
        Ok(())
    }

    fn after_commit(&self) {
        self.signal.wake();
    }
}
