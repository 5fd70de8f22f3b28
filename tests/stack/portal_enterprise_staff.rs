//! The enterprise service's staff pages in a real headless browser, at
//! 1280 and 390 px: the admin sets the dispatch rules (a bad limit shown at
//! its field) and publishes a policy (an unknown fact refused, the message
//! at the rule's field, the input kept); the policy's department confirms a
//! batch within the budget (an over-budget batch refused) and marks it
//! paid; a 诉求 filed over the API appears in the department's queue, is
//! transferred (with a confirmation), accepted and answered through the
//! pages; its 差评's follow-up is recorded through the page; reviewers of
//! another department cannot act (403 / 不存在 pages).

use reqwest::header::COOKIE;
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::axe::Axe;
use crate::browser::Browser;
use crate::common::*;
use crate::portal_e2e::{set_value, sign_in};
use crate::portal_pages::{client, csrf, session};

const REVIEWER_A: &str = "reviewer:market_supervision";
const REVIEWER_B: &str = "reviewer:public_security";

fn ent(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Enterprise, path)
}

/// Opens `path` on the portal.
async fn open(browser: &Browser, stack: &TestStack, path: &str) {
    browser.goto(&stack.url(Service::Portal, path)).await;
}

/// The accessibility scan, loaded once per test run.
static AXE: tokio::sync::OnceCell<Option<Axe>> = tokio::sync::OnceCell::const_new();

/// Every control labelled, no serious or critical accessibility
/// violation, and the page fits a phone as well as 1280 px.
async fn fits(browser: &Browser, name: &str) {
    assert_eq!(
        browser.unlabelled_controls().await,
        Vec::<String>::new(),
        "{name}"
    );
    if let Some(axe) = AXE.get_or_init(Axe::load).await {
        assert_eq!(
            axe.violations(browser).await,
            Vec::<String>::new(),
            "{name}"
        );
    }
    assert!(browser.fits_width(1280).await, "{name} fits 1280 px");
    assert!(browser.fits_a_phone(name).await, "{name} fits a phone");
    browser.screenshot(name).await;
}

/// No snake_case code in the page's visible text (what the crawler
/// checks on every page a role reaches).
async fn no_codes(browser: &Browser, name: &str) {
    let codes = browser
        .script(
            "return Array.from(document.body.innerText.matchAll(/\\b[a-z]+(_[a-z0-9]+)+\\b/g)).map(m => m[0]);",
        )
        .await;
    assert_eq!(codes, json!([]), "{name}");
}

/// The admin's rules: 行政审批 to 市场监督管理局, everything else to 公安局.
async fn set_dispatch_rules(browser: &Browser, stack: &TestStack) {
    open(browser, stack, "/enterprise/staff/dispatch-rules").await;
    let categories = [
        "policy",
        "finance",
        "talent",
        "land_planning",
        "approvals",
        "utilities",
        "legal",
        "other",
    ];
    for c in categories {
        let dept = if c == "approvals" {
            "market_supervision"
        } else {
            "public_security"
        };
        set_value(browser, &format!("f-routes-{c}-department"), dept).await;
        let days = if c == "legal" { "0" } else { "5" };
        browser
            .fill(&format!("#f-routes-{c}-answer_limit_days"), days)
            .await;
    }
    browser.click("#save-rules").await;
    // The service refuses a limit outside 1-60 at the category's field,
    // and what was chosen stays.
    let error = browser.text("#err-routes-legal-answer_limit_days").await;
    assert!(!error.is_empty());
    assert_eq!(
        browser
            .script("return document.getElementById('f-routes-approvals-department').value;")
            .await,
        "market_supervision"
    );
    fits(browser, "rules-refused").await;
    browser.fill("#f-routes-legal-answer_limit_days", "5").await;
    browser.click("#save-rules").await;
    browser
        .wait_for_text("派单规则已保存", std::time::Duration::from_secs(10))
        .await;
}

