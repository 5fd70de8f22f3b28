//! `/metrics` on every service, scraped as Prometheus would after a store
//! application is submitted (twice, under one `Idempotency-Key`), another
//! is accepted (open tasks), a partner webhook is delivered and a message
//! nobody can read is dead-lettered.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use yizhan::Service;
use yizhan_events::contracts::topics;
use yizhan_kit::testing::Backend;

use crate::common::{ENTERPRISE_A, TestStack, eventually};
use crate::licensing::{accepted_store, submitted_store_with_key};
use crate::webhooks::{Receiver, Reply, material_event, partner, produce_to, subscribe};

const WAIT: Duration = Duration::from_secs(60);

/// The value of the series whose line starts with `name{` and contains
/// every one of `labels` (`key="value"`), summed over matching lines.
fn value(scrape: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let mut found = None;
    for line in scrape.lines() {
        let Some(rest) = line.strip_prefix(name).filter(|r| r.starts_with('{')) else {
            continue;
        };
        let Some((series, number)) = rest.rsplit_once(' ') else {
            continue;
        };
        if labels.iter().all(|l| series.contains(l)) {
            *found.get_or_insert(0.0) += number.parse::<f64>().unwrap();
        }
    }
    found
}

async fn scrape(stack: &TestStack, service: Service) -> String {
    let r = stack
        .client
        .get(stack.url(service, "/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    r.text().await.unwrap()
}

async fn every_service_exports_its_series(backend: Backend) {
    // Without the document service, material references are not checked.
    let services = [
        Service::Licensing,
        Service::Notification,
        Service::Construction,
    ];
    // Background jobs (the open-task gauge) every second.
    let stack = TestStack::start_tuned(&services, backend, |s| {
        s.services.licensing.jobs_interval_secs = 1;
        s.services.construction.job_interval_secs = 1;
    })
    .await;
    let applicant = stack.applicant("metrics-applicant", ENTERPRISE_A);
    let key = uuid::Uuid::now_v7().to_string();
    let (first, _) = submitted_store_with_key(&stack, &applicant, ENTERPRISE_A, Some(&key)).await;
    let (again, _) = submitted_store_with_key(&stack, &applicant, ENTERPRISE_A, Some(&key)).await;
    assert_eq!(first["id"], again["id"]);
    let unknown = stack.url(Service::Licensing, "/api/v1/no-such-thing");
    assert_eq!(
        stack.client.get(unknown).send().await.unwrap().status(),
        404
    );

    let licensing = scrape(&stack, Service::Licensing).await;
    let submit = [
        "service=\"licensing\"",
        "method=\"POST\"",
        "route=\"/api/v1/applications\"",
        "status=\"201\"",
    ];
    // By route template and status; the replay is counted once more.
    assert!(value(&licensing, "yizhan_http_requests_total", &submit).unwrap() >= 2.0);
    assert!(
        value(
            &licensing,
            "yizhan_http_request_duration_seconds_count",
            &submit
        )
        .unwrap()
            >= 2.0
    );
    assert!(
        value(
            &licensing,
            "yizhan_http_request_duration_seconds_sum",
            &submit
        )
        .unwrap()
            > 0.0
    );
    assert!(licensing.contains("yizhan_http_request_duration_seconds_bucket{"));
    let replays = ["service=\"licensing\"", "route=\"/api/v1/applications\""];
    assert!(value(&licensing, "yizhan_idempotent_replays_total", &replays).unwrap() >= 1.0);
    // An unknown path is one series, not one per path.
    let unmatched = [
        "service=\"licensing\"",
        "route=\"unmatched\"",
        "class=\"client\"",
    ];
    assert!(value(&licensing, "yizhan_http_request_errors_total", &unmatched).unwrap() >= 1.0);
    assert!(!licensing.contains("no-such-thing"));

    // The notification service applies the licensing events it consumes.
    eventually(
        "notification counts applied events",
        Duration::from_secs(30),
        || async {
            let scrape = scrape(&stack, Service::Notification).await;
            let applied = ["service=\"notification\"", "outcome=\"applied\""];
            value(&scrape, "yizhan_consumer_messages_total", &applied).filter(|v| *v >= 1.0)
        },
    )
    .await;

    check_backbone_and_task_series(&stack).await;

    // Every service answers /metrics, unauthenticated, like /healthz (the
    // document service and the portal serve it from the same server code).
    for service in services {
        scrape(&stack, service).await;
    }
    stack.stop().await;
}

/// Every line of `name` carrying all of `labels`, as (line, value).
fn lines<'a>(scrape: &'a str, name: &str, labels: &[&str]) -> Vec<(&'a str, f64)> {
    scrape
        .lines()
        .filter(|l| l.strip_prefix(name).is_some_and(|r| r.starts_with('{')))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| Some((l, l.rsplit_once(' ')?.1.parse().ok()?)))
        .collect()
}

