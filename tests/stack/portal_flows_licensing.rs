//! 变更 / 延续 / 注销 and 事项目录管理 through the portal, in a real
//! browser at desktop and phone widths: the holder applies to change the
//! licence from its application page (refused when nothing changes, and
//! at the field with what was typed kept; a cancellation refused
//! unconfirmed), and the administrator publishes a catalog version from
//! the editor (refused at the editor with the problem named, the edit
//! kept) and reads the versions. Each step is checked at the API; roles
//! the API refuses get the 403 page.

use std::time::Duration;

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::licensing::lic;
use crate::portal_e2e::sign_in;
use crate::portal_flows_construction::{desktop, fits, refused_page};

/// A hotel licence of ENTERPRISE_A, issued: every department approves.
async fn licensed(stack: &TestStack, alice: &str) -> Value {
    let app = crate::crawl_runs::hotel(stack, alice, &[]).await;
    let accepted = crate::crawl_runs::intake(stack, &app, json!({"decision": "accept"})).await;
    for (n, task) in accepted["tasks"].as_array().unwrap().iter().enumerate() {
        let url = lic(
            stack,
            &format!("/api/v1/tasks/{}/decision", task["id"].as_str().unwrap()),
        );
        let dept = reviewer(stack, task["department_code"].as_str().unwrap());
        let body = json!({"decision": "approve", "permit_number": format!("闽许-2026-{n:03}")});
        json_ok(stack.post_json(url, &dept, &body).await, 200).await;
    }
    let url = lic(
        stack,
        &format!("/api/v1/applications/{}", app["id"].as_str().unwrap()),
    );
    eventually("the hotel licence", Duration::from_secs(60), || async {
        let app = stack.get_json(&url, alice).await;
        app["certificate_id"].is_string().then_some(app)
    })
    .await
}

fn value_of(id: &str) -> String {
    format!("return document.getElementById('{id}').value;")
}

async fn licence_change_in_the_browser(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let app = licensed(&stack, &alice).await;
    let id = app["id"].as_str().unwrap();
    let browser = Browser::start("flows-lifecycle").await;
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, &format!("/licensing/applications/{id}")))
        .await;
    browser.click("#lifecycle-link").await;
    assert_eq!(
        browser.script(&value_of("f-form-business_address")).await,
        "福州市鼓楼区五四路 1 号"
    );
    fits(&browser, "the change page").await;
    desktop(&browser).await;

    // Nothing changed: the service's message at the form.
    browser.click("#apply-change").await;
    browser.find("#err-form").await;
    // A cancellation unconfirmed: at its box.
    browser.click("#apply-cancellation").await;
    browser.find("#err-confirm").await;
    // A bad value: at its field, the change typed kept.
    browser
        .fill("#f-form-business_address", "福州市鼓楼区五四路 8 号")
        .await;
    browser.fill("#f-form-room_count", "很多").await;
    browser.click("#apply-change").await;
    browser.find("#err-form-room_count").await;
    assert_eq!(
        browser.script(&value_of("f-form-business_address")).await,
        "福州市鼓楼区五四路 8 号"
    );
    assert_eq!(browser.script(&value_of("f-form-room_count")).await, "很多");
    fits(&browser, "the change refused at its field").await;
    desktop(&browser).await;
    browser.screenshot("licence-change-refused").await;
    browser.fill("#f-form-room_count", "80").await;
    // The floor plan changes with the address: a new file for its slot.
    let plan = std::env::temp_dir().join(format!("新平面图-{}.pdf", uuid::Uuid::now_v7()));
    std::fs::write(&plan, pdf_bytes(2048, "changed-plan")).unwrap();
    assert!(
        browser.text("#replace-materials").await.contains("现为"),
        "each slot shows the file it holds now"
    );
    browser.attach("#f-materials-floor_plan", &plan).await;
    browser.click("#apply-change").await;
    browser
        .wait_for_text("变更申请已提交", Duration::from_secs(10))
        .await;
    let _ = std::fs::remove_file(&plan);
    let apps = stack
        .get_json(lic(&stack, "/api/v1/applications?limit=50"), &alice)
        .await;
    let change = apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] != app["id"])
        .expect("the change application")
        .clone();
    let change = stack
        .get_json(
            lic(
                &stack,
                &format!("/api/v1/applications/{}", change["id"].as_str().unwrap()),
            ),
            &alice,
        )
        .await;
    assert_eq!(change["kind"], "change", "{change}");
    assert_eq!(change["predecessor_id"], app["id"]);
    assert_eq!(change["status"], "submitted");
    assert_eq!(
        change["form"]["business_address"],
        "福州市鼓楼区五四路 8 号"
    );
    assert_ne!(
        change["materials"]["floor_plan"], app["materials"]["floor_plan"],
        "the floor plan replaced"
    );
    for (code, id) in app["materials"].as_object().unwrap() {
        if code != "floor_plan" {
            assert_eq!(&change["materials"][code], id, "{code} carried over");
        }
    }
    let archive = stack
        .get_json(
            stack.url(
                Service::Document,
                &format!(
                    "/api/v1/materials/{}",
                    change["materials"]["floor_plan"].as_str().unwrap()
                ),
            ),
            &alice,
        )
        .await;
    assert_eq!(archive["material_type"], "floor_plan");
    assert!(
        archive["filename"]
            .as_str()
            .unwrap()
            .starts_with("新平面图")
    );
    assert!(
        browser.url().await.contains(&format!(
            "/licensing/applications/{}",
            change["id"].as_str().unwrap()
        )),
        "the new application's page"
    );

    // A window clerk may not apply for the holder: the 403 page.
    sign_in(&browser, &stack, "clerk").await;
    browser
        .goto(&stack.url(
            Service::Portal,
            &format!("/licensing/applications/{id}/lifecycle"),
        ))
        .await;
    assert!(
        refused_page(&browser).await,
        "{}",
        browser.text("main").await
    );
    browser.quit().await;
    stack.stop().await;
}

