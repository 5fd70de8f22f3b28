//! What the applicant owes, on the application page itself: a banner says
//! 待补正 (with a link to the department's form) and 容缺待补交 (with the
//! date), and the 容缺 card takes the owed file right there. Submitting
//! nothing, or a file the archive refuses, draws the page again with the
//! message at the material's box; a good file is filed as the material's
//! own type and clears what is owed. In the browser at 1280 and 390 px:
//! the banner, the upload, and a returned application's form with the
//! flagged field and material marked.

use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;
use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::crawl_runs::{hotel, intake};
use crate::licensing::lic;
use crate::portal_e2e::sign_in;
use crate::portal_flows_construction::{desktop, fits};
use crate::portal_pages::{client, csrf, page, session};

const OWED: &str = "surveillance_plan";

async fn post_owed(
    stack: &TestStack,
    token: &str,
    app_id: &str,
    file: Option<(&str, Vec<u8>)>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("_csrf", csrf(stack, token).await);
    if let Some((name, bytes)) = file {
        form = form.part(
            format!("file.{OWED}"),
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    }
    client()
        .post(stack.url(
            Service::Portal,
            &format!("/licensing/applications/{app_id}/tolerance-materials"),
        ))
        .header(COOKIE, session(token))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A page's HTML with the escaped slashes of its addresses read back.
async fn text(response: reqwest::Response) -> String {
    response.text().await.unwrap().replace("&#x2f;", "/")
}

async fn owed_materials_are_handed_in_on_the_application_page(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Document, Service::Portal],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let app = hotel(&stack, &alice, &[]).await;
    let app_id = app["id"].as_str().unwrap().to_owned();
    let due = chrono::Utc::now().date_naive() + chrono::Days::new(5);
    let accepted = intake(
        &stack,
        &app,
        json!({"decision": "accept_with_tolerance", "tolerance_due_date": due,
               "deficiencies": [{"material": OWED, "reason": "监控方案待补"}]}),
    )
    .await;
    // One department wants the floor plan again.
    let task = &accepted["tasks"][0];
    let task_id = task["id"].as_str().unwrap().to_owned();
    let dept = task["department_code"].as_str().unwrap();
    json_ok(
        stack
            .post_json(
                lic(
                    &stack,
                    &format!("/api/v1/tasks/{task_id}/supplement-requests"),
                ),
                &reviewer(&stack, dept),
                &json!({"items": [{"material": "floor_plan", "reason": "平面图不清晰"}]}),
            )
            .await,
        200,
    )
    .await;

    let path = format!("/licensing/applications/{app_id}");
    // Addresses the page built are escaped (`/` as `&#x2f;`).
    let html = text(page(&stack, Some(&alice), &path).await).await;
    assert!(html.contains("id=\"next-step\""), "a banner: {html}");
    assert!(html.contains("<strong>待补正：</strong>"));
    assert!(
        html.contains(&format!("href=\"#supplement-{task_id}\""))
            && html.contains(&format!("id=\"supplement-{task_id}\"")),
        "the banner leads to the department's form"
    );
    assert!(html.contains("<strong>容缺待补交：</strong>尚欠 1 份材料"));
    assert!(html.contains(&format!("{due} 前")));
    assert!(
        html.contains(&format!("name=\"file.{OWED}\"")),
        "the owed material is uploaded right there"
    );
    assert!(html.contains("视频监控安装说明"), "by name");
    // What was handed in, each to open in the viewer.
    let floor_plan = app["materials"]["floor_plan"].as_str().unwrap();
    assert!(html.contains("id=\"submitted-materials\""));
    assert!(
        html.contains(&format!("href=\"/materials/{floor_plan}?back=")),
        "the applicant opens the floor plan in the viewer"
    );
    // The file passes through the portal as the archive holds it, its
    // length announced (streamed, not held).
    let original = stack
        .client
        .get(stack.url(
            Service::Document,
            &format!("/api/v1/materials/{floor_plan}/content"),
        ))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let through = page(
        &stack,
        Some(&alice),
        &format!("/materials/{floor_plan}/file"),
    )
    .await;
    assert_eq!(through.status(), 200);
    assert_eq!(
        through.headers()[reqwest::header::CONTENT_LENGTH],
        original.len().to_string().as_str()
    );
    assert_eq!(through.bytes().await.unwrap(), original);

    // Who may not hand in: a clerk (no applicant), another enterprise's
    // applicant (not theirs to see), nobody signed in.
    let clerk = stack.staff("clerk-owed", yizhan_auth::Role::WindowClerk);
    let by_clerk = post_owed(&stack, &clerk, &app_id, None).await;
    assert_eq!(by_clerk.status(), 403);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let by_bob = post_owed(
        &stack,
        &bob,
        &app_id,
        Some(("x.pdf", pdf_bytes(2048, "bob"))),
    )
    .await;
    assert_eq!(by_bob.status(), 404);
    let anonymous = client()
        .post(stack.url(
            Service::Portal,
            &format!("/licensing/applications/{app_id}/tolerance-materials"),
        ))
        .multipart(reqwest::multipart::Form::new().text("_csrf", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert!(
        anonymous.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );

    // A change page posted with no known kind: a 400 page, nothing sent.
    let no_kind = client()
        .post(stack.url(
            Service::Portal,
            &format!("/licensing/applications/{app_id}/lifecycle"),
        ))
        .header(COOKIE, session(&alice))
        .multipart(
            reqwest::multipart::Form::new()
                .text("_csrf", csrf(&stack, &alice).await)
                .text("kind", "maybe"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(no_kind.status(), 400);
    assert!(
        no_kind
            .text()
            .await
            .unwrap()
            .contains("请选择变更、延续或注销")
    );

    // Nothing chosen: the page again, the message at the box.
    let empty = post_owed(&stack, &alice, &app_id, None).await;
    assert_eq!(empty.status(), 422);
    let html = empty.text().await.unwrap();
    assert!(html.contains("没有选择任何文件"));
    assert!(html.contains(&format!("id=\"err-materials-{OWED}\"")));
    assert!(html.contains("请选择要补交的文件"));

    // A file the archive refuses (not a PDF): its message at the box.
    let bad = post_owed(
        &stack,
        &alice,
        &app_id,
        Some(("监控.pdf", b"hello".to_vec())),
    )
    .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"err-materials-{OWED}\"")),
        "{html}"
    );
    assert!(html.contains("监控.pdf："));
    let still = stack
        .get_json(
            lic(&stack, &format!("/api/v1/applications/{app_id}")),
            &alice,
        )
        .await;
    assert_eq!(still["tolerance_missing"].as_array().unwrap().len(), 1);

    // The same for a 补正 of a material: the message at its box.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf(&stack, &alice).await)
        .text("application_id", app_id.clone())
        .part(
            "file.floor_plan",
            reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("平面图.png"),
        );
    let refused = client()
        .post(stack.url(
            Service::Portal,
            &format!("/licensing/tasks/{task_id}/supplements"),
        ))
        .header(COOKIE, session(&alice))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"err-materials-floor_plan\""), "{html}");

    // A good file: filed as the owed type, nothing owed any more.
    let good = post_owed(
        &stack,
        &alice,
        &app_id,
        Some(("监控方案.pdf", pdf_bytes(2048, "owed"))),
    )
    .await;
    assert_eq!(good.status(), 303);
    assert!(
        good.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with(&format!("{path}?msg="))
    );
    let after = stack
        .get_json(
            lic(&stack, &format!("/api/v1/applications/{app_id}")),
            &alice,
        )
        .await;
    assert_eq!(after["tolerance_missing"], json!([]), "{after}");
    let archive = stack
        .get_json(
            stack.url(
                Service::Document,
                &format!("/api/v1/enterprises/{ENTERPRISE_A}/materials"),
            ),
            &alice,
        )
        .await;
    let current = archive["current"].as_array().unwrap();
    let owed = current
        .iter()
        .find(|m| m["material_type"] == OWED)
        .expect("the owed type in the archive");
    assert_eq!(owed["filename"], "监控方案.pdf");
    let html = text(page(&stack, Some(&alice), &path).await).await;
    assert!(
        !html.contains("容缺待补交"),
        "the banner names only what is owed"
    );
    assert!(!html.contains(&format!("name=\"file.{OWED}\"")));
    stack.stop().await;
}

