//! Rate limits on the endpoints anyone may call: past its quota a client
//! address gets 429 problem+json with `Retry-After`, other addresses and
//! other routes are unaffected.

use yizhan::Service;
use yizhan_kit::rate_limit::QuotaSettings;
use yizhan_kit::testing::Backend;

use crate::common::{TestStack, expect_problem};

/// An identifier of the right shape that no certificate has.
const UNKNOWN_ID: &str = "1.2.156.3005.2.HYZHXKZ.91350100M000100Y43.00000001ABCDEFGHIJ.001";

fn quota(burst: u32) -> QuotaSettings {
    // One request a minute sustained: nothing replenishes during the test.
    QuotaSettings {
        per_minute: 1,
        burst,
    }
}

async fn start(services: &[Service], backend: Backend) -> TestStack {
    TestStack::start_tuned(services, backend, |s| {
        s.common.http.rate_limit.public = quota(3);
        s.common.http.rate_limit.login = quota(2);
        s.common.http.rate_limit.client_ip_header = Some("X-Real-IP".into());
    })
    .await
}

/// Asserts a 429 problem+json whose `Retry-After` is a whole number of
/// seconds, at least one.
async fn expect_too_many(response: reqwest::Response) {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After on a 429")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let problem = expect_problem(response, 429, "too_many_requests").await;
    assert!(problem["detail"].as_str().unwrap().contains("秒后重试"));
}

async fn verification_is_limited_per_client_address(backend: Backend) {
    let stack = start(&[Service::Document], backend).await;
    let verify = stack.url(
        Service::Document,
        &format!("/api/v1/verify?id={UNKNOWN_ID}.0"),
    );
    let from = |ip: &'static str| stack.client.get(&verify).header("X-Real-IP", ip);
    for _ in 0..3 {
        assert_eq!(from("203.0.113.7").send().await.unwrap().status(), 200);
    }
    expect_too_many(from("203.0.113.7").send().await.unwrap()).await;
    // Another client address has a bucket of its own.
    assert_eq!(from("203.0.113.8").send().await.unwrap().status(), 200);
    // Routes nobody limits still answer the limited client.
    let health = stack.url(Service::Document, "/healthz");
    let r = stack.client.get(&health).header("X-Real-IP", "203.0.113.7");
    assert_eq!(r.send().await.unwrap().status(), 200);
    stack.stop().await;
}

async fn notices_and_catalogs_are_limited(backend: Backend) {
    let stack = start(&[Service::Licensing, Service::Construction], backend).await;
    for (service, path) in [
        (Service::Licensing, "/api/v1/scenarios"),
        (Service::Construction, "/api/v1/catalog"),
    ] {
        let url = stack.url(service, path);
        for _ in 0..3 {
            let r = stack.client.get(&url).header("X-Real-IP", "198.51.100.1");
            assert_eq!(r.send().await.unwrap().status(), 200, "{path}");
        }
        let r = stack.client.get(&url).header("X-Real-IP", "198.51.100.1");
        expect_too_many(r.send().await.unwrap()).await;
    }
    stack.stop().await;
}

async fn login_pages_are_limited(backend: Backend) {
    let stack = start(
        &[
            Service::Licensing,
            Service::Construction,
            Service::Document,
            Service::Notification,
            Service::Portal,
        ],
        backend,
    )
    .await;
    let login = stack.url(Service::Portal, "/login");
    for _ in 0..2 {
        let r = stack.client.get(&login).header("X-Real-IP", "192.0.2.9");
        assert_eq!(r.send().await.unwrap().status(), 200);
    }
    // The dev login posts to the same class: its bucket is empty too.
    let dev = stack.url(Service::Portal, "/login/dev");
    let r = stack
        .client
        .post(&dev)
        .header("X-Real-IP", "192.0.2.9")
        .form(&[("user", "applicant")]);
    expect_too_many(r.send().await.unwrap()).await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    verification_is_limited_per_client_address,
    notices_and_catalogs_are_limited,
    login_pages_are_limited,
);
