//! 企业服务 pages of the enterprise's own side over plain HTTP: another
//! enterprise's applicant gets 403/404 pages, other roles are refused, a
//! filing form posted twice files once and a forged one not at all, the
//! 12345 operator files for any enterprise, and the enterprise's steps
//! (reply, 不满意 reopening, withdrawal) with their refusals in place.

use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::enterprise_requests::{set_rules, step};
use crate::portal_enterprise_own::{ent, portal};
use crate::portal_pages::{client, csrf, page, session};

/// Posts a portal form as the holder of `token`.
async fn post_form(
    stack: &TestStack,
    token: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(portal(stack, path))
        .header(COOKIE, session(token))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn pages_are_the_enterprise_s_own(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise, Service::Portal], backend).await;
    set_rules(&stack).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);

    // A form posted twice (same key) files once; a forged one not at all.
    let token = csrf(&stack, &alice).await;
    let form = [
        ("_csrf", token.as_str()),
        ("idempotency_key", "0123456789abcdef0123456789abcdef"),
        ("enterprise_uscc", ENTERPRISE_A),
        ("category", "legal"),
        ("channel", "gaoxintong"),
        ("description", "合同纠纷咨询：供应商逾期交货"),
    ];
    let once = post_form(&stack, &alice, "/enterprise/requests/new", &form).await;
    let twice = post_form(&stack, &alice, "/enterprise/requests/new", &form).await;
    assert_eq!(
        (once.status().as_u16(), twice.status().as_u16()),
        (303, 303)
    );
    let location = once.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(location, twice.headers()[LOCATION].to_str().unwrap());
    let mut forged = form;
    forged[0].1 = "x";
    forged[1].1 = "fedcba9876543210fedcba9876543210";
    let refused = post_form(&stack, &alice, "/enterprise/requests/new", &forged).await;
    assert_eq!(refused.status(), 403);
    let mine = stack
        .get_json(ent(&stack, "/api/v1/requests"), &alice)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let path = location.split('?').next().unwrap().to_owned();
    let id = path.rsplit('/').next().unwrap().to_owned();

    // Bob, of another enterprise: every page of Alice's is a 403 or 404
    // page, without her words.
    for (url, status) in [
        (format!("/enterprise/profile?uscc={ENTERPRISE_A}"), 403),
        (format!("/enterprise/requests?uscc={ENTERPRISE_A}"), 403),
        (format!("/enterprise/benefits?uscc={ENTERPRISE_A}"), 403),
        (path.clone(), 404),
        (
            format!("/enterprise/ratings/new?rateable=request:{id}"),
            404,
        ),
    ] {
        let response = page(&stack, Some(&bob), &url).await;
        assert_eq!(response.status(), status, "{url}");
        let html = response.text().await.unwrap();
        assert!(html.contains("data-testid=\"who\""), "a page: {url}");
        assert!(!html.contains("供应商逾期交货"), "{url}");
    }
    let bobs_csrf = csrf(&stack, &bob).await;
    let withdraw = post_form(
        &stack,
        &bob,
        &format!("{path}/withdraw"),
        &[("_csrf", &bobs_csrf)],
    )
    .await;
    assert_eq!(withdraw.status(), 404);
    assert_eq!(
        stack
            .get_json(ent(&stack, &format!("/api/v1/requests/{id}")), &alice)
            .await["status"],
        "dispatched"
    );
    // Bob's own pages do not list Alice's request.
    let his = page(&stack, Some(&bob), "/enterprise/requests").await;
    assert_eq!(his.status(), 200);
    assert!(!his.text().await.unwrap().contains("供应商逾期交货"));

    // Roles: the enterprise's pages are not the staff's, the specialist's
    // page not the enterprise's.
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    for url in [
        "/enterprise",
        "/enterprise/requests",
        "/enterprise/requests/new",
    ] {
        assert_eq!(page(&stack, Some(&clerk), url).await.status(), 403, "{url}");
    }
    assert_eq!(
        page(&stack, Some(&alice), "/enterprise/specialist")
            .await
            .status(),
        403
    );
    let specialist = stack.token(TokenRequest {
        sub: "specialist-1".into(),
        roles: vec![Role::Specialist],
        enterprises: vec![ENTERPRISE_A.into()],
        ttl_secs: 600,
        ..Default::default()
    });
    assert_eq!(
        page(&stack, Some(&specialist), "/enterprise/benefits")
            .await
            .status(),
        403
    );

    // The 12345 operator files for any enterprise, on the 12345 channel.
    let operator = stack.staff("hotline-1", Role::HotlineOperator);
    let html = page(&stack, Some(&operator), "/enterprise/requests/new")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"f-enterprise_uscc\" name=\"enterprise_uscc\""));
    assert!(html.contains("value=\"hotline_12345\" selected"));
    let token = csrf(&stack, &operator).await;
    let bad = post_form(
        &stack,
        &operator,
        "/enterprise/requests/new",
        &[
            ("_csrf", &token),
            ("enterprise_uscc", "12345"),
            ("category", "utilities"),
            ("channel", "hotline_12345"),
            ("description", "来电：新厂房用电报装进度"),
        ],
    )
    .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"err-enterprise_uscc\""), "at the field");
    assert!(html.contains("来电：新厂房用电报装进度"), "typed text kept");
    let filed = post_form(
        &stack,
        &operator,
        "/enterprise/requests/new",
        &[
            ("_csrf", &token),
            ("enterprise_uscc", ENTERPRISE_B),
            ("category", "utilities"),
            ("channel", "hotline_12345"),
            ("description", "来电：新厂房用电报装进度"),
        ],
    )
    .await;
    assert_eq!(filed.status(), 303);
    let at = filed.headers()[LOCATION].to_str().unwrap().to_owned();
    let html = page(&stack, Some(&operator), &at)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("12345热线") && html.contains("水电气报装"));
    let bobs = stack.get_json(ent(&stack, "/api/v1/requests"), &bob).await;
    assert_eq!(bobs["items"][0]["channel_name"], "12345热线");
    stack.stop().await;
}

