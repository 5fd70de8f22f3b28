//! The document service's answer to a certificate request, as every
//! approval service consumes it: `CertificateIssued` on the document topic,
//! for requests this service made (the topic carries every service's), is
//! recorded on the case in the consumer's transaction, committed with the
//! inbox row that makes redelivery harmless.

use std::future::Future;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use tokio_util::sync::CancellationToken;
use yizhan_events::Envelope;
use yizhan_events::consumer::{ConsumerConfig, Dispatcher, EventConsumer};
use yizhan_events::contracts::{CertificateIssued, Event};
use yizhan_events::outbox::OutboxSignal;
use yizhan_events::runtime::{Backbone, ConsumerTask};

/// Records an issued certificate on the case it was requested for: `Ok(false)`
/// when no case of the service has its request id.
pub type Record = for<'a> fn(
    &'a DatabaseTransaction,
    &'a CertificateIssued,
) -> futures_util::future::BoxFuture<'a, Result<bool, DbErr>>;

/// The dispatcher of a service that consumes only certificate answers.
pub struct CertificateAnswers {
    /// The service whose requests it records (`requested_by_service`).
    pub service: &'static str,
    /// How it records one.
    pub record: Record,
    /// Wakes the relay after a handler enqueued events.
    pub signal: OutboxSignal,
}

impl CertificateAnswers {
    /// The background task of an approval service: consumes the answers
    /// to its certificate requests and runs its periodic `jobs` beside the
    /// consumer, both until `cancel` (the jobs also stop if the consumer
    /// ends first, so a consumer failure is never hidden by busy jobs).
    pub fn into_task(
        self,
        db: DatabaseConnection,
        backbone: &Backbone,
        config: ConsumerConfig,
        jobs: impl Future<Output = ()> + Send + 'static,
        cancel: CancellationToken,
    ) -> anyhow::Result<ConsumerTask> {
        let consumer = EventConsumer::new(db, backbone, config, Arc::new(self))?;
        Ok(Box::pin(async move {
            let jobs = tokio::spawn(jobs);
            let result = consumer.run(cancel).await;
            jobs.abort();
            result
        }))
    }
}

#[async_trait::async_trait]
impl Dispatcher for CertificateAnswers {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        // Other document facts (materials, status changes) are none of this
        // service's business (`handles` has the consumer skip them).
        if event.event_type != CertificateIssued::TYPE {
            return Ok(());
        }
        let issued: CertificateIssued = event.decode()?;
        if issued.requested_by_service != self.service {
            return Ok(());
        }
        if !(self.record)(txn, &issued).await? {
            tracing::warn!(
                service = self.service,
                request_id = %issued.request_id,
                certificate = %issued.certificate_id,
                "certificate issued for a case this service does not know"
            );
        }
        Ok(())
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type == CertificateIssued::TYPE
    }

    fn after_commit(&self) {
        self.signal.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_consumer_skips_every_event_but_certificate_answers() {
        let answers = CertificateAnswers {
            service: "licensing",
            record: |_, _| Box::pin(async { Ok(true) }),
            signal: OutboxSignal::default(),
        };
        let disagree = yizhan_events::consumer::disagreements(&answers)
            .await
            .unwrap();
        assert!(disagree.is_empty(), "handles() disagrees on {disagree:?}");
    }
}
