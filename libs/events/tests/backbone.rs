//! Backbone guarantees, end to end through the embedded Kafka broker and a
//! real database (SQLite, and PostgreSQL when configured):
//! rolled-back events never leave, committed ones leave exactly once across a
//! relay restart, redeliveries apply once, poison goes to the dead-letter
//! topic without blocking its partition, and per-key order holds under load.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use rdkafka::producer::FutureRecord;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use tokio_util::sync::CancellationToken;
use yizhan_events::Envelope;
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::consumer::{ConsumerConfig, Dispatcher, EventConsumer, Outcome};
use yizhan_events::contracts::{Event, ProbeRecorded};
use yizhan_events::outbox::{self, RelayConfig};
use yizhan_events::probe::{Migrator, ProbeHandler};
use yizhan_events::runtime::Backbone;
use yizhan_kit::testing::{Backend, TestDatabase};

// Batched consumption, with this file's harness.
#[path = "backbone/batching.rs"]
mod batching;
// Events a dispatcher does not handle are skipped.
#[path = "backbone/skipping.rs"]
mod skipping;
// Consumers that sleep while their process publishes nothing.
#[path = "backbone/idle.rs"]
mod idle;

const SOURCE: &str = "/yizhan/test";

struct Harness {
    db: DatabaseConnection,
    backbone: Backbone,
    broker: EmbeddedBroker,
    _database: TestDatabase,
}

async fn harness(backend: Backend, batch_size: u64) -> Harness {
    yizhan_kit::telemetry::init_for_tests();
    let database = backend.fresh_database("backbone").await;
    let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&database.url)
        .await
        .unwrap();
    let broker = EmbeddedBroker::start(&[ProbeRecorded::TOPIC]).unwrap();
    let backbone = Backbone::connect(
        broker.bootstrap_servers(),
        "backbone-test",
        RelayConfig {
            poll_interval: Duration::from_millis(50),
            batch_size,
            ..Default::default()
        },
    )
    .unwrap();
    Harness {
        db,
        backbone,
        broker,
        _database: database,
    }
}

fn probe(key: &str, seq: u64) -> ProbeRecorded {
    ProbeRecorded {
        key: key.into(),
        seq,
        sent_at_micros: 0,
        poison: false,
    }
}

async fn enqueue_committed(db: &DatabaseConnection, events: &[ProbeRecorded]) -> Vec<String> {
    let txn = db.begin().await.unwrap();
    let mut ids = Vec::new();
    for e in events {
        ids.push(outbox::enqueue(&txn, SOURCE, e).await.unwrap().id);
    }
    txn.commit().await.unwrap();
    ids
}

/// Per partition of `topic`: (partition, low, high) watermarks.
async fn watermarks(brokers: &str, topic: &str) -> Vec<(i32, i64, i64)> {
    let (brokers, topic) = (brokers.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        use rdkafka::consumer::BaseConsumer;
        let timeout = Duration::from_secs(10);
        let client: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .unwrap();
        let metadata = client.fetch_metadata(Some(&topic), timeout).unwrap();
        let mut marks = Vec::new();
        for described in metadata.topics() {
            for p in described.partitions() {
                let (low, high) = client.fetch_watermarks(&topic, p.id(), timeout).unwrap();
                marks.push((p.id(), low, high));
            }
        }
        marks
    })
    .await
    .unwrap()
}

