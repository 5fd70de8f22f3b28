//! Staff search and confirmations in the portal: the merged queues carry a
//! search box (number, USCC or name) and the counts of the viewer's
//! queues, every entry shows its 申请编号, a search text the services
//! would refuse is shown at the box, and 受理 needs the clerk's explicit
//! confirmation, checked by the server (over HTTP on both backends, and
//! in a real browser).

use reqwest::header::COOKIE;
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::licensing::{lic, materials_for};
use crate::numbers::store_body;
use crate::portal_e2e::sign_in;
use crate::portal_pages::{client, csrf, page, session};

/// Files a convenience-store application of `uscc` named `name`.
async fn file(stack: &TestStack, uscc: &str, name: &str) -> Value {
    let notice = crate::licensing_more::notice(
        stack,
        "convenience_store",
        &json!({"sells_food": false, "sells_tobacco": true, "outdoor_sign": false}),
    )
    .await;
    let token = stack.applicant(&format!("filer-{uscc}"), uscc);
    json_ok(
        stack
            .post_json(
                lic(stack, "/api/v1/applications"),
                &token,
                &store_body(uscc, name, &materials_for(&notice)),
            )
            .await,
        201,
    )
    .await
}

/// The entries (`data-entry` ids) of a queue page.
fn entries(html: &str) -> Vec<String> {
    html.split("data-entry=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

fn id(app: &Value) -> String {
    app["id"].as_str().unwrap().to_owned()
}

async fn status(stack: &TestStack, app: &Value) -> Value {
    let clerk = stack.staff("clerk-look", Role::WindowClerk);
    stack
        .get_json(
            lic(stack, &format!("/api/v1/applications/{}", id(app))),
            &clerk,
        )
        .await["status"]
        .clone()
}

async fn queues_search_count_and_intake_is_confirmed(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Portal], backend).await;
    let first = file(&stack, ENTERPRISE_A, "一站便利店甲有限公司").await;
    let second = file(&stack, ENTERPRISE_A, "一站便利店乙有限公司").await;
    let other = file(&stack, ENTERPRISE_B, "二站超市有限公司").await;
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let html = |path: String| {
        let stack = &stack;
        let clerk = &clerk;
        async move {
            let r = page(stack, Some(clerk), &path).await;
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    // Every entry with its number; the queue's count in the strip.
    let (code, all) = html("/window/intake".into()).await;
    assert_eq!(code, 200);
    assert_eq!(entries(&all).len(), 3, "{all}");
    for app in [&first, &second, &other] {
        assert!(all.contains(app["number"].as_str().unwrap()), "{all}");
    }
    assert!(
        all.contains("data-testid=\"queue-count-intake\">3<"),
        "{all}"
    );
    assert!(all.contains("id=\"q-search\""));

    // By number (exact), by USCC, by part of the name.
    let number = second["number"].as_str().unwrap();
    for (q, want) in [
        (number.to_owned(), &second),
        (ENTERPRISE_B.to_owned(), &other),
        ("便利店甲".to_owned(), &first),
    ] {
        let (code, found) = html(format!("/window/intake?q={q}")).await;
        assert_eq!(code, 200, "q={q}");
        assert_eq!(entries(&found), [id(want)], "q={q}");
        assert!(
            found.contains(&format!("value=\"{q}\"")),
            "the box keeps q={q}"
        );
    }
    let (_, none) = html("/window/intake?q=不存在的企业".into()).await;
    assert!(entries(&none).is_empty());
    assert!(none.contains("data-testid=\"empty\""));
    // Too long: the message at the box, what was typed kept.
    let long = "长".repeat(101);
    let (code, refused) = html(format!("/window/intake?q={long}")).await;
    assert_eq!(code, 422);
    assert!(refused.contains("id=\"err-q\""), "{refused}");
    assert!(refused.contains(&format!("value=\"{long}\"")));

    // 受理 without the confirmation: the page again, the message at the
    // box, nothing done; with it, accepted.
    let token = csrf(&stack, &clerk).await;
    let intake = |fields: Vec<(&'static str, String)>| {
        let request = client()
            .post(stack.url(
                Service::Portal,
                &format!("/window/licensing/{}/intake", id(&first)),
            ))
            .header(COOKIE, session(&clerk))
            .form(&fields);
        async move { request.send().await.unwrap() }
    };
    let unconfirmed = intake(vec![
        ("_csrf", token.clone()),
        ("decision", "accept".into()),
    ])
    .await;
    assert_eq!(unconfirmed.status(), 422);
    let body = unconfirmed.text().await.unwrap();
    assert!(body.contains("id=\"err-confirm\""), "{body}");
    assert!(body.contains("id=\"intake-form\""));
    assert_eq!(status(&stack, &first).await, "submitted");
    let tolerated = intake(vec![
        ("_csrf", token.clone()),
        ("decision", "accept_with_tolerance".into()),
    ])
    .await;
    assert_eq!(tolerated.status(), 422, "容缺受理 is confirmed too");
    assert_eq!(status(&stack, &first).await, "submitted");
    let confirmed = intake(vec![
        ("_csrf", token.clone()),
        ("decision", "accept".into()),
        ("confirm", "yes".into()),
    ])
    .await;
    assert_eq!(confirmed.status(), 303);
    assert_eq!(status(&stack, &first).await, "in_review");
    // 不予受理 needs no confirmation (no clock starts).
    let rejected = client()
        .post(stack.url(
            Service::Portal,
            &format!("/window/licensing/{}/intake", id(&other)),
        ))
        .header(COOKIE, session(&clerk))
        .form(&[
            ("_csrf", token.as_str()),
            ("decision", "reject"),
            ("d.bad.form.business_scope", "yes"),
            ("d.form.business_scope", "经营范围不清"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 303);
    assert_eq!(status(&stack, &other).await, "returned");

    // A reviewer's queue: the task's application number, searchable.
    let accepted = stack
        .get_json(
            lic(&stack, &format!("/api/v1/applications/{}", id(&first))),
            &clerk,
        )
        .await;
    let dept = accepted["tasks"][0]["department_code"].as_str().unwrap();
    let reviewer = reviewer(&stack, dept);
    let number = first["number"].as_str().unwrap();
    let r = page(&stack, Some(&reviewer), &format!("/review?q={number}")).await;
    assert_eq!(r.status(), 200);
    let queue = r.text().await.unwrap();
    assert_eq!(
        entries(&queue),
        [accepted["tasks"][0]["id"].as_str().unwrap()]
    );
    assert!(queue.contains(number));
    let r = page(
        &stack,
        Some(&reviewer),
        &format!("/review?q={ENTERPRISE_B}"),
    )
    .await;
    assert!(entries(&r.text().await.unwrap()).is_empty());
    stack.stop().await;
}

yizhan_kit::backend_tests!(queues_search_count_and_intake_is_confirmed);

/// The search box and the confirmation as a clerk uses them: one browser
/// run (the database paths are covered on both backends above).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn search_box_and_intake_confirmation_in_the_browser() {
    let stack = TestStack::start(&[Service::Licensing, Service::Portal], Backend::Sqlite).await;
    let first = file(&stack, ENTERPRISE_A, "一站便利店甲有限公司").await;
    let second = file(&stack, ENTERPRISE_A, "一站便利店乙有限公司").await;
    let browser = Browser::start("search").await;
    sign_in(&browser, &stack, "clerk").await;
    browser
        .goto(&stack.url(Service::Portal, "/window/intake"))
        .await;
    assert_eq!(browser.unlabelled_controls().await, Vec::<String>::new());
    browser
        .fill("#q-search", second["number"].as_str().unwrap())
        .await;
    browser.click("#q-submit").await;
    browser
        .find(&format!("tr[data-entry='{}']", id(&second)))
        .await;
    assert!(
        !browser
            .has(&format!("tr[data-entry='{}']", id(&first)))
            .await
    );
    assert_eq!(
        browser.text("[data-testid=number]").await,
        second["number"].as_str().unwrap()
    );
    browser.screenshot("queue-search").await;
    assert!(browser.fits_a_phone("queue-search").await);

    // Open it: 受理 unticked is refused at the box; ticked, accepted.
    browser
        .click(&format!("a[data-open='{}']", id(&second)))
        .await;
    assert_eq!(
        browser.text("[data-testid=number]").await,
        second["number"].as_str().unwrap()
    );
    browser.click("#accept").await;
    assert!(browser.text("#err-confirm").await.contains("请勾选"));
    assert_eq!(status(&stack, &second).await, "submitted");
    browser.screenshot("intake-unconfirmed").await;
    browser.click("#confirm").await;
    browser.click("#accept").await;
    assert!(browser.text(".flash").await.contains("已受理"));
    assert_eq!(status(&stack, &second).await, "in_review");
    browser.quit().await;
    stack.stop().await;
}
