//! Several messages of a partition in one transaction: the inbox rows and
//! the handler's effects of all of them commit together, in order, and the
//! consumer stores the partition's offset only after that commit.

use chrono::Utc;
use futures_util::FutureExt;
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};
use tracing::Instrument;

use super::lag::LagConsumer;
use super::{Dispatcher, Outcome};
use crate::envelope::Envelope;

/// Most messages taken from the client at once (over all partitions). A
/// batch holds the database's write lock on SQLite while it runs, so it
/// stays short.
pub const BATCH_MAX: usize = 64;

/// `first`, then the messages the client already holds, without waiting
/// for more.
pub(super) fn drain_ready(consumer: &LagConsumer, first: OwnedMessage) -> Vec<OwnedMessage> {
    let mut messages = vec![first];
    while messages.len() < BATCH_MAX {
        match consumer.recv().now_or_never() {
            Some(Ok(message)) => messages.push(message.detach()),
            // An error is reported by the next waiting receive.
            Some(Err(_)) | None => break,
        }
    }
    messages
}

/// The messages grouped by partition, each group in the order received.
pub(super) fn by_partition(messages: Vec<OwnedMessage>) -> Vec<((String, i32), Vec<OwnedMessage>)> {
    let mut groups: Vec<((String, i32), Vec<OwnedMessage>)> = Vec::new();
    for message in messages {
        let partition = (message.topic().to_owned(), message.partition());
        match groups.iter_mut().find(|(p, _)| *p == partition) {
            Some((_, group)) => group.push(message),
            None => groups.push((partition, vec![message])),
        }
    }
    groups
}

/// Applies `envelopes` in order in one transaction: each is recorded in the
/// inbox and handed to `dispatcher` unless the inbox already has it. Either
/// every effect commits or none does (the error is returned). The caller
/// calls [`Dispatcher::after_commit`] if anything was applied.
pub async fn apply_batch<D: Dispatcher + ?Sized>(
    db: &DatabaseConnection,
    dispatcher: &D,
    envelopes: &[Envelope],
) -> anyhow::Result<Vec<Outcome>> {
    let items: Vec<(&Envelope, tracing::Span)> = envelopes
        .iter()
        .map(|e| (e, tracing::Span::none()))
        .collect();
    apply_traced(db, dispatcher, &items).await
}

/// [`apply_batch`], each envelope handled inside its own span.
pub(super) async fn apply_traced<D: Dispatcher + ?Sized>(
    db: &DatabaseConnection,
    dispatcher: &D,
    items: &[(&Envelope, tracing::Span)],
) -> anyhow::Result<Vec<Outcome>> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let mut outcomes = Vec::with_capacity(items.len());
    for (envelope, span) in items {
        // On an error the transaction is dropped, which rolls it back.
        outcomes.push(
            apply_in(&txn, dispatcher, envelope)
                .instrument(span.clone())
                .await?,
        );
    }
    txn.commit().await?;
    Ok(outcomes)
}

/// Inside `txn`: the inbox row, then (if it is new) the handler's effects;
/// nothing for a type the dispatcher does not handle.
pub(super) async fn apply_in<D: Dispatcher + ?Sized>(
    txn: &DatabaseTransaction,
    dispatcher: &D,
    envelope: &Envelope,
) -> anyhow::Result<Outcome> {
    if !dispatcher.handles(&envelope.event_type) {
        return Ok(Outcome::Skipped);
    }
    let backend = txn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO inbox_events (source, event_id, ce_type, received_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (source, event_id) DO NOTHING"
        }
        _ => {
            "INSERT INTO inbox_events (source, event_id, ce_type, received_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (source, event_id) DO NOTHING"
        }
    };
    let inserted = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                envelope.source.clone().into(),
                envelope.id.clone().into(),
                envelope.event_type.clone().into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Outcome::Duplicate);
    }
    dispatcher.dispatch(txn, envelope).await?;
    Ok(Outcome::Applied)
}