/// Reads everything `topic` holds from the beginning, once it holds at
/// least `expected` messages (waited for up to `timeout`). The writers are
/// done when this is called, so the broker's high watermarks bound the
/// read exactly: a duplicate is in the log by then and is read, and no
/// time is spent waiting for ones that may come.
async fn read_topic(
    brokers: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<(String, HashMap<String, String>)> {
    let deadline = Instant::now() + timeout;
    let marks = loop {
        let marks = watermarks(brokers, topic).await;
        let held: i64 = marks.iter().map(|(_, low, high)| high - low).sum();
        if held >= expected as i64 {
            break marks;
        }
        assert!(
            Instant::now() < deadline,
            "{topic} holds {held} of {expected} messages"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Per partition, the offset of its last message.
    let mut last: HashMap<i32, i64> = marks
        .iter()
        .filter(|(_, low, high)| high > low)
        .map(|(p, _, high)| (*p, high - 1))
        .collect();
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    while !last.is_empty() {
        let now = Instant::now();
        assert!(now < deadline, "timed out reading {topic}");
        match tokio::time::timeout(deadline - now, consumer.recv()).await {
            Ok(Ok(m)) => {
                let mut headers = HashMap::new();
                if let Some(h) = m.headers() {
                    for header in h.iter() {
                        headers.insert(
                            header.key.to_owned(),
                            String::from_utf8_lossy(header.value.unwrap_or_default()).into_owned(),
                        );
                    }
                }
                if last.get(&m.partition()).is_some_and(|l| m.offset() <= *l) {
                    let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
                    out.push((key, headers));
                }
                if last.get(&m.partition()).is_some_and(|l| m.offset() >= *l) {
                    last.remove(&m.partition());
                }
            }
            Ok(Err(e)) => panic!("kafka error: {e}"),
            Err(_) => panic!("timed out reading {topic}"),
        }
    }
    out
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// A consumer of probe events on the harness's database and broker.
fn probe_consumer(h: &Harness, config: ConsumerConfig) -> EventConsumer<ProbeHandler> {
    EventConsumer::new(
        h.db.clone(),
        &h.backbone,
        config,
        Arc::new(ProbeHandler::default()),
    )
    .unwrap()
}

/// The applied probes, asserting that each key's were applied in order.
async fn effects_in_key_order(db: &DatabaseConnection) -> Vec<(String, i64)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT key, seq FROM probe_effects ORDER BY id".to_owned(),
        ))
        .await
        .unwrap();
    let mut last: HashMap<String, i64> = HashMap::new();
    let mut effects = Vec::new();
    for row in rows {
        let key: String = row.try_get("", "key").unwrap();
        let seq: i64 = row.try_get("", "seq").unwrap();
        if let Some(prev) = last.get(&key) {
            assert!(seq > *prev, "{key}: {seq} applied after {prev}");
        }
        last.insert(key.clone(), seq);
        effects.push((key, seq));
    }
    effects
}

async fn rolled_back_never_published_committed_exactly_once_across_relay_restart(backend: Backend) {
    let h = harness(backend, 10).await;
    // A transaction that enqueues and then rolls back.
    let txn = h.db.begin().await.unwrap();
    let ghost = outbox::enqueue(&txn, SOURCE, &probe("ghost", 1))
        .await
        .unwrap()
        .id;
    txn.rollback().await.unwrap();

    let events: Vec<ProbeRecorded> = (0..300).map(|i| probe(&format!("k{}", i % 7), i)).collect();
    let mut ids = Vec::new();
    for chunk in events.chunks(25) {
        ids.extend(enqueue_committed(&h.db, chunk).await);
    }
    assert_eq!(outbox::pending_count(&h.db).await.unwrap(), 300);

    // First relay: stopped as soon as it has made some progress.
    let cancel = CancellationToken::new();
    let first = tokio::spawn(h.backbone.relay(h.db.clone()).run(cancel.clone()));
    wait_until("first relay progress", Duration::from_secs(30), || async {
        outbox::pending_count(&h.db).await.unwrap() < 300
    })
    .await;
    cancel.cancel();
    first.await.unwrap();
    let left = outbox::pending_count(&h.db).await.unwrap();
    assert!(left < 300, "the first relay published something");

    // Second relay finishes the rest.
    let cancel = CancellationToken::new();
    let second = tokio::spawn(h.backbone.relay(h.db.clone()).run(cancel.clone()));
    wait_until("outbox drained", Duration::from_secs(30), || async {
        outbox::pending_count(&h.db).await.unwrap() == 0
    })
    .await;
    cancel.cancel();
    second.await.unwrap();

    let received = read_topic(
        h.broker.bootstrap_servers(),
        ProbeRecorded::TOPIC,
        300,
        Duration::from_secs(30),
    )
    .await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (_, headers) in &received {
        *seen.entry(headers["ce_id"].clone()).or_default() += 1;
    }
    assert!(
        !seen.contains_key(&ghost),
        "rolled-back event was published"
    );
    for id in &ids {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "event {id} published {:?} times",
            seen.get(id)
        );
    }
    assert_eq!(received.len(), 300);
    // CloudEvents binary-mode attributes are all there.
    let (key, headers) = &received[0];
    assert!(key.starts_with('k'));
    assert_eq!(headers["ce_specversion"], "1.0");
    assert_eq!(headers["ce_type"], ProbeRecorded::TYPE);
    assert_eq!(headers["ce_source"], SOURCE);
    assert_eq!(&headers["ce_subject"], key);
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.contains_key("ce_time"));
}

