//! A consumer whose process owns the broker and all its producers (the
//! all-in-one stack) pauses its partitions when nothing has been published
//! for a while, resumes the moment a relay of the process publishes, and
//! at the latest after the fallback interval for anything else: nothing is
//! lost or applied twice across the pauses, and per-key order holds.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use yizhan_events::consumer::ConsumerConfig;
use yizhan_events::contracts::{Event, ProbeRecorded};
use yizhan_events::traffic::LocalTraffic;
use yizhan_kit::testing::Backend;

use super::{
    count, effects_in_key_order, enqueue_committed, harness, probe, probe_consumer, send_direct,
    send_envelopes, wait_until,
};

async fn effects(db: &sea_orm::DatabaseConnection, n: i64) {
    wait_until(&format!("{n} effects"), Duration::from_secs(60), || async {
        count(db, "SELECT COUNT(*) FROM probe_effects").await == n
    })
    .await;
}

async fn asleep(traffic: &LocalTraffic) {
    wait_until("the consumer paused", Duration::from_secs(30), || async {
        traffic.sleeping() == 1
    })
    .await;
}

async fn idle_consumer_sleeps_and_wakes_on_local_publishes_and_the_fallback(backend: Backend) {
    let mut h = harness(backend, 100).await;
    let traffic = LocalTraffic::with_timings(Duration::from_millis(200), Duration::from_secs(2));
    h.backbone = h.backbone.clone().with_local_traffic(traffic.clone());
    let cancel = CancellationToken::new();
    let relay = tokio::spawn(h.backbone.relay(h.db.clone()).run(cancel.clone()));
    let consumer = probe_consumer(
        &h,
        ConsumerConfig::new("idle-test", &[ProbeRecorded::TOPIC]),
    );
    let task = tokio::spawn(consumer.run(cancel.clone()));

    let batch = |from: u64| -> Vec<ProbeRecorded> {
        (from..from + 10)
            .map(|seq| probe(&format!("k{}", seq % 3), seq))
            .collect()
    };
    // Traffic through the relay, then silence: the consumer pauses.
    enqueue_committed(&h.db, &batch(0)).await;
    effects(&h.db, 10).await;
    asleep(&traffic).await;
    // A relay publish wakes it (the relay announces; without the
    // announcement it would sleep until the 2 s fallback).
    enqueue_committed(&h.db, &batch(10)).await;
    effects(&h.db, 20).await;
    asleep(&traffic).await;
    // An event sent by a producer that announces nothing (not ours): read
    // after the fallback resume, not lost.
    let direct = send_direct(&h, &batch(20)).await;
    effects(&h.db, 30).await;
    // The same envelopes again (a redelivery after a pause) are skipped.
    asleep(&traffic).await;
    send_envelopes(&h, &direct).await;
    asleep(&traffic).await;
    enqueue_committed(&h.db, &batch(30)).await;
    effects(&h.db, 40).await;

    cancel.cancel();
    task.await.unwrap().unwrap();
    relay.await.unwrap();
    assert_eq!(
        traffic.sleeping(),
        0,
        "a stopped consumer does not count as asleep"
    );
    let applied = effects_in_key_order(&h.db).await;
    assert_eq!(applied.len(), 40, "each event once");
}

yizhan_kit::backend_tests!(idle_consumer_sleeps_and_wakes_on_local_publishes_and_the_fallback,);
