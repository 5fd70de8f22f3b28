//! The enterprise service's lists page by cursor, over real HTTP on SQLite
//! and PostgreSQL: a department queue of 25 requests in every urgency
//! state read 10 at a time yields each exactly once in urgency order, and
//! so do an enterprise's and a specialist's lists newest first; a bad
//! `limit` or `cursor` is a 422 naming it.

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::enterprise_requests::{set_rules, step};

fn url(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Enterprise, path)
}

/// Every page of `path` (which has no query yet) read `limit` rows at a
/// time: the ids in order and the number of pages. Each page but the last
/// is full and names the next; the last names none.
async fn walk(stack: &TestStack, token: &str, path: &str, limit: u64) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut at = format!("{path}?limit={limit}");
        if let Some(c) = &cursor {
            at.push_str(&format!("&cursor={c}"));
        }
        let page = json_ok(stack.get(url(stack, &at), token).await, 200).await;
        pages += 1;
        let items = page["items"].as_array().unwrap();
        ids.extend(items.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len() as u64, limit, "a page before the last is full");
                cursor = Some(next.to_owned());
            }
            None => {
                assert!(page.get("next_cursor").is_some(), "{page}");
                return (ids, pages);
            }
        }
        assert!(pages < 50, "paging does not end");
    }
}

/// The ids of one page of at most 100 rows, which must be the whole list.
async fn whole(stack: &TestStack, token: &str, path: &str) -> Vec<Value> {
    let page = json_ok(
        stack
            .get(url(stack, &format!("{path}?limit=100")), token)
            .await,
        200,
    )
    .await;
    assert!(page["next_cursor"].is_null(), "{page}");
    page["items"].as_array().unwrap().clone()
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn file(stack: &TestStack, token: &str, uscc: &str, category: &str, n: usize) -> String {
    let filed = json_ok(
        stack
            .post_json(
                url(stack, "/api/v1/requests"),
                token,
                &json!({"enterprise_uscc": uscc, "category": category,
                        "channel": "gaoxintong", "description": format!("第 {n} 件诉求")}),
            )
            .await,
        201,
    )
    .await;
    filed["id"].as_str().unwrap().to_owned()
}

async fn lists_page_through_every_request_once_in_order(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise], backend).await;
    set_rules(&stack).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let finance = reviewer(&stack, "finance_bureau");
    let mut filed = Vec::new();
    for n in 0..25 {
        filed.push(file(&stack, &alice, ENTERPRISE_A, "finance", n).await);
    }
    // Mixed urgency: some accepted (the longer answer limit runs), some
    // waiting on the enterprise (paused, last), the rest to accept.
    for id in &filed[..12] {
        step(&stack, &finance, id, "accept", json!({})).await;
    }
    for id in &filed[..5] {
        let asked = step(
            &stack,
            &finance,
            id,
            "ask",
            json!({"question": "请补充财务报表"}),
        )
        .await;
        assert_eq!(asked["status_name"], "待企业补充");
    }
    // Another department's and another enterprise's requests stay out.
    file(&stack, &alice, ENTERPRISE_A, "talent", 100).await;
    let bobs = file(&stack, &bob, ENTERPRISE_B, "finance", 101).await;

    // The department queue.
    let queue = whole(&stack, &finance, "/api/v1/request-queue").await;
    assert_eq!(queue.len(), 26, "alice's 25 and bob's finance request");
    let states: Vec<&str> = queue
        .iter()
        .map(|r| r["limit"]["state"].as_str().unwrap())
        .collect();
    let first_paused = states.iter().position(|s| *s == "paused").unwrap();
    assert_eq!(first_paused, 21, "paused last: {states:?}");
    assert!(states[first_paused..].iter().all(|s| *s == "paused"));
    let dues: Vec<&str> = queue[..first_paused]
        .iter()
        .map(|r| r["limit"]["due_date"].as_str().unwrap())
        .collect();
    assert!(
        dues.windows(2).all(|w| w[0] <= w[1]),
        "earliest due first: {dues:?}"
    );
    let (paged, pages) = walk(&stack, &finance, "/api/v1/request-queue", 10).await;
    assert_eq!(pages, 3);
    assert_eq!(paged, ids(&queue), "pages of 10 keep the urgency order");
    let mut unique = paged.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 26, "each request exactly once");
    assert!(unique.contains(&bobs));

    // The enterprise's list, newest first.
    let mine = whole(&stack, &alice, "/api/v1/requests").await;
    assert_eq!(mine.len(), 26, "alice's 25 finance and 1 talent request");
    let (paged, pages) = walk(&stack, &alice, "/api/v1/requests", 10).await;
    assert_eq!(pages, 3);
    assert_eq!(paged, ids(&mine));
    assert!(!paged.contains(&bobs));
    let mut newest_first = filed.clone();
    newest_first.reverse();
    assert_eq!(
        paged[1..],
        newest_first[..],
        "newest first, after the talent one"
    );

    // The specialist's open requests, the same way.
    let specialist = stack.token(TokenRequest {
        sub: "specialist-1".into(),
        roles: vec![Role::Specialist],
        enterprises: vec![ENTERPRISE_A.into()],
        ttl_secs: 600,
        ..Default::default()
    });
    step(&stack, &alice, &filed[24], "withdraw", json!({})).await;
    let open = whole(&stack, &specialist, "/api/v1/requests-assigned").await;
    assert_eq!(open.len(), 25, "the withdrawn one is not open");
    let (paged, _) = walk(&stack, &specialist, "/api/v1/requests-assigned", 7).await;
    assert_eq!(paged, ids(&open));

    // Bad paging parameters name their field.
    let benefits = format!("/api/v1/enterprises/{ENTERPRISE_A}/benefits");
    for (path, token) in [
        ("/api/v1/request-queue", &finance),
        ("/api/v1/requests", &alice),
        ("/api/v1/requests-assigned", &specialist),
        ("/api/v1/ratings", &alice),
        (benefits.as_str(), &alice),
    ] {
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("cursor=not-a-cursor", "cursor"),
            ("cursor=eyJ4IjoxfQ", "cursor"),
        ] {
            let bad = expect_problem(
                stack
                    .get(url(&stack, &format!("{path}?{query}")), token)
                    .await,
                422,
                "validation_failed",
            )
            .await;
            assert_eq!(bad["errors"][0]["field"], field, "{path}?{query}: {bad}");
        }
    }
    stack.stop().await;
}

yizhan_kit::backend_tests!(lists_page_through_every_request_once_in_order);
