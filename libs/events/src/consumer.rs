//! Idempotent, at-least-once consumer.
//!
//! For each message: open a transaction, insert the inbox row keyed by
//! (source, id) — a conflict means "already applied", so skip — run the
//! handler inside the same transaction, commit, and only then store the Kafka
//! offset. A crash anywhere before the commit redelivers the message; a crash
//! after it redelivers a duplicate the inbox rejects. Messages are processed
//! one at a time, which keeps per-partition (so per-key) order. A message
//! whose handler keeps failing goes to the dead-letter topic with the error
//! after bounded retries, so it never blocks the partition.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::envelope::Envelope;
use crate::kafka::KafkaConfig;

/// What a service does with events: one `match` on `ce_type`, in one place.
/// Effects must go through `txn` so they commit with the inbox row.
#[async_trait::async_trait]
pub trait Dispatcher: Send + Sync + 'static {
    /// Applies one event. Unknown types should return `Ok(())` (ignored but recorded).
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()>;

    /// Called after the transaction committed (e.g. to wake an outbox relay
    /// when the handler enqueued events).
    fn after_commit(&self) {}
}

/// Consumer settings.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Consumer group: the consuming service's name.
    pub group_id: String,
    /// Topics to read.
    pub topics: Vec<String>,
    /// Where poison messages go.
    pub dead_letter_topic: String,
    /// Attempts before dead-lettering.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt.
    pub first_retry: Duration,
}

impl ConsumerConfig {
    /// Defaults for `service` reading `topics`: 5 attempts from 200 ms.
    pub fn new(service: &str, topics: &[&str]) -> Self {
        Self {
            group_id: service.to_owned(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            dead_letter_topic: crate::contracts::topics::dead_letter(service),
            max_attempts: 5,
            first_retry: Duration::from_millis(200),
        }
    }
}

/// Outcome of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handler ran and committed.
    Applied,
    /// Inbox already had it.
    Duplicate,
    /// Sent to the dead-letter topic.
    DeadLettered,
}

/// Runs the consumer loop.
pub struct EventConsumer<D: Dispatcher> {
    db: DatabaseConnection,
    kafka: KafkaConfig,
    config: ConsumerConfig,
    dispatcher: Arc<D>,
    dlq_producer: FutureProducer,
}

impl<D: Dispatcher> EventConsumer<D> {
    /// A consumer applying events to `db` through `dispatcher`.
    pub fn new(
        db: DatabaseConnection,
        kafka: KafkaConfig,
        config: ConsumerConfig,
        dispatcher: Arc<D>,
    ) -> anyhow::Result<Self> {
        let dlq_producer = kafka.producer()?;
        Ok(Self {
            db,
            kafka,
            config,
            dispatcher,
            dlq_producer,
        })
    }

    fn stream_consumer(&self) -> anyhow::Result<StreamConsumer> {
        let consumer: StreamConsumer = self
            .kafka
            .client_config()
            .set("group.id", &self.config.group_id)
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            // Offsets are stored by us, after the handler's commit.
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            // An empty fetch waits at most this long before asking again. The
            // embedded broker holds fetches for the full wait even when data
            // arrives, so the default 500 ms would become event latency.
            .set("fetch.wait.max.ms", "50")
            .create()?;
        let topics: Vec<&str> = self.config.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        Ok(consumer)
    }