/// In the browser, at desktop and phone widths: the banner and the 容缺
/// upload on the application page, and a returned application's form
/// with the flagged field and material marked where they are corrected.
async fn owed_and_flagged_in_the_browser(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Document, Service::Portal],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let returned = hotel(&stack, &alice, &[]).await;
    intake(
        &stack,
        &returned,
        json!({"decision": "reject", "deficiencies": [
            {"field": "contact_phone", "reason": "联系电话无法接通"},
            {"material": "articles_of_association", "reason": "章程未盖章"},
        ]}),
    )
    .await;
    let tolerant = hotel(&stack, &alice, &[OWED]).await;
    let due = chrono::Utc::now().date_naive() + chrono::Days::new(5);
    intake(
        &stack,
        &tolerant,
        json!({"decision": "accept_with_tolerance", "tolerance_due_date": due,
               "deficiencies": [{"material": OWED, "reason": "监控方案待补"}]}),
    )
    .await;
    let file = std::env::temp_dir().join(format!("监控方案-{}.pdf", uuid::Uuid::now_v7()));
    std::fs::write(&file, pdf_bytes(2048, "browser-owed")).unwrap();

    let browser = Browser::start("owed").await;
    sign_in(&browser, &stack, "applicant").await;
    let tolerant_id = tolerant["id"].as_str().unwrap();
    browser
        .goto(&stack.url(
            Service::Portal,
            &format!("/licensing/applications/{tolerant_id}"),
        ))
        .await;
    let banner = browser.text("#next-step").await;
    assert!(
        banner.contains("容缺待补交") && banner.contains("尚欠 1 份材料"),
        "{banner}"
    );
    fits(&browser, "the application page with what is owed").await;
    desktop(&browser).await;
    browser.screenshot("owed").await;
    browser.attach(&format!("#f-materials-{OWED}"), &file).await;
    browser.click("#supply-owed").await;
    browser
        .wait_for_text("容缺材料已补交", Duration::from_secs(20))
        .await;
    assert!(!browser.has("#owed").await, "nothing is owed any more");
    let after = stack
        .get_json(
            lic(&stack, &format!("/api/v1/applications/{tolerant_id}")),
            &alice,
        )
        .await;
    assert_eq!(after["tolerance_missing"], json!([]));

    // The returned one: 修改并重新提交 opens the form with the flags.
    let returned_id = returned["id"].as_str().unwrap();
    browser
        .goto(&stack.url(
            Service::Portal,
            &format!("/licensing/applications/{returned_id}"),
        ))
        .await;
    browser.click("#correct").await;
    let phone = browser.text("[data-flagged=\"form.contact_phone\"]").await;
    assert!(
        phone.contains("需补正") && phone.contains("联系电话无法接通"),
        "{phone}"
    );
    let articles = browser
        .text("[data-flagged=\"m.articles_of_association\"]")
        .await;
    assert!(articles.contains("章程未盖章"), "{articles}");
    fits(&browser, "the resubmit form with its flags").await;
    desktop(&browser).await;
    browser.screenshot("resubmit-flagged").await;
    browser.quit().await;
    let _ = std::fs::remove_file(&file);
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    owed_materials_are_handed_in_on_the_application_page,
    owed_and_flagged_in_the_browser,
);