/// Publishes the policy through the form: first naming an unknown fact.
async fn publish_policy(browser: &Browser, stack: &TestStack) {
    open(browser, stack, "/enterprise/staff/policies").await;
    browser.click("#new-policy").await;
    let today = yizhan_enterprise::today(chrono::Utc::now());
    browser.fill("#f-title", "小微企业稳岗补助").await;
    set_value(browser, "f-department", "market_supervision").await;
    let unknown = r#"{"fact": "staff", "op": "le", "value": 50}"#;
    browser.fill("#f-eligibility", unknown).await;
    browser.fill("#f-amount", r#"{"fixed_fen": 500000}"#).await;
    browser.fill("#f-budget_fen", "8000").await;
    set_value(browser, "f-valid_from", &today.to_string()).await;
    set_value(
        browser,
        "f-valid_until",
        &(today + chrono::Days::new(90)).to_string(),
    )
    .await;
    browser.click("#publish-policy").await;
    let error = browser.text("#err-eligibility").await;
    assert!(
        error.contains("fact") && error.contains("未知的事实"),
        "names the place: {error}"
    );
    assert_eq!(
        browser
            .script("return document.getElementById('f-eligibility').value;")
            .await,
        unknown,
        "the rule as typed"
    );
    assert_eq!(
        browser
            .script("return document.getElementById('f-title').value;")
            .await,
        "小微企业稳岗补助"
    );
    fits(browser, "policy-refused").await;
    browser
        .fill(
            "#f-eligibility",
            r#"{"fact": "employee_count", "op": "le", "value": 50}"#,
        )
        .await;
    browser.click("#publish-policy").await;
    browser
        .wait_for_text("政策已发布", std::time::Duration::from_secs(10))
        .await;
    assert!(browser.source().await.contains("从业人数不超过50人"));
    fits(browser, "policies").await;
    no_codes(browser, "policies").await;
}

/// The department reviews: two candidates, a batch over the budget is
/// refused, one within it confirmed, then paid.
async fn review_benefits(browser: &Browser, stack: &TestStack) -> String {
    open(browser, stack, "/enterprise/staff/policies").await;
    browser.click("a[data-open]").await;
    let url = browser.url().await;
    let policy_path = url[url.find("/enterprise/").unwrap()..].to_owned();
    assert!(
        browser
            .text("[data-testid=rule-words]")
            .await
            .contains("从业人数不超过50人")
    );
    assert!(
        browser.source().await.contains("从业人数"),
        "why each matched"
    );
    let picks = browser
        .script(
            "return Array.from(document.querySelectorAll('input[name=candidate]')).map(e => e.id);",
        )
        .await;
    let picks: Vec<String> = serde_json::from_value(picks).unwrap();
    assert_eq!(picks.len(), 2, "both enterprises match");
    for p in &picks {
        browser.click(&format!("#{p}")).await;
    }
    fits(browser, "candidates").await;
    no_codes(browser, "candidates").await;
    browser.click("#confirm-batch").await;
    let refusal = browser.text("#err-candidates").await;
    assert!(refusal.contains("预算"), "over budget: {refusal}");
    browser.click(&format!("#{}", picks[0])).await;
    browser.click("#confirm-batch").await;
    browser
        .wait_for_text("已确认发放批次", std::time::Duration::from_secs(10))
        .await;
    assert_eq!(
        browser.text("[data-testid=budget-used]").await,
        "5,000.00 元（62%）"
    );
    assert_eq!(
        browser.text("[data-testid=budget-left]").await,
        "3,000.00 元"
    );
    // The one left out is excluded, with a reason (none: refused at its
    // field).
    let other = picks[0].trim_start_matches("pick-");
    browser.click(&format!("#exclude-{other}")).await;
    assert!(
        !browser
            .text(&format!("#err-reason-{other}"))
            .await
            .is_empty()
    );
    browser
        .fill(&format!("#f-reason-{other}"), "已享受同类稳岗补助")
        .await;
    browser.click(&format!("#exclude-{other}")).await;
    browser
        .wait_for_text("已排除该企业", std::time::Duration::from_secs(10))
        .await;
    assert!(
        browser
            .text(&format!("tr[data-candidate=\"{other}\"]"))
            .await
            .contains("已享受同类稳岗补助")
    );
    browser.click("form[data-batch] button").await;
    browser
        .wait_for_text("批次已标记为已发放", std::time::Duration::from_secs(10))
        .await;
    assert!(browser.has("tr[data-state=paid]").await);
    policy_path
}

async fn file_request(stack: &TestStack) -> String {
    let alice = stack.applicant("demo-applicant", ENTERPRISE_A);
    let filed = json_ok(
        stack
            .post_json(
                ent(stack, "/api/v1/requests"),
                &alice,
                &json!({
                    "enterprise_uscc": ENTERPRISE_A,
                    "category": "approvals",
                    "channel": "hotline_12345",
                    "description": "咨询消防验收与特种行业许可能否并联办理",
                }),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(filed["department_name"], "市场监督管理局");
    filed["id"].as_str().unwrap().to_owned()
}

/// A form post to the portal as the holder of `token`.
async fn post_form(
    stack: &TestStack,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(stack.url(Service::Portal, path))
        .header(COOKIE, session(token))
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Steps by the wrong people are refused by the pages as by the service:
/// a forged form (403), the department it left (不存在, nothing changed),
/// a reviewer at the admin's rules (403).
async fn others_are_refused(stack: &TestStack, id: &str) {
    let before = reviewer(stack, "market_supervision");
    let token = csrf(stack, &before).await;
    let path = format!("/enterprise/staff/requests/{id}/accept");
    let forged = post_form(stack, &before, &path, &[("_csrf", "x")]).await;
    assert_eq!(forged.status(), 403);
    let refused = post_form(stack, &before, &path, &[("_csrf", &token)]).await;
    assert_eq!(refused.status(), 404);
    assert!(refused.text().await.unwrap().contains("诉求不存在"));
    let admin = stack.staff("admin-1", Role::Admin);
    let view = stack
        .get_json(ent(stack, &format!("/api/v1/requests/{id}")), &admin)
        .await;
    assert_eq!(view["status"], "dispatched", "not accepted by the page");
    let rules = post_form(
        stack,
        &before,
        "/enterprise/staff/dispatch-rules",
        &[("_csrf", &token)],
    )
    .await;
    assert_eq!(rules.status(), 403);
}

async fn enterprise_staff_pages(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Enterprise, Service::Portal],
        backend,
    )
    .await;
    let browser = Browser::start("ent-staff").await;
    let officer = reviewer(&stack, "market_supervision");
    for (uscc, staff) in [(ENTERPRISE_A, 12), (ENTERPRISE_B, 30)] {
        let r = stack
            .client
            .put(ent(
                &stack,
                &format!("/api/v1/enterprises/{uscc}/facts/employee_count"),
            ))
            .bearer_auth(&officer)
            .json(&json!({"value": staff, "source": "统计年报 2025"}))
            .send()
            .await
            .unwrap();
        json_ok(r, 200).await;
    }

    // The admin: dispatch rules and the policy.
    sign_in(&browser, &stack, "admin").await;
    set_dispatch_rules(&browser, &stack).await;
    fits(&browser, "rules").await;
    no_codes(&browser, "rules").await;
    publish_policy(&browser, &stack).await;

    // The policy's department reviews its candidates.
    sign_in(&browser, &stack, REVIEWER_A).await;
    let policy_path = review_benefits(&browser, &stack).await;

    // A 诉求 filed over the API is in the department's queue.
    let id = file_request(&stack).await;
    open(&browser, &stack, "/enterprise/staff/requests").await;
    let row = browser.text(&format!("tr[data-request=\"{id}\"]")).await;
    assert!(
        row.contains("行政审批") && row.contains("12345热线"),
        "{row}"
    );
    assert!(
        row.contains("签收时限") && row.contains("正常"),
        "SLA in words: {row}"
    );
    fits(&browser, "request-queue").await;
    no_codes(&browser, "request-queue").await;
    browser.click(&format!("a[data-open=\"{id}\"]")).await;
    assert_eq!(browser.text("[data-testid=status]").await, "已派单");
    fits(&browser, "request").await;
    no_codes(&browser, "request").await;
    // Transfer: without a reason it comes back at the field, the
    // department chosen kept; with one, confirmed first.
    set_value(&browser, "f-to_department", "public_security").await;
    browser.click("#transfer").await;
    assert!(!browser.text("#err-reason").await.is_empty());
    assert_eq!(
        browser
            .script("return document.getElementById('f-to_department').value;")
            .await,
        "public_security"
    );
    browser
        .fill("#f-reason", "涉及特种行业许可，由公安局承办")
        .await;
    browser.click("#transfer").await;
    assert_eq!(browser.text("[data-testid=to-name]").await, "公安局");
    fits(&browser, "transfer-confirm").await;
    no_codes(&browser, "transfer-confirm").await;
    browser.click("#confirm-transfer").await;
    browser
        .wait_for_text("诉求已转办", std::time::Duration::from_secs(10))
        .await;
    assert!(!browser.has(&format!("tr[data-request=\"{id}\"]")).await);
    // No longer the department's: its page says so, no step offered.
    open(
        &browser,
        &stack,
        &format!("/enterprise/staff/requests/{id}"),
    )
    .await;
    assert!(browser.source().await.contains("诉求不存在"));
    assert!(!browser.has("#accept").await);
    others_are_refused(&stack, &id).await;

    // The department it went to accepts and answers.
    sign_in(&browser, &stack, REVIEWER_B).await;
    open(&browser, &stack, "/enterprise/staff/requests").await;
    browser.click(&format!("a[data-open=\"{id}\"]")).await;
    browser.click("#accept").await;
    browser
        .wait_for_text("诉求已签收", std::time::Duration::from_secs(10))
        .await;
    assert_eq!(browser.text("[data-testid=status]").await, "办理中");
    // It asks the enterprise first; the clock pauses until the reply.
    browser
        .fill("#f-question", "请说明营业场所是否已通过消防验收")
        .await;
    browser.click("#ask").await;
    browser
        .wait_for_text("已请企业补充", std::time::Duration::from_secs(10))
        .await;
    assert_eq!(browser.text("[data-testid=status]").await, "待企业补充");
    assert!(!browser.has("#answer").await, "nothing to do while waiting");
    let alice = stack.applicant("demo-applicant", ENTERPRISE_A);
    json_ok(
        stack
            .post_json(
                ent(&stack, &format!("/api/v1/requests/{id}/reply")),
                &alice,
                &json!({"reply": "已于上月通过消防验收"}),
            )
            .await,
        200,
    )
    .await;
    open(
        &browser,
        &stack,
        &format!("/enterprise/staff/requests/{id}"),
    )
    .await;
    assert_eq!(browser.text("[data-testid=status]").await, "办理中");
    browser.click("#answer").await;
    assert!(
        !browser.text("#err-answer").await.is_empty(),
        "empty answer"
    );
    browser
        .fill("#f-answer", "可以并联办理，请通过一业一证提交")
        .await;
    browser.click("#answer").await;
    browser
        .wait_for_text("诉求已答复", std::time::Duration::from_secs(10))
        .await;
    let timeline = browser.text("[data-testid=timeline]").await;
    assert!(
        timeline.contains("转办") && timeline.contains("签收"),
        "{timeline}"
    );
    // Another department's candidates are not this reviewer's: 403 page.
    browser
        .goto(&stack.url(Service::Portal, &policy_path))
        .await;
    assert!(browser.source().await.contains("无权访问"));
    assert!(!browser.has("#confirm-batch").await);

    // The enterprise closes it and gives a 差评.
    let alice = stack.applicant("demo-applicant", ENTERPRISE_A);
    let rate = |body: Value| {
        let (stack, alice, id) = (&stack, &alice, &id);
        async move {
            stack
                .post_json(
                    ent(stack, &format!("/api/v1/requests/{id}/rate")),
                    alice,
                    &body,
                )
                .await
        }
    };
    json_ok(rate(json!({"satisfaction": "satisfied"})).await, 200).await;
    let rating = json_ok(
        stack
            .post_json(
                ent(&stack, "/api/v1/ratings"),
                &alice,
                &json!({"rateable_id": format!("request:{id}"), "score": 2, "comment": "转办耽误了时间"}),
            )
            .await,
        201,
    )
    .await;
    let rating_id = rating["id"].as_str().unwrap().to_owned();

    // The follow-up, through the page.
    open(&browser, &stack, "/enterprise/staff/ratings").await;
    assert!(
        browser
            .text(&format!("tr[data-rating=\"{rating_id}\"]"))
            .await
            .contains("待核实")
    );
    fits(&browser, "follow-ups").await;
    no_codes(&browser, "follow-ups").await;
    browser
        .click(&format!("a[data-open=\"{rating_id}\"]"))
        .await;
    browser.fill("#f-note", "经核实，转办前未电话确认").await;
    browser.click("#verify").await;
    assert!(!browser.text("#err-substantiated").await.is_empty());
    assert_eq!(
        browser
            .script("return document.getElementById('f-note').value;")
            .await,
        "经核实，转办前未电话确认",
        "the note kept"
    );
    fits(&browser, "follow-up-refused").await;
    browser.click("#f-substantiated").await;
    browser.click("#verify").await;
    browser
        .wait_for_text("核实情况已登记", std::time::Duration::from_secs(10))
        .await;
    browser.fill("#f-note", "已建立转办前电话确认制度").await;
    browser.click("#rectify").await;
    browser
        .wait_for_text("整改情况已登记", std::time::Duration::from_secs(10))
        .await;
    assert_eq!(browser.text("[data-testid=follow-up]").await, "已整改");
    let ratings = stack
        .get_json(
            ent(&stack, "/api/v1/ratings"),
            &stack.staff("admin-1", Role::Admin),
        )
        .await;
    assert_eq!(
        ratings["items"][0]["rectification"],
        "已建立转办前电话确认制度"
    );

    // Another department cannot see or record it.
    sign_in(&browser, &stack, REVIEWER_A).await;
    open(
        &browser,
        &stack,
        &format!("/enterprise/staff/ratings/{rating_id}"),
    )
    .await;
    assert!(browser.source().await.contains("评价不存在"));
    assert!(!browser.has("#verify").await && !browser.has("#rectify").await);
    // A window clerk has no queue of 诉求.
    sign_in(&browser, &stack, "clerk").await;
    open(&browser, &stack, "/enterprise/staff/requests").await;
    assert!(browser.source().await.contains("无权访问"));

    // The statistics, by name.
    sign_in(&browser, &stack, "admin").await;
    open(&browser, &stack, "/enterprise/staff/statistics").await;
    let requests = browser.text("[data-testid=request-stats]").await;
    assert!(
        requests.contains("公安局")
            && requests.contains("行政审批")
            && requests.contains("12345热线"),
        "{requests}"
    );
    let ratings = browser.text("[data-testid=rating-stats]").await;
    assert!(
        ratings.contains("公安局") && ratings.contains("2.0"),
        "{ratings}"
    );
    fits(&browser, "statistics").await;
    no_codes(&browser, "statistics").await;

    browser.quit().await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(enterprise_staff_pages);
