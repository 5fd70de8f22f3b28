//! The consumer applies the messages it holds per partition in one
//! transaction: a backlog commits in far fewer transactions than messages,
//! yet every effect happens exactly once, in per-key order, a poison message
//! inside a batch is dead-lettered without taking its neighbours with it,
//! and a failed batch leaves nothing behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rdkafka::producer::FutureRecord;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement};
use tokio_util::sync::CancellationToken;
use yizhan_events::Envelope;
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::consumer::{ConsumerConfig, Dispatcher, EventConsumer, Outcome, apply_batch};
use yizhan_events::contracts::{Event, ProbeRecorded};
use yizhan_events::outbox::RelayConfig;
use yizhan_events::probe::{Migrator, ProbeHandler};
use yizhan_events::runtime::Backbone;
use yizhan_kit::testing::Backend;

const SOURCE: &str = "/yizhan/test/batching";
const KEYS: u64 = 4;
const PER_KEY: u64 = 50;

fn probe(key: &str, seq: u64, poison: bool) -> ProbeRecorded {
    ProbeRecorded {
        key: key.into(),
        seq,
        sent_at_micros: 0,
        poison,
    }
}

/// The probe handler, counting the transactions that committed.
#[derive(Default)]
struct Counted {
    inner: ProbeHandler,
    commits: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl Dispatcher for Counted {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        self.inner.dispatch(txn, event).await
    }

    fn after_commit(&self) {
        self.commits.fetch_add(1, Ordering::SeqCst);
    }
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
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

/// `(key, seq)` of every effect in applied order, asserting per-key order.
async fn effects(db: &DatabaseConnection) -> Vec<(String, i64)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT key, seq FROM probe_effects ORDER BY id".to_owned(),
        ))
        .await
        .unwrap();
    let mut last = std::collections::HashMap::<String, i64>::new();
    rows.into_iter()
        .map(|row| {
            let key: String = row.try_get("", "key").unwrap();
            let seq: i64 = row.try_get("", "seq").unwrap();
            let prev = last.insert(key.clone(), seq);
            assert!(prev.is_none_or(|p| p < seq), "{key}: {seq} after {prev:?}");
            (key, seq)
        })
        .collect()
}

async fn produce(backbone: &Backbone, events: &[ProbeRecorded]) {
    for e in events {
        let envelope = Envelope::new(SOURCE, e, None);
        backbone
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

async fn until_effects(db: &DatabaseConnection, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let have = scalar(db, "SELECT COUNT(*) FROM probe_effects").await;
        if have == n {
            return;
        }
        assert!(Instant::now() < deadline, "{have} of {n} effects");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn consumer(
    db: &DatabaseConnection,
    backbone: &Backbone,
    group: &str,
) -> (EventConsumer<Counted>, Arc<AtomicUsize>) {
    let mut config = ConsumerConfig::new(group, &[ProbeRecorded::TOPIC]);
    config.max_attempts = 2;
    config.first_retry = Duration::from_millis(20);
    let handler = Counted::default();
    let commits = handler.commits.clone();
    let consumer = EventConsumer::new(db.clone(), backbone, config, Arc::new(handler)).unwrap();
    (consumer, commits)
}

async fn backlog_is_applied_in_batches_exactly_once_in_key_order(backend: Backend) {
    yizhan_kit::telemetry::init_for_tests();
    let database = backend.fresh_database("batching").await;
    let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&database.url)
        .await
        .unwrap();
    let broker = EmbeddedBroker::start(&[ProbeRecorded::TOPIC]).unwrap();
    let backbone = Backbone::connect(
        broker.bootstrap_servers(),
        "batching-test",
        RelayConfig::default(),
    )
    .unwrap();
    // A backlog waiting before the consumer starts, a poison in its middle.
    let mut backlog = Vec::new();
    for seq in 0..PER_KEY {
        for k in 0..KEYS {
            backlog.push(probe(&format!("k{k}"), seq, k == 1 && seq == PER_KEY / 2));
        }
    }
    produce(&backbone, &backlog).await;
    let good = (KEYS * PER_KEY - 1) as i64;

    let cancel = CancellationToken::new();
    let (first, commits) = consumer(&db, &backbone, "batching");
    let task = tokio::spawn(first.run(cancel.clone()));
    until_effects(&db, good).await;
    let applied = effects(&db).await;
    assert!(
        !applied.contains(&("k1".to_owned(), (PER_KEY / 2) as i64)),
        "the poison has no effect"
    );
    let commits = commits.load(Ordering::SeqCst);
    assert!(
        commits * 4 <= good as usize,
        "{good} messages applied in {commits} commits: not batched"
    );
    cancel.cancel();
    task.await.unwrap().unwrap();

    // A new group reads it all again: every message is a duplicate, then a
    // marker per key (behind them in their partitions) is applied.
    let cancel = CancellationToken::new();
    let (again, _) = consumer(&db, &backbone, "batching-again");
    let task = tokio::spawn(again.run(cancel.clone()));
    let markers: Vec<ProbeRecorded> = (0..KEYS)
        .map(|k| probe(&format!("k{k}"), 10_000, false))
        .collect();
    produce(&backbone, &markers).await;
    until_effects(&db, good + KEYS as i64).await;
    cancel.cancel();
    task.await.unwrap().unwrap();
    let all = effects(&db).await;
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "no effect twice");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM inbox_events").await,
        good + KEYS as i64
    );
}

async fn failed_batch_leaves_nothing_and_duplicates_are_skipped(backend: Backend) {
    let database = backend.fresh_database("batching").await;
    let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&database.url)
        .await
        .unwrap();
    let handler = ProbeHandler::default();
    let a1 = Envelope::new(SOURCE, &probe("a", 1, false), None);
    let poison = Envelope::new(SOURCE, &probe("a", 2, true), None);
    let a3 = Envelope::new(SOURCE, &probe("a", 3, false), None);

    let failed = apply_batch(&db, &handler, &[a1.clone(), poison, a3.clone()]).await;
    assert!(failed.is_err(), "the poison fails the batch");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM inbox_events").await, 0);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM probe_effects").await, 0);

    let outcomes = apply_batch(&db, &handler, &[a1.clone(), a1.clone(), a3.clone()])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Duplicate, Outcome::Applied]
    );
    let outcomes = apply_batch(&db, &handler, &[a1, a3]).await.unwrap();
    assert_eq!(outcomes, [Outcome::Duplicate, Outcome::Duplicate]);
    assert_eq!(
        effects(&db).await,
        [("a".to_owned(), 1), ("a".to_owned(), 3)]
    );
}

yizhan_kit::backend_tests!(
    backlog_is_applied_in_batches_exactly_once_in_key_order,
    failed_batch_leaves_nothing_and_duplicates_are_skipped,
);
