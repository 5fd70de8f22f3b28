//! The document viewer and the per-material marks in a real browser, at
//! desktop and phone widths: a clerk sees every material of a licensing
//! application by name, file, size and version, is warned that two slots
//! hold one file, and opens a PDF and a PNG inline; a reviewer opens one
//! of a licensing task and one of a construction stage; a reviewer of
//! another department and an applicant of another enterprise get the 404
//! page; a file of another type (OFD) is offered as a download. The
//! clerk's 不予受理 and the reviewer's 补正 mark materials "有问题" with a
//! reason each (a mark without one is refused at its box, the input kept)
//! and the service gets exactly those.

use std::time::Duration;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;
use yizhan_types::material_type::{self, Accepts};

use crate::browser::Browser;
use crate::common::*;
use crate::construction::{file_and_accept, project_code, register};
use crate::licensing::{hotel_answers, lic};
use crate::portal_e2e::sign_in;
use crate::portal_review_steps::fits;

const WAIT: Duration = Duration::from_secs(60);

/// A small PNG (a grey block), different per `shade`.
fn png_bytes(shade: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(48, 32, image::Rgb([shade, shade, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A hotel application of ENTERPRISE_A: the floor plan a PNG, `same` two
/// slots holding one and the same PDF, every other slot a PDF (or a PNG
/// where only images are taken). Answers the application and the
/// material ids and the content types of their files, by code.
async fn hotel_with_files(
    stack: &TestStack,
    token: &str,
    same: bool,
) -> (Value, Map<String, Value>, BTreeMap<String, &'static str>) {
    let notice = crate::licensing_more::notice(stack, "hotel", &hotel_answers()).await;
    let shared = pdf_bytes(3000, &uuid::Uuid::now_v7().to_string());
    let mut shared_left = if same { 2 } else { 0 };
    let mut materials = Map::new();
    let mut kinds = BTreeMap::new();
    for (n, m) in notice["materials"].as_array().unwrap().iter().enumerate() {
        let code = m["code"].as_str().unwrap();
        let images_only = material_type::find(code).unwrap().accepts == Accepts::Images;
        let (name, bytes, kind) = if code == "floor_plan" || images_only {
            (
                format!("平面图{n}.png"),
                png_bytes(n as u8 * 10),
                "image/png",
            )
        } else if shared_left > 0 {
            shared_left -= 1;
            (
                "同一份文件.pdf".to_owned(),
                shared.clone(),
                "application/pdf",
            )
        } else {
            (
                format!("材料{n}.pdf"),
                pdf_bytes(2048, &uuid::Uuid::now_v7().to_string()),
                "application/pdf",
            )
        };
        kinds.insert(code.to_owned(), kind);
        let stored = json_ok(upload(stack, token, code, &name, bytes, &[]).await, 201).await;
        materials.insert(code.to_owned(), stored["id"].clone());
    }
    assert!(
        materials.contains_key("floor_plan"),
        "hotel asks for a floor plan"
    );
    let app = json_ok(
        stack
            .post_json(
                lic(stack, "/api/v1/applications"),
                token,
                &json!({
                    "scenario": "hotel",
                    "answers": hotel_answers(),
                    "enterprise_uscc": ENTERPRISE_A,
                    "form": yizhan_licensing::seed::sample_hotel_form(),
                    "materials": materials,
                }),
            )
            .await,
        201,
    )
    .await;
    (app, materials, kinds)
}

/// Waits until `token` may read material `id` (the grants arrive by event).
async fn readable(stack: &TestStack, token: &str, id: &str) {
    let url = stack.url(Service::Document, &format!("/api/v1/materials/{id}"));
    eventually("the material is readable", WAIT, || async {
        (stack.get(&url, token).await.status() == 200).then_some(())
    })
    .await;
}

/// The browser's own fetch of `path` (with its session): status, content
/// type and disposition.
async fn fetched(browser: &Browser, path: &str) -> Value {
    browser
        .script_async(&format!(
            "const done = arguments[arguments.length - 1];\
             fetch({}).then(r => done({{status: r.status, type: r.headers.get('content-type'), \
               disposition: r.headers.get('content-disposition')}}));",
            serde_json::to_string(path).unwrap()
        ))
        .await
}

/// Opens the viewer from the material list's link of `code` and checks the
/// file is embedded and served inline as `content_type`.
async fn opens_inline(browser: &Browser, code: &str, id: &str, content_type: &str) {
    browser
        .click(&format!("#materials li[data-material=\"{code}\"] a"))
        .await;
    let file = format!("/materials/{id}/file");
    if content_type == "application/pdf" {
        browser.find("object#viewer").await;
        assert_eq!(
            browser
                .script("return document.querySelector('object#viewer').getAttribute('data');")
                .await,
            file.as_str()
        );
        assert_eq!(
            browser
                .script("return document.querySelector('object#viewer').type;")
                .await,
            "application/pdf"
        );
    } else {
        browser.find("#viewer img").await;
        let loaded = eventually("the image is drawn", Duration::from_secs(10), || async {
            let width = browser
                .script("const i = document.querySelector('#viewer img'); return i.complete ? i.naturalWidth : 0;")
                .await;
            (width.as_u64().unwrap_or_default() > 0).then_some(width)
        })
        .await;
        assert_eq!(loaded, 48, "the PNG is shown at its size");
        assert_eq!(
            browser
                .script("return new URL(document.querySelector('#viewer img').src).pathname;")
                .await,
            file.as_str()
        );
    }
    let served = fetched(browser, &file).await;
    assert_eq!(served["status"], 200, "{served}");
    assert_eq!(served["type"], content_type, "{served}");
    assert!(
        served["disposition"]
            .as_str()
            .unwrap_or_default()
            .starts_with("inline"),
        "{served}"
    );
    fits(browser, "the viewer").await;
}

/// The 404 page, drawn for `path`.
async fn not_found(browser: &Browser, stack: &TestStack, path: &str) {
    browser.goto(&stack.url(Service::Portal, path)).await;
    browser.find("[data-status=\"404\"]").await;
    assert!(!browser.has("#viewer").await);
    let served = fetched(browser, &format!("{path}/file")).await;
    assert_eq!(served["status"], 404, "{served}");
}

async fn clerks_and_reviewers_open_materials_in_the_page(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-viewer", Role::WindowClerk);
    let (app, materials, kinds) = hotel_with_files(&stack, &alice, true).await;
    let app_id = app["id"].as_str().unwrap().to_owned();
    let png = materials["floor_plan"].as_str().unwrap().to_owned();
    let (pdf_code, pdf) = materials
        .iter()
        .find(|(c, _)| kinds[c.as_str()] == "application/pdf")
        .map(|(c, id)| (c.clone(), id.as_str().unwrap().to_owned()))
        .unwrap();
    readable(&stack, &clerk, &png).await;

    // The clerk: names, files and versions, the same-file warning.
    let browser = Browser::start("viewer").await;
    sign_in(&browser, &stack, "clerk").await;
    let intake_page = stack.url(Service::Portal, &format!("/window/licensing/{app_id}"));
    browser.goto(&intake_page).await;
    let list = browser.text("#materials").await;
    assert!(list.contains("经营场所平面布局图"), "{list}");
    assert!(list.contains("第 1 版"), "{list}");
    assert!(list.contains(".png") && list.contains("KB"), "{list}");
    assert!(!list.contains(&png), "no ids in the list: {list}");
    let warning = browser.text("#same-files").await;
    assert!(warning.contains("同一个文件"), "{warning}");
    assert_eq!(
        browser
            .script("return document.querySelectorAll('#materials li.same-file').length;")
            .await,
        2
    );
    fits(&browser, "the clerk's page with its materials").await;
    browser.screenshot("clerk-materials").await;

    // A PDF and a PNG, inline.
    opens_inline(&browser, &pdf_code, &pdf, "application/pdf").await;
    browser.screenshot("viewer-pdf").await;
    browser.click("#back").await;
    opens_inline(&browser, "floor_plan", &png, "image/png").await;
    browser.screenshot("viewer-png").await;
    browser.click("#back").await;

    // 不予受理 per material: a mark without its reason is refused at its
    // box, the other mark and its reason kept.
    browser.click("#f-deficiencies summary").await;
    browser.click("#bad-d-m-floor_plan").await;
    let other = format!("d-m-{pdf_code}");
    browser.click(&format!("#bad-{other}")).await;
    browser
        .fill(&format!("#{other}"), "复印件不清晰，请重新扫描")
        .await;
    browser.click("#intake-form button[value=reject]").await;
    browser.find("#err-d-m-floor_plan").await;
    assert_eq!(
        browser
            .script(&format!("return document.getElementById('{other}').value;"))
            .await,
        "复印件不清晰，请重新扫描"
    );
    assert_eq!(
        browser
            .script(&format!(
                "return document.getElementById('bad-{other}').checked;"
            ))
            .await,
        true
    );
    fits(&browser, "the refused intake form").await;
    browser
        .fill("#d-m-floor_plan", "平面图未标注消防通道")
        .await;
    browser.click("#intake-form button[value=reject]").await;
    browser
        .wait_for_text("已不予受理", Duration::from_secs(10))
        .await;
    let returned = stack
        .get_json(
            lic(&stack, &format!("/api/v1/applications/{app_id}")),
            &alice,
        )
        .await;
    assert_eq!(returned["status"], "returned", "{returned}");
    let mut named: Vec<(String, String)> = returned["deficiencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["material"].as_str().unwrap_or_default().to_owned(),
                d["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    named.sort();
    let mut want = vec![
        ("floor_plan".to_owned(), "平面图未标注消防通道".to_owned()),
        (pdf_code.clone(), "复印件不清晰，请重新扫描".to_owned()),
    ];
    want.sort();
    assert_eq!(named, want);

    // A reviewer of a licensing task: the item's materials, one opened,
    // and a 补正 naming materials with their reasons.
    let (second, second_materials, second_kinds) = hotel_with_files(&stack, &alice, false).await;
    let accepted = crate::crawl_runs::intake(&stack, &second, json!({"decision": "accept"})).await;
    let police = reviewer(&stack, "public_security");
    let task = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department_code"] == "public_security")
        .unwrap()
        .clone();
    let second_id = second["id"].as_str().unwrap().to_owned();
    let task_id = task["id"].as_str().unwrap().to_owned();
    let task_page = format!("/review/licensing/tasks/{task_id}?application={second_id}");
    sign_in(&browser, &stack, "reviewer:public_security").await;
    browser.goto(&stack.url(Service::Portal, &task_page)).await;
    let codes: Vec<String> = browser
        .script(
            "return Array.from(document.querySelectorAll('#materials li')).map(l => l.dataset.material);",
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert!(!codes.is_empty(), "the item uses materials");
    let first = codes[0].clone();
    let first_id = second_materials[&first].as_str().unwrap().to_owned();
    readable(&stack, &police, &first_id).await;
    browser.goto(&stack.url(Service::Portal, &task_page)).await;
    opens_inline(&browser, &first, &first_id, second_kinds[first.as_str()]).await;
    browser.click("#back").await;
    browser.find("#f-items").await;
    fits(&browser, "the reviewer's task page").await;
    browser.click(&format!("#bad-s-m-{first}")).await;
    browser.click("#request-supplement").await;
    browser.find(&format!("#err-s-m-{first}")).await;
    assert_eq!(
        browser
            .script(&format!(
                "return document.getElementById('bad-s-m-{first}').checked;"
            ))
            .await,
        true,
        "the mark is kept"
    );
    browser
        .fill(&format!("#s-m-{first}"), "请提供加盖公章的版本")
        .await;
    browser.click("#request-supplement").await;
    browser
        .wait_for_text("已一次性告知申请人补正", Duration::from_secs(10))
        .await;
    let paused = stack
        .get_json(
            lic(&stack, &format!("/api/v1/applications/{second_id}")),
            &alice,
        )
        .await;
    let asked = paused["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == task_id.as_str())
        .unwrap()["supplement_request"]
        .clone();
    assert_eq!(asked.as_array().map(Vec::len), Some(1), "{asked}");
    assert_eq!(asked[0]["material"], first.as_str(), "{asked}");
    assert_eq!(asked[0]["reason"], "请提供加盖公章的版本", "{asked}");

    // Another department's reviewer: the 404 page.
    sign_in(&browser, &stack, "reviewer:tobacco").await;
    not_found(&browser, &stack, &format!("/materials/{first_id}")).await;

    // A construction stage: its reviewer opens one of its materials.
    let project = register(&stack, &alice, &project_code(61), "small_low_risk", true).await;
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
    let ctask_page = format!(
        "/review/construction/tasks/{}",
        ctask["id"].as_str().unwrap()
    );
    browser.goto(&stack.url(Service::Portal, &ctask_page)).await;
    let code = browser
        .script("return document.querySelector('#materials li').dataset.material;")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    let id = stage["materials"][&code].as_str().unwrap().to_owned();
    readable(&stack, &reviewer(&stack, dept), &id).await;
    browser.goto(&stack.url(Service::Portal, &ctask_page)).await;
    opens_inline(&browser, &code, &id, "application/pdf").await;
    browser.screenshot("viewer-construction").await;
    // And the window's clerk, from the stage's intake page.
    readable(&stack, &clerk, &id).await;
    sign_in(&browser, &stack, "clerk").await;
    let stage_id = stage["id"].as_str().unwrap();
    browser
        .goto(&stack.url(Service::Portal, &format!("/window/construction/{stage_id}")))
        .await;
    let listed = browser.text("#materials").await;
    assert!(
        listed.contains("第 1 版") && listed.contains(".pdf"),
        "{listed}"
    );
    fits(&browser, "the clerk's stage page").await;
    opens_inline(&browser, &code, &id, "application/pdf").await;

    // An applicant of another enterprise: the 404 page; their own opens.
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let theirs = json_ok(
        upload(
            &stack,
            &bob,
            "floor_plan",
            "乙公司平面图.pdf",
            pdf_bytes(2048, "bob"),
            &[],
        )
        .await,
        201,
    )
    .await;
    sign_in(&browser, &stack, "applicant").await;
    not_found(
        &browser,
        &stack,
        &format!("/materials/{}", theirs["id"].as_str().unwrap()),
    )
    .await;
    fits(&browser, "the 404 page").await;
    browser
        .goto(&stack.url(Service::Portal, &format!("/materials/{png}")))
        .await;
    browser.find("#viewer img").await;
    let name = browser.text("[data-testid=filename]").await;
    assert!(
        name.starts_with("平面图") && name.ends_with(".png"),
        "{name}"
    );
    // Any other type (an OFD) is not shown in the page: offered as a file.
    let mut ofd = b"PK\x03\x04".to_vec();
    ofd.extend_from_slice(&[0u8; 26]);
    ofd.extend_from_slice(b"OFD.xml");
    ofd.resize(1024, 0);
    let own = json_ok(
        upload(&stack, &alice, "floor_plan", "平面图.ofd", ofd, &[]).await,
        201,
    )
    .await;
    let own = format!("/materials/{}", own["id"].as_str().unwrap());
    browser.goto(&stack.url(Service::Portal, &own)).await;
    browser.find("p#viewer a[download]").await;
    assert!(!browser.has("#viewer img").await && !browser.has("object").await);
    let served = fetched(&browser, &format!("{own}/file")).await;
    assert_eq!(served["type"], "application/octet-stream", "{served}");
    assert!(
        served["disposition"]
            .as_str()
            .unwrap_or_default()
            .starts_with("attachment"),
        "{served}"
    );
    fits(&browser, "a file offered as a download").await;
    browser.quit().await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(clerks_and_reviewers_open_materials_in_the_page);
