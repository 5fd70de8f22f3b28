//! Kafka clients: configuration shared by producers and consumers, topic
//! creation at start, and the broker readiness check.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::FutureProducer;
use rdkafka::types::RDKafkaErrorCode;

/// Where the brokers are and who we are.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma-separated.
    pub brokers: String,
    /// Client id prefix (the service name).
    pub client_id: String,
}

impl KafkaConfig {
    /// Base client configuration.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id)
            // Loopback mock broker and LAN Kafka both answer quickly; fail
            // fast enough that readiness reflects reality.
            .set("socket.timeout.ms", "10000");
        config
    }

    /// An idempotent producer: retries never duplicate or reorder within a partition.
    pub fn producer(&self) -> anyhow::Result<FutureProducer> {
        Ok(self
            .client_config()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "2")
            .set("message.timeout.ms", "30000")
            .create()?)
    }

    /// Creates topics that do not exist yet (real Kafka). The embedded mock
    /// broker does not support CreateTopics; it creates them itself.
    pub async fn ensure_topics(&self, topics: &[&str], partitions: i32) -> anyhow::Result<()> {
        let admin: AdminClient<DefaultClientContext> = self.client_config().create()?;
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|t| NewTopic::new(t, partitions, TopicReplication::Fixed(-1)))
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        for result in admin.create_topics(new.iter(), &options).await? {
            match result {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => anyhow::bail!("cannot create topic {topic}: {code}"),
            }
        }
        Ok(())
    }
}

impl KafkaConfig {
    /// Messages held in `topic` over all its partitions, from the broker's
    /// watermarks: exact, and needs no consumer group. Blocks.
    pub fn message_count(&self, topic: &str) -> anyhow::Result<i64> {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        let client: BaseConsumer = self.client_config().create()?;
        let timeout = Duration::from_secs(10);
        let metadata = client.fetch_metadata(Some(topic), timeout)?;
        let mut total = 0;
        for described in metadata.topics() {
            for p in described.partitions() {
                let (low, high) = client.fetch_watermarks(topic, p.id(), timeout)?;
                total += high - low;
            }
        }
        Ok(total)
    }

    /// Who the broker is: its cluster id, plus the address (an embedded
    /// broker's id is not meant to be unique across restarts, its random
    /// port makes the pair so). `None` when it does not answer in `timeout`.
    pub async fn broker_identity(&self, timeout: Duration) -> anyhow::Result<Option<String>> {
        let producer = self.producer()?;
        let brokers = self.brokers.clone();
        let id = tokio::task::spawn_blocking(move || {
            use rdkafka::producer::Producer;
            producer.client().fetch_cluster_id(timeout)
        })
        .await?;
        Ok(id.map(|id| format!("{id}@{brokers}")))
    }
}

/// `/readyz` entry `broker`: the brokers answer a metadata request. Not
/// critical: while the broker is away writes still commit (their events
/// wait in the outbox) and reads are served, so the pod stays in its
/// Service; the entry shows `degraded`.
pub struct BrokerCheck {
    producer: FutureProducer,
}

impl BrokerCheck {
    /// Checks through an existing producer's connections.
    pub fn new(producer: FutureProducer) -> Self {
        Self { producer }
    }
}

#[async_trait::async_trait]
impl yizhan_kit::health::ReadinessCheck for BrokerCheck {
    fn name(&self) -> &'static str {
        "broker"
    }

    fn critical(&self) -> bool {
        false
    }

    async fn check(&self) -> Result<(), String> {
        let producer = self.producer.clone();
        let answered = tokio::task::spawn_blocking(move || {
            use rdkafka::producer::Producer;
            producer
                .client()
                .fetch_metadata(None, Duration::from_secs(2))
                .map(|_| ())
        })
        .await;
        match answered {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: broker does not answer");
                Err("消息代理无法连接：写入照常，事件在发件箱中等待发送".to_owned())
            }
            Err(e) => {
                tracing::warn!(error = %e, "readiness: broker check failed");
                Err("消息代理检查失败".to_owned())
            }
        }
    }
}
