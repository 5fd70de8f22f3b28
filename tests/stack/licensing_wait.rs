//! Conditional and waiting reads of an application: `ETag` on every
//! answer, `If-None-Match` answered 304 while nothing changed, and
//! `Prefer: wait` holding the answer until the application changes (woken
//! by the relay that publishes its events) or the wait is over. And the
//! wake-ups behind it: every hop from the last approval to the licence is
//! woken by the commit before it, not found by a relay's poll.

use serde_json::json;
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::licensing::{accepted_store, lic, uploaded_materials};
use crate::licensing_more::{
    accept, app_url, approve_all, notice, store_answers, submit_store, wait_status,
};

async fn read(
    stack: &TestStack,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = stack.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn waiting_reads_answer_on_change_or_when_the_wait_is_over(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let (url, tobacco, _) = accepted_store(&stack, &alice).await;

    // Every answer is tagged; the same tag back is a 304 without a body.
    let first = read(&stack, &url, Some(&alice), &[]).await;
    assert_eq!(first.status(), 200);
    let etag = header(&first, "etag").expect("an ETag on the answer");
    let before = first.json::<serde_json::Value>().await.unwrap();
    let same = read(&stack, &url, Some(&alice), &[("If-None-Match", &etag)]).await;
    assert_eq!(same.status(), 304);
    assert_eq!(header(&same, "etag").as_deref(), Some(etag.as_str()));
    assert!(same.bytes().await.unwrap().is_empty());
    let other = read(
        &stack,
        &url,
        Some(&alice),
        &[("If-None-Match", "\"older\"")],
    )
    .await;
    assert_eq!(other.status(), 200);

    // A waiting read, then the decision it waits for.
    let waiting = {
        let (client, url, alice, etag) = (
            stack.client.clone(),
            url.clone(),
            alice.clone(),
            etag.clone(),
        );
        tokio::spawn(async move {
            client
                .get(&url)
                .bearer_auth(&alice)
                .header("If-None-Match", &etag)
                .header("Prefer", "wait=30")
                .send()
                .await
                .unwrap()
        })
    };
    json_ok(
        stack
            .post_json(
                lic(&stack, &format!("/api/v1/tasks/{tobacco}/decision")),
                &reviewer(&stack, "tobacco"),
                &json!({"decision": "approve", "permit_number": "XK-WAIT"}),
            )
            .await,
        200,
    )
    .await;
    let changed = waiting.await.unwrap();
    assert_eq!(changed.status(), 200, "the change ends the wait");
    assert_eq!(
        header(&changed, "preference-applied").as_deref(),
        Some("wait=30")
    );
    let new_etag = header(&changed, "etag").unwrap();
    assert_ne!(new_etag, etag);
    let after = changed.json::<serde_json::Value>().await.unwrap();
    let status_of = |app: &serde_json::Value| {
        app["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == tobacco.as_str())
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(&before), "in_review");
    assert_eq!(status_of(&after), "approved");

    // Nothing changes: the wait runs out and answers 304.
    let quiet = read(
        &stack,
        &url,
        Some(&alice),
        &[("If-None-Match", &new_etag), ("Prefer", "wait=1")],
    )
    .await;
    assert_eq!(quiet.status(), 304);
    assert_eq!(
        header(&quiet, "preference-applied").as_deref(),
        Some("wait=1")
    );

    // Bad headers are refused naming them.
    for (name, value) in [("Prefer", "wait=soon"), ("If-None-Match", "no-quotes")] {
        let refused = read(&stack, &url, Some(&alice), &[(name, value)]).await;
        assert_eq!(refused.status(), 400, "{name}: {value}");
        let problem = refused.json::<serde_json::Value>().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], name, "{problem}");
    }

    // Who may not see the application learns nothing from a tag either.
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let stranger = read(&stack, &url, Some(&bob), &[("If-None-Match", &new_etag)]).await;
    assert_eq!(stranger.status(), 404);
    let anonymous = read(&stack, &url, None, &[("If-None-Match", &new_etag)]).await;
    assert_eq!(anonymous.status(), 401);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let clerk_read = read(&stack, &url, Some(&clerk), &[("If-None-Match", &new_etag)]).await;
    assert_eq!(clerk_read.status(), 304, "the same answer for every reader");
    stack.stop().await;
}

/// With relays that poll every ten minutes, the licence still comes within
/// the test's patience: the licensing relay is woken by the decision's
/// commit, the document service's by the commit that issued the
/// certificate (its consumer wakes it only after commits that enqueued),
/// and licensing's consumer applies the answer.
async fn every_hop_to_the_licence_is_woken_by_its_commit(backend: Backend) {
    let stack = TestStack::start_tuned(&[Service::Licensing, Service::Document], backend, |s| {
        s.common.outbox.poll_interval_ms = 600_000
    })
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let notice = notice(&stack, "convenience_store", &store_answers()).await;
    let materials = uploaded_materials(&stack, &alice, &notice).await;
    let app = submit_store(&stack, &alice, materials).await;
    let url = app_url(&stack, &app);
    let accepted = accept(&stack, &url).await;
    approve_all(&stack, &accepted).await;
    let issued = wait_status(&stack, &url, &alice, "licence_issued").await;
    assert!(issued["certificate_id"].is_string(), "{issued}");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    waiting_reads_answer_on_change_or_when_the_wait_is_over,
    every_hop_to_the_licence_is_woken_by_its_commit,
);
