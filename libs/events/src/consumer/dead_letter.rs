//! Copying a message that can never be applied to its consumer's
//! dead-letter topic (`yizhan.<consumer>.dlq`), with why and where from in
//! `dlq_*` headers. `yizhan dlq` reads these headers back (see `crate::dlq`).

use std::time::Duration;

use chrono::Utc;
use rdkafka::Message;
use rdkafka::message::{Header, Headers, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;

/// Header names added to a dead-lettered message.
pub mod header {
    /// The handler's error.
    pub const ERROR: &str = "dlq_error";
    /// Topic the message was consumed from.
    pub const TOPIC: &str = "dlq_topic";
    /// Its partition there.
    pub const PARTITION: &str = "dlq_partition";
    /// Its offset there.
    pub const OFFSET: &str = "dlq_offset";
    /// Attempts made before giving up.
    pub const ATTEMPTS: &str = "dlq_attempts";
    /// Consumer group that gave up.
    pub const GROUP: &str = "dlq_group";
    /// When (RFC 3339).
    pub const FAILED_AT: &str = "dlq_failed_at";
}

/// Why a message is dead-lettered.
pub struct Reason<'a> {
    /// Consumer group giving up on it.
    pub group: &'a str,
    /// The error, with its causes.
    pub error: &'a str,
    /// Attempts made.
    pub attempts: u32,
}

/// Copies `message` to `topic` with the original headers plus the `dlq_*`
/// ones. Retries until the broker takes it, because dropping it would lose
/// the event; returns `false` only when `cancel` stops it first (the
/// message's offset is then not stored, so it is redelivered).
pub async fn send(
    producer: &FutureProducer,
    topic: &str,
    message: &OwnedMessage,
    reason: &Reason<'_>,
    cancel: &CancellationToken,
) -> bool {
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
    let attempts = reason.attempts.to_string();
    let failed_at = Utc::now().to_rfc3339();
    for (key, value) in [
        (header::ERROR, reason.error),
        (header::TOPIC, message.topic()),
        (header::PARTITION, partition.as_str()),
        (header::OFFSET, offset.as_str()),
        (header::ATTEMPTS, attempts.as_str()),
        (header::GROUP, reason.group),
        (header::FAILED_AT, failed_at.as_str()),
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    let key = message.key().unwrap_or_default();
    let payload = message.payload().unwrap_or_default();
    loop {
        let record = FutureRecord::to(topic)
            .key(key)
            .payload(payload)
            .headers(headers.clone());
        match producer.send(record, Duration::from_secs(10)).await {
            Ok(_) => return true,
            Err((e, _)) => {
                tracing::error!(error = %e, "cannot write to dead-letter topic; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return false,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}
