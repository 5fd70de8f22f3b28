//! Guided filing, drafts: the licensing service keeps a draft per
//! enterprise and scenario for that enterprise's applicants and agents
//! only (others refused), checks its shape and size field by field, and
//! drops it when the application is filed. In a real browser the form's
//! "保存草稿" keeps what was typed and the materials uploaded; the draft
//! survives signing out and a restart of the whole stack, 我的申请 lists
//! it with 继续填写; the review page (确认) names every field and material
//! and refuses to submit without the declaration, and submitting deletes
//! the draft. The stepper marks the current step on every page; the form
//! is prefilled from the enterprise's record, its last application and
//! the questionnaire, and each material slot offers only the archive's
//! material of its type. Pages at 1280 and 390 px.

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::browser::Browser;
use crate::common::*;
use crate::licensing::{hotel_answers, lic, materials_for};
use crate::portal_e2e::{field_text, set_value, sign_in};

async fn put(stack: &TestStack, path: &str, token: &str, body: &Value) -> reqwest::Response {
    stack
        .client
        .put(lic(stack, path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn delete(stack: &TestStack, path: &str, token: &str) -> reqwest::Response {
    stack
        .client
        .delete(lic(stack, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn draft_body(uscc: &str) -> Value {
    json!({
        "enterprise_uscc": uscc,
        "answers": hotel_answers(),
        "form": {"enterprise_name": "福州一站酒店有限公司", "room_count": "80"},
        "materials": {"floor_plan": "0193aa00-0000-7000-8000-000000000001"},
    })
}

async fn drafts_belong_to_their_enterprise(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let helper = agent(&stack, "agent-a", &[ENTERPRISE_A]);
    let clerk = stack.staff("clerk-drafts", Role::WindowClerk);

    let saved = json_ok(
        put(
            &stack,
            "/api/v1/drafts/hotel",
            &alice,
            &draft_body(ENTERPRISE_A),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(saved["scenario_name"], "开办酒店（旅馆）");
    assert_eq!(saved["saved_by"], "alice");
    // Saving again replaces it: still one draft, the newer values.
    let mut newer = draft_body(ENTERPRISE_A);
    newer["form"]["room_count"] = json!("90");
    json_ok(
        put(&stack, "/api/v1/drafts/hotel", &alice, &newer).await,
        200,
    )
    .await;
    let mine = stack.get_json(lic(&stack, "/api/v1/drafts"), &alice).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["items"][0]["form"]["room_count"], "90");
    assert_eq!(
        mine["items"][0]["materials"]["floor_plan"],
        "0193aa00-0000-7000-8000-000000000001"
    );
    // The authorised agent reads it too.
    let one = json_ok(
        stack
            .get(
                lic(
                    &stack,
                    &format!("/api/v1/drafts/hotel?enterprise_uscc={ENTERPRISE_A}"),
                ),
                &helper,
            )
            .await,
        200,
    )
    .await;
    assert_eq!(one["form"]["room_count"], "90");

    // Another enterprise's applicant: nothing listed, everything refused.
    let theirs = stack.get_json(lic(&stack, "/api/v1/drafts"), &bob).await;
    assert_eq!(theirs["items"], json!([]));
    let of_a = format!("/api/v1/drafts/hotel?enterprise_uscc={ENTERPRISE_A}");
    expect_problem(stack.get(lic(&stack, &of_a), &bob).await, 403, "forbidden").await;
    expect_problem(
        put(
            &stack,
            "/api/v1/drafts/hotel",
            &bob,
            &draft_body(ENTERPRISE_A),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(delete(&stack, &of_a, &bob).await, 403, "forbidden").await;
    // Staff have no drafts; nobody without a token reads any.
    expect_problem(
        stack.get(lic(&stack, "/api/v1/drafts"), &clerk).await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        put(
            &stack,
            "/api/v1/drafts/hotel",
            &clerk,
            &draft_body(ENTERPRISE_A),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let anonymous = stack
        .client
        .get(lic(&stack, "/api/v1/drafts"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    // An agent must say which enterprise.
    let p = expect_problem(
        stack
            .get(lic(&stack, "/api/v1/drafts/hotel"), &helper)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "enterprise_uscc", "{p}");

    // Shape and size, each problem at its field.
    let mut bad = draft_body(ENTERPRISE_A);
    bad["form"]["business_address"] = json!("路".repeat(2001));
    bad["materials"]["floor_plan"] = json!("../../etc/passwd");
    let p = expect_problem(
        put(&stack, "/api/v1/drafts/hotel", &alice, &bad).await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["form.business_address", "materials.floor_plan"],
        "{p}"
    );
    let p = expect_problem(
        put(
            &stack,
            "/api/v1/drafts/no_such",
            &alice,
            &draft_body(ENTERPRISE_A),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "scenario", "{p}");
    let p = expect_problem(
        put(&stack, "/api/v1/drafts/hotel", &alice, &draft_body("12345")).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "enterprise_uscc", "{p}");
    // The refused saves left the draft as it was.
    let one = stack.get_json(lic(&stack, &of_a), &alice).await;
    assert_eq!(one["form"]["room_count"], "90");

    // Filing the application deletes the draft.
    let notice = crate::licensing_more::notice(&stack, "hotel", &hotel_answers()).await;
    json_ok(
        stack
            .post_json(
                lic(&stack, "/api/v1/applications"),
                &alice,
                &json!({
                    "scenario": "hotel",
                    "answers": hotel_answers(),
                    "enterprise_uscc": ENTERPRISE_A,
                    "form": yizhan_licensing::seed::sample_hotel_form(),
                    "materials": materials_for(&notice),
                }),
            )
            .await,
        201,
    )
    .await;
    expect_problem(
        stack.get(lic(&stack, &of_a), &alice).await,
        404,
        "not_found",
    )
    .await;
    // Deleting is idempotent.
    json_ok(
        put(&stack, "/api/v1/drafts/hotel", &alice, &newer).await,
        200,
    )
    .await;
    assert_eq!(delete(&stack, &of_a, &helper).await.status().as_u16(), 204);
    assert_eq!(delete(&stack, &of_a, &helper).await.status().as_u16(), 204);
    let mine = stack.get_json(lic(&stack, "/api/v1/drafts"), &alice).await;
    assert_eq!(mine["items"], json!([]));
    stack.stop().await;
}

async fn fits(browser: &Browser, what: &str) {
    for width in [1280, 390] {
        assert!(
            browser.fits_width(width).await,
            "{what} is wider than {width} px"
        );
    }
    browser.fits_width(1280).await;
}

async fn input_value(browser: &Browser, id: &str) -> Value {
    browser
        .script(&format!(
            "return document.getElementById({}).value;",
            serde_json::to_string(id).unwrap()
        ))
        .await
}

/// The material id kept for slot `code` (the hidden input of a picked
/// material).
async fn kept(browser: &Browser, code: &str) -> Value {
    browser
        .script(&format!(
            "var e = document.querySelector('input[type=hidden][name=\"m.{code}\"]'); return e ? e.value : null;"
        ))
        .await
}

async fn a_draft_survives_sign_out_and_restart(backend: Backend) {
    let mut stack = TestStack::start(&Service::ALL, backend).await;
    let browser = Browser::start("filing-draft").await;
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, "/licensing/scenarios/hotel"))
        .await;
    browser
        .click("input[name='q.serves_food'][value=true]")
        .await;
    browser.fill("#f-q-floor_area_m2", "1200").await;
    browser
        .click("input[name='q.hosts_performances'][value=true]")
        .await;
    browser.click("#see-notice").await;
    browser.click("#start-form").await;

    // Half the form and one material, then 保存草稿.
    browser.find("#save-draft").await;
    assert_eq!(
        browser
            .script("return document.querySelector('[aria-current=step]').dataset.step;")
            .await,
        "form"
    );
    browser
        .fill("#f-form-enterprise_name", "福州一站酒店有限公司")
        .await;
    browser.fill("#f-form-room_count", "80").await;
    let notice = crate::licensing_more::notice(&stack, "hotel", &hotel_answers()).await;
    let materials = notice["materials"].as_array().unwrap();
    let first = materials[0]["code"].as_str().unwrap().to_owned();
    let pdf = tempfile::NamedTempFile::with_suffix(".pdf").unwrap();
    std::fs::write(pdf.path(), pdf_bytes(4096, "filing draft")).unwrap();
    browser.attach(&format!("#file-{first}"), pdf.path()).await;
    browser.click("#save-draft").await;
    browser
        .wait_for_text("草稿已保存", std::time::Duration::from_secs(10))
        .await;
    assert_eq!(input_value(&browser, "f-form-room_count").await, "80");
    let material_id = kept(&browser, &first).await;
    assert!(
        material_id.as_str().is_some_and(|s| !s.is_empty()),
        "{material_id}"
    );
    fits(&browser, "the form with its draft saved").await;
    browser.screenshot("draft-saved").await;

    // Signed out, the whole stack restarted, signed in again.
    browser.click("form.who button").await;
    browser.wait_gone("[data-testid=who]").await;
    stack.restart(&Service::ALL).await;
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, "/licensing/applications"))
        .await;
    assert!(browser.text("#drafts").await.contains("开办酒店"));
    fits(&browser, "我的申请 with a draft").await;
    browser.screenshot("my-drafts").await;
    browser.click("[data-testid=resume-draft]").await;
    browser.find("#save-draft").await;
    assert_eq!(input_value(&browser, "f-form-room_count").await, "80");
    assert_eq!(
        input_value(&browser, "f-form-enterprise_name").await,
        "福州一站酒店有限公司"
    );
    assert_eq!(kept(&browser, &first).await, material_id);
    fits(&browser, "the resumed form").await;

    // The rest filled in and submitted: the draft is gone.
    let sample = yizhan_licensing::seed::sample_hotel_form();
    for field in notice["form"].as_array().unwrap() {
        let key = field["key"].as_str().unwrap();
        if ["enterprise_name", "room_count"].contains(&key) {
            continue;
        }
        let id = format!("f-form-{key}");
        let value = field_text(&sample[key]);
        match field["type"].as_str().unwrap() {
            "date" | "choice" => set_value(&browser, &id, &value).await,
            _ => browser.fill(&format!("#{id}"), &value).await,
        }
    }
    for material in &materials[1..] {
        let code = material["code"].as_str().unwrap();
        browser.attach(&format!("#file-{code}"), pdf.path()).await;
    }
    // 确认: every field by its name, every material by type and file;
    // no submit without the declaration.
    browser.click("#review-application").await;
    browser.find("#confirm-form").await;
    assert_eq!(
        browser
            .script("return document.querySelector('[aria-current=step]').dataset.step;")
            .await,
        "confirm"
    );
    let fields = browser.text("#review-fields").await;
    assert!(
        fields.contains("客房数") && fields.contains("80"),
        "{fields}"
    );
    let listed = browser.text("#review-materials").await;
    assert!(
        listed.contains("第 1 版") && listed.contains(".pdf"),
        "{listed}"
    );
    assert!(!listed.contains("未提交"), "{listed}");
    fits(&browser, "the review page").await;
    browser.screenshot("review").await;
    browser.click("#submit-application").await;
    browser.find("#err-declaration").await;
    assert_eq!(
        browser
            .script("return document.getElementById('f-declaration').getAttribute('aria-invalid');")
            .await,
        "true"
    );
    browser.click("#f-declaration").await;
    browser.click("#submit-application").await;
    browser
        .find("[data-testid=status][data-status=submitted]")
        .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let left = stack.get_json(lic(&stack, "/api/v1/drafts"), &alice).await;
    assert_eq!(left["items"], json!([]), "{left}");
    browser
        .goto(&stack.url(Service::Portal, "/licensing/applications"))
        .await;
    browser.find("[data-testid=number]").await;
    assert!(!browser.has("#drafts").await, "the draft was filed");
    browser.quit().await;
    stack.stop().await;
}

async fn current_step(browser: &Browser) -> Value {
    browser
        .script("return document.querySelector('[aria-current=step]').dataset.step;")
        .await
}

async fn the_form_is_prefilled_and_offers_the_archive_by_slot(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    // An earlier application: every material of the hotel in the archive,
    // each as its own type.
    let earlier = crate::crawl_runs::hotel(&stack, &alice, &[]).await;
    let browser = Browser::start("filing-prefill").await;
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&stack.url(Service::Portal, "/licensing/scenarios/hotel"))
        .await;
    assert_eq!(current_step(&browser).await, "questionnaire");
    fits(&browser, "the questionnaire with its steps").await;
    browser
        .click("input[name='q.serves_food'][value=true]")
        .await;
    browser.fill("#f-q-floor_area_m2", "1200").await;
    browser
        .click("input[name='q.hosts_performances'][value=true]")
        .await;
    browser.click("#see-notice").await;
    // The notice page has loaded (the click only starts the navigation).
    browser.find("#start-form").await;
    assert_eq!(current_step(&browser).await, "notice");
    fits(&browser, "the notice with its steps").await;
    browser.click("#start-form").await;
    browser.find("#review-application").await;

    // The enterprise's name and legal representative, and the floor area
    // the questionnaire asked, are filled in, each saying so.
    assert_eq!(
        input_value(&browser, "f-form-enterprise_name").await,
        "福州一站酒店有限公司"
    );
    assert_eq!(input_value(&browser, "f-form-legal_rep_name").await, "张三");
    assert_eq!(
        input_value(&browser, "f-form-building_area_m2").await,
        "1200"
    );
    assert!(browser.has("[data-prefilled=legal_rep_name]").await);
    assert!(browser.has("[data-prefilled=building_area_m2]").await);
    assert_eq!(input_value(&browser, "f-form-room_count").await, "");

    // Each slot offers only the archive's material of its own type.
    let notice = crate::licensing_more::notice(&stack, "hotel", &hotel_answers()).await;
    for material in notice["materials"].as_array().unwrap() {
        let code = material["code"].as_str().unwrap();
        let options = browser
            .script(&format!(
                "return Array.from(document.querySelectorAll('#pick-{code} option')).map(o => [o.value, o.textContent]);"
            ))
            .await;
        let options = options.as_array().unwrap();
        assert_eq!(options.len(), 2, "{code}: {options:?}");
        assert_eq!(options[1][0], earlier["materials"][code], "{code}");
        let label = options[1][1].as_str().unwrap();
        assert!(
            label.contains("第 1 版") && label.contains(".pdf"),
            "{label}"
        );
    }
    assert_eq!(browser.unlabelled_controls().await, Vec::<String>::new());
    fits(&browser, "the prefilled form").await;
    browser.screenshot("prefilled").await;
    browser.quit().await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    drafts_belong_to_their_enterprise,
    a_draft_survives_sign_out_and_restart,
    the_form_is_prefilled_and_offers_the_archive_by_slot
);
