//! 营商云眼: the construction service's timeliness figures (the engine's,
//! as licensing gives them), who may read them, and the portal's
//! dashboard of both services, with a late decision flagged, at desktop
//! and phone widths.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::construction::{approve_all, con, file_and_accept, project_code, register};
use crate::licensing::lic;
use crate::portal_e2e::{set_value, sign_in};

/// One land-planning stage decided by every department; answers the
/// departments that decided.
async fn decided_stage(stack: &TestStack, alice: &str, n: u32) -> Vec<String> {
    let project = register(stack, alice, &project_code(n), "small_low_risk", true).await;
    let stage = file_and_accept(
        stack,
        alice,
        project["id"].as_str().unwrap(),
        "land_planning",
        false,
    )
    .await;
    approve_all(stack, &stage).await;
    let mut departments: Vec<String> = stage["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "in_review" && t["pre_approved"] != true)
        .map(|t| t["department_code"].as_str().unwrap().to_owned())
        .collect();
    departments.dedup();
    departments
}

async fn construction_timeliness_is_scoped_and_checked(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let departments = decided_stage(&stack, &alice, 71).await;
    let url = |q: &str| con(&stack, &format!("/api/v1/statistics/timeliness{q}"));
    let admin = stack.staff("admin-1", Role::Admin);
    let all = stack.get_json(url(""), &admin).await;
    let decided: u64 = all["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["decided"].as_u64().unwrap())
        .sum();
    assert_eq!(decided as usize, all["items"].as_array().unwrap().len());
    assert!(decided >= departments.len() as u64, "{all}");
    for item in all["items"].as_array().unwrap() {
        assert_eq!(item["on_time_rate"], 1.0, "decided at once: {item}");
        assert!(!item["item_name"].as_str().unwrap().contains('_'));
    }
    // A reviewer sees their own department only.
    let dept = &departments[0];
    let own = stack.get_json(url(""), &reviewer(&stack, dept)).await;
    let seen: Vec<&str> = own["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["department_code"].as_str().unwrap())
        .collect();
    assert_eq!(seen, [dept.as_str()]);
    // Others are refused; a bad period names its field.
    expect_problem(stack.get(url(""), &alice).await, 403, "forbidden").await;
    let bad = expect_problem(
        stack
            .get(url("?from=2026-12-03&to=2026-12-01"), &admin)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "from");
    let long = expect_problem(
        stack
            .get(url("?from=2025-01-01&to=2026-12-01"), &admin)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(long["errors"][0]["field"], "to");
    // Nothing decided in a past period.
    let past = stack
        .get_json(url("?from=2025-01-01&to=2025-01-31"), &admin)
        .await;
    assert_eq!(past["items"], json!([]));
    stack.stop().await;
}

/// Marks `task`'s decision late in the licensing database, as its clock
/// would have recorded it: used two working days past its committed limit.
async fn decided_late(stack: &TestStack, task: &str) {
    let db = stack.connect(Service::Licensing).await;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "UPDATE workflow_tasks SET used_half_days = committed_half_days + 4 WHERE id = $1"
        }
        _ => "UPDATE workflow_tasks SET used_half_days = committed_half_days + 4 WHERE id = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [task.into()]))
        .await
        .unwrap();
}

async fn the_dashboard_flags_what_lags(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    // 一业一证: a hotel, the public security item decided late.
    let app = crate::crawl_runs::hotel(&stack, &alice, &[]).await;
    let accepted = crate::crawl_runs::intake(&stack, &app, json!({"decision": "accept"})).await;
    let mut late = None;
    for t in accepted["tasks"].as_array().unwrap() {
        let dept = t["department_code"].as_str().unwrap();
        if dept == "public_security" {
            late = Some(t["id"].as_str().unwrap().to_owned());
        }
        json_ok(
            stack
                .post_json(
                    lic(
                        &stack,
                        &format!("/api/v1/tasks/{}/decision", t["id"].as_str().unwrap()),
                    ),
                    &reviewer(&stack, dept),
                    &json!({"decision": "approve", "permit_number": format!("许-2026-{}", t["item_name"].as_str().unwrap().len())}),
                )
                .await,
            200,
        )
        .await;
    }
    let late = late.expect("the hotel has a public security item");
    decided_late(&stack, &late).await;
    // 工程建设: a stage decided in time.
    decided_stage(&stack, &alice, 72).await;

    let browser = Browser::start("statistics").await;
    sign_in(&browser, &stack, "admin").await;
    browser
        .goto(&stack.url(Service::Portal, "/statistics"))
        .await;
    let licensing = browser.text("[data-testid=stats-1]").await;
    let construction = browser.text("[data-testid=stats-2]").await;
    assert!(
        licensing.contains("一业一证") && licensing.contains("公安局"),
        "{licensing}"
    );
    assert!(construction.contains("工程建设项目审批"), "{construction}");
    assert!(construction.contains("100%"), "{construction}");
    // The late item and its department lag, and say why; nothing else does.
    let lagging: Value = browser
        .script(
            "return Array.from(document.querySelectorAll('tr[data-lagging]')) \
             .map(r => r.innerText);",
        )
        .await;
    let lagging: Vec<&str> = lagging
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(lagging.len(), 2, "the department and the item: {lagging:?}");
    assert!(
        lagging
            .iter()
            .all(|r| r.contains("按时办结率低于 95%") && r.contains("0%")),
        "{lagging:?}"
    );
    assert_eq!(
        browser.text("[data-testid=lagging-count]").await,
        "2 项滞后"
    );
    for width in [1280, 390] {
        assert!(
            browser.fits_width(width).await,
            "the dashboard is wider than {width} px"
        );
    }
    browser.screenshot("statistics").await;
    // A period the services refuse is shown at its field, as typed.
    set_value(&browser, "f-from", "2026-12-03").await;
    set_value(&browser, "f-to", "2026-12-01").await;
    browser.click("form.period button").await;
    browser.find("#err-from").await;
    assert_eq!(
        browser
            .script("return document.getElementById('f-from').value;")
            .await,
        "2026-12-03"
    );
    // An applicant is refused with the 403 page.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, "/statistics"))
        .await;
    assert!(browser.text("h1").await.contains("无权访问"));
    browser.quit().await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    construction_timeliness_is_scoped_and_checked,
    the_dashboard_flags_what_lags
);
