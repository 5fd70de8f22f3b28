//! The hotel licence end to end in a real headless browser, through the
//! portal's pages only: the applicant answers the questionnaire, reads the
//! one-time notice, fills the merged form (first with mistakes, shown
//! inline), attaches the materials and submits; the window clerk accepts
//! it from the merged intake queue; every department's reviewer approves
//! their item from their queue; the applicant downloads the licence and
//! sees it verified; the clerk hands it out. A screenshot of every page
//! goes to `target/e2e-screenshots/`.

use std::time::Duration;

use serde_json::Value;
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::licensing::lic;

/// Signs out whoever is signed in and signs in as demo user `user`.
pub(crate) async fn sign_in(browser: &Browser, stack: &TestStack, user: &str) {
    browser.goto(&stack.url(Service::Portal, "/")).await;
    if browser.has("form.who button").await {
        browser.click("form.who button").await;
        // The click starts the navigation; wait for it to land before
        // going anywhere else.
        browser.wait_gone("[data-testid=who]").await;
    }
    browser.goto(&stack.url(Service::Portal, "/login")).await;
    browser.click(&format!("input[data-user=\"{user}\"]")).await;
    browser.click("#dev-login").await;
    browser.find("[data-testid=who]").await;
}

/// Sets an input's value through the page (date inputs take typed text
/// in the browser's locale format; the value is what the form posts).
pub(crate) async fn set_value(browser: &Browser, id: &str, value: &str) {
    browser
        .script(&format!(
            "document.getElementById({}).value = {};",
            serde_json::to_string(id).unwrap(),
            serde_json::to_string(value).unwrap()
        ))
        .await;
}

