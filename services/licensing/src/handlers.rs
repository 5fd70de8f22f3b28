//! What the licensing service does with each event it consumes: one
//! `match`, in one place. Effects go through the consumer's transaction, so
//! they commit together with the inbox row that makes redelivery harmless.

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;
use yizhan_events::consumer::Dispatcher;
use yizhan_events::contracts::{CertificateIssued, Event};
use yizhan_events::outbox::OutboxSignal;

/// The licensing service's dispatcher.
pub struct Handlers {
    /// Wakes the relay after a handler enqueued events.
    pub signal: OutboxSignal,
}

#[async_trait::async_trait]
impl Dispatcher for Handlers {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        // Other document facts (materials, status changes) are none of this
        // slice's business; the inbox records them so they are never looked
        // at again. Add their arms here as they gain handlers.
        if event.event_type != CertificateIssued::TYPE {
            return Ok(());
        }
        let issued: CertificateIssued = event.decode()?;
        // Certificates requested by construction share the topic.
        if issued.requested_by_service != crate::SERVICE {
            return Ok(());
        }
        let known =
            crate::store::record_licence(txn, &issued.request_id, &issued.certificate_id).await?;
        if !known {
            tracing::warn!(
                request_id = %issued.request_id,
                certificate = %issued.certificate_id,
                "certificate issued for an application this service does not know"
            );
        }
        Ok(())
    }

    fn after_commit(&self) {
        self.signal.wake();
    }
}
