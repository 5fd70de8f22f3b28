//! Crash, broker-outage and database-outage runs over real processes on
//! PostgreSQL: `yizhan broker` plus one `yizhan serve` per service, hotel
//! bundles driven through the whole flow (notice, materials, submission,
//! intake, six approvals, licence, hand-out) while processes are SIGKILLed
//! and restarted, the broker stopped, a consumer's database taken away.
//!
//! Written in Rust rather than Python so the driver reuses the stack's own
//! pieces (the sample hotel form, token minting, the test databases and the
//! outage helper) instead of copying them, and the assertions read the
//! services' tables with the same driver the services use.
//!
//! Ignored by default (it takes a couple of minutes and needs PostgreSQL);
//! `.ci/run` runs it with `--run-ignored only`. Figures are printed as
//! `crash-report:` lines.

mod checks;
mod cluster;
mod flow;

use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use yizhan::Service;
use yizhan_kit::testing::TEST_DATABASE_URL_ENV;

use cluster::{Cluster, Proc, SERVICES};
use flow::Driver;

fn admin_url() -> String {
    std::env::var(TEST_DATABASE_URL_ENV)
        .unwrap_or_else(|_| panic!("the crash runs need PostgreSQL: set {TEST_DATABASE_URL_ENV}"))
}

/// Waits until every outbox is empty; answers how long it took.
async fn drained(cluster: &Cluster) -> Duration {
    let started = Instant::now();
    while checks::pending_outbox(cluster).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "outboxes never drained"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    started.elapsed()
}

async fn assert_nothing_doubled(cluster: &Cluster, handed_out: &[String]) -> i64 {
    // The outboxes being empty says every event reached the broker, not
    // that the notification service (perhaps just restarted, rejoining its
    // group) has consumed them yet: wait until it has been fed, within a
    // bound, before looking for anything applied twice.
    let started = Instant::now();
    while checks::inbox_messages(cluster).await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "notification was never fed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let doubled: Vec<_> = checks::duplicates(cluster).await;
    println!("crash-report: duplicates {doubled:?}");
    let total: i64 = doubled.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 0, "something was applied twice: {doubled:?}");
    assert_eq!(
        checks::certificates(cluster).await,
        handed_out.len() as i64,
        "exactly one certificate per application"
    );
    total
}

const BUNDLES: usize = 12;
const CONCURRENCY: usize = 4;
const KILLS: usize = 10;

/// Random SIGKILLs of services and the broker while bundles flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "multi-process crash run; .ci/run runs it"]
async fn crash_run_loses_nothing_and_doubles_nothing() {
    let mut cluster = Cluster::new(admin_url()).await;
    cluster.start_all().await;
    let driver = Driver::new(&cluster);
    let bundles = {
        let driver = driver.clone();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            futures_util::stream::iter(0..BUNDLES)
                .map(|n| {
                    let driver = driver.clone();
                    async move { driver.bundle(&format!("crash-bundle-{n}")).await }
                })
                .buffer_unordered(CONCURRENCY)
                .collect::<Vec<String>>()
                .await
        })
    };
    let victims: Vec<Proc> = std::iter::once(Proc::Broker)
        .chain(SERVICES.iter().map(|s| Proc::Serve(*s)))
        .collect();
    let mut kills = 0;
    while kills < KILLS || !bundles.is_finished() {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if kills >= 3 * KILLS {
            break;
        }
        let victim = *victims.choose(&mut rand::rng()).unwrap();
        cluster.kill(victim);
        kills += 1;
        cluster.start(victim).await;
    }
    let last_restart = Instant::now();
    let handed_out = bundles.await.unwrap();
    let drain = drained(&cluster).await;
    let since_last_kill = last_restart.elapsed();
    let counters = &driver.counters;
    assert_eq!(handed_out.len(), BUNDLES, "every bundle handed out");
    for id in &handed_out {
        assert_eq!(driver.application(id).await["status"], "handed_out");
    }
    let doubled = assert_nothing_doubled(&cluster, &handed_out).await;
    println!(
        "crash-report: kills {kills}, bundles {}, lost {}, doubled {doubled}, drain {:.1} s after the driver finished ({:.1} s after the last restart), retried requests {}, 5xx {}",
        handed_out.len(),
        BUNDLES - handed_out.len(),
        drain.as_secs_f64(),
        since_last_kill.as_secs_f64(),
        counters.retried.load(std::sync::atomic::Ordering::Relaxed),
        counters
            .server_errors
            .load(std::sync::atomic::Ordering::Relaxed),
    );
}

