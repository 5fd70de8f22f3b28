//! The cross-service slice: an upload to document becomes a message in the
//! uploader's inbox at notification, through Kafka.

use std::time::Duration;

use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::*;

async fn upload_reaches_the_uploaders_inbox_and_nobody_elses(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);

    let response = upload(
        &stack,
        &alice,
        "business_licence_copy",
        "营业执照.pdf",
        pdf_bytes(2048, "slice"),
        &[],
    )
    .await;
    assert_eq!(response.status(), 201);
    let material: serde_json::Value = response.json().await.unwrap();
    let material_id = material["id"].as_str().unwrap().to_owned();
    assert_eq!(material["enterprise_uscc"], ENTERPRISE_A);
    assert_eq!(material["size_bytes"], 2048);
    assert_eq!(material["sha256"].as_str().unwrap().len(), 64);

    let inbox_url = stack.url(Service::Notification, "/api/v1/inbox/messages");
    let page: serde_json::Value =
        eventually("the inbox message", Duration::from_secs(60), || async {
            let page: serde_json::Value = stack.get_json(&inbox_url, &alice).await;
            (page["items"].as_array().unwrap().len() == 1).then_some(page)
        })
        .await;
    let message = &page["items"][0];
    assert_eq!(message["title"], "材料已上传");
    assert!(message["body"].as_str().unwrap().contains("营业执照.pdf"));
    assert_eq!(message["link"], format!("/api/v1/materials/{material_id}"));
    assert_eq!(message["read"], false);

    // Another enterprise's applicant sees nothing, and cannot mark it read.
    let other: serde_json::Value = stack.get_json(&inbox_url, &bob).await;
    assert_eq!(other["items"].as_array().unwrap().len(), 0);
    let message_id = message["id"].as_str().unwrap();
    let read_url = stack.url(
        Service::Notification,
        &format!("/api/v1/inbox/messages/{message_id}/read"),
    );
    let refused = stack.post(&read_url, &bob).await;
    expect_problem(refused, 404, "not_found").await;

    let count_url = stack.url(Service::Notification, "/api/v1/inbox/unread-count");
    let unread: serde_json::Value = stack.get_json(&count_url, &alice).await;
    assert_eq!(unread["unread"], 1);
    let marked = stack.post(&read_url, &alice).await;
    assert_eq!(marked.status(), 204);
    let unread: serde_json::Value = stack.get_json(&count_url, &alice).await;
    assert_eq!(unread["unread"], 0);
    stack.stop().await;
}

