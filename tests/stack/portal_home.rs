//! The staff home page counts their queues: the clerk how many wait to be
//! accepted and handed out, a reviewer how many of the department's tasks
//! are in each SLA state, each linked to the queue filtered to it. Without
//! the queues' services the home page still answers, with no counts.

use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::crawl_runs::intake;
use crate::portal_pages::{page, submit_store};

/// The number shown in the element marked `data-testid="{id}"` of `html`.
fn count(html: &str, id: &str) -> Option<String> {
    let marker = format!("data-testid=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..html[start..].find('<')? + start].to_owned())
}

async fn home(stack: &TestStack, token: &str) -> String {
    let response = page(stack, Some(token), "/").await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn staff_home_counts_queues_and_sla_states(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Portal], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);

    let before = home(&stack, &clerk).await;
    assert_eq!(count(&before, "count-intake").as_deref(), Some("0"));
    assert_eq!(count(&before, "count-hand-out").as_deref(), Some("0"));
    assert_eq!(count(&before, "count-tasks"), None, "a clerk has no tasks");

    let first = submit_store(&stack, &alice).await;
    submit_store(&stack, &alice).await;
    let waiting = home(&stack, &clerk).await;
    assert_eq!(count(&waiting, "count-intake").as_deref(), Some("2"));

    let accepted = intake(&stack, &first, serde_json::json!({"decision": "accept"})).await;
    let after = home(&stack, &clerk).await;
    assert_eq!(count(&after, "count-intake").as_deref(), Some("1"));

    // Each department with a task counts it as on time, linked to its
    // queue filtered to that state.
    let dept = accepted["tasks"][0]["department_code"].as_str().unwrap();
    let mine = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["department_code"] == dept)
        .count()
        .to_string();
    let html = home(&stack, &reviewer(&stack, dept)).await;
    assert_eq!(count(&html, "count-tasks").as_deref(), Some(mine.as_str()));
    assert_eq!(count(&html, "sla-on_time").as_deref(), Some(mine.as_str()));
    assert_eq!(count(&html, "sla-overdue").as_deref(), Some("0"));
    assert_eq!(count(&html, "sla-warning").as_deref(), Some("0"));
    assert!(html.contains("href=\"/review?sla=on_time\""), "{html}");
    assert!(html.contains("正常"));
    assert_eq!(
        count(&html, "count-intake"),
        None,
        "a reviewer has no intake"
    );

    // The applicant's home has no staff counts.
    let theirs = home(&stack, &alice).await;
    assert_eq!(count(&theirs, "count-intake"), None);
    assert_eq!(count(&theirs, "count-tasks"), None);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_home_counts_queues_and_sla_states_sqlite() {
    staff_home_counts_queues_and_sla_states(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_home_counts_queues_and_sla_states_postgres() {
    if let Some(backend) = Backend::postgres_or_skip() {
        staff_home_counts_queues_and_sla_states(backend).await;
    }
}

/// With neither queue service running the clerk's home still answers,
/// without counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_home_answers_without_the_queues() {
    let stack = TestStack::start(&[Service::Portal], Backend::Sqlite).await;
    let html = home(&stack, &stack.staff("clerk-1", Role::WindowClerk)).await;
    assert!(html.contains("受理队列"));
    assert_eq!(count(&html, "count-intake"), None);
    stack.stop().await;
}
