//! Idempotent, at-least-once consumer.
//!
//! For each message: open a transaction, insert the inbox row keyed by
//! (source, id) — a conflict means "already applied", so skip — run the
//! handler inside the same transaction, commit, and only then store the Kafka
//! offset. A crash anywhere before the commit redelivers the message; a crash
//! after it redelivers a duplicate the inbox rejects. Messages of a partition
//! are applied in order, which keeps per-key order.
//!
//! Batches: the messages the client already holds when one arrives (up to
//! [`BATCH_MAX`]) are applied per partition in one transaction, in order,
//! and their offsets stored only after its commit: the same exactly-once
//! effects with one commit instead of one per message. A batch that fails
//! is rolled back whole and its messages go through the one-at-a-time path
//! below, so a failure is classified, retried and dead-lettered exactly as
//! for a lone message.
//!
//! A failure is classified ([`failure`]):
//! - a dependency that is down (database unavailable, pool timeout, peer
//!   unreachable) pauses that partition; the message is retried with capped
//!   backoff for as long as it takes, other partitions go on, and `/readyz`
//!   shows the consumer waiting. Such a message is never dead-lettered: it
//!   is fine, and applying it later is the only way nothing is lost;
//! - a message that can never be applied (undecodable, refused by the
//!   handler) goes to the dead-letter topic at once, so it never blocks
//!   its partition;
//! - anything else is retried a bounded number of times, then dead-lettered.
//!
//! A paused partition is resumed from the message after the one that failed
//! (an explicit seek), so messages the client had already fetched for it are
//! read again rather than skipped.

mod batch;
mod dead_letter;
mod dispatcher;
pub mod failure;
mod handles;
mod idle;
mod lag;
mod partition;
mod status;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::FutureProducer;
use sea_orm::DatabaseConnection;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use lag::{LagConsumer, LagContext};
use partition::{close_in_background, is_waiting, pause, resume, store};

pub use batch::{BATCH_MAX, apply_batch};
pub use dead_letter::header as dead_letter_header;
pub use dispatcher::Dispatcher;
pub use failure::{Failure, Rejected, Unavailable};
pub use handles::disagreements;
pub use status::{ConsumerCheck, ConsumerStatus};

use crate::envelope::Envelope;
use crate::kafka::KafkaConfig;
use crate::traffic::LocalTraffic;

/// Consumer settings.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Consumer group: the consuming service's name.
    pub group_id: String,
    /// Topics to read.
    pub topics: Vec<String>,
    /// Where messages that can never be applied go.
    pub dead_letter_topic: String,
    /// Attempts before dead-lettering a failure of unknown kind. Transient
    /// failures are retried without limit; rejections are not retried.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt.
    pub first_retry: Duration,
    /// Longest delay between two retries of a waiting partition: how late
    /// the consumer notices that a dependency is back.
    pub max_retry: Duration,
}

