//! A partition's place and flow: offsets stored only once effects are
//! committed, pausing and resuming a partition around a retry, and closing
//! the consumer without waiting for the broker.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::Waiting;
use super::lag::LagConsumer;

pub(super) fn is_waiting(
    waiting: &HashMap<(String, i32), Waiting>,
    message: &OwnedMessage,
) -> bool {
    waiting.contains_key(&(message.topic().to_owned(), message.partition()))
}

fn partition_of(message: &OwnedMessage) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(message.topic(), message.partition());
    tpl
}

/// Stored only once the effects are committed (or dead-lettered).
pub(super) fn store(consumer: &LagConsumer, message: &OwnedMessage) {
    if let Err(e) = consumer.store_offset(message.topic(), message.partition(), message.offset()) {
        tracing::warn!(error = %e, "cannot store offset; message may be redelivered");
    }
}

pub(super) fn pause(consumer: &LagConsumer, message: &OwnedMessage) {
    if let Err(e) = consumer.pause(&partition_of(message)) {
        tracing::warn!(error = %e, "cannot pause partition");
    }
}

/// Stores the finished message's offset, moves the partition's position to
/// the message after it and resumes the partition.
pub(super) fn resume(consumer: &LagConsumer, message: &OwnedMessage) {
    store(consumer, message);
    if let Err(e) = consumer.seek(
        message.topic(),
        message.partition(),
        Offset::Offset(message.offset() + 1),
        Duration::from_secs(5),
    ) {
        // Not assigned to us any more: its new owner starts from the
        // committed offset, and the inbox absorbs what we applied.
        tracing::debug!(error = %e, "seek after retry");
    }
    if let Err(e) = consumer.resume(&partition_of(message)) {
        tracing::warn!(error = %e, "cannot resume partition");
    }
}

/// Closing a consumer leaves its group and waits for the broker; with the
/// broker gone that can take as long as the session timeout. The process
/// must stop in bounded time, so the close runs on a thread of its own that
/// nobody waits for; the committed offsets are already on their way, and a
/// missed one is only a redelivery the inbox ignores.
pub(super) fn close_in_background(consumer: LagConsumer) {
    let spawned = std::thread::Builder::new()
        .name("kafka-consumer-close".into())
        .spawn(move || drop(consumer));
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "cannot close the consumer in the background");
    }
}
