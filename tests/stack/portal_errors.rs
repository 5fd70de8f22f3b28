//! Errors in place: a refused form comes back as the same page, with what
//! was typed kept and the message at its field (never a dead-end page);
//! error pages are HTML and keep the signed-in header; an unknown address
//! is the HTML 404 page while the API keeps its JSON problems.

use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::portal_pages::{answer_supplement, client, csrf, page, session, submit_store};

/// The HTML of a response that must be `status` and a page.
async fn html(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let kind = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
    response.text().await.unwrap()
}

async fn post_form(
    stack: &TestStack,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(String, String)> = vec![("_csrf".into(), csrf(stack, token).await)];
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    client()
        .post(stack.url(Service::Portal, path))
        .header(COOKIE, session(token))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn task_of(app: &Value, dept: &str) -> String {
    app["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department_code"] == dept)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn refused_forms_come_back_in_place(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Portal], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);

    // The window refuses without saying what is missing: the same page,
    // the date typed kept, the message at the list.
    let app = submit_store(&stack, &alice).await;
    let app_id = app["id"].as_str().unwrap().to_owned();
    let intake = format!("/window/licensing/{app_id}/intake");
    let body = html(
        post_form(
            &stack,
            &clerk,
            &intake,
            &[("decision", "reject"), ("tolerance_due_date", "2031-01-02")],
        )
        .await,
        422,
    )
    .await;
    assert!(body.contains("id=\"intake-form\""), "the intake page again");
    assert!(body.contains("id=\"err-deficiencies\""), "{body}");
    assert!(body.contains("value=\"2031-01-02\""), "the date is kept");
    assert!(body.contains("data-testid=\"who\""), "still signed in");
    assert!(!body.contains("无法办理"));

    // A reviewer refuses without reasons, or approves without a permit
    // number: the task page again, what was typed kept.
    let accepted = json_ok(
        stack
            .post_json(
                stack.url(
                    Service::Licensing,
                    &format!("/api/v1/applications/{app_id}/intake"),
                ),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    let task = task_of(&accepted, "market_supervision");
    let market = reviewer(&stack, "market_supervision");
    let decision = format!("/review/licensing/tasks/{task}/decision");
    let body = html(
        post_form(
            &stack,
            &market,
            &decision,
            &[
                ("decision", "reject"),
                ("application", &app_id),
                ("permit_number", "JY-留着"),
            ],
        )
        .await,
        422,
    )
    .await;
    assert!(body.contains("id=\"decision-form\""));
    assert!(body.contains("id=\"err-reasons\""), "{body}");
    assert!(
        body.contains("value=\"JY-留着\""),
        "the permit number is kept"
    );
    let body = html(
        post_form(
            &stack,
            &market,
            &decision,
            &[
                ("decision", "approve"),
                ("application", &app_id),
                ("reasons", "写了一半的理由"),
            ],
        )
        .await,
        422,
    )
    .await;
    assert!(body.contains("id=\"err-permit_number\""), "{body}");
    assert!(
        body.contains("写了一半的理由</textarea>"),
        "the reasons are kept"
    );

    // A 补正 request naming nothing: the message at the list.
    let body = html(
        post_form(
            &stack,
            &market,
            &format!("/review/licensing/tasks/{task}/supplement-request"),
            &[("application", &app_id)],
        )
        .await,
        422,
    )
    .await;
    assert!(body.contains("id=\"err-items\""), "{body}");

    // An empty 补正 answer: the application page again, the message there.
    let asked = post_form(
        &stack,
        &market,
        &format!("/review/licensing/tasks/{task}/supplement-request"),
        &[
            ("application", &app_id),
            ("s.bad.form.business_scope", "yes"),
            ("s.form.business_scope", "经营范围须与营业执照一致"),
        ],
    )
    .await;
    assert_eq!(asked.status(), 303);
    let waiting = html(
        page(
            &stack,
            Some(&alice),
            &format!("/licensing/applications/{app_id}"),
        )
        .await,
        200,
    )
    .await;
    assert!(waiting.contains("<strong>待补正</strong>"), "{waiting}");
    let answered = answer_supplement(&stack, &alice, &task, &app_id, "").await;
    let body = html(answered, 422).await;
    assert!(body.contains(&format!("action=\"/licensing/tasks/{task}/supplements\"")));
    assert!(body.contains("id=\"error-summary\""), "{body}");
    assert!(body.contains("data-testid=\"who\""));
    stack.stop().await;
}

async fn error_pages_are_pages(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Portal], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    for path in [
        "/inboxes",
        "/admin",
        "/licensing/aplications",
        "/window/nothing/here",
    ] {
        let body = html(page(&stack, Some(&alice), path).await, 404).await;
        assert!(body.contains("未找到"), "{path}");
        assert!(
            body.contains("data-testid=\"who\""),
            "{path} keeps the header"
        );
        let anonymous = html(page(&stack, None, path).await, 404).await;
        assert!(anonymous.contains("href=\"/login\""), "{path}");
    }
    // An applicant in the reviewers' queue: 403, signed in.
    let body = html(page(&stack, Some(&alice), "/review").await, 403).await;
    assert!(body.contains("无权访问") && body.contains("data-testid=\"who\""));
    // A page's own 404 (no such application) keeps the header too.
    let body = html(
        page(
            &stack,
            Some(&alice),
            "/licensing/applications/01a23c33-215e-73c4-acce-a74a7c22ce55",
        )
        .await,
        404,
    )
    .await;
    assert!(body.contains("data-testid=\"who\""));
    // The API and the operator endpoints keep their own answers.
    let api = page(&stack, Some(&alice), "/api/v1/nothing").await;
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(page(&stack, None, "/healthz").await.status(), 200);
    assert_eq!(page(&stack, None, "/readyz").await.status(), 200);
    stack.stop().await;
}

yizhan_kit::backend_tests!(refused_forms_come_back_in_place, error_pages_are_pages);
