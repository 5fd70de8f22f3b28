//! The [`Dispatcher`]: what a service does with the events it consumes.

use sea_orm::DatabaseTransaction;

use crate::envelope::Envelope;

/// What a service does with events: one `match` on `ce_type`, in one place.
/// Effects must go through `txn` so they commit with the inbox row.
///
/// Errors are classified by [`classify`](super::failure::classify):
/// database errors by whether the database is unavailable, decode errors
/// as rejections; return [`Rejected`](super::Rejected) or
/// [`Unavailable`](super::Unavailable) to say which a failure is.
#[async_trait::async_trait]
pub trait Dispatcher: Send + Sync + 'static {
    /// Applies one event. Types it does not act on return `Ok(())`; naming
    /// the ones it does in [`Dispatcher::handles`] spares the others a
    /// transaction and an inbox row.
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()>;

    /// Applies the new events of one batch, in order, each inside its span.
    /// The default dispatches them one by one; a dispatcher that reads the
    /// same thing for every event (notification: the live webhook
    /// subscriptions) overrides it to read it once per batch, in `txn`.
    async fn dispatch_all(
        &self,
        txn: &DatabaseTransaction,
        events: &[(&Envelope, tracing::Span)],
    ) -> anyhow::Result<()> {
        for (event, span) in events {
            tracing::Instrument::instrument(self.dispatch(txn, event), span.clone()).await?;
        }
        Ok(())
    }

    /// Whether events of `event_type` can have an effect here. Others are
    /// skipped: no transaction, no inbox row (with no effect there is
    /// nothing to apply twice), only their offset stored in order. A topic
    /// carries every event of its producer, and most services act on a few
    /// of them. The default handles everything.
    fn handles(&self, _event_type: &str) -> bool {
        true
    }

    /// Called after the transaction committed (e.g. to wake an outbox relay
    /// when the handler enqueued events).
    fn after_commit(&self) {}
}
