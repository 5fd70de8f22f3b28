//! The consumer applies the messages it holds per partition in one
//! transaction: a backlog commits in far fewer transactions than messages,
//! yet every effect happens exactly once, in per-key order, a poison message
//! inside a batch is dead-lettered without taking its neighbours with it,
//! and a failed batch leaves nothing behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::DatabaseTransaction;
use tokio_util::sync::CancellationToken;
use yizhan_events::Envelope;
use yizhan_events::consumer::{ConsumerConfig, Dispatcher, EventConsumer, Outcome, apply_batch};
use yizhan_events::contracts::{Event, ProbeRecorded};
use yizhan_events::probe::ProbeHandler;
use yizhan_kit::testing::Backend;

use super::{
    Harness, SOURCE, count, effects_in_key_order, harness, probe, send_direct, wait_until,
};

const KEYS: u64 = 4;
const PER_KEY: u64 = 50;

fn poison(key: &str, seq: u64) -> ProbeRecorded {
    ProbeRecorded {
        poison: true,
        ..probe(key, seq)
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

async fn until_effects(h: &Harness, n: i64) {
    wait_until(&format!("{n} effects"), Duration::from_secs(60), || async {
        count(&h.db, "SELECT COUNT(*) FROM probe_effects").await == n
    })
    .await;
}

fn consumer(h: &Harness, group: &str) -> (EventConsumer<Counted>, Arc<AtomicUsize>) {
    let mut config = ConsumerConfig::new(group, &[ProbeRecorded::TOPIC]);
    config.max_attempts = 2;
    config.first_retry = Duration::from_millis(20);
    let handler = Counted::default();
    let commits = handler.commits.clone();
    let consumer =
        EventConsumer::new(h.db.clone(), &h.backbone, config, Arc::new(handler)).unwrap();
    (consumer, commits)
}

async fn backlog_is_applied_in_batches_exactly_once_in_key_order(backend: Backend) {
    let h = harness(backend, 200).await;
    // A backlog waiting before the consumer starts, a poison in its middle.
    let mut backlog = Vec::new();
    for seq in 0..PER_KEY {
        for k in 0..KEYS {
            let key = format!("k{k}");
            backlog.push(if k == 1 && seq == PER_KEY / 2 {
                poison(&key, seq)
            } else {
                probe(&key, seq)
            });
        }
    }
    send_direct(&h, &backlog).await;
    let good = (KEYS * PER_KEY - 1) as i64;

    let cancel = CancellationToken::new();
    let (first, commits) = consumer(&h, "batching");
    let task = tokio::spawn(first.run(cancel.clone()));
    until_effects(&h, good).await;
    let applied = effects_in_key_order(&h.db).await;
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
    let (again, _) = consumer(&h, "batching-again");
    let task = tokio::spawn(again.run(cancel.clone()));
    let markers: Vec<ProbeRecorded> = (0..KEYS).map(|k| probe(&format!("k{k}"), 10_000)).collect();
    send_direct(&h, &markers).await;
    until_effects(&h, good + KEYS as i64).await;
    cancel.cancel();
    task.await.unwrap().unwrap();
    let all = effects_in_key_order(&h.db).await;
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "no effect twice");
    assert_eq!(
        count(&h.db, "SELECT COUNT(*) FROM inbox_events").await,
        good + KEYS as i64
    );
}

async fn failed_batch_leaves_nothing_and_duplicates_are_skipped(backend: Backend) {
    let h = harness(backend, 200).await;
    let db = &h.db;
    let handler = ProbeHandler::default();
    let a1 = Envelope::new(SOURCE, &probe("a", 1), None);
    let bad = Envelope::new(SOURCE, &poison("a", 2), None);
    let a3 = Envelope::new(SOURCE, &probe("a", 3), None);

    let failed = apply_batch(db, &handler, &[a1.clone(), bad, a3.clone()]).await;
    assert!(failed.is_err(), "the poison fails the batch");
    assert_eq!(count(db, "SELECT COUNT(*) FROM inbox_events").await, 0);
    assert_eq!(count(db, "SELECT COUNT(*) FROM probe_effects").await, 0);

    let outcomes = apply_batch(db, &handler, &[a1.clone(), a1.clone(), a3.clone()])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [Outcome::Applied, Outcome::Duplicate, Outcome::Applied]
    );
    let outcomes = apply_batch(db, &handler, &[a1.clone(), a3.clone()])
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Duplicate, Outcome::Duplicate]);
    // Old and new mixed, a new one twice, in a batch whose inbox rows are
    // padded (five rows, sent as eight): each new one applied once.
    let a4 = Envelope::new(SOURCE, &probe("a", 4), None);
    let a5 = Envelope::new(SOURCE, &probe("a", 5), None);
    let outcomes = apply_batch(db, &handler, &[a1, a4.clone(), a3, a5, a4])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            Outcome::Duplicate,
            Outcome::Applied,
            Outcome::Duplicate,
            Outcome::Applied,
            Outcome::Duplicate
        ]
    );
    assert_eq!(
        effects_in_key_order(db).await,
        [1, 3, 4, 5].map(|n| ("a".to_owned(), n))
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM inbox_events").await, 4);
}

/// Records what each `dispatch_all` was handed.
#[derive(Default)]
struct Handed {
    inner: ProbeHandler,
    batches: std::sync::Mutex<Vec<Vec<String>>>,
}

#[async_trait::async_trait]
impl Dispatcher for Handed {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        self.inner.dispatch(txn, event).await
    }

    async fn dispatch_all(
        &self,
        txn: &DatabaseTransaction,
        events: &[(&Envelope, tracing::Span)],
    ) -> anyhow::Result<()> {
        self.batches
            .lock()
            .unwrap()
            .push(events.iter().map(|(e, _)| e.id.clone()).collect());
        for (event, _) in events {
            self.inner.dispatch(txn, event).await?;
        }
        Ok(())
    }
}

/// The new events of a batch reach the dispatcher together, in order, in
/// one `dispatch_all` (where notification reads its webhook subscriptions
/// once): duplicates are not handed over, and a batch with nothing new
/// hands over nothing.
async fn the_new_events_of_a_batch_are_handed_over_together(backend: Backend) {
    let h = harness(backend, 200).await;
    let db = &h.db;
    let handler = Handed::default();
    let b1 = Envelope::new(SOURCE, &probe("b", 1), None);
    let b2 = Envelope::new(SOURCE, &probe("b", 2), None);
    let b3 = Envelope::new(SOURCE, &probe("b", 3), None);
    let handed = vec![vec![b1.id.clone()], vec![b2.id.clone(), b3.id.clone()]];
    apply_batch(db, &handler, std::slice::from_ref(&b1))
        .await
        .unwrap();
    let outcomes = apply_batch(db, &handler, &[b2.clone(), b1.clone(), b3.clone(), b2])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            Outcome::Applied,
            Outcome::Duplicate,
            Outcome::Applied,
            Outcome::Duplicate
        ]
    );
    apply_batch(db, &handler, &[b1, b3]).await.unwrap();
    assert_eq!(*handler.batches.lock().unwrap(), handed);
    assert_eq!(
        effects_in_key_order(db).await,
        [1, 2, 3].map(|n| ("b".to_owned(), n))
    );
}

yizhan_kit::backend_tests!(
    backlog_is_applied_in_batches_exactly_once_in_key_order,
    failed_batch_leaves_nothing_and_duplicates_are_skipped,
    the_new_events_of_a_batch_are_handed_over_together,
);