    /// Consumes until `cancel`, then commits stored offsets.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let consumer = self.stream_consumer()?;
        loop {
            let message = tokio::select! {
                _ = cancel.cancelled() => break,
                message = consumer.recv() => message,
            };
            let message = match message {
                Ok(message) => message,
                Err(e) => {
                    tracing::warn!(error = %e, "kafka receive error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            self.process(&message).await;
            // Stored only now: the effects are committed (or dead-lettered).
            if let Err(e) = consumer.store_offset_from_message(&message) {
                tracing::warn!(error = %e, "cannot store offset; message may be redelivered");
            }
        }
        // Asynchronous on purpose: a synchronous commit waits without a
        // limit, and blocks this runtime thread for ever when the broker is
        // already gone (an embedded broker stopped first, a network cut).
        // Closing the consumer commits what is stored as well, and an
        // offset that never arrives only means a redelivery the inbox
        // ignores.
        if let Err(e) = consumer.commit_consumer_state(CommitMode::Async) {
            tracing::debug!(error = %e, "final offset commit");
        }
        tracing::debug!(group = %self.config.group_id, "consumer stopped");
        Ok(())
    }

    async fn process(&self, message: &BorrowedMessage<'_>) -> Outcome {
        let envelope = match Envelope::from_message(message) {
            Ok(envelope) => envelope,
            Err(e) => {
                self.dead_letter(message, &format!("unreadable envelope: {e}"), 1)
                    .await;
                return Outcome::DeadLettered;
            }
        };
        let span = tracing::info_span!(
            "kafka.consume",
            messaging.system = "kafka",
            messaging.destination = %message.topic(),
            event.id = %envelope.id,
            event.type_ = %envelope.event_type,
        );
        yizhan_kit::telemetry::set_parent_from_traceparent(&span, envelope.traceparent.as_deref());
        async {
            let mut delay = self.config.first_retry;
            let mut attempt = 1;
            loop {
                match apply(&self.db, self.dispatcher.as_ref(), &envelope).await {
                    Ok(outcome) => {
                        if outcome == Outcome::Applied {
                            self.dispatcher.after_commit();
                        }
                        return outcome;
                    }
                    Err(e) if attempt >= self.config.max_attempts => {
                        tracing::error!(error = %format!("{e:#}"), attempt, "handler failed for good; dead-lettering");
                        self.dead_letter(message, &format!("{e:#}"), attempt).await;
                        return Outcome::DeadLettered;
                    }
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), attempt, "handler failed; retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(30));
                        attempt += 1;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Copies the message to the dead-letter topic with the error attached.
    /// Retries until the broker takes it: dropping it would lose the event.
    async fn dead_letter(&self, message: &BorrowedMessage<'_>, error: &str, attempts: u32) {
        let mut headers = OwnedHeaders::new();
        if let Some(original) = message.headers() {
            for h in original.iter() {
                headers = headers.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
        }
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        let attempts = attempts.to_string();
        let failed_at = Utc::now().to_rfc3339();
        headers = headers
            .insert(Header {
                key: "dlq_error",
                value: Some(error),
            })
            .insert(Header {
                key: "dlq_topic",
                value: Some(message.topic()),
            })
            .insert(Header {
                key: "dlq_partition",
                value: Some(partition.as_str()),
            })
            .insert(Header {
                key: "dlq_offset",
                value: Some(offset.as_str()),
            })
            .insert(Header {
                key: "dlq_attempts",
                value: Some(attempts.as_str()),
            })
            .insert(Header {
                key: "dlq_group",
                value: Some(self.config.group_id.as_str()),
            })
            .insert(Header {
                key: "dlq_failed_at",
                value: Some(failed_at.as_str()),
            });
        let key = message.key().unwrap_or_default();
        let payload = message.payload().unwrap_or_default();
        loop {
            let record = FutureRecord::to(&self.config.dead_letter_topic)
                .key(key)
                .payload(payload)
                .headers(headers.clone());
            match self
                .dlq_producer
                .send(record, Duration::from_secs(10))
                .await
            {
                Ok(_) => return,
                Err((e, _)) => {
                    tracing::error!(error = %e, "cannot write to dead-letter topic; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// One transaction: inbox row + handler effects. Public so tests and tools can
/// apply an envelope exactly as the consumer would.
pub async fn apply<D: Dispatcher + ?Sized>(
    db: &DatabaseConnection,
    dispatcher: &D,
    envelope: &Envelope,
) -> anyhow::Result<Outcome> {
    let txn = yizhan_kit::db::begin_write(db).await?;
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
        txn.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    dispatcher.dispatch(&txn, envelope).await?;
    txn.commit().await?;
    Ok(Outcome::Applied)
}
