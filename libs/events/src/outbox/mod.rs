//! Transactional outbox: a state change and the event announcing it commit in
//! one database transaction; a relay publishes committed rows to Kafka.
//!
//! Guarantees:
//! - an event written in a rolled-back transaction never exists, so is never published;
//! - a committed event is published at least once, in commit (`seq`) order per key;
//!   a graceful stop finishes the batch in hand, so a restart republishes nothing;
//!   only a hard crash between Kafka's ack and the `published_at` update
//!   republishes, which consumers absorb through their inbox;
//! - on PostgreSQL several replicas may run relays: each round takes a
//!   transaction-scoped advisory lock, so one relay publishes at a time and
//!   per-key order holds, and rows are claimed `FOR UPDATE SKIP LOCKED`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult, Set,
    Statement, TransactionTrait,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::contracts::Event;
use crate::envelope::Envelope;

/// Advisory lock id taken by PostgreSQL relays ("yizhan outbox").
const RELAY_LOCK_ID: i64 = 0x7969_7a68_616e_6f62;

/// Writes `event` into the outbox inside the caller's transaction. It becomes
/// visible to the relay only if that transaction commits.
pub async fn enqueue<E: Event>(
    txn: &impl ConnectionTrait,
    source: &str,
    event: &E,
) -> Result<Envelope, DbErr> {
    let envelope = Envelope::new(source, event, yizhan_kit::telemetry::current_traceparent());
    enqueue_envelope(txn, E::TOPIC, &envelope).await?;
    // Every state change a request makes announces itself here, so this is
    // where its audit row joins the same transaction.
    crate::audit::record_change(txn, &envelope.subject).await?;
    Ok(envelope)
}

/// Writes a prepared envelope to `topic` (used by `enqueue` and by tests).
pub async fn enqueue_envelope(
    txn: &impl ConnectionTrait,
    topic: &str,
    envelope: &Envelope,
) -> Result<(), DbErr> {
    entity::Entity::insert(entity::ActiveModel {
        seq: sea_orm::NotSet,
        event_id: Set(envelope.id.clone()),
        topic: Set(topic.to_owned()),
        partition_key: Set(envelope.subject.clone()),
        ce_type: Set(envelope.event_type.clone()),
        ce_source: Set(envelope.source.clone()),
        ce_time: Set(envelope.time),
        traceparent: Set(envelope.traceparent.clone()),
        payload: Set(envelope.data.to_string()),
        created_at: Set(Utc::now()),
        published_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
    })
    .exec(txn)
    .await
    .map(|_| ())
}

/// Handle that wakes the relay right after a commit, so events leave within
/// milliseconds instead of waiting for the next poll.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    /// Call after committing a transaction that enqueued events.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Relay settings.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Fallback poll when nothing wakes the relay.
    pub poll_interval: Duration,
    /// Rows per round.
    pub batch_size: u64,
    /// How long published rows are kept before pruning.
    pub retention: Duration,
    /// Days audit rows are kept (never fewer than
    /// `audit::MIN_RETENTION_DAYS`); pruned on the same schedule but
    /// independently of the outbox.
    pub audit_retention_days: u32,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            batch_size: 200,
            retention: Duration::from_secs(7 * 24 * 3600),
            audit_retention_days: crate::audit::DEFAULT_RETENTION_DAYS,
        }
    }
}

/// How often the relay prunes published rows past retention.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Least time between two backlog measurements: the gauges are scraped
/// every few seconds, and measuring after every round would add a query to
/// each burst of commits.
const BACKLOG_EVERY: Duration = Duration::from_secs(1);

/// Publishes committed outbox rows to Kafka until cancelled.
pub struct Relay {
    db: DatabaseConnection,
    producer: FutureProducer,
    signal: OutboxSignal,
    config: RelayConfig,
    /// `service` label of the backlog gauges; `None`: not reported.
    service: Option<String>,
    /// Told after every round that published something.
    traffic: Option<crate::traffic::LocalTraffic>,
    /// Told the subjects of the rows each round is about to publish.
    subjects: Option<SubjectWatch>,
}

