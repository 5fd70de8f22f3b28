//! A 工程建设项目 stage end to end in a real headless browser, through the
//! portal's pages only: the demo applicant registers a small low-risk
//! project (first with an invalid project code, shown inline), files the
//! 立项用地规划许可 stage with every field and material; the window clerk
//! accepts it from the merged intake queue; every department's reviewer
//! approves their item from their queue; the applicant sees the stage
//! concluded and the budget used. The REST API is only read, to look up
//! ids and to check what the pages show. Screenshots go to
//! `target/e2e-screenshots/construction-*.png`.

use std::time::Duration;

use serde_json::Value;
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::construction::{con, project_of, stage_of};
use crate::portal_e2e::{field_text, set_value, sign_in};

const STAGE: &str = "land_planning";

/// Working days as the portal shows them (`days` filter).
fn days(d: f64) -> String {
    if d.fract() == 0.0 {
        format!("{d:.0}")
    } else {
        format!("{d:.1}")
    }
}

/// The value of attribute `name` of the element matching `css`.
async fn attribute(browser: &Browser, css: &str, name: &str) -> Value {
    browser.find(css).await;
    browser
        .script(&format!(
            "return document.querySelector({}).getAttribute({});",
            serde_json::to_string(css).unwrap(),
            serde_json::to_string(name).unwrap()
        ))
        .await
}

/// The project page's id from the current URL (`/construction/projects/{id}?msg=…`).
async fn project_id_of_url(browser: &Browser) -> String {
    let url = browser.url().await;
    let path = url.split('?').next().unwrap();
    assert!(path.contains("/construction/projects/"), "on {url}");
    path.rsplit('/').next().unwrap().to_owned()
}

