//! Several messages of a partition in one transaction: the inbox rows and
//! the handler's effects of all of them commit together, in order, and the
//! consumer stores the partition's offset only after that commit. The
//! inbox rows of a batch are one statement.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::Utc;
use futures_util::FutureExt;
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};

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
    // On an error the transaction is dropped, which rolls it back.
    let outcomes = apply_all(&txn, dispatcher, items).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// Inside `txn`: the inbox rows of every envelope the dispatcher handles,
/// then, in order, the handler's effects of each one the inbox did not
/// have yet (an envelope twice in `items` is applied once), handed over
/// together ([`Dispatcher::dispatch_all`]). Types the
/// dispatcher does not handle are skipped: no inbox row, no effect.
pub(super) async fn apply_all<D: Dispatcher + ?Sized>(
    txn: &DatabaseTransaction,
    dispatcher: &D,
    items: &[(&Envelope, tracing::Span)],
) -> anyhow::Result<Vec<Outcome>> {
    let handled: Vec<bool> = items
        .iter()
        .map(|(e, _)| dispatcher.handles(&e.event_type))
        .collect();
    let recorded: Vec<&Envelope> = items
        .iter()
        .zip(&handled)
        .filter_map(|((e, _), handled)| handled.then_some(*e))
        .collect();
    let mut new = record_in_inbox(txn, &recorded).await?;
    let mut outcomes = Vec::with_capacity(items.len());
    let mut applied = Vec::new();
    for ((envelope, span), handled) in items.iter().zip(handled) {
        outcomes.push(if !handled {
            Outcome::Skipped
        } else if new.remove(&(envelope.source.clone(), envelope.id.clone())) {
            applied.push((*envelope, span.clone()));
            Outcome::Applied
        } else {
            Outcome::Duplicate
        });
    }
    if !applied.is_empty() {
        dispatcher.dispatch_all(txn, &applied).await?;
    }
    Ok(outcomes)
}

/// Inserts the inbox rows of `envelopes` in one statement; answers the
/// keys (source, id) that were not there yet.
///
/// A row per envelope used to be a statement per envelope, each a round
/// trip to the database (on SQLite, a hand-off to its connection's
/// thread). The rows are padded to a power of two by repeating the last
/// one, which the conflict clause drops, so at most seven statement texts
/// (1 to [`BATCH_MAX`] rows) reach the statement cache.
async fn record_in_inbox(
    txn: &DatabaseTransaction,
    envelopes: &[&Envelope],
) -> Result<HashSet<(String, String)>, sea_orm::DbErr> {
    let Some(last) = envelopes.last() else {
        return Ok(HashSet::new());
    };
    let backend = txn.get_database_backend();
    let rows = envelopes.len().next_power_of_two();
    let now = Utc::now();
    let mut sql =
        String::from("INSERT INTO inbox_events (source, event_id, ce_type, received_at) VALUES ");
    let mut values = Vec::with_capacity(rows * 4);
    for i in 0..rows {
        let e = envelopes.get(i).unwrap_or(last);
        if i > 0 {
            sql.push_str(", ");
        }
        match backend {
            DbBackend::Postgres => {
                let n = 4 * i;
                let _ = write!(sql, "(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4);
            }
            _ => sql.push_str("(?, ?, ?, ?)"),
        }
        values.extend([
            e.source.clone().into(),
            e.id.clone().into(),
            e.event_type.clone().into(),
            now.into(),
        ]);
    }
    sql.push_str(" ON CONFLICT (source, event_id) DO NOTHING RETURNING source, event_id");
    txn.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "source")?, row.try_get("", "event_id")?)))
        .collect()
}
