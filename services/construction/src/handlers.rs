//! What the construction service does with the events it consumes: the
//! document service's answer to a certificate request. Effects go through
//! the consumer's transaction, committed with the inbox row.

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;
use yizhan_events::consumer::Dispatcher;
use yizhan_events::contracts::{CertificateIssued, Event};
use yizhan_events::outbox::OutboxSignal;

/// The construction service's dispatcher.
pub struct Handlers {
    /// Wakes the relay after a handler enqueued events.
    pub signal: OutboxSignal,
}

#[async_trait::async_trait]
impl Dispatcher for Handlers {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        if event.event_type != CertificateIssued::TYPE {
            return Ok(());
        }
        let issued: CertificateIssued = event.decode()?;
        // Licensing's licences share the topic.
        if issued.requested_by_service != crate::SERVICE {
            return Ok(());
        }
        let known = crate::store::stages::record_certificate(
            txn,
            &issued.request_id,
            &issued.certificate_id,
            &issued.certificate_type,
        )
        .await?;
        if !known {
            tracing::warn!(
                request_id = %issued.request_id,
                certificate = %issued.certificate_id,
                "certificate issued for a stage application this service does not know"
            );
        }
        Ok(())
    }

    fn after_commit(&self) {
        self.signal.wake();
    }
}
