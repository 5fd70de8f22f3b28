//! Events a dispatcher does not handle are skipped: no transaction, no
//! inbox row, never dispatched, and the partition moves past them in order
//! with the events it does handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::DatabaseTransaction;
use tokio_util::sync::CancellationToken;
use yizhan_events::Envelope;
use yizhan_events::consumer::{ConsumerConfig, Dispatcher, EventConsumer};
use yizhan_events::contracts::{Event, ProbeRecorded};
use yizhan_events::probe::ProbeHandler;
use yizhan_kit::testing::Backend;

use super::{SOURCE, count, effects_in_key_order, harness, probe, send_envelopes, wait_until};

/// A type no dispatcher here handles, on the probe topic.
const OTHER: &str = "cn.yizhan.test.other_fact.v1";

/// The probe handler, handling probes only and counting what it is given.
#[derive(Default)]
struct ProbesOnly {
    inner: ProbeHandler,
    dispatched: AtomicUsize,
}

#[async_trait::async_trait]
impl Dispatcher for ProbesOnly {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        self.dispatched.fetch_add(1, Ordering::SeqCst);
        self.inner.dispatch(txn, event).await
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type == ProbeRecorded::TYPE
    }
}

async fn unhandled_events_are_skipped_in_order_without_inbox_rows(backend: Backend) {
    let h = harness(backend, 100).await;
    // One key, so one partition: probes with other facts between them,
    // and other facts last.
    let mut envelopes = Vec::new();
    for seq in 0..30u64 {
        let mut envelope = Envelope::new(SOURCE, &probe("k", seq), None);
        if seq % 3 != 0 {
            envelope.event_type = OTHER.to_owned();
        }
        envelopes.push(envelope);
    }
    let handled = envelopes
        .iter()
        .filter(|e| e.event_type == ProbeRecorded::TYPE)
        .count() as i64;
    send_envelopes(&h, &envelopes).await;

    let handler = Arc::new(ProbesOnly::default());
    let consumer = EventConsumer::new(
        h.db.clone(),
        &h.backbone,
        ConsumerConfig::new("skipping-test", &[ProbeRecorded::TOPIC]),
        handler.clone(),
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let running = tokio::spawn(consumer.run(cancel.clone()));
    wait_until("the probes applied", Duration::from_secs(60), || async {
        count(&h.db, "SELECT COUNT(*) FROM probe_effects").await == handled
    })
    .await;
    cancel.cancel();
    running.await.unwrap().unwrap();

    let effects = effects_in_key_order(&h.db).await;
    let seqs: Vec<i64> = effects.iter().map(|(_, s)| *s).collect();
    assert_eq!(seqs, (0..30).step_by(3).collect::<Vec<i64>>());
    assert_eq!(
        count(&h.db, "SELECT COUNT(*) FROM inbox_events").await,
        handled,
        "an inbox row for each probe, none for the other facts"
    );
    assert_eq!(
        handler.dispatched.load(Ordering::SeqCst) as i64,
        handled,
        "the other facts were never dispatched"
    );
}

yizhan_kit::backend_tests!(unhandled_events_are_skipped_in_order_without_inbox_rows);
