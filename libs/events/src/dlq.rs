//! Dead-letter topics, for operators (`yizhan dlq list|show|redrive`).
//!
//! Each consumer has one, `yizhan.<consumer>.dlq`, holding messages it
//! could never apply with the original key, payload and CloudEvents headers
//! plus `dlq_*` headers saying why and where from (`consumer::dead_letter_header`).
//! Reading does not join a consumer group, so it moves no offsets and can
//! be repeated. Redriving copies a message back to the topic it came from;
//! its consumer applies it like any other, and the inbox makes a message
//! that was already applied (or is redriven twice) a no-op.
//!
//! These calls block on the broker; they are meant for the CLI.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::consumer::dead_letter_header as dlq;
use crate::kafka::KafkaConfig;

/// Header a redriven message carries: the dead-letter topic and offset it
/// was redriven from.
pub const REDRIVEN_FROM: &str = "dlq_redriven_from";

const TIMEOUT: Duration = Duration::from_secs(10);

/// One dead-lettered message.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Partition in the dead-letter topic.
    pub partition: i32,
    /// Offset in the dead-letter topic: what `show` and `redrive` take.
    pub offset: i64,
    /// Kafka key (the aggregate id).
    pub key: String,
    /// Every header, the original `ce_*` ones and the `dlq_*` ones.
    pub headers: BTreeMap<String, String>,
    /// The payload as text.
    pub payload: String,
}

impl DeadLetter {
    fn from_message(m: &OwnedMessage) -> Self {
        let mut headers = BTreeMap::new();
        if let Some(h) = m.headers() {
            for header in h.iter() {
                headers.insert(
                    header.key.to_owned(),
                    String::from_utf8_lossy(header.value.unwrap_or_default()).into_owned(),
                );
            }
        }
        Self {
            partition: m.partition(),
            offset: m.offset(),
            key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
            headers,
            payload: String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned(),
        }
    }

    /// A header's value, or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    /// The topic it was consumed from, where a redrive sends it.
    pub fn origin_topic(&self) -> &str {
        self.header(dlq::TOPIC)
    }
}

/// Every message in `consumer`'s dead-letter topic, oldest first.
pub fn list(kafka: &KafkaConfig, consumer: &str) -> anyhow::Result<Vec<DeadLetter>> {
    let topic = crate::contracts::topics::dead_letter(consumer);
    let reader: BaseConsumer = kafka
        .client_config()
        .set(
            "group.id",
            format!("yizhan-dlq-reader-{}", uuid::Uuid::new_v4()),
        )
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .create()?;
    let metadata = reader.fetch_metadata(Some(&topic), TIMEOUT)?;
    let Some(described) = metadata.topics().first() else {
        anyhow::bail!("no topic {topic}");
    };
    if let Some(e) = described.error() {
        anyhow::bail!("topic {topic}: {:?}", e);
    }
    let mut remaining = 0;
    let mut ends = BTreeMap::new();
    let mut assignment = TopicPartitionList::new();
    for p in described.partitions() {
        let (low, high) = reader.fetch_watermarks(&topic, p.id(), TIMEOUT)?;
        if high > low {
            remaining += high - low;
            ends.insert(p.id(), high);
            assignment.add_partition_offset(&topic, p.id(), Offset::Offset(low))?;
        }
    }
    let mut out = Vec::new();
    if remaining == 0 {
        return Ok(out);
    }
    reader.assign(&assignment)?;
    let deadline = std::time::Instant::now() + 3 * TIMEOUT;
    while !ends.is_empty() {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "timed out reading {topic}: {} of {remaining} read",
            out.len()
        );
        let Some(message) = reader.poll(Duration::from_millis(500)) else {
            continue;
        };
        let message = message?.detach();
        if let Some(end) = ends.get(&message.partition()).copied() {
            if message.offset() + 1 >= end {
                ends.remove(&message.partition());
            }
            out.push(DeadLetter::from_message(&message));
        }
    }
    out.sort_by_key(|d| (d.offset, d.partition));
    Ok(out)
}

/// The message at `offset` of `consumer`'s dead-letter topic.
pub fn show(kafka: &KafkaConfig, consumer: &str, offset: i64) -> anyhow::Result<DeadLetter> {
    list(kafka, consumer)?
        .into_iter()
        .find(|d| d.offset == offset)
        .ok_or_else(|| {
            anyhow::anyhow!("no message at offset {offset} of {consumer}'s dead-letter topic")
        })
}

/// Copies the messages at `offsets` (every message when empty) of
/// `consumer`'s dead-letter topic back to their original topics, without
/// the `dlq_*` headers. Returns what was redriven.
pub async fn redrive(
    kafka: &KafkaConfig,
    consumer: &str,
    offsets: &[i64],
) -> anyhow::Result<Vec<DeadLetter>> {
    let all = {
        let kafka = kafka.clone();
        let consumer = consumer.to_owned();
        tokio::task::spawn_blocking(move || list(&kafka, &consumer)).await??
    };
    let chosen: Vec<DeadLetter> = if offsets.is_empty() {
        all
    } else {
        for offset in offsets {
            anyhow::ensure!(
                all.iter().any(|d| d.offset == *offset),
                "no message at offset {offset} of {consumer}'s dead-letter topic"
            );
        }
        all.into_iter()
            .filter(|d| offsets.contains(&d.offset))
            .collect()
    };
    let producer: FutureProducer = kafka.producer()?;
    let source_topic = crate::contracts::topics::dead_letter(consumer);
    for d in &chosen {
        let topic = d.origin_topic();
        anyhow::ensure!(
            !topic.is_empty(),
            "offset {}: no {} header",
            d.offset,
            dlq::TOPIC
        );
        let from = format!("{source_topic}@{}:{}", d.partition, d.offset);
        let mut headers = OwnedHeaders::new();
        for (k, v) in d.headers.iter().filter(|(k, _)| !k.starts_with("dlq_")) {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_str()),
            });
        }
        headers = headers.insert(Header {
            key: REDRIVEN_FROM,
            value: Some(from.as_str()),
        });
        producer
            .send(
                FutureRecord::to(topic)
                    .key(&d.key)
                    .payload(&d.payload)
                    .headers(headers),
                TIMEOUT,
            )
            .await
            .map_err(|(e, _)| anyhow::anyhow!("redriving offset {}: {e}", d.offset))?;
    }
    Ok(chosen)
}
