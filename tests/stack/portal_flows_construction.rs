//! 征求意见 and 联合验收 through the portal, in a real browser at desktop
//! and phone widths: a reviewer asks another department (refused at the
//! question first, the department kept), that department answers from its
//! inbox (refused empty first); the window schedules the joint inspection
//! (refused without a day, the place kept), a department fails it with
//! its points (refused without them first), and the builder reports the
//! rectification (refused empty first). Each step is checked at the API;
//! roles the API refuses get the 403 or 404 page.

use std::time::Duration;

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::construction::{approve_all, con, file_and_accept, project_code, register, stage_of};
use crate::portal_e2e::{set_value, sign_in};

/// The page fits a desktop and a phone (the window stays at phone size).
pub(crate) async fn fits(browser: &Browser, what: &str) {
    for width in [1280, 390] {
        assert!(
            browser.fits_width(width).await,
            "{what} is wider than {width} px"
        );
    }
}

/// Back to desktop size for the next steps.
pub(crate) async fn desktop(browser: &Browser) {
    assert!(browser.fits_width(1280).await);
}

/// Whether the page is the portal's 403 or 404 page, still signed in.
pub(crate) async fn refused_page(browser: &Browser) -> bool {
    let body = browser.text("main").await;
    (body.contains("无权访问") || body.contains("未找到")) && browser.has("[data-testid=who]").await
}

async fn wait_text(browser: &Browser, text: &str) {
    browser.wait_for_text(text, Duration::from_secs(10)).await;
}

fn input_value(id: &str) -> String {
    format!("return document.getElementById('{id}').value;")
}