/// Files a request for Alice's enterprise through the API.
async fn filed(stack: &TestStack, alice: &str, category: &str, text: &str) -> String {
    let body = json!({"enterprise_uscc": ENTERPRISE_A, "category": category,
        "channel": "gaoxintong", "description": text});
    let r = json_ok(
        stack
            .post_json(ent(stack, "/api/v1/requests"), alice, &body)
            .await,
        201,
    )
    .await;
    r["id"].as_str().unwrap().to_owned()
}

async fn status_of(stack: &TestStack, token: &str, id: &str) -> Value {
    stack
        .get_json(ent(stack, &format!("/api/v1/requests/{id}")), token)
        .await
}

async fn the_enterprise_replies_reopens_and_withdraws(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise, Service::Portal], backend).await;
    set_rules(&stack).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let loan = filed(&stack, &alice, "finance", "流动资金贷款贴息咨询").await;
    let talent = filed(&stack, &alice, "talent", "高级技工引进补贴咨询").await;
    let finance = reviewer(&stack, "finance_bureau");
    step(&stack, &finance, &loan, "accept", json!({})).await;
    let question = "请补充近三年营业收入";
    step(
        &stack,
        &finance,
        &loan,
        "ask",
        json!({"question": question}),
    )
    .await;
    let token = csrf(&stack, &alice).await;
    let at = |id: &str, what: &str| format!("/enterprise/requests/{id}/{what}");

    // Asked: the page offers the reply; an empty one is refused at its
    // field, then the reply resumes the handling.
    let html = page(
        &stack,
        Some(&alice),
        &format!("/enterprise/requests/{loan}"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(html.contains("待企业补充") && html.contains("id=\"f-reply\""));
    let empty = post_form(
        &stack,
        &alice,
        &at(&loan, "reply"),
        &[("_csrf", &token), ("form", "reply"), ("reply", "  ")],
    )
    .await;
    assert_eq!(empty.status(), 422);
    assert!(empty.text().await.unwrap().contains("id=\"err-reply\""));
    let replied = post_form(
        &stack,
        &alice,
        &at(&loan, "reply"),
        &[
            ("_csrf", &token),
            ("form", "reply"),
            ("reply", "2023-2025 年营业收入见附表"),
        ],
    )
    .await;
    assert_eq!(replied.status(), 303);
    assert_eq!(
        status_of(&stack, &alice, &loan).await["status"],
        "in_handling"
    );

    // 不满意 sends the answer back for a second round.
    step(
        &stack,
        &finance,
        &loan,
        "answer",
        json!({"answer": "可申请贴息"}),
    )
    .await;
    let rated = post_form(
        &stack,
        &alice,
        &at(&loan, "rate"),
        &[
            ("_csrf", &token),
            ("form", "rate"),
            ("satisfaction", "dissatisfied"),
        ],
    )
    .await;
    assert_eq!(rated.status(), 303);
    let back = rated.headers()[LOCATION].to_str().unwrap().to_owned();
    let html = page(&stack, Some(&alice), &back)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("已退回承办部门再次办理"), "the flash");
    assert!(html.contains("第 2 轮办理"));
    let reopened = status_of(&stack, &alice, &loan).await;
    assert_eq!(
        (&reopened["status"], &reopened["round"]),
        (&json!("in_handling"), &json!(2))
    );

    // Withdrawn, the request offers no steps; a second withdrawal is the
    // service's refusal, shown on the page.
    let withdrawn = post_form(
        &stack,
        &alice,
        &at(&talent, "withdraw"),
        &[("_csrf", &token), ("form", "withdraw")],
    )
    .await;
    assert_eq!(withdrawn.status(), 303);
    assert_eq!(
        status_of(&stack, &alice, &talent).await["status"],
        "withdrawn"
    );
    let again = post_form(
        &stack,
        &alice,
        &at(&talent, "withdraw"),
        &[("_csrf", &token), ("form", "withdraw")],
    )
    .await;
    assert_eq!(again.status(), 422);
    let html = again.text().await.unwrap();
    assert!(
        html.contains("id=\"error-summary\""),
        "the refusal is shown"
    );
    assert!(html.contains("已撤回") && !html.contains("id=\"withdraw\""));
    let unknown = post_form(&stack, &alice, &at(&talent, "answer"), &[("_csrf", &token)]).await;
    assert_eq!(unknown.status(), 404, "not an enterprise's step");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    pages_are_the_enterprise_s_own,
    the_enterprise_replies_reopens_and_withdraws,
);