async fn inbox_pages_with_cursor_unread_first(backend: Backend) {
    let stack = TestStack::start(&[Service::Document, Service::Notification], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    for i in 0..5 {
        let r = upload(
            &stack,
            &alice,
            "floor_plan",
            &format!("plan-{i}.pdf"),
            pdf_bytes(100, &i.to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let url = stack.url(Service::Notification, "/api/v1/inbox/messages");
    let first: serde_json::Value = eventually("five messages", Duration::from_secs(60), || async {
        let p: serde_json::Value = stack.get_json(format!("{url}?limit=10"), &alice).await;
        (p["items"].as_array().unwrap().len() == 5).then_some(p)
    })
    .await;
    // Read the newest one: it must move behind the unread ones.
    let newest = first["items"][0]["id"].as_str().unwrap().to_owned();
    let r = stack
        .post(
            stack.url(
                Service::Notification,
                &format!("/api/v1/inbox/messages/{newest}/read"),
            ),
            &alice,
        )
        .await;
    assert_eq!(r.status(), 204);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_url = match &cursor {
            Some(c) => format!("{url}?limit=2&cursor={c}"),
            None => format!("{url}?limit=2"),
        };
        let page: serde_json::Value = stack.get_json(page_url, &alice).await;
        for item in page["items"].as_array().unwrap() {
            seen.push((
                item["id"].as_str().unwrap().to_owned(),
                item["read"].as_bool().unwrap(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        5,
        "every message exactly once across pages: {seen:?}"
    );
    assert_eq!(
        seen.last().unwrap(),
        &(newest, true),
        "read message comes last"
    );
    assert!(seen[..4].iter().all(|(_, read)| !read));
    stack.stop().await;
}

/// The embedded broker forgets everything when the stack stops. An event
/// published to it but not yet consumed must still arrive after a restart:
/// the producing service re-drives its retained outbox and the consumer's
/// inbox drops what it already applied.
async fn events_survive_a_restart_of_the_embedded_stack(backend: Backend) {
    // Notification is not running: the event is published but nobody consumes it.
    let mut stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let r = upload(
        &stack,
        &alice,
        "floor_plan",
        "before-restart.pdf",
        pdf_bytes(100, "1"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 201);
    stack
        .restart(&[Service::Document, Service::Notification])
        .await;
    let inbox_url = stack.url(Service::Notification, "/api/v1/inbox/messages");
    eventually(
        "the pre-restart event in the inbox",
        Duration::from_secs(60),
        || async {
            let page: serde_json::Value = stack.get_json(&inbox_url, &alice).await;
            (page["items"].as_array().unwrap().len() == 1).then_some(())
        },
    )
    .await;
    // A second restart re-drives the same event again; it is not applied twice.
    let r = upload(
        &stack,
        &alice,
        "floor_plan",
        "after-restart.pdf",
        pdf_bytes(100, "2"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 201);
    stack
        .restart(&[Service::Document, Service::Notification])
        .await;
    let r = upload(
        &stack,
        &alice,
        "floor_plan",
        "marker.pdf",
        pdf_bytes(100, "3"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 201);
    let inbox_url = stack.url(Service::Notification, "/api/v1/inbox/messages");
    // The three events have different keys, so different partitions: no
    // order between them. Wait until all three arrived, the re-driven
    // outbox is published, and the consumer has committed everything the
    // broker holds: any duplicate (from the two re-drives) was handled by
    // then, applied or dropped.
    let bodies = |page: serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    eventually("all three messages", Duration::from_secs(60), || async {
        let seen = bodies(
            stack
                .get_json(format!("{inbox_url}?limit=50"), &alice)
                .await,
        );
        ["before-restart.pdf", "after-restart.pdf", "marker.pdf"]
            .iter()
            .all(|name| seen.iter().any(|b| b.contains(name)))
            .then_some(())
    })
    .await;
    let document = stack.connect(Service::Document).await;
    eventually(
        "the document outbox published",
        Duration::from_secs(60),
        || async {
            (yizhan_events::outbox::pending_count(&document)
                .await
                .unwrap()
                == 0)
                .then_some(())
        },
    )
    .await;
    eventually(
        "notification caught up with the broker",
        Duration::from_secs(60),
        || async {
            consumer_caught_up(
                &stack.brokers,
                "notification",
                &[yizhan_events::contracts::topics::DOCUMENT],
            )
            .await
            .then_some(())
        },
    )
    .await;
    let seen = bodies(
        stack
            .get_json(format!("{inbox_url}?limit=50"), &alice)
            .await,
    );
    assert_eq!(seen.len(), 3, "each event applied once: {seen:?}");
    stack.stop().await;
}

/// An incoming W3C trace context is continued: the response carries the same trace id.
async fn trace_context_is_continued_over_http(backend: Backend) {
    let stack = TestStack::start(&[Service::Notification], backend).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = stack
        .client
        .get(stack.url(Service::Notification, "/healthz"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    let out = r.headers()["traceparent"].to_str().unwrap().to_owned();
    assert_eq!(out.split('-').nth(1), Some(trace_id), "{out}");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    events_survive_a_restart_of_the_embedded_stack,
    trace_context_is_continued_over_http,
    upload_reaches_the_uploaders_inbox_and_nobody_elses,
    inbox_pages_with_cursor_unread_first,
);
