//! Backbone benchmark: events/s through outbox -> Kafka (embedded broker) ->
//! inbox consumer, and the latency from the producing commit to the
//! consumer's effect, on SQLite or PostgreSQL.
//!
//! ```sh
//! cargo bench -p yizhan-events --bench backbone                       # SQLite
//! YIZHAN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench -p yizhan-events --bench backbone -- --postgres       # PostgreSQL
//! cargo bench -p yizhan-events --bench backbone -- --events 50000 --producers 8 --per-txn 5
//! cargo bench -p yizhan-events --bench backbone -- --events 5000 --rate 500   # latency at a steady load
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use tokio_util::sync::CancellationToken;
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::consumer::{ConsumerConfig, EventConsumer};
use yizhan_events::contracts::{Event, ProbeRecorded};
use yizhan_events::outbox::{self, RelayConfig};
use yizhan_events::probe::{Migrator, ProbeHandler};
use yizhan_events::runtime::Backbone;
use yizhan_kit::testing::Backend;

struct Args {
    events: u64,
    producers: u64,
    per_txn: u64,
    keys: u64,
    /// Total events/s to offer (0 = as fast as possible).
    rate: u64,
    postgres: bool,
}

fn args() -> Args {
    let mut a = Args {
        events: 10_000,
        producers: 4,
        per_txn: 1,
        keys: 64,
        rate: 0,
        postgres: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .and_then(|v| v.parse().ok())
                .expect("flag needs a number")
        };
        match flag.as_str() {
            "--events" => a.events = value(),
            "--producers" => a.producers = value(),
            "--per-txn" => a.per_txn = value(),
            "--keys" => a.keys = value(),
            "--rate" => a.rate = value(),
            "--postgres" => a.postgres = true,
            "--bench" => {}
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let backend = if a.postgres {
        Backend::postgres_from_env().expect("--postgres needs YIZHAN_TEST_DATABASE_URL")
    } else {
        Backend::Sqlite
    };
    let label = if a.postgres { "PostgreSQL" } else { "SQLite" };
    let database = backend.fresh_database("bench").await;
    let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&database.url)
        .await
        .unwrap();
    let broker = EmbeddedBroker::start(&[ProbeRecorded::TOPIC]).unwrap();
    let backbone = Backbone::connect(
        broker.bootstrap_servers(),
        "bench",
        RelayConfig {
            poll_interval: Duration::from_millis(100),
            batch_size: 500,
            ..Default::default()
        },
    )
    .unwrap();
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(a.events as usize)));
    let cancel = CancellationToken::new();
    let relay = tokio::spawn(backbone.relay(db.clone()).run(cancel.clone()));
    let consumer = EventConsumer::new(
        db.clone(),
        &backbone,
        ConsumerConfig::new("bench", &[ProbeRecorded::TOPIC]),
        Arc::new(ProbeHandler {
            latencies: Some(latencies.clone()),
        }),
    )
    .unwrap();
    let consumer = tokio::spawn(consumer.run(cancel.clone()));

    // Warm up: one event through, so the consumer group has joined before timing.
    {
        let txn = db.begin().await.unwrap();
        outbox::enqueue(
            &txn,
            "/bench",
            &ProbeRecorded {
                key: "warmup".into(),
                seq: 0,
                sent_at_micros: chrono::Utc::now().timestamp_micros(),
                poison: false,
            },
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        backbone.signal.wake();
        while count(&db).await < 1 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        latencies.lock().unwrap().clear();
    }

    let started = Instant::now();
    let per_producer = a.events / a.producers;
    let mut producers = Vec::new();
    for p in 0..a.producers {
        let db = db.clone();
        let signal = backbone.signal.clone();
        let (per_txn, keys) = (a.per_txn, a.keys);
        // Paced producers offer a steady load, so latency is not queueing.
        let mut pace = (a.rate > 0).then(|| {
            let txns_per_sec = a.rate as f64 / a.producers as f64 / per_txn as f64;
            tokio::time::interval(Duration::from_secs_f64(1.0 / txns_per_sec))
        });
        producers.push(tokio::spawn(async move {
            let mut seq = 0;
            while seq < per_producer {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                let txn = db.begin().await.unwrap();
                for _ in 0..per_txn.min(per_producer - seq) {
                    let event = ProbeRecorded {
                        key: format!("k{}", (p * per_producer + seq) % keys),
                        seq: p * per_producer + seq,
                        sent_at_micros: chrono::Utc::now().timestamp_micros(),
                        poison: false,
                    };
                    outbox::enqueue(&txn, "/bench", &event).await.unwrap();
                    seq += 1;
                }
                txn.commit().await.unwrap();
                signal.wake();
            }
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    let produced_in = started.elapsed();
    let total = per_producer * a.producers + 1;
    while (count(&db).await as u64) < total {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    cancel.cancel();
    relay.await.unwrap();
    consumer.await.unwrap().unwrap();

    let mut l = latencies.lock().unwrap().clone();
    l.sort_unstable();
    let n = total - 1;
    let offered = if a.rate > 0 {
        format!("{} events/s offered", a.rate)
    } else {
        "unpaced".to_owned()
    };
    println!(
        "backbone benchmark on {label}: {n} events, {} producers, {} per transaction, {} keys, {offered}",
        a.producers, a.per_txn, a.keys
    );
    println!(
        "  committed in     {:>8.2} s  ({:.0} events/s into the outbox)",
        produced_in.as_secs_f64(),
        n as f64 / produced_in.as_secs_f64()
    );
    println!(
        "  end to end in    {:>8.2} s  ({:.0} events/s outbox -> Kafka -> inbox)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  commit -> effect  p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        percentile(&l, 0.50),
        percentile(&l, 0.90),
        percentile(&l, 0.99),
        percentile(&l, 1.0)
    );
    drop(broker);
}

async fn count(db: &sea_orm::DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM probe_effects".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}
