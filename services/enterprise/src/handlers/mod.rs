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
use yizhan_events::outbox::WakeAfterCommit;

/// The enterprise service's dispatcher.
pub struct Handlers {
    /// Wakes the relay after commits that may have enqueued: only the
    /// 一企一档 projection does (a licence recorded, a benefit matched);
    /// recording a rateable case does not.
    pub relay: WakeAfterCommit,
}

#[async_trait::async_trait]
impl Dispatcher for Handlers {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        // Events neither project handles are skipped by the consumer
        // (`handles`).
        if profile::HANDLED.contains(&event.event_type.as_str()) {
            self.relay.queued();
        }
        profile::apply(txn, event).await?;
        rateable::apply(txn, event).await?;
        Ok(())
    }

    fn handles(&self, event_type: &str) -> bool {
        profile::HANDLED.contains(&event_type) || rateable::HANDLED.contains(&event_type)
    }

    fn after_commit(&self) {
        self.relay.after_commit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yizhan_events::contracts::{Event, TaskCreated, TaskDecided};

    #[actix_web::test]
    async fn the_consumer_skips_exactly_the_events_neither_project_acts_on() {
        let handlers = Handlers {
            relay: Default::default(),
        };
        let disagree = yizhan_events::consumer::disagreements(&handlers)
            .await
            .unwrap();
        assert!(disagree.is_empty(), "handles() disagrees on {disagree:?}");
        assert!(handlers.handles(TaskDecided::TYPE));
        assert!(!handlers.handles(TaskCreated::TYPE));
    }
}