/// Writes succeed while the broker is down; their events drain once it is
/// back, with no service restarted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "multi-process outage run; .ci/run runs it"]
async fn broker_outage_run_writes_through_and_drains_without_restarts() {
    let mut cluster = Cluster::new(admin_url()).await;
    cluster.start_all().await;
    let driver = Driver::new(&cluster);
    cluster.kill(Proc::Broker);
    let mut apps = Vec::new();
    for n in 0..3 {
        let (id, tasks) = driver
            .submit_and_accept(&format!("broker-outage-{n}"))
            .await;
        driver.approve(&id, &tasks).await;
        apps.push(id);
    }
    let server_errors = driver
        .counters
        .server_errors
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        server_errors, 0,
        "writes answered 5xx while the broker was down"
    );
    assert!(
        checks::pending_outbox(&cluster).await > 0,
        "events waited in the outboxes"
    );
    let back = Instant::now();
    cluster.start(Proc::Broker).await;
    for id in &apps {
        driver.hand_out(id).await;
    }
    drained(&cluster).await;
    let drain = back.elapsed();
    assert_nothing_doubled(&cluster, &apps).await;
    println!(
        "crash-report: broker outage: {} bundles written while it was down, 0 5xx, all handed out {:.1} s after it came back, no service restarted",
        apps.len(),
        drain.as_secs_f64()
    );
}

/// The document service's database goes away while licences are
/// requested: nothing is dead-lettered and every licence is issued after.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "multi-process outage run; .ci/run runs it"]
async fn database_outage_run_dead_letters_nothing() {
    let mut cluster = Cluster::new(admin_url()).await;
    cluster.start_all().await;
    let driver = Driver::new(&cluster);
    let mut prepared = Vec::new();
    for n in 0..3 {
        let (id, mut tasks) = driver.submit_and_accept(&format!("db-outage-{n}")).await;
        let last = tasks.pop().unwrap();
        driver.approve(&id, &tasks).await;
        prepared.push((id, last));
    }
    let outage = yizhan_kit::outage::DatabaseOutage::begin(
        &cluster.backend,
        cluster.database_url(Service::Document),
    )
    .await;
    // The last approvals: licensing asks document for each licence, whose
    // consumer cannot reach its database.
    for (id, last) in &prepared {
        driver.approve(id, std::slice::from_ref(last)).await;
    }
    let readyz = reqwest::get(cluster.url(Service::Document, "/readyz"))
        .await
        .unwrap();
    assert_eq!(
        readyz.status(),
        503,
        "document is unready without its database"
    );
    let started = Instant::now();
    // Long enough for the old consumer to have dead-lettered (5 tries from
    // 200 ms, about 6 s): the outage is what it is, not a timing trick.
    tokio::time::sleep(Duration::from_secs(10)).await;
    outage.end().await;
    for (id, _) in &prepared {
        driver.hand_out(id).await;
    }
    drained(&cluster).await;
    let ids: Vec<String> = prepared.iter().map(|(id, _)| id.clone()).collect();
    assert_nothing_doubled(&cluster, &ids).await;
    let kafka = yizhan_events::kafka::KafkaConfig {
        brokers: cluster.brokers(),
        client_id: "crash-test".into(),
    };
    let dead = tokio::task::spawn_blocking(move || {
        kafka.message_count(&yizhan_events::contracts::topics::dead_letter("document"))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(dead, 0, "nothing dead-lettered");
    println!(
        "crash-report: database outage: document's database away 10 s under {} licence requests, 0 dead-lettered, all issued and handed out {:.1} s after it went away",
        prepared.len(),
        started.elapsed().as_secs_f64()
    );
}