async fn construction_project(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let browser = Browser::start("construction").await;
    let clerk_token = stack.staff("clerk-e2e", Role::WindowClerk);

    // 1. The applicant registers the project: first with a project code in
    // the wrong format, refused next to the field, the rest kept.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, "/construction/projects"))
        .await;
    browser.click("#new-project").await;
    browser.fill("#f-project_code", "2026-1").await;
    browser
        .fill("#f-name", "福州一站科创园配套仓储用房（门户）")
        .await;
    assert_eq!(
        attribute(&browser, "#f-builder_uscc", "value").await,
        ENTERPRISE_A,
        "the builder is the demo enterprise"
    );
    browser.fill("#f-builder_uscc", ENTERPRISE_A).await;
    browser
        .fill("#f-builder_name", "福州一站酒店有限公司")
        .await;
    browser
        .fill("#f-location", "福州市闽侯县上街镇科技东路 8 号")
        .await;
    set_value(&browser, "f-category", "small_low_risk").await;
    browser.fill("#f-scale-floor_area_m2", "2400").await;
    browser.fill("#f-scale-total_investment_wan", "1800").await;
    browser.click("input[name=land_granted][value=true]").await;
    browser.click("#register-project").await;
    browser.find("#error-summary").await;
    assert_eq!(
        attribute(&browser, "#f-project_code", "aria-invalid").await,
        "true"
    );
    assert_eq!(
        attribute(&browser, "#f-project_code", "aria-describedby").await,
        "err-project_code"
    );
    let error = browser.text("#err-project_code").await;
    assert!(error.contains("项目代码"), "error text: {error}");
    assert!(
        browser
            .text("#error-summary a[href='#f-project_code']")
            .await
            .contains("项目代码"),
        "the summary links to the field"
    );
    // Only the code is wrong; everything typed is still there.
    assert!(!browser.has("#err-name").await);
    assert!(!browser.has("#err-category").await);
    assert_eq!(
        attribute(&browser, "#f-name", "value").await,
        "福州一站科创园配套仓储用房（门户）"
    );
    assert_eq!(
        browser
            .script("return document.getElementById('f-category').value;")
            .await,
        "small_low_risk"
    );
    browser.screenshot("register-inline-error").await;
    let code = "2026-350121-54-01-000123";
    browser.fill("#f-project_code", code).await;
    browser.click("#register-project").await;
    browser
        .find("[data-testid=project-status][data-status=active]")
        .await;
    assert!(browser.text(".flash").await.contains("项目已登记"));
    let project_id = project_id_of_url(&browser).await;
    let project = project_of(&stack, &clerk_token, &project_id).await;
    assert_eq!(project["project_code"], code);
    assert_eq!(project["builder_uscc"], ENTERPRISE_A);
    assert_eq!(project["category"], "small_low_risk");
    assert_eq!(project["land_granted"], true);
    assert_eq!(project["floor_area_m2"], 2400.0);
    assert_eq!(project["total_investment_wan"], 1800.0);
    assert_eq!(project["next_stage"], STAGE);
    let budget = browser.text("#budget").await;
    assert!(budget.contains("/ 24 个工作日"), "budget: {budget}");
    assert_eq!(browser.text("[data-testid=budget-used]").await, "0");
    browser.screenshot("project-registered").await;

    // 2. The first stage's merged form, every field and material.
    browser.click("#file-stage").await;
    browser
        .find(&format!(
            "form[action='/construction/projects/{project_id}/stages/{STAGE}']"
        ))
        .await;
    let form = json_ok(
        stack
            .get(
                con(
                    &stack,
                    &format!("/api/v1/projects/{project_id}/stages/{STAGE}/form"),
                ),
                &clerk_token,
            )
            .await,
        200,
    )
    .await;
    let sample = yizhan_construction::seed::sample_form();
    let fields = form["fields"].as_array().unwrap();
    assert!(!fields.is_empty());
    for field in fields {
        let key = field["key"].as_str().unwrap();
        let value = &sample[key];
        assert!(!value.is_null(), "the sample has {key}");
        let id = format!("f-form-{key}");
        match field["type"].as_str().unwrap() {
            "date" | "choice" => set_value(&browser, &id, &field_text(value)).await,
            "boolean" => {
                browser
                    .click(&format!("input[name='form.{key}'][value={value}]"))
                    .await
            }
            _ => browser.fill(&format!("#{id}"), &field_text(value)).await,
        }
    }
    let pdf = tempfile::NamedTempFile::with_suffix(".pdf").unwrap();
    std::fs::write(pdf.path(), pdf_bytes(4096, "portal construction e2e")).unwrap();
    let materials = form["materials"].as_array().unwrap();
    assert!(!materials.is_empty());
    for material in materials {
        let code = material["code"].as_str().unwrap();
        browser.attach(&format!("#file-{code}"), pdf.path()).await;
    }
    browser.screenshot("stage-form-filled").await;
    browser.click("#submit-stage").await;
    browser
        .find("section[data-stage-code=land_planning][data-status=submitted]")
        .await;
    assert!(browser.text(".flash").await.contains("已接件"));
    assert_eq!(
        browser
            .text("section[data-stage-code=land_planning] [data-testid=stage-status]")
            .await,
        "已接件"
    );
    let stage_id = attribute(
        &browser,
        "section[data-stage-code=land_planning]",
        "data-stage",
    )
    .await
    .as_str()
    .unwrap()
    .to_owned();
    let stage = stage_of(&stack, &clerk_token, &stage_id).await;
    assert_eq!(stage["status"], "submitted");
    assert_eq!(stage["blzt"], 1);
    assert_eq!(stage["submitted_by"], "demo-applicant");
    for field in fields {
        let key = field["key"].as_str().unwrap();
        let filed = &stage["form"][key];
        match sample[key].as_f64() {
            // The page sends numbers as typed numbers (1800 → 1800.0).
            Some(n) => assert_eq!(filed.as_f64(), Some(n), "form.{key} as filed"),
            None => assert_eq!(filed, &sample[key], "form.{key} as filed"),
        }
    }
    for material in materials {
        let code = material["code"].as_str().unwrap();
        assert!(
            stage["materials"][code]
                .as_str()
                .is_some_and(|id| !id.is_empty()),
            "material {code} uploaded and attached: {}",
            stage["materials"]
        );
    }
    browser.screenshot("stage-submitted").await;

    // 3. The clerk accepts it from the merged intake queue.
    sign_in(&browser, &stack, "clerk").await;
    browser
        .goto(&stack.url(Service::Portal, "/window/intake"))
        .await;
    browser
        .find(&format!(
            "tr[data-entry='{stage_id}'][data-source=construction]"
        ))
        .await;
    browser.screenshot("intake-queue").await;
    browser.click(&format!("a[data-open='{stage_id}']")).await;
    browser
        .find("[data-testid=status][data-status=submitted]")
        .await;
    let source = browser.source().await;
    assert!(source.contains(code), "the intake page shows the project");
    assert!(
        !source.contains("未提交"),
        "every material is there at the window"
    );
    browser.screenshot("intake").await;
    browser.click("#confirm").await;
    browser.click("#accept").await;
    assert!(browser.text(".flash").await.contains("已受理"));
    assert!(
        !browser.has(&format!("a[data-open='{stage_id}']")).await,
        "accepted, off the intake queue"
    );
    let stage = stage_of(&stack, &clerk_token, &stage_id).await;
    assert_eq!(stage["status"], "in_review");

    // 4. Every department's reviewer approves their item in their queue.
    let tasks = stage["tasks"].as_array().unwrap();
    assert!(!tasks.is_empty());
    for (n, task) in tasks.iter().enumerate() {
        assert_eq!(task["status"], "in_review", "{task}");
        let dept = task["department_code"].as_str().unwrap();
        let task_id = task["id"].as_str().unwrap();
        sign_in(&browser, &stack, &format!("reviewer:{dept}")).await;
        browser.goto(&stack.url(Service::Portal, "/review")).await;
        browser.find(&format!("a[data-open='{task_id}']")).await;
        if n == 0 {
            browser.screenshot("review-queue").await;
        }
        browser.click(&format!("a[data-open='{task_id}']")).await;
        browser
            .find("[data-testid=status][data-status=in_review]")
            .await;
        assert_eq!(
            browser.text("h1").await,
            task["item_name"].as_str().unwrap()
        );
        // The reviewer reads what the stage application says for this item.
        assert!(
            browser.source().await.contains("本事项的申请信息"),
            "the task page shows the item's fields"
        );
        let permit = format!("GC-E2E-{n:03}");
        browser.fill("#f-permit_number", &permit).await;
        if n == 0 {
            browser.screenshot("review-task").await;
        }
        browser.click("#approve").await;
        assert!(
            browser.text(".flash").await.contains("已准予许可"),
            "reviewer {dept}"
        );
        let decided = json_ok(
            stack
                .get(
                    con(&stack, &format!("/api/v1/tasks/{task_id}")),
                    &reviewer(&stack, dept),
                )
                .await,
            200,
        )
        .await;
        assert_eq!(decided["status"], "approved", "{decided}");
        assert_eq!(decided["permit_number"], permit.as_str());
    }

    // 5. The applicant sees the stage concluded and the budget used.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(
            Service::Portal,
            &format!("/construction/projects/{project_id}"),
        ))
        .await;
    browser
        .wait_for_text("data-status=\"completed\"", Duration::from_secs(30))
        .await;
    assert_eq!(
        browser
            .text("section[data-stage-code=land_planning] [data-testid=stage-status]")
            .await,
        "阶段办结"
    );
    let project = project_of(&stack, &clerk_token, &project_id).await;
    assert_eq!(project["stages"][0]["status"], "completed");
    assert_eq!(project["next_stage"], "engineering_permit");
    assert!(
        project["budget"]["state"].is_string(),
        "the budget clock ran"
    );
    assert_eq!(
        browser.text("[data-testid=budget-used]").await,
        days(project["budget"]["used_days"].as_f64().unwrap())
    );
    let budget = browser.text("#budget").await;
    assert!(
        budget.contains(project["budget"]["state_name"].as_str().unwrap()),
        "budget state shown in words: {budget}"
    );
    assert!(
        attribute(&browser, "#file-stage", "href")
            .await
            .as_str()
            .unwrap()
            .ends_with("/stages/engineering_permit"),
        "the next stage is offered"
    );
    let rows = browser
        .script(
            "return document.querySelectorAll('section[data-stage-code=land_planning] tbody tr').length;",
        )
        .await;
    assert_eq!(rows, tasks.len());
    // The stage map: four stages in order, the first done, the second
    // ready to file, the rest not started, each said in words.
    let map = browser
        .script(
            "return Array.from(document.querySelectorAll('[data-testid=stage-map] li')) \
             .map(li => [li.dataset.state, li.innerText]);",
        )
        .await;
    let states: Vec<&str> = map
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "next", "later", "later"], "{map}");
    assert!(map[0][1].as_str().unwrap().contains("立项用地规划许可"));
    assert!(map[0][1].as_str().unwrap().contains("已办结"));
    assert!(map[1][1].as_str().unwrap().contains("可申报"));
    for width in [1280, 390] {
        assert!(
            browser.fits_width(width).await,
            "project page at {width} px"
        );
    }
    browser.screenshot("stage-completed").await;

    // 好差评: the concluded stage offers its rating once the enterprise
    // service has read the stage's events.
    browser
        .wait_for_text("data-rate-stage=", Duration::from_secs(30))
        .await;
    browser.click("a[data-rate-stage]").await;
    assert!(browser.source().await.contains("工程建设项目审批阶段"));
    browser.find("#submit-rating").await;

    browser.quit().await;
    stack.stop().await;
}

/// One run is enough for the browser: the database paths are covered by
/// the REST tests on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn construction_project_in_a_browser() {
    construction_project(Backend::Sqlite).await;
}