pub(crate) fn field_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn hotel_licence_in_the_browser(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let browser = Browser::start("hotel").await;
    let clerk_token = stack.staff("clerk-e2e", Role::WindowClerk);

    // The applicant: scenario, questionnaire, notice.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, "/licensing"))
        .await;
    browser.screenshot("scenarios").await;
    browser.click("a[data-scenario=hotel]").await;
    browser
        .click("input[name='q.serves_food'][value=true]")
        .await;
    browser.fill("#f-q-floor_area_m2", "1200").await;
    browser
        .click("input[name='q.hosts_performances'][value=true]")
        .await;
    browser.screenshot("questionnaire").await;
    assert_eq!(browser.unlabelled_controls().await, Vec::<String>::new());
    browser.click("#see-notice").await;
    assert_eq!(browser.text("[data-testid=committed-total]").await, "5.5");
    assert_eq!(
        browser
            .script("return document.querySelectorAll('tr[data-item]').length;")
            .await,
        6
    );
    browser.screenshot("notice").await;
    browser.click("#start-form").await;

    // The merged form, first with two mistakes, every material attached.
    let notice =
        crate::licensing_more::notice(&stack, "hotel", &crate::licensing::hotel_answers()).await;
    let sample = yizhan_licensing::seed::sample_hotel_form();
    for field in notice["form"].as_array().unwrap() {
        let key = field["key"].as_str().unwrap();
        let value = match key {
            "room_count" => String::new(),
            "bed_count" => "很多".to_owned(),
            _ => field_text(&sample[key]),
        };
        let id = format!("f-form-{key}");
        match field["type"].as_str().unwrap() {
            "date" | "choice" => set_value(&browser, &id, &value).await,
            _ => browser.fill(&format!("#{id}"), &value).await,
        }
    }
    let pdf = tempfile::NamedTempFile::with_suffix(".pdf").unwrap();
    std::fs::write(pdf.path(), pdf_bytes(4096, "portal e2e")).unwrap();
    for material in notice["materials"].as_array().unwrap() {
        let code = material["code"].as_str().unwrap();
        browser.attach(&format!("#file-{code}"), pdf.path()).await;
    }
    browser.screenshot("form-filled").await;
    // Every control of the merged form has a label, and the form fits a
    // phone without sideways scrolling.
    assert_eq!(browser.unlabelled_controls().await, Vec::<String>::new());
    assert!(browser.fits_a_phone("form").await, "the form fits a phone");
    browser.click("#review-application").await;
    browser.find("#error-summary").await;
    assert!(!browser.text("#err-form-room_count").await.is_empty());
    assert!(!browser.text("#err-form-bed_count").await.is_empty());
    assert_eq!(
        browser
            .script(
                "return document.getElementById('f-form-bed_count').getAttribute('aria-invalid');"
            )
            .await,
        "true"
    );
    browser.screenshot("form-inline-errors").await;
    // The corrected form; the materials uploaded on the first try stay.
    browser.fill("#f-form-room_count", "80").await;
    browser.fill("#f-form-bed_count", "120").await;
    browser.click("#review-application").await;
    // The review page: checked, declared, submitted.
    browser.click("#f-declaration").await;
    browser.screenshot("review").await;
    browser.click("#submit-application").await;
    browser
        .find("[data-testid=status][data-status=submitted]")
        .await;
    let url = browser.url().await;
    let app_id = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    browser.screenshot("submitted").await;

    // The clerk: merged intake queue, accept.
    sign_in(&browser, &stack, "clerk").await;
    browser
        .goto(&stack.url(Service::Portal, "/window/intake"))
        .await;
    browser.screenshot("intake-queue").await;
    browser.click(&format!("a[data-open='{app_id}']")).await;
    browser.screenshot("intake").await;
    assert_eq!(browser.unlabelled_controls().await, Vec::<String>::new());
    browser.click("#confirm").await;
    browser.click("#accept").await;
    assert!(browser.text(".flash").await.contains("已受理"));

    // Six reviewers, each in their department's queue.
    let app = json_ok(
        stack
            .get(
                lic(&stack, &format!("/api/v1/applications/{app_id}")),
                &clerk_token,
            )
            .await,
        200,
    )
    .await;
    let tasks = app["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 6);
    for (n, task) in tasks.iter().enumerate() {
        let dept = task["department_code"].as_str().unwrap();
        let task_id = task["id"].as_str().unwrap();
        sign_in(&browser, &stack, &format!("reviewer:{dept}")).await;
        browser.goto(&stack.url(Service::Portal, "/review")).await;
        browser.find(&format!("a[data-open='{task_id}']")).await;
        if n == 0 {
            browser.screenshot("review-queue").await;
            assert_eq!(browser.unlabelled_controls().await, Vec::<String>::new());
            assert!(
                browser.fits_a_phone("review-queue").await,
                "the queue fits a phone"
            );
        }
        browser.click(&format!("a[data-open='{task_id}']")).await;
        browser
            .fill("#f-permit_number", &format!("JY-E2E-{n:03}"))
            .await;
        if n == 0 {
            browser.screenshot("review-task").await;
        }
        browser.click("#approve").await;
        assert!(
            browser.text(".flash").await.contains("已准予许可"),
            "reviewer {dept}"
        );
    }

    // The applicant: the licence, issued by the document service from the
    // approval event, downloadable and verified.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(
            Service::Portal,
            &format!("/licensing/applications/{app_id}"),
        ))
        .await;
    browser
        .wait_for_text("data-testid=\"certificate-id\"", Duration::from_secs(60))
        .await;
    let certificate = browser.text("[data-testid=certificate-id]").await;
    assert!(!certificate.is_empty());
    assert_eq!(browser.text("[data-testid=licence-status]").await, "有效");
    let mut loaded = false;
    for _ in 0..50 {
        loaded = browser
            .script("const i = document.querySelector('#licence img'); return i.complete && i.naturalWidth > 0;")
            .await
            == true;
        if loaded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(loaded, "the QR code loads");
    browser.screenshot("licence-issued").await;
    browser.click("#download-licence").await;
    browser
        .wait_for_text(&certificate, Duration::from_secs(10))
        .await;
    assert!(browser.source().await.contains("酒店行业综合许可证"));
    browser.screenshot("licence-print").await;

    // The clerk hands it out from the merged hand-out queue.
    sign_in(&browser, &stack, "clerk").await;
    browser
        .goto(&stack.url(Service::Portal, "/window/hand-out"))
        .await;
    browser.screenshot("hand-out-queue").await;
    browser.click(&format!("a[data-hand-out='{app_id}']")).await;
    // The confirmation page names the application; handing out without
    // ticking the confirmation is refused at the box, nothing is done.
    browser.find("#hand-out-form").await;
    assert!(browser.text("[data-testid=number]").await.starts_with("YZ"));
    assert_eq!(browser.unlabelled_controls().await, Vec::<String>::new());
    browser.click("#confirm-hand-out").await;
    assert!(browser.text("#err-confirm").await.contains("请勾选"));
    assert_eq!(
        json_ok(
            stack
                .get(
                    lic(&stack, &format!("/api/v1/applications/{app_id}")),
                    &clerk_token
                )
                .await,
            200,
        )
        .await["status"],
        "licence_issued"
    );
    browser.screenshot("hand-out-confirm").await;
    browser.click("#confirm").await;
    browser.click("#confirm-hand-out").await;
    assert!(browser.text(".flash").await.contains("已出件"));
    let done = json_ok(
        stack
            .get(
                lic(&stack, &format!("/api/v1/applications/{app_id}")),
                &clerk_token,
            )
            .await,
        200,
    )
    .await;
    assert_eq!(done["status"], "handed_out");

    // 好差评: the applicant's concluded application offers its rating once
    // the enterprise service has read the approval.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(
            Service::Portal,
            &format!("/licensing/applications/{app_id}"),
        ))
        .await;
    browser
        .wait_for_text("id=\"rate-service\"", Duration::from_secs(30))
        .await;
    browser.click("#rate-service").await;
    assert!(browser.source().await.contains("一业一证申请"));
    browser.find("#submit-rating").await;
    browser.quit().await;
    stack.stop().await;
}

/// One run is enough for the browser: the database paths are covered by
/// the REST tests on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hotel_licence_end_to_end_in_a_browser() {
    hotel_licence_in_the_browser(Backend::Sqlite).await;
}
