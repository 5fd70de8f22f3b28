//! 站内消息 in the portal: after a hotel submission the applicant's header
//! shows an unread count on every page, the inbox page lists the messages
//! in Chinese with a link to the application, and marking one read (a
//! form with its CSRF token) lowers the count. Without the notification
//! service the pages still answer and the header just has no count.

use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;
use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::crawl_runs::{hotel, intake};
use crate::portal_pages::{client, csrf, page, session};

/// The header's unread count on `path`, or `None` when it shows none.
async fn unread_on(stack: &TestStack, token: &str, path: &str) -> Option<u64> {
    let response = page(stack, Some(token), path).await;
    assert_eq!(response.status(), 200, "{path}");
    let html = response.text().await.unwrap();
    let start = html.find("data-testid=\"unread\">")? + "data-testid=\"unread\">".len();
    let digits: String = html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some(digits.parse().unwrap())
}

/// Waits until the licensing and document services have published every
/// event and the notification service has applied all of them.
async fn everything_delivered(stack: &TestStack) {
    for service in [Service::Licensing, Service::Document] {
        let db = stack.connect(service).await;
        eventually("the outbox published", Duration::from_secs(60), || async {
            (yizhan_events::outbox::pending_count(&db).await.unwrap() == 0).then_some(())
        })
        .await;
    }
    eventually(
        "notification caught up with the broker",
        Duration::from_secs(60),
        || async {
            use yizhan_events::contracts::topics;
            consumer_caught_up(
                &stack.brokers,
                "notification",
                &[topics::LICENSING, topics::DOCUMENT],
            )
            .await
            .then_some(())
        },
    )
    .await;
}

async fn inbox_lists_marks_read_and_counts(backend: Backend) {
    let stack = TestStack::start(
        &[
            Service::Licensing,
            Service::Document,
            Service::Notification,
            Service::Portal,
        ],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let app = hotel(&stack, &alice, &[]).await;
    let id = app["id"].as_str().unwrap().to_owned();
    intake(&stack, &app, json!({"decision": "accept"})).await;

    // The acceptance reaches the inbox through the event stream.
    let html = eventually(
        "the acceptance in the inbox",
        // An event hop under a loaded CI machine; the suite's other event
        // waits allow 60 s too.
        Duration::from_secs(60),
        || {
            let stack = &stack;
            let alice = &alice;
            async move {
                let html = page(stack, Some(alice), "/inbox")
                    .await
                    .text()
                    .await
                    .unwrap();
                // Addresses the page built are escaped (`/` as `&#x2f;`).
                let html = html.replace("&#x2f;", "/");
                html.contains("申请已受理").then_some(html)
            }
        },
    )
    .await;
    assert!(html.contains("办件进度"), "category by its name");
    assert!(
        html.contains(&format!("href=\"/licensing/applications/{id}\"")),
        "links to the application page"
    );
    assert!(html.contains("材料已上传"), "the uploads' messages too");

    // Every page's header carries the count, once every message the
    // filing and the acceptance cause has arrived (more follow the first).
    everything_delivered(&stack).await;
    let before = unread_on(&stack, &alice, "/")
        .await
        .expect("a count on home");
    assert!(before > 0);
    assert_eq!(unread_on(&stack, &alice, "/licensing").await, Some(before));
    assert_eq!(
        unread_on(&stack, &alice, &format!("/licensing/applications/{id}")).await,
        Some(before)
    );

    // Mark the acceptance read through its form.
    let start = html.find("申请已受理").unwrap();
    let action_at = html[start..].find("action=\"/inbox/").unwrap() + start + 8;
    let action = &html[action_at..action_at + html[action_at..].find('"').unwrap()];
    assert!(action.ends_with("/read"), "{action}");
    let without_csrf = client()
        .post(stack.url(Service::Portal, action))
        .header(COOKIE, session(&alice))
        .form(&[("_csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(without_csrf.status(), 403, "a forged form is refused");
    assert_eq!(unread_on(&stack, &alice, "/").await, Some(before));
    let marked = client()
        .post(stack.url(Service::Portal, action))
        .header(COOKIE, session(&alice))
        .form(&[("_csrf", csrf(&stack, &alice).await)])
        .send()
        .await
        .unwrap();
    assert_eq!(marked.status(), 303);
    let back = marked.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(back.starts_with("/inbox?msg="), "{back}");
    let after = unread_on(&stack, &alice, &back).await.unwrap_or(0);
    assert_eq!(after, before - 1);
    let html = page(&stack, Some(&alice), &back)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("已标为已读"), "the flash");
    let start = html.find("申请已受理").unwrap();
    assert!(
        html[start..].find("已读").unwrap() < html[start..].find("<form").unwrap_or(usize::MAX),
        "the acceptance reads 已读 and has no form any more"
    );

    // Someone else's inbox does not list alice's messages.
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let theirs = page(&stack, Some(&bob), "/inbox")
        .await
        .text()
        .await
        .unwrap();
    assert!(!theirs.contains("申请已受理"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inbox_lists_marks_read_and_counts_sqlite() {
    inbox_lists_marks_read_and_counts(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inbox_lists_marks_read_and_counts_postgres() {
    if let Some(backend) = Backend::postgres_or_skip() {
        inbox_lists_marks_read_and_counts(backend).await;
    }
}

/// Without the notification service every page still answers, the header
/// has no count, and the inbox page says the service is unavailable.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_answer_without_the_notification_service() {
    let stack = TestStack::start(&[Service::Licensing, Service::Portal], Backend::Sqlite).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    assert_eq!(unread_on(&stack, &alice, "/").await, None);
    assert_eq!(
        unread_on(&stack, &alice, "/licensing/applications").await,
        None
    );
    let inbox = page(&stack, Some(&alice), "/inbox").await;
    assert_eq!(inbox.status(), 503);
    let html = inbox.text().await.unwrap();
    assert!(html.contains("消息通知服务"), "names the service");
    assert!(
        html.contains("data-testid=\"who\""),
        "keeps the signed-in header"
    );
    stack.stop().await;
}