async fn catalog_published_in_the_browser(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let browser = Browser::start("flows-catalog").await;
    sign_in(&browser, &stack, "admin").await;
    browser.click("a[href=\"/admin/catalog\"]").await;
    assert_eq!(browser.text("[data-testid=version]").await, "1");
    let current = stack
        .get_json(
            lic(&stack, "/api/v1/catalog"),
            &stack.staff("admin-1", Role::Admin),
        )
        .await;
    let first_item = current["items"][0]["name"].as_str().unwrap().to_owned();
    assert!(browser.text("main").await.contains(&first_item));
    fits(&browser, "the catalog page").await;
    desktop(&browser).await;

    // An item given a department the catalog lacks: refused at the
    // editor, the problem named by the item, the edit kept.
    browser.click("#editor summary").await;
    browser
        .script(
            "const t = document.getElementById('f-catalog'); const c = JSON.parse(t.value); \
             c.items[0].department = 'nowhere'; t.value = JSON.stringify(c, null, 1);",
        )
        .await;
    browser.click("#publish").await;
    browser.find("#err-catalog").await;
    let problems = browser.text("[data-testid=problems]").await;
    assert!(
        problems.contains(&format!("事项“{first_item}”")),
        "{problems}"
    );
    assert!(
        browser
            .script("return document.getElementById('f-catalog').value.includes('nowhere');")
            .await
            == true
    );
    fits(&browser, "the catalog refused at the editor").await;
    desktop(&browser).await;
    browser.screenshot("catalog-refused").await;
    // Not JSON at all: said at the editor by the page.
    browser
        .script("document.getElementById('f-catalog').value = '{\"version\": 2,';")
        .await;
    browser.click("#publish").await;
    // The refused page replaces one that had an error there too: wait for
    // the new message rather than read the old page.
    eventually(
        "the JSON error at the editor",
        Duration::from_secs(10),
        || async {
            browser
                .text("#err-catalog")
                .await
                .contains("JSON 格式有误")
                .then_some(())
        },
    )
    .await;

    // A description edited: published as version 2.
    browser
        .goto(&stack.url(Service::Portal, "/admin/catalog"))
        .await;
    browser.click("#editor summary").await;
    browser
        .script(
            "const t = document.getElementById('f-catalog'); const c = JSON.parse(t.value); \
             c.scenarios[0].description = '住宿经营（第二版目录）'; t.value = JSON.stringify(c);",
        )
        .await;
    browser.click("#publish").await;
    browser
        .wait_for_text("事项目录新版本已发布", Duration::from_secs(10))
        .await;
    let published = stack
        .get_json(
            lic(&stack, "/api/v1/catalog"),
            &stack.staff("admin-1", Role::Admin),
        )
        .await;
    assert_eq!(published["version"], 2);
    assert_eq!(
        published["scenarios"][0]["description"],
        "住宿经营（第二版目录）"
    );
    assert_eq!(browser.text("[data-testid=version]").await, "2");
    browser.click("a[href=\"/admin/catalog/versions/1\"]").await;
    assert_eq!(browser.text("[data-testid=version]").await, "1");
    assert!(browser.text("main").await.contains(&first_item));
    fits(&browser, "a catalog version").await;
    desktop(&browser).await;

    // A window clerk may not manage the catalog: the 403 page.
    sign_in(&browser, &stack, "clerk").await;
    browser
        .goto(&stack.url(Service::Portal, "/admin/catalog"))
        .await;
    assert!(
        refused_page(&browser).await,
        "{}",
        browser.text("main").await
    );
    browser.quit().await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    licence_change_in_the_browser,
    catalog_published_in_the_browser
);