/// The outbox, consumer-lag, dead-letter, webhook and open-task series.
async fn check_backbone_and_task_series(stack: &TestStack) {
    // Open tasks: an accepted application gives the tobacco department one.
    let applicant = stack.applicant("metrics-tasks", ENTERPRISE_A);
    accepted_store(stack, &applicant).await;
    // A partner webhook, delivered.
    let receiver = Receiver::start(|_| Reply::status(204)).await;
    let token = partner(stack, "metrics-partner");
    subscribe(stack, &token, &receiver.url).await;
    let event = material_event(&uuid::Uuid::now_v7().to_string(), "metrics.pdf");
    produce_to(&stack.brokers, topics::DOCUMENT, &event).await;
    // A message nobody can read: dead-lettered at once.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &stack.brokers)
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to(topics::DOCUMENT)
                .key("metrics")
                .payload("not an event"),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();

    let notification = eventually("webhook, dead letter and lag series", WAIT, || async {
        let scrape = scrape(stack, Service::Notification).await;
        let delivered = ["service=\"notification\"", "outcome=\"delivered\""];
        let dead = ["service=\"notification\"", "outcome=\"dead_lettered\""];
        let lag = lines(
            &scrape,
            "yizhan_consumer_lag_messages",
            &["service=\"notification\""],
        );
        // Drained: every partition the consumer has read is at its end.
        let drained = lag.iter().any(|(l, _)| l.contains(topics::LICENSING))
            && lag.iter().any(|(l, _)| l.contains(topics::DOCUMENT))
            && lag.iter().all(|(_, v)| *v == 0.0);
        (value(&scrape, "yizhan_webhook_deliveries_total", &delivered).is_some_and(|v| v >= 1.0)
            && value(&scrape, "yizhan_consumer_messages_total", &dead).is_some_and(|v| v >= 1.0)
            && drained)
            .then_some(scrape)
    })
    .await;
    assert!(
        notification.contains("partition=\""),
        "lag is per partition"
    );

    for (service, name) in [
        (Service::Licensing, "licensing"),
        (Service::Notification, "notification"),
        (Service::Construction, "construction"),
    ] {
        let label = format!("service=\"{name}\"");
        eventually(&format!("{name}'s outbox drained"), WAIT, || async {
            let scrape = scrape(stack, service).await;
            let backlog = value(&scrape, "yizhan_outbox_backlog", &[&label])?;
            let age = value(
                &scrape,
                "yizhan_outbox_oldest_unpublished_age_seconds",
                &[&label],
            )?;
            (backlog == 0.0 && age == 0.0).then_some(())
        })
        .await;
    }

    eventually("open tasks by department and SLA state", WAIT, || async {
        let licensing = scrape(stack, Service::Licensing).await;
        let tobacco = [
            "service=\"licensing\"",
            "department=\"tobacco\"",
            "sla_state=\"on_time\"",
        ];
        value(&licensing, "yizhan_open_tasks", &tobacco).filter(|v| *v >= 1.0)?;
        for state in ["warning", "overdue", "paused"] {
            let state = format!("sla_state=\"{state}\"");
            let zero = [tobacco[0], tobacco[1], state.as_str()];
            // A fresh task is on time; the other states are there, at 0.
            (value(&licensing, "yizhan_open_tasks", &zero)? == 0.0).then_some(())?;
        }
        // Construction has no task in this run: its catalog departments
        // are listed with zeros.
        let construction = scrape(stack, Service::Construction).await;
        let rows = lines(
            &construction,
            "yizhan_open_tasks",
            &["service=\"construction\"", "sla_state=\"overdue\""],
        );
        (!rows.is_empty() && rows.iter().all(|(_, v)| *v == 0.0)).then_some(())
    })
    .await;
}

yizhan_kit::backend_tests!(every_service_exports_its_series);