impl ConsumerConfig {
    /// Defaults for `service` reading `topics`: 5 attempts from 200 ms,
    /// retries at most 5 s apart.
    pub fn new(service: &str, topics: &[&str]) -> Self {
        Self {
            group_id: service.to_owned(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            dead_letter_topic: crate::contracts::topics::dead_letter(service),
            max_attempts: 5,
            first_retry: Duration::from_millis(200),
            max_retry: Duration::from_secs(5),
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
    /// Of a type the dispatcher does not handle: nothing recorded.
    Skipped,
}

/// What happened to one attempt at a message.
enum Step {
    /// Finished with it: its offset can be stored.
    Done(Outcome),
    /// Try again at the given time.
    Retry(Instant),
    /// Stopping: leave it unstored, so it is redelivered.
    Abandoned,
}

/// A message whose partition waits for its retry.
struct Waiting {
    message: OwnedMessage,
    envelope: Envelope,
    attempt: u32,
    delay: Duration,
    retry_at: Instant,
}

/// Runs the consumer loop.
pub struct EventConsumer<D: Dispatcher> {
    db: DatabaseConnection,
    kafka: KafkaConfig,
    config: ConsumerConfig,
    dispatcher: Arc<D>,
    dlq_producer: FutureProducer,
    status: ConsumerStatus,
    /// Set when every producer of the broker is in this process (see
    /// [`crate::traffic`]): fetch quickly, pause while nothing is sent.
    traffic: Option<LocalTraffic>,
}

/// `fetch.wait.max.ms` on a broker whose producers are all in this
/// process: its consumers pause when idle, so a short wait costs CPU only
/// while events flow, and each hop of an event waits at most this long.
const LOCAL_FETCH_WAIT_MS: &str = "10";

/// `fetch.wait.max.ms` otherwise. Kafka answers a fetch as soon as data
/// arrives; the embedded broker holds it for the full wait, so the default
/// 500 ms would become event latency there, while every empty fetch wakes
/// both ends (at 50 ms: 20 fetches a second per consumer, about 1 % of a
/// core for the five services).
const FETCH_WAIT_MS: &str = "100";

impl<D: Dispatcher> EventConsumer<D> {
    /// A consumer applying events to `db` through `dispatcher`, on the
    /// backbone's broker, reporting its state to the backbone's readiness.
    pub fn new(
        db: DatabaseConnection,
        backbone: &crate::runtime::Backbone,
        config: ConsumerConfig,
        dispatcher: Arc<D>,
    ) -> anyhow::Result<Self> {
        // The backbone's producer: one client (and its threads, and its
        // connections) per process rather than one more per consumer.
        let dlq_producer = backbone.producer.clone();
        Ok(Self {
            db,
            kafka: backbone.kafka.clone(),
            config,
            dispatcher,
            dlq_producer,
            status: backbone.consumer_status.clone(),
            traffic: backbone.traffic.clone(),
        })
    }

    fn stream_consumer(&self) -> anyhow::Result<LagConsumer> {
        let consumer: LagConsumer = self
            .kafka
            .client_config()
            .set("group.id", &self.config.group_id)
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            // Offsets are stored by us, after the handler's commit.
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "3000")
            // An empty fetch waits at most this long before asking again.
            .set(
                "fetch.wait.max.ms",
                if self.traffic.is_some() {
                    LOCAL_FETCH_WAIT_MS
                } else {
                    FETCH_WAIT_MS
                },
            )
            // The lag gauge comes from these reports (`lag`).
            .set("statistics.interval.ms", lag::STATS_INTERVAL_MS)
            .create_with_context(LagContext {
                service: self.config.group_id.clone(),
            })?;
        let topics: Vec<&str> = self.config.topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topics)?;
        Ok(consumer)
    }

    /// Consumes until `cancel`, then commits stored offsets.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let consumer = self.stream_consumer()?;
        let mut waiting: HashMap<(String, i32), Waiting> = HashMap::new();
        let mut idle = self.traffic.as_ref().map(idle::Idle::new);
        loop {
            self.status.set_stalled(!waiting.is_empty());
            let next_retry = waiting.values().map(|w| w.retry_at).min();
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = sleep_until(next_retry) => {
                    let due: Vec<(String, i32)> = waiting
                        .iter()
                        .filter(|(_, w)| w.retry_at <= Instant::now())
                        .map(|(k, _)| k.clone())
                        .collect();
                    for partition in due {
                        let Some(mut w) = waiting.remove(&partition) else { continue };
                        w.attempt += 1;
                        match self.attempt(&mut w, &cancel).await {
                            Step::Done(outcome) => {
                                finished(&self.config.group_id, outcome);
                                resume(&consumer, &w.message);
                            }
                            Step::Retry(at) => {
                                w.retry_at = at;
                                waiting.insert(partition, w);
                            }
                            Step::Abandoned => {}
                        }
                    }
                }
                turn = idle::next_turn(&mut idle) => match turn {
                    idle::Turn::Pause => {
                        if !idle::pause_all(&consumer)
                            && let Some(idle) = idle.as_mut()
                        {
                            idle.pause_failed();
                        }
                    }
                    idle::Turn::Resume => idle::resume_all(&consumer, &waiting),
                },
                message = consumer.recv() => {
                    if let Some(idle) = idle.as_mut() {
                        idle.saw_message();
                    }
                    let first = match message {
                        Ok(message) => message.detach(),
                        Err(e) => {
                            tracing::warn!(error = %e, "kafka receive error");
                            tokio::select! {
                                _ = cancel.cancelled() => break,
                                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                            }
                            continue;
                        }
                    };
                    let messages = batch::drain_ready(&consumer, first);
                    for (_, run) in batch::by_partition(messages) {
                        if cancel.is_cancelled() {
                            // Unstored: redelivered after the restart.
                            break;
                        }
                        self.partition_run(&consumer, &mut waiting, run, &cancel).await;
                    }
                }
            }
        }
        self.status.set_stalled(false);
        // Asynchronous on purpose: a synchronous commit waits without a
        // limit, and blocks this runtime thread for ever when the broker is
        // already gone (an embedded broker stopped first, a network cut).
        // An offset that never arrives only means a redelivery the inbox
        // ignores.
        if let Err(e) = consumer.commit_consumer_state(CommitMode::Async) {
            tracing::debug!(error = %e, "final offset commit");
        }
        close_in_background(consumer);
        tracing::debug!(group = %self.config.group_id, "consumer stopped");
        Ok(())
    }

    /// Applies a partition's messages in order: runs of readable ones in one
    /// transaction each, an unreadable one dead-lettered where it stands.
    async fn partition_run(
        &self,
        consumer: &LagConsumer,
        waiting: &mut HashMap<(String, i32), Waiting>,
        messages: Vec<OwnedMessage>,
        cancel: &CancellationToken,
    ) {
        let mut readable = Vec::new();
        for message in messages {
            match Envelope::from_message(&message) {
                Ok(envelope) => readable.push((message, envelope)),
                Err(e) => {
                    self.readable_run(consumer, waiting, std::mem::take(&mut readable), cancel)
                        .await;
                    if is_waiting(waiting, &message) {
                        pause(consumer, &message);
                        continue;
                    }
                    let error = format!("unreadable envelope: {e}");
                    if self.dead_letter(&message, &error, 1, cancel).await {
                        finished(&self.config.group_id, Outcome::DeadLettered);
                        store(consumer, &message);
                    }
                }
            }
        }
        self.readable_run(consumer, waiting, readable, cancel).await;
    }

    /// Readable messages of one partition: one transaction for all of them;
    /// if that fails, one at a time.
    async fn readable_run(
        &self,
        consumer: &LagConsumer,
        waiting: &mut HashMap<(String, i32), Waiting>,
        run: Vec<(OwnedMessage, Envelope)>,
        cancel: &CancellationToken,
    ) {
        let Some((last, _)) = run.last() else { return };
        let handled = run
            .iter()
            .filter(|(_, envelope)| self.dispatcher.handles(&envelope.event_type))
            .count();
        if handled == 0 && !is_waiting(waiting, last) {
            for _ in &run {
                finished(&self.config.group_id, Outcome::Skipped);
            }
            store(consumer, last);
            return;
        }
        if run.len() > 1 && !is_waiting(waiting, last) {
            let items: Vec<(&Envelope, tracing::Span)> = run
                .iter()
                .map(|(message, envelope)| (envelope, self.consume_span(message, envelope)))
                .collect();
            match batch::apply_traced(&self.db, self.dispatcher.as_ref(), &items).await {
                Ok(outcomes) => {
                    if outcomes.contains(&Outcome::Applied) {
                        self.dispatcher.after_commit();
                    }
                    for outcome in outcomes {
                        finished(&self.config.group_id, outcome);
                    }
                    // Offsets are per partition: the last one covers the run.
                    store(consumer, last);
                    return;
                }
                Err(e) => tracing::debug!(
                    error = %format!("{e:#}"),
                    messages = run.len(),
                    "batch rolled back; applying its messages one at a time"
                ),
            }
        }
        for (message, envelope) in run {
            if cancel.is_cancelled() {
                return;
            }
            self.one(consumer, waiting, message, envelope, cancel).await;
        }
    }

    /// A lone message: applied, or its partition paused to retry it.
    async fn one(
        &self,
        consumer: &LagConsumer,
        waiting: &mut HashMap<(String, i32), Waiting>,
        message: OwnedMessage,
        envelope: Envelope,
        cancel: &CancellationToken,
    ) {
        if is_waiting(waiting, &message) {
            // Fetched before the pause (or re-assigned since): it is read
            // again after the seek on resume.
            pause(consumer, &message);
            return;
        }
        if !self.dispatcher.handles(&envelope.event_type) {
            finished(&self.config.group_id, Outcome::Skipped);
            store(consumer, &message);
            return;
        }
        let partition = (message.topic().to_owned(), message.partition());
        let mut w = Waiting {
            message,
            envelope,
            attempt: 1,
            delay: self.config.first_retry,
            retry_at: Instant::now(),
        };
        match self.attempt(&mut w, cancel).await {
            Step::Done(outcome) => {
                finished(&self.config.group_id, outcome);
                store(consumer, &w.message);
            }
            Step::Retry(at) => {
                pause(consumer, &w.message);
                w.retry_at = at;
                waiting.insert(partition, w);
                // Said now, not when this drain's other partitions are
                // done: each of them may wait out the database's busy
                // timeout first.
                self.status.set_stalled(true);
            }
            Step::Abandoned => {}
        }
    }

    /// The span of processing one message, named and attributed by the
    /// OpenTelemetry messaging conventions; its parent is the relay's
    /// producer span (the Kafka header).
    fn consume_span(&self, message: &OwnedMessage, envelope: &Envelope) -> tracing::Span {
        let span = tracing::info_span!(
            "kafka.consume",
            otel.name = %format!("process {}", message.topic()),
            otel.kind = "consumer",
            messaging.system = "kafka",
            "messaging.operation.type" = "process",
            messaging.operation.name = "process",
            messaging.destination.name = %message.topic(),
            messaging.destination.partition.id = %message.partition(),
            messaging.kafka.offset = message.offset(),
            messaging.consumer.group.name = %self.config.group_id,
            messaging.message.id = %envelope.id,
            cloudevents.event_type = %envelope.event_type,
        );
        yizhan_kit::telemetry::set_parent_from_traceparent(&span, envelope.traceparent.as_deref());
        span
    }

    /// One attempt at `w`; on a failure to retry, the next delay is set.
    async fn attempt(&self, w: &mut Waiting, cancel: &CancellationToken) -> Step {
        let span = self.consume_span(&w.message, &w.envelope);
        async {
            let error = match apply(&self.db, self.dispatcher.as_ref(), &w.envelope).await {
                Ok(outcome) => {
                    if outcome == Outcome::Applied {
                        self.dispatcher.after_commit();
                    }
                    if w.attempt > 1 {
                        tracing::info!(attempt = w.attempt, "applied after retrying");
                    }
                    return Step::Done(outcome);
                }
                Err(e) => e,
            };
            let failure = failure::classify(&error);
            let give_up = match failure {
                Failure::Transient => false,
                Failure::Rejected => true,
                Failure::Unknown => w.attempt >= self.config.max_attempts,
            };
            if give_up {
                tracing::error!(error = %format!("{error:#}"), attempt = w.attempt, ?failure, "message cannot be applied; dead-lettering");
                return if self
                    .dead_letter(&w.message, &format!("{error:#}"), w.attempt, cancel)
                    .await
                {
                    Step::Done(Outcome::DeadLettered)
                } else {
                    Step::Abandoned
                };
            }
            tracing::warn!(
                error = %format!("{error:#}"),
                attempt = w.attempt,
                ?failure,
                retry_in_ms = w.delay.as_millis() as u64,
                "handler failed; partition waits and retries"
            );
            let at = Instant::now() + w.delay;
            w.delay = (w.delay * 2).min(self.config.max_retry);
            Step::Retry(at)
        }
        .instrument(span)
        .await
    }

    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        error: &str,
        attempts: u32,
        cancel: &CancellationToken,
    ) -> bool {
        let reason = dead_letter::Reason {
            group: &self.config.group_id,
            error,
            attempts,
        };
        dead_letter::send(
            &self.dlq_producer,
            &self.config.dead_letter_topic,
            message,
            &reason,
            cancel,
        )
        .await
    }
}

/// The one place a message's fate is known: counted per consuming service.
fn finished(group: &str, outcome: Outcome) {
    tracing::debug!(?outcome, "message done");
    let outcome = match outcome {
        Outcome::Applied => "applied",
        Outcome::Duplicate => "duplicate",
        Outcome::DeadLettered => "dead_lettered",
        Outcome::Skipped => "skipped",
    };
    metrics::counter!(
        yizhan_kit::metrics::CONSUMER_MESSAGES,
        "service" => group.to_owned(),
        "outcome" => outcome
    )
    .increment(1);
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
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
    // The caller's span stays current: the envelope needs none of its own.
    let outcome = batch::apply_all(&txn, dispatcher, &[(envelope, tracing::Span::none())])
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no outcome for the envelope"))?;
    match outcome {
        Outcome::Applied => txn.commit().await?,
        _ => txn.rollback().await?,
    }
    Ok(outcome)
}