async fn consultation_and_joint_inspection_in_the_browser(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let project = register(&stack, &alice, &project_code(61), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    for stage in ["land_planning", "engineering_permit"] {
        let accepted = file_and_accept(&stack, &alice, pid, stage, false).await;
        approve_all(&stack, &accepted).await;
    }
    let permit = file_and_accept(&stack, &alice, pid, "construction_permit", false).await;
    let drawing = permit["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["item_code"] == "drawing_review")
        .unwrap()
        .clone();
    let tid = drawing["id"].as_str().unwrap();
    let asker = drawing["department_code"].as_str().unwrap().to_owned();

    // 征求意见: asked from the task page; no question first.
    let browser = Browser::start("flows-construction").await;
    sign_in(&browser, &stack, &format!("reviewer:{asker}")).await;
    browser
        .goto(&stack.url(
            Service::Portal,
            &format!("/review/construction/tasks/{tid}"),
        ))
        .await;
    browser.click("#consultations-link").await;
    set_value(&browser, "f-department", "fire_review").await;
    browser.fill("#f-due_days", "3").await;
    browser.click("#ask").await;
    browser.find("#err-question").await;
    assert_eq!(
        browser.script(&input_value("f-department")).await,
        "fire_review"
    );
    assert_eq!(browser.script(&input_value("f-due_days")).await, "3");
    browser
        .fill("#f-question", "请就疏散楼梯设置提出意见")
        .await;
    browser.click("#ask").await;
    wait_text(&browser, "已发出征求意见").await;
    let asked = stack
        .get_json(
            con(&stack, &format!("/api/v1/tasks/{tid}")),
            &reviewer(&stack, &asker),
        )
        .await;
    let consultation = asked["consultations"][0].clone();
    assert_eq!(consultation["to_department"], "fire_review", "{asked}");
    assert_eq!(consultation["question"], "请就疏散楼梯设置提出意见");
    fits(&browser, "the consultation page").await;
    desktop(&browser).await;
    browser.screenshot("consultation").await;

    // The asked department answers from its inbox; empty first.
    sign_in(&browser, &stack, "reviewer:fire_review").await;
    browser.click("a[href=\"/consultations\"]").await;
    let cid = consultation["id"].as_str().unwrap();
    browser.click(&format!("#reply-{cid} button")).await;
    browser.find("#err-opinion").await;
    browser
        .fill("#f-opinion", "同意，疏散楼梯设置符合规范")
        .await;
    browser.click(&format!("#reply-{cid} button")).await;
    wait_text(&browser, "意见已答复").await;
    let answered = stack
        .get_json(
            con(&stack, &format!("/api/v1/tasks/{tid}")),
            &reviewer(&stack, &asker),
        )
        .await;
    assert_eq!(
        answered["consultations"][0]["opinion"],
        "同意，疏散楼梯设置符合规范"
    );
    browser
        .goto(&stack.url(Service::Portal, "/consultations?all=true"))
        .await;
    assert!(
        browser
            .text("main")
            .await
            .contains("同意，疏散楼梯设置符合规范")
    );
    fits(&browser, "the consultation inbox").await;
    desktop(&browser).await;
    browser.screenshot("consultation-inbox").await;
    // Not a reviewer's: the applicant gets the 403 page.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, "/consultations"))
        .await;
    assert!(
        refused_page(&browser).await,
        "{}",
        browser.text("main").await
    );

    // 联合验收: the window schedules it; without a day first.
    approve_all(&stack, &permit).await;
    let completion = file_and_accept(&stack, &alice, pid, "completion", false).await;
    let sid = completion["id"].as_str().unwrap();
    sign_in(&browser, &stack, "clerk").await;
    browser
        .goto(&stack.url(Service::Portal, &format!("/window/construction/{sid}")))
        .await;
    browser.click("#inspections-link").await;
    browser
        .fill("#f-location", "项目现场（科技东路 8 号）")
        .await;
    browser.click("#schedule").await;
    browser.find("#err-slot").await;
    assert_eq!(
        browser.script(&input_value("f-location")).await,
        "项目现场（科技东路 8 号）"
    );
    set_value(&browser, "f-slot", "2027-10-26").await;
    set_value(&browser, "f-time", "09:30").await;
    browser.click("#schedule").await;
    wait_text(&browser, "联合验收已排期").await;
    let stage = stage_of(&stack, &alice, sid).await;
    let round = stage["inspections"][0].clone();
    assert_eq!(round["status"], "scheduled", "{stage}");
    assert_eq!(round["location"], "项目现场（科技东路 8 号）");
    assert_eq!(round["slot"], "2027-10-26T01:30:00Z");
    fits(&browser, "the joint inspection page").await;
    desktop(&browser).await;

    // The builder may not schedule; a department with no task in the
    // project may not see it.
    sign_in(&browser, &stack, "applicant").await;
    let page = stack.url(
        Service::Portal,
        &format!("/construction/stages/{sid}/inspections"),
    );
    browser.goto(&page).await;
    assert!(browser.has("[data-inspection]").await);
    assert!(!browser.has("#schedule-form").await);
    assert!(!browser.has("#result-form").await);
    sign_in(&browser, &stack, "reviewer:market_supervision").await;
    browser.goto(&page).await;
    assert!(
        refused_page(&browser).await,
        "{}",
        browser.text("main").await
    );

    // One department fails it (no points first); the others pass.
    let invited: Vec<String> = round["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    let failing = invited
        .iter()
        .find(|d| *d == "fire_review")
        .unwrap_or(&invited[0])
        .clone();
    let iid = round["id"].as_str().unwrap();
    for dept in invited.iter().filter(|d| **d != failing) {
        let url = con(&stack, &format!("/api/v1/inspections/{iid}/results"));
        let body = json!({"passed": true, "record_number": format!("验收-{}", round["round"])});
        json_ok(
            stack.post_json(url, &reviewer(&stack, dept), &body).await,
            200,
        )
        .await;
    }
    sign_in(&browser, &stack, &format!("reviewer:{failing}")).await;
    browser.goto(&page).await;
    browser.click("#f-failed").await;
    browser.click("#record").await;
    browser.find("#err-points").await;
    assert_eq!(
        browser
            .script("return document.getElementById('f-failed').checked;")
            .await,
        true
    );
    browser
        .script("document.getElementById('f-points').value = '二层疏散指示标志缺失\\n消火栓箱未设置操作说明';")
        .await;
    browser.click("#record").await;
    wait_text(&browser, "验收结果已录入").await;
    let failed = stack
        .get_json(con(&stack, &format!("/api/v1/inspections/{iid}")), &alice)
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["rectification"].as_array().unwrap().len(), 2);
    fits(&browser, "the inspection with its rectification list").await;
    desktop(&browser).await;

    // The builder reports the rectification from the project page.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, &format!("/construction/projects/{pid}")))
        .await;
    browser
        .click(&format!("a[data-inspections=\"{sid}\"]"))
        .await;
    assert!(
        browser
            .text("[data-testid=rectification]")
            .await
            .contains("二层疏散指示标志缺失")
    );
    browser.click("#report").await;
    browser.find("#err-statement").await;
    browser
        .fill("#f-statement", "已补设疏散指示标志并完善消火栓箱标识")
        .await;
    browser.click("#report").await;
    wait_text(&browser, "整改情况已报告").await;
    let rectified: Value = stack
        .get_json(con(&stack, &format!("/api/v1/inspections/{iid}")), &alice)
        .await;
    assert_eq!(rectified["status"], "rectified", "{rectified}");
    assert_eq!(
        rectified["rectification_statement"],
        "已补设疏散指示标志并完善消火栓箱标识"
    );
    fits(&browser, "the rectified inspection").await;
    browser.screenshot("joint-inspection").await;
    browser.quit().await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(consultation_and_joint_inspection_in_the_browser);
