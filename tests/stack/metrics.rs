//! `/metrics` on every service, scraped as Prometheus would after a store
//! application is submitted (twice, under one `Idempotency-Key`).

use std::time::Duration;

use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::{ENTERPRISE_A, TestStack, eventually};
use crate::licensing::submitted_store_with_key;

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
    let stack = TestStack::start(&services, backend).await;
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

    // Every service answers /metrics, unauthenticated, like /healthz (the
    // document service and the portal serve it from the same server code).
    for service in services {
        scrape(&stack, service).await;
    }
    stack.stop().await;
}

yizhan_kit::backend_tests!(every_service_exports_its_series);
