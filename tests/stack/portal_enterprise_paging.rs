//! The portal's enterprise lists page like the service: a department
//! queue and an enterprise's 我的诉求 longer than a page show 50 rows and
//! a 下一页 link, and following it shows the rest, each request once; a
//! forged cursor is a refusal page, never a server error.

use serde_json::json;
use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::enterprise_requests::set_rules;
use crate::portal_enterprise_own::ent;
use crate::portal_pages::page;

/// The request ids a page lists and its 下一页 link (unescaped), if any.
async fn rows_and_next(
    stack: &TestStack,
    token: &str,
    path: &str,
) -> (Vec<String>, Option<String>) {
    let response = page(stack, Some(token), path).await;
    assert_eq!(response.status(), 200, "{path}");
    let html = response.text().await.unwrap();
    let ids = html
        .split("<tr data-request=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect();
    let next = html.split("href=\"").skip(1).find_map(|rest| {
        let href = &rest[..rest.find('"').unwrap()];
        let tail = &rest[rest.find('>').unwrap()..];
        tail.starts_with(">下一页")
            .then(|| href.replace("&#x2f;", "/").replace("&amp;", "&"))
    });
    (ids, next)
}

async fn long_lists_have_a_next_page(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise, Service::Portal], backend).await;
    set_rules(&stack).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let finance = reviewer(&stack, "finance_bureau");
    let mut filed = Vec::new();
    for n in 0..53 {
        let r = json_ok(
            stack
                .post_json(
                    ent(&stack, "/api/v1/requests"),
                    &alice,
                    &json!({"enterprise_uscc": ENTERPRISE_A, "category": "finance",
                            "channel": "gaoxintong", "description": format!("第 {n} 件融资诉求")}),
                )
                .await,
            201,
        )
        .await;
        filed.push(r["id"].as_str().unwrap().to_owned());
    }
    filed.sort();
    for (token, start) in [
        (&finance, "/enterprise/staff/requests".to_owned()),
        (&alice, format!("/enterprise/requests?uscc={ENTERPRISE_A}")),
    ] {
        let (first, next) = rows_and_next(&stack, token, &start).await;
        assert_eq!(first.len(), 50, "{start}");
        let next = next.unwrap_or_else(|| panic!("{start} links 下一页"));
        assert!(next.contains("cursor="), "{next}");
        let (rest, none) = rows_and_next(&stack, token, &next).await;
        assert_eq!(rest.len(), 3, "{next}");
        assert!(none.is_none(), "the last page has no 下一页");
        let mut all: Vec<String> = first.into_iter().chain(rest).collect();
        all.sort();
        assert_eq!(all, filed, "{start}: every request once");
    }
    let forged = page(
        &stack,
        Some(&finance),
        "/enterprise/staff/requests?cursor=%21%21",
    )
    .await;
    assert_eq!(forged.status(), 422);
    stack.stop().await;
}

yizhan_kit::backend_tests!(long_lists_have_a_next_page);