async fn redelivered_event_is_applied_once(backend: Backend) {
    let h = harness(backend, 100).await;
    let envelope = Envelope::new(SOURCE, &probe("dup", 1), None);
    // Directly: the second application is recognised as a duplicate.
    assert_eq!(
        yizhan_events::consumer::apply(&h.db, &ProbeHandler::default(), &envelope)
            .await
            .unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        yizhan_events::consumer::apply(&h.db, &ProbeHandler::default(), &envelope)
            .await
            .unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(count(&h.db, "SELECT COUNT(*) FROM probe_effects").await, 1);

    // Through Kafka: the same message delivered three times.
    let other = Envelope::new(SOURCE, &probe("dup", 2), None);
    let payload = other.data.to_string();
    for _ in 0..3 {
        h.backbone
            .producer
            .send(
                FutureRecord::to(ProbeRecorded::TOPIC)
                    .key("dup")
                    .payload(&payload)
                    .headers(other.headers()),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    let cancel = CancellationToken::new();
    let consumer = probe_consumer(
        &h,
        ConsumerConfig::new("dedupe-test", &[ProbeRecorded::TOPIC]),
    );
    let task = tokio::spawn(consumer.run(cancel.clone()));
    // A marker behind the three copies, same key so same partition: once
    // it is applied, all three copies have been processed.
    send_direct(&h, &[probe("dup", 3)]).await;
    wait_until(
        "the marker behind the copies",
        Duration::from_secs(30),
        || async { count(&h.db, "SELECT COUNT(*) FROM probe_effects WHERE seq = 3").await == 1 },
    )
    .await;
    cancel.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(
        count(&h.db, "SELECT COUNT(*) FROM probe_effects WHERE seq = 2").await,
        1
    );
    assert_eq!(count(&h.db, "SELECT COUNT(*) FROM inbox_events").await, 3);
}

async fn poison_goes_to_dead_letter_without_blocking_its_partition(backend: Backend) {
    let h = harness(backend, 100).await;
    let poison = ProbeRecorded {
        poison: true,
        ..probe("p", 1)
    };
    let ids = enqueue_committed(&h.db, &[poison, probe("p", 2), probe("q", 1)]).await;
    let cancel = CancellationToken::new();
    let relay = tokio::spawn(h.backbone.relay(h.db.clone()).run(cancel.clone()));
    let mut config = ConsumerConfig::new("poison-test", &[ProbeRecorded::TOPIC]);
    config.max_attempts = 3;
    config.first_retry = Duration::from_millis(20);
    let dlq = config.dead_letter_topic.clone();
    let consumer = probe_consumer(&h, config);
    let task = tokio::spawn(consumer.run(cancel.clone()));
    // The event after the poison, same key so same partition, is applied.
    wait_until(
        "events behind the poison applied",
        Duration::from_secs(30),
        || async { count(&h.db, "SELECT COUNT(*) FROM probe_effects").await == 2 },
    )
    .await;
    let dead = read_topic(
        h.broker.bootstrap_servers(),
        &dlq,
        1,
        Duration::from_secs(20),
    )
    .await;
    cancel.cancel();
    task.await.unwrap().unwrap();
    relay.await.unwrap();
    assert_eq!(dead.len(), 1, "exactly the poison message is dead-lettered");
    let (key, headers) = &dead[0];
    assert_eq!(key, "p");
    assert_eq!(headers["ce_id"], ids[0]);
    assert!(
        headers["dlq_error"].contains("poison probe 1 refused"),
        "error attached: {headers:?}"
    );
    assert_eq!(headers["dlq_attempts"], "3");
    assert_eq!(headers["dlq_topic"], ProbeRecorded::TOPIC);
    // The poison left no inbox row: it was never applied.
    assert_eq!(count(&h.db, "SELECT COUNT(*) FROM inbox_events").await, 2);
}

async fn order_per_key_holds_under_load(backend: Backend) {
    let h = harness(backend, 200).await;
    let keys = 16;
    let per_key = 100u64;
    let cancel = CancellationToken::new();
    let relay = tokio::spawn(h.backbone.relay(h.db.clone()).run(cancel.clone()));
    let consumer = probe_consumer(
        &h,
        ConsumerConfig::new("order-test", &[ProbeRecorded::TOPIC]),
    );
    let task = tokio::spawn(consumer.run(cancel.clone()));
    // Interleaved producers: each transaction carries a few events of a few keys.
    for seq in 0..per_key {
        let batch: Vec<ProbeRecorded> =
            (0..keys).map(|k| probe(&format!("key-{k}"), seq)).collect();
        enqueue_committed(&h.db, &batch).await;
        h.backbone.signal.wake();
    }
    let total = (keys as i64) * per_key as i64;
    wait_until("all events applied", Duration::from_secs(120), || async {
        count(&h.db, "SELECT COUNT(*) FROM probe_effects").await == total
    })
    .await;
    cancel.cancel();
    task.await.unwrap().unwrap();
    relay.await.unwrap();
    let distinct: HashSet<(String, i64)> = effects_in_key_order(&h.db).await.into_iter().collect();
    assert_eq!(distinct.len() as i64, total);
}

/// Messages in `topic` (all partitions), exact and without waiting.
fn messages_in(brokers: &str, topic: &str) -> i64 {
    yizhan_events::kafka::KafkaConfig {
        brokers: brokers.to_owned(),
        client_id: "backbone-test".into(),
    }
    .message_count(topic)
    .unwrap()
}

async fn send_direct(h: &Harness, events: &[ProbeRecorded]) -> Vec<Envelope> {
    let envelopes: Vec<Envelope> = events
        .iter()
        .map(|e| Envelope::new(SOURCE, e, None))
        .collect();
    send_envelopes(h, &envelopes).await;
    envelopes
}

/// Sends these very envelopes (their ids included) straight to the
/// broker, as a producer outside the outbox would, or a redelivery.
async fn send_envelopes(h: &Harness, envelopes: &[Envelope]) {
    for envelope in envelopes {
        h.backbone
            .producer
            .send(
                FutureRecord::to(ProbeRecorded::TOPIC)
                    .key(&envelope.subject)
                    .payload(&envelope.data.to_string())
                    .headers(envelope.headers()),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
}

/// Finding: a database outage used to dead-letter perfectly good events
/// after a few retries, losing them. Now the consumer waits: nothing is
/// dead-lettered, `/readyz`'s consumer entry says it is waiting, and every
/// effect arrives once the database is back. One attempt before
/// dead-lettering unknown failures makes the old behaviour fail at once.
async fn database_outage_pauses_the_consumer_and_loses_nothing(backend: Backend) {
    use yizhan_kit::health::ReadinessCheck;
    let h = harness(backend.clone(), 100).await;
    let mut config = ConsumerConfig::new("outage-test", &[ProbeRecorded::TOPIC]);
    config.max_attempts = 1;
    config.first_retry = Duration::from_millis(50);
    config.max_retry = Duration::from_millis(500);
    let dlq = config.dead_letter_topic.clone();
    let consumer = probe_consumer(&h, config);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));
    let before: Vec<ProbeRecorded> = (0..8).map(|i| probe(&format!("o{}", i % 4), i)).collect();
    send_direct(&h, &before).await;
    wait_until(
        "events before the outage",
        Duration::from_secs(30),
        || async { count(&h.db, "SELECT COUNT(*) FROM probe_effects").await == 8 },
    )
    .await;

    let outage = yizhan_kit::outage::DatabaseOutage::begin(&backend, &h._database.url).await;
    let during: Vec<ProbeRecorded> = (8..24).map(|i| probe(&format!("o{}", i % 4), i)).collect();
    send_direct(&h, &during).await;
    let status = h.backbone.consumer_status.clone();
    wait_until(
        "the consumer waits for its database",
        Duration::from_secs(60),
        || {
            let status = status.clone();
            async move { status.stalled_since().is_some() }
        },
    )
    .await;
    let check = yizhan_events::consumer::ConsumerCheck(status.clone());
    assert!(!check.critical());
    let reason = check.check().await.unwrap_err();
    assert!(reason.contains("暂停"), "{reason}");
    outage.end().await;

    wait_until(
        "every effect after the outage",
        Duration::from_secs(60),
        || async { count(&h.db, "SELECT COUNT(*) FROM probe_effects").await == 24 },
    )
    .await;
    wait_until("the consumer runs again", Duration::from_secs(30), || {
        let status = status.clone();
        async move { status.stalled_since().is_none() }
    })
    .await;
    cancel.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(
        messages_in(h.broker.bootstrap_servers(), &dlq),
        0,
        "nothing dead-lettered"
    );
    let effects = effects_in_key_order(&h.db).await;
    assert_eq!(effects.len(), 24, "each applied once");
}

/// Refuses every event while `refuse` is set (a handler bug, since fixed).
struct Gate {
    refuse: std::sync::atomic::AtomicBool,
    inner: ProbeHandler,
}

#[async_trait::async_trait]
impl Dispatcher for Gate {
    async fn dispatch(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        event: &Envelope,
    ) -> anyhow::Result<()> {
        if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(
                yizhan_events::consumer::Rejected("handler closed for repair".into()).into(),
            );
        }
        self.inner.dispatch(txn, event).await
    }
}

/// `yizhan dlq`: a refused message is listed with its reason, and once the
/// handler is fixed, redriving it (twice, as a hurried operator might)
/// applies it exactly once.
async fn redriven_dead_letter_is_applied_exactly_once(backend: Backend) {
    let h = harness(backend, 100).await;
    let gate = Arc::new(Gate {
        refuse: true.into(),
        inner: ProbeHandler::default(),
    });
    let config = ConsumerConfig::new("redrive-test", &[ProbeRecorded::TOPIC]);
    let dlq = config.dead_letter_topic.clone();
    let consumer = EventConsumer::new(h.db.clone(), &h.backbone, config, gate.clone()).unwrap();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(consumer.run(cancel.clone()));
    send_direct(&h, &[probe("r", 1)]).await;
    let brokers = h.broker.bootstrap_servers().to_owned();
    wait_until(
        "the refused event dead-lettered",
        Duration::from_secs(30),
        || {
            let brokers = brokers.clone();
            let dlq = dlq.clone();
            async move {
                tokio::task::spawn_blocking(move || messages_in(&brokers, &dlq))
                    .await
                    .unwrap()
                    == 1
            }
        },
    )
    .await;
    let kafka = h.backbone.kafka.clone();
    let listed =
        tokio::task::spawn_blocking(move || yizhan_events::dlq::list(&kafka, "redrive-test"))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(listed.len(), 1);
    let dead = &listed[0];
    assert_eq!(dead.key, "r");
    assert_eq!(dead.header("ce_type"), ProbeRecorded::TYPE);
    assert_eq!(dead.origin_topic(), ProbeRecorded::TOPIC);
    assert!(
        dead.header("dlq_error").contains("closed for repair"),
        "{dead:?}"
    );
    assert_eq!(
        dead.header("dlq_attempts"),
        "1",
        "a rejection is not retried"
    );

    gate.refuse
        .store(false, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..2 {
        let redriven =
            yizhan_events::dlq::redrive(&h.backbone.kafka, "redrive-test", &[dead.offset])
                .await
                .unwrap();
        assert_eq!(redriven.len(), 1);
    }
    // A marker behind both copies on the same key (so partition).
    send_direct(&h, &[probe("r", 2)]).await;
    wait_until(
        "the marker behind the redriven copies",
        Duration::from_secs(30),
        || async { count(&h.db, "SELECT COUNT(*) FROM probe_effects WHERE seq = 2").await == 1 },
    )
    .await;
    cancel.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(
        count(&h.db, "SELECT COUNT(*) FROM probe_effects WHERE seq = 1").await,
        1,
        "the redriven event is applied exactly once"
    );
    assert_eq!(count(&h.db, "SELECT COUNT(*) FROM inbox_events").await, 2);
}

/// Two relays over one PostgreSQL outbox (two replicas of a service): every
/// event is published exactly once and per-key order holds, because each
/// round holds the relay advisory lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_relays_publish_each_event_once_in_order() {
    let Some(backend) = Backend::postgres_or_skip() else {
        return;
    };
    let h = harness(backend, 20).await;
    let cancel = CancellationToken::new();
    let a = tokio::spawn(h.backbone.relay(h.db.clone()).run(cancel.clone()));
    let b = tokio::spawn(h.backbone.relay(h.db.clone()).run(cancel.clone()));
    let mut ids = Vec::new();
    for seq in 0..60u64 {
        let batch: Vec<ProbeRecorded> = (0..5).map(|k| probe(&format!("r{k}"), seq)).collect();
        ids.extend(enqueue_committed(&h.db, &batch).await);
    }
    wait_until(
        "outbox drained by two relays",
        Duration::from_secs(60),
        || async { outbox::pending_count(&h.db).await.unwrap() == 0 },
    )
    .await;
    cancel.cancel();
    a.await.unwrap();
    b.await.unwrap();
    let received = read_topic(
        h.broker.bootstrap_servers(),
        ProbeRecorded::TOPIC,
        ids.len(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(received.len(), ids.len(), "no event published twice");
    let ids_seen: HashSet<&String> = received.iter().map(|(_, h)| &h["ce_id"]).collect();
    assert_eq!(ids_seen.len(), ids.len());
    // Per key, the order received is the order committed (UUIDv7 ids sort by time).
    let mut last: HashMap<&str, &str> = HashMap::new();
    for (key, headers) in &received {
        let id = headers["ce_id"].as_str();
        if let Some(prev) = last.get(key.as_str()) {
            assert!(id > *prev, "key {key}: {id} after {prev}");
        }
        last.insert(key.as_str(), id);
    }
}

/// Published rows past retention are pruned; younger published rows and
/// unpublished rows (however old) stay.
async fn prune_keeps_unpublished_and_recent_rows(backend: Backend) {
    let h = harness(backend, 10).await;
    let ids = enqueue_committed(
        &h.db,
        &[probe("old", 1), probe("recent", 1), probe("waiting", 1)],
    )
    .await;
    let backend_kind = h.db.get_database_backend();
    let set_published = |id: &str, days_ago: i64| {
        let at = chrono::Utc::now() - chrono::Duration::days(days_ago);
        let sql = match backend_kind {
            sea_orm::DbBackend::Postgres => {
                "UPDATE outbox_events SET published_at = $1 WHERE event_id = $2"
            }
            _ => "UPDATE outbox_events SET published_at = ? WHERE event_id = ?",
        };
        Statement::from_sql_and_values(backend_kind, sql, [at.into(), id.to_owned().into()])
    };
    h.db.execute_raw(set_published(&ids[0], 30)).await.unwrap();
    h.db.execute_raw(set_published(&ids[1], 1)).await.unwrap();
    // The third stays unpublished; make it old too.
    let pruned = outbox::prune_published(&h.db, Duration::from_secs(7 * 24 * 3600))
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(count(&h.db, "SELECT COUNT(*) FROM outbox_events").await, 2);
    assert_eq!(
        outbox::pending_count(&h.db).await.unwrap(),
        1,
        "the unpublished event is kept"
    );
}

/// A relay round tells the waiters of the subjects it is publishing, and
/// marks each row once whatever the padding of its statement.
async fn relay_round_tells_waiters_of_its_subjects(backend: Backend) {
    let h = harness(backend, 10).await;
    let a = h.backbone.subjects.watch("k-a");
    let b = h.backbone.subjects.watch("k-b");
    let mut woken_a = std::pin::pin!(a.notify().notified());
    woken_a.as_mut().enable();
    let mut woken_b = std::pin::pin!(b.notify().notified());
    woken_b.as_mut().enable();
    enqueue_committed(&h.db, &[probe("k-a", 1), probe("k-c", 1), probe("k-a", 2)]).await;
    let published = h.backbone.relay(h.db.clone()).round().await.unwrap();
    assert_eq!(published, 3);
    assert!(
        futures_util::FutureExt::now_or_never(woken_a).is_some(),
        "the waiter of k-a was told"
    );
    assert!(
        futures_util::FutureExt::now_or_never(woken_b).is_none(),
        "nothing of k-b was published"
    );
    assert_eq!(outbox::pending_count(&h.db).await.unwrap(), 0);
    assert_eq!(
        count(
            &h.db,
            "SELECT COUNT(*) FROM outbox_events WHERE attempts = 1"
        )
        .await,
        3,
        "three rows, padded to four placeholders, each marked once"
    );
}

yizhan_kit::backend_tests!(
    relay_round_tells_waiters_of_its_subjects,
    rolled_back_never_published_committed_exactly_once_across_relay_restart,
    redelivered_event_is_applied_once,
    poison_goes_to_dead_letter_without_blocking_its_partition,
    order_per_key_holds_under_load,
    database_outage_pauses_the_consumer_and_loses_nothing,
    redriven_dead_letter_is_applied_exactly_once,
    prune_keeps_unpublished_and_recent_rows,
);
