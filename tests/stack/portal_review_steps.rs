//! The reviewer's other steps in a real browser, for both services: a
//! 特别程序 started (refused at its field without a kind, then with one),
//! shown while it runs, ended, and the item then decided; and a 补正
//! requested on a construction item through the page, pausing its clock.
//! Every page at desktop and phone widths.

use serde_json::json;
use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::construction::{con, file_and_accept, project_code, register};
use crate::portal_e2e::sign_in;

/// Whether the page fits a desktop and a phone (it asserts both).
pub(crate) async fn fits(browser: &Browser, what: &str) {
    for width in [1280, 390] {
        assert!(
            browser.fits_width(width).await,
            "{what} is wider than {width} px"
        );
    }
}

async fn special_procedure_and_supplement_in_the_browser(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let app = crate::crawl_runs::hotel(&stack, &alice, &[]).await;
    let accepted = crate::crawl_runs::intake(&stack, &app, json!({"decision": "accept"})).await;
    let task = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department_code"] == "public_security")
        .unwrap()
        .clone();
    let page = format!(
        "/review/licensing/tasks/{}?application={}",
        task["id"].as_str().unwrap(),
        app["id"].as_str().unwrap()
    );
    let browser = Browser::start("review-steps").await;
    sign_in(&browser, &stack, "reviewer:public_security").await;
    browser.goto(&stack.url(Service::Portal, &page)).await;

    // No kind picked: the service's message at the field, the reason kept.
    browser
        .fill("#f-special-reason", "涉及公共安全，需组织听证")
        .await;
    browser.click("#start-special").await;
    browser.find("#err-kind").await;
    assert_eq!(
        browser
            .script("return document.getElementById('f-special-reason').value;")
            .await,
        "涉及公共安全，需组织听证"
    );
    browser
        .script("document.getElementById('f-kind').value = 'hearing';")
        .await;
    browser.click("#start-special").await;
    browser.find("#end-special").await;
    assert!(
        browser
            .text("body")
            .await
            .contains("已启动特别程序，计时暂停")
    );
    assert!(
        !browser.has("#decision-form").await,
        "no decision while it runs"
    );
    assert_eq!(
        browser
            .text("[data-testid=status]")
            .await
            .split('（')
            .next(),
        Some("特别程序")
    );
    fits(&browser, "a task in its special procedure").await;
    browser.screenshot("special-procedure").await;
    browser.click("#end-special").await;
    browser.find("#decision-form").await;
    assert!(
        browser
            .text("body")
            .await
            .contains("特别程序已结束，恢复计时")
    );
    browser.fill("#f-permit_number", "特行-2026-0001").await;
    browser.click("#approve").await;
    browser
        .wait_for_text("已准予许可", std::time::Duration::from_secs(10))
        .await;
    let decided = stack
        .get_json(
            crate::licensing::lic(
                &stack,
                &format!("/api/v1/applications/{}", app["id"].as_str().unwrap()),
            ),
            &alice,
        )
        .await;
    let decided = decided["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == task["id"])
        .unwrap()
        .clone();
    assert_eq!(decided["status"], "approved", "{decided}");

    // 工程建设: a 补正 through the page.
    let project = register(&stack, &alice, &project_code(81), "small_low_risk", true).await;
    let stage = file_and_accept(
        &stack,
        &alice,
        project["id"].as_str().unwrap(),
        "land_planning",
        false,
    )
    .await;
    let ctask = stage["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "in_review")
        .unwrap()
        .clone();
    let dept = ctask["department_code"].as_str().unwrap();
    sign_in(&browser, &stack, &format!("reviewer:{dept}")).await;
    let tid = ctask["id"].as_str().unwrap();
    browser
        .goto(&stack.url(
            Service::Portal,
            &format!("/review/construction/tasks/{tid}"),
        ))
        .await;
    assert!(
        browser.has("#special-form").await,
        "construction has it too"
    );
    // The first item marked "有问题"; its reason box shows once marked.
    browser.click("#f-items input.marked").await;
    browser
        .fill("#f-items .mark-reason input", "与总平面图不一致，请核对")
        .await;
    browser.click("#request-supplement").await;
    browser
        .wait_for_text("已一次性告知申请人补正", std::time::Duration::from_secs(10))
        .await;
    let after = stack
        .get_json(
            con(&stack, &format!("/api/v1/tasks/{tid}")),
            &reviewer(&stack, dept),
        )
        .await;
    assert_eq!(after["status"], "supplement_requested", "{after}");
    assert_eq!(after["sla_state"], "paused", "{after}");
    fits(&browser, "the review queue").await;
    browser.quit().await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(special_procedure_and_supplement_in_the_browser);