/// The relay's producer span for one row, a child of the request that
/// wrote the row (its stored `traceparent`): the hop through the outbox is
/// part of the request's trace, and the Kafka header names this span.
/// Attributes follow the OpenTelemetry messaging conventions.
fn publish_span(row: &PendingRow) -> tracing::Span {
    let span = tracing::info_span!(
        "outbox.publish",
        otel.name = %format!("send {}", row.topic),
        otel.kind = "producer",
        messaging.system = "kafka",
        "messaging.operation.type" = "send",
        messaging.operation.name = "send",
        messaging.destination.name = %row.topic,
        messaging.message.id = %row.event_id,
        messaging.kafka.message.key = %row.partition_key,
        cloudevents.event_type = %row.ce_type,
        "error.type" = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    yizhan_kit::telemetry::set_parent_from_traceparent(&span, row.traceparent.as_deref());
    span
}

#[derive(Debug, FromQueryResult)]
struct PendingRow {
    seq: i64,
    event_id: String,
    topic: String,
    partition_key: String,
    ce_type: String,
    ce_source: String,
    ce_time: chrono::DateTime<Utc>,
    traceparent: Option<String>,
    payload: String,
}

impl Relay {
    /// A relay over `db`'s outbox.
    pub fn new(
        db: DatabaseConnection,
        producer: FutureProducer,
        signal: OutboxSignal,
        config: RelayConfig,
    ) -> Self {
        Self {
            db,
            producer,
            signal,
            config,
            service: None,
            traffic: None,
            subjects: None,
        }
    }

    /// Tells `subjects` which subjects each round's rows are of, once they
    /// are read (committed) and before they are sent: waiters for them
    /// read the new state at once rather than after Kafka answers.
    pub fn telling(mut self, subjects: SubjectWatch) -> Self {
        self.subjects = Some(subjects);
        self
    }

    /// Tells `traffic` (when given) after every round that published.
    pub fn announcing(mut self, traffic: Option<crate::traffic::LocalTraffic>) -> Self {
        self.traffic = traffic;
        self
    }

    /// Reports the backlog gauges (`yizhan_outbox_backlog`,
    /// `yizhan_outbox_oldest_unpublished_age_seconds`) labelled `service`
    /// after every round.
    pub fn labelled(mut self, service: &str) -> Self {
        self.service = Some(service.to_owned());
        self
    }

    /// Measures the backlog and sets the gauges. Every replica reports the
    /// same table, so dashboards take the `max` per service.
    async fn report_backlog(&self) {
        let Some(service) = &self.service else {
            return;
        };
        match backlog(&self.db).await {
            Ok(b) => {
                let age = b.oldest.map_or(0.0, |t| {
                    (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0
                });
                metrics::gauge!(yizhan_kit::metrics::OUTBOX_BACKLOG, "service" => service.clone())
                    .set(b.rows as f64);
                metrics::gauge!(yizhan_kit::metrics::OUTBOX_OLDEST_AGE, "service" => service.clone())
                    .set(age);
            }
            // The database is away: the gauges keep their last value, and
            // the relay's own error says why.
            Err(e) => tracing::debug!(error = %e, "cannot measure the outbox backlog"),
        }
    }

    /// Runs until `cancel`; the batch in hand is always finished first.
    /// Errors never end the loop: it backs off (up to 30 s) and retries forever.
    pub async fn run(self, cancel: CancellationToken) {
        if let Some(subjects) = self.subjects.clone() {
            // Waiting reads end as the stop begins, not when they time out:
            // the HTTP server drains alongside.
            let stopping = cancel.clone();
            tokio::spawn(async move {
                stopping.cancelled().await;
                subjects.close();
            });
        }
        let mut backoff = Duration::from_millis(100);
        let mut next_prune = tokio::time::Instant::now();
        let mut next_backlog = tokio::time::Instant::now();
        loop {
            if cancel.is_cancelled() {
                break;
            }
            if tokio::time::Instant::now() >= next_prune {
                next_prune += PRUNE_EVERY;
                match prune_published(&self.db, self.config.retention).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(pruned = n, "pruned published outbox events past retention")
                    }
                    Err(e) => tracing::warn!(error = %e, "outbox prune failed; will retry"),
                }
                match crate::audit::store::prune(&self.db, self.config.audit_retention_days).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "pruned audit rows past retention"),
                    Err(e) => tracing::warn!(error = %e, "audit prune failed; will retry"),
                }
            }
            let round = self.round().await;
            if tokio::time::Instant::now() >= next_backlog {
                next_backlog = tokio::time::Instant::now() + BACKLOG_EVERY;
                self.report_backlog().await;
            }
            match round {
                Ok(published) => {
                    backoff = Duration::from_millis(100);
                    if published as u64 >= self.config.batch_size {
                        continue;
                    }
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = self.signal.0.notified() => {}
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "outbox relay round failed");
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
        use rdkafka::producer::Producer;
        let producer = self.producer.clone();
        // Short: after a clean round nothing is in flight, and with the
        // broker gone waiting longer delays the stop for nothing.
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(2))).await;
        tracing::debug!("outbox relay stopped");
    }

    /// Tells the local consumers that `published` events are in the
    /// broker: before marking them, which they need not wait for.
    fn announce(&self, published: usize) {
        if published > 0
            && let Some(traffic) = &self.traffic
        {
            traffic.produced();
        }
    }

    /// One claim-publish-mark round; returns how many rows were published.
    pub async fn round(&self) -> anyhow::Result<usize> {
        match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let txn = self.db.begin().await?;
                let locked = txn
                    .query_one_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "SELECT pg_try_advisory_xact_lock($1) AS locked",
                        [RELAY_LOCK_ID.into()],
                    ))
                    .await?
                    .map(|row| row.try_get::<bool>("", "locked"))
                    .transpose()?
                    .unwrap_or(false);
                if !locked {
                    // Another replica is publishing; its rows will be done by it.
                    return Ok(0);
                }
                let rows = self.pending(&txn, " FOR UPDATE SKIP LOCKED").await?;
                self.tell(&rows);
                let published = self.publish(&rows).await;
                self.announce(published.ok);
                self.mark(
                    &txn,
                    &rows[..published.ok],
                    published.error.as_deref(),
                    rows.get(published.ok),
                )
                .await?;
                txn.commit().await?;
                published.into_result()
            }
            _ => {
                // SQLite: one process owns the file, so one relay; no
                // transaction is held open while Kafka answers.
                let rows = self.pending(&self.db, "").await?;
                self.tell(&rows);
                let published = self.publish(&rows).await;
                self.announce(published.ok);
                self.mark(
                    &self.db,
                    &rows[..published.ok],
                    published.error.as_deref(),
                    rows.get(published.ok),
                )
                .await?;
                published.into_result()
            }
        }
    }

    fn tell(&self, rows: &[PendingRow]) {
        if let Some(subjects) = &self.subjects {
            subjects.changed(rows.iter().map(|r| r.partition_key.as_str()));
        }
    }

    async fn pending(
        &self,
        db: &impl ConnectionTrait,
        lock_clause: &str,
    ) -> Result<Vec<PendingRow>, DbErr> {
        let backend = db.get_database_backend();
        let sql = format!(
            "SELECT seq, event_id, topic, partition_key, ce_type, ce_source, ce_time, traceparent, payload \
             FROM outbox_events WHERE published_at IS NULL ORDER BY seq LIMIT {}{lock_clause}",
            self.config.batch_size
        );
        PendingRow::find_by_statement(Statement::from_string(backend, sql))
            .all(db)
            .await
    }

    /// Sends rows in order and waits for every ack. Returns how many leading
    /// rows were acknowledged: a failure stops the prefix there, so a later
    /// row of the same key is never marked ahead of an earlier one.
    async fn publish(&self, rows: &[PendingRow]) -> Published {
        let spans: Vec<tracing::Span> = rows.iter().map(publish_span).collect();
        let envelopes: Vec<Envelope> = rows
            .iter()
            .zip(&spans)
            .map(|(row, span)| Envelope {
                id: row.event_id.clone(),
                source: row.ce_source.clone(),
                event_type: row.ce_type.clone(),
                subject: row.partition_key.clone(),
                time: row.ce_time,
                // The consumer continues from the relay's span; without an
                // OpenTelemetry layer, from the request's as stored.
                traceparent: yizhan_kit::telemetry::traceparent_of(span)
                    .or_else(|| row.traceparent.clone()),
                // Only the headers are taken from it; the stored payload
                // goes out as it is, unparsed.
                data: serde_json::Value::Null,
            })
            .collect();
        let sends = rows
            .iter()
            .zip(&envelopes)
            .zip(&spans)
            .map(|((row, envelope), span)| {
                self.producer
                    .send(
                        FutureRecord::to(&row.topic)
                            .key(&row.partition_key)
                            .payload(&row.payload)
                            .headers(envelope.headers()),
                        Duration::from_secs(30),
                    )
                    .instrument(span.clone())
            });
        let results = futures_util::future::join_all(sends).await;
        let mut ok = 0;
        for (result, span) in results.into_iter().zip(&spans) {
            match result {
                Ok(_) => ok += 1,
                Err((e, _)) => {
                    span.record("error.type", "kafka_error");
                    span.record("otel.status_code", "ERROR");
                    return Published {
                        ok,
                        error: Some(e.to_string()),
                    };
                }
            }
        }
        Published { ok, error: None }
    }

    async fn mark(
        &self,
        db: &impl ConnectionTrait,
        done: &[PendingRow],
        error: Option<&str>,
        failed: Option<&PendingRow>,
    ) -> Result<(), DbErr> {
        let backend = db.get_database_backend();
        if !done.is_empty() {
            // Ids listed explicitly: another transaction may commit a lower
            // seq late, so the claimed rows need not be contiguous. The time
            // is bound, not `now()`, so it is stored in the same encoding as
            // every other timestamp the pruning query compares it with.
            let (sql, values) = mark::statement(backend, Utc::now(), done.iter().map(|r| r.seq));
            db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
        }
        if let (Some(error), Some(row)) = (error, failed) {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    DbBackend::Postgres => {
                        "UPDATE outbox_events SET attempts = attempts + 1, last_error = $1 WHERE seq = $2"
                    }
                    _ => "UPDATE outbox_events SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                },
                [error.into(), row.seq.into()],
            ))
            .await?;
        }
        Ok(())
    }
}

struct Published {
    ok: usize,
    error: Option<String>,
}

impl Published {
    fn into_result(self) -> anyhow::Result<usize> {
        match self.error {
            None => Ok(self.ok),
            Some(e) => Err(anyhow::anyhow!("published {} then failed: {e}", self.ok)),
        }
    }
}

/// The `outbox_events` table.
pub mod entity;
mod mark;
mod upkeep;
mod wake;
mod watch;

pub use upkeep::{
    Backlog, backlog, pending_count, prune_published, redrive_if_new_broker, redrive_retained,
};
pub use wake::WakeAfterCommit;
pub use watch::{SubjectWatch, Watching};
