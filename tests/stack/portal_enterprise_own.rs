//! 企业服务 pages of the enterprise's own side, in a real browser at 1280
//! and 390 px: the applicant files a 诉求 (first with a mistake, shown at
//! its field), the 营商专员 sees it under 我的企业 and files one on the
//! enterprise's behalf, the department answers (through the API), the
//! applicant rates the answer and then the service (好差评, a 差评 whose
//! follow-up it then reads); 一企一档 shows the facts on file and 我的政策
//! the matched 免申即享 benefits, with an objection and a decline. The same
//! pages over plain HTTP: `portal_enterprise_own_http.rs`.

use chrono::{Days, Utc};
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::axe::Axe;
use crate::browser::Browser;
use crate::common::*;
use crate::enterprise_requests::{set_rules, step};
use crate::portal_e2e::{set_value, sign_in};

pub(crate) fn ent(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Enterprise, path)
}

pub(crate) fn portal(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Portal, path)
}

/// The page fits 1280 px and 390 px without sideways scrolling, every
/// control has a label, and axe finds nothing serious; screenshots of both
/// widths go with the test's.
async fn fits_both_widths(browser: &Browser, axe: &Option<Axe>, name: &str) {
    if let Some(axe) = axe {
        assert_eq!(
            axe.violations(browser).await,
            Vec::<String>::new(),
            "{name}"
        );
    }
    assert!(browser.fits_width(1280).await, "{name} fits 1280 px");
    browser.screenshot(name).await;
    assert!(browser.fits_a_phone(name).await, "{name} fits a phone");
    assert_eq!(
        browser.unlabelled_controls().await,
        Vec::<String>::new(),
        "{name}"
    );
}

/// The id of the request whose page the browser shows.
async fn shown_request(browser: &Browser) -> String {
    let url = browser.url().await;
    let tail = url.split("/enterprise/requests/").nth(1).unwrap();
    tail.split('?').next().unwrap().to_owned()
}

async fn field_value(browser: &Browser, id: &str) -> Value {
    browser
        .script(&format!("return document.getElementById('{id}').value;"))
        .await
}

async fn requests_are_filed_followed_and_rated_in_the_browser(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise, Service::Portal], backend).await;
    set_rules(&stack).await;
    let browser = Browser::start("ent-requests").await;
    let axe = Axe::load().await;

    // The applicant files, first without a description.
    sign_in(&browser, &stack, "applicant").await;
    browser.goto(&portal(&stack, "/enterprise")).await;
    fits_both_widths(&browser, &axe, "enterprise-home").await;
    browser.click("#go-requests").await;
    browser.click("#new-request").await;
    assert_eq!(field_value(&browser, "f-channel").await, "gaoxintong");
    set_value(&browser, "f-category", "finance").await;
    browser.click("#file-request").await;
    browser.find("#error-summary").await;
    assert_eq!(browser.text("#err-description").await, "不能为空");
    assert_eq!(field_value(&browser, "f-category").await, "finance", "kept");
    fits_both_widths(&browser, &axe, "request-refused").await;
    let asked = "扩大产能需要 500 万元流动资金贷款，希望了解贴息政策";
    browser.fill("#f-description", asked).await;
    browser.click("#file-request").await;
    assert!(browser.text(".flash").await.contains("诉求已提交"));
    assert_eq!(browser.text("[data-testid=status]").await, "已派单");
    let first = shown_request(&browser).await;
    let shown = browser.source().await;
    assert!(shown.contains("高新通亲清在线") && shown.contains("金融服务中心"));
    assert!(shown.contains("签收时限"), "the running limit, named");
    fits_both_widths(&browser, &axe, "request-dispatched").await;
    browser.goto(&portal(&stack, "/enterprise/requests")).await;
    browser.find(&format!("tr[data-request='{first}']")).await;
    fits_both_widths(&browser, &axe, "requests").await;

    // The specialist sees it under the enterprise, reads it without the
    // enterprise's steps, and files one on its behalf.
    sign_in(&browser, &stack, "specialist").await;
    browser
        .goto(&portal(&stack, "/enterprise/specialist"))
        .await;
    let row = format!("section[data-enterprise='{ENTERPRISE_A}'] tr[data-request='{first}']");
    browser.find(&row).await;
    fits_both_widths(&browser, &axe, "specialist").await;
    browser.click(&format!("{row} a")).await;
    assert_eq!(browser.text("[data-testid=status]").await, "已派单");
    assert!(!browser.has("#withdraw").await, "not the specialist's step");
    browser
        .goto(&portal(&stack, "/enterprise/specialist"))
        .await;
    browser
        .click(&format!("a[data-file-for='{ENTERPRISE_A}']"))
        .await;
    assert_eq!(field_value(&browser, "f-channel").await, "specialist_visit");
    set_value(&browser, "f-category", "talent").await;
    browser
        .fill("#f-description", "走访了解：企业需引进高级技工 20 名")
        .await;
    browser.click("#file-request").await;
    assert!(browser.text(".flash").await.contains("诉求已提交"));
    assert!(browser.source().await.contains("营商专员走访"));

    // The department answers.
    let finance = reviewer(&stack, "finance_bureau");
    step(&stack, &finance, &first, "accept", json!({})).await;
    let answer = "可申请科技贷贴息，请携带近三年财务报表至金融服务中心窗口";
    step(
        &stack,
        &finance,
        &first,
        "answer",
        json!({"answer": answer}),
    )
    .await;

    // The applicant rates the answer, then the service.
    sign_in(&browser, &stack, "applicant").await;
    browser
        .goto(&portal(&stack, &format!("/enterprise/requests/{first}")))
        .await;
    assert_eq!(browser.text("[data-testid=status]").await, "已答复");
    assert_eq!(browser.text("[data-testid=answer]").await, answer);
    browser.click("#rate").await;
    assert_eq!(browser.text("#err-satisfaction").await, "不能为空");
    browser.click("#f-satisfaction-satisfied").await;
    browser.click("#rate").await;
    assert!(browser.text(".flash").await.contains("感谢评价"));
    assert_eq!(browser.text("[data-testid=status]").await, "已办结");
    assert_eq!(browser.text("[data-testid=satisfaction]").await, "满意");
    browser.click("#rate-service").await;
    browser.click("#submit-rating").await;
    assert_eq!(browser.text("#err-score").await, "请选择评分");
    fits_both_widths(&browser, &axe, "rate-refused").await;
    browser.click("#f-score-2").await;
    browser.fill("#f-comment", "答复前反复电话催办").await;
    browser.click("#submit-rating").await;
    assert!(browser.text(".flash").await.contains("评价已提交"));
    assert!(browser.text("[data-testid=score]").await.contains("不满意"));
    assert!(
        browser
            .text("[data-testid=follow-up]")
            .await
            .contains("待核实")
    );

    // The 差评's follow-up reaches the page.
    let ratings = stack
        .get_json(ent(&stack, "/api/v1/ratings"), &finance)
        .await;
    let rating = ratings["items"][0]["id"].as_str().unwrap().to_owned();
    let note = "经核实，签收后未及时联系企业";
    json_ok(
        stack
            .post_json(
                ent(&stack, &format!("/api/v1/ratings/{rating}/verify")),
                &finance,
                &json!({"substantiated": true, "note": note}),
            )
            .await,
        200,
    )
    .await;
    browser.goto(&portal(&stack, "/enterprise/ratings")).await;
    assert!(
        browser
            .text("[data-testid=follow-up]")
            .await
            .contains("整改中")
    );
    assert!(browser.source().await.contains(note));
    fits_both_widths(&browser, &axe, "ratings").await;
    browser.quit().await;
    stack.stop().await;
}

/// Publishes a policy for enterprises with at most 50 staff.
async fn publish(stack: &TestStack, title: &str, amount: Value) {
    let today = yizhan_enterprise::today(Utc::now());
    let admin = stack.staff("admin-1", Role::Admin);
    let policy = json!({
        "title": title,
        "department": "commerce",
        "eligibility": {"fact": "employee_count", "op": "le", "value": 50},
        "amount": amount,
        "budget_fen": 100_000_000,
        "valid_from": today,
        "valid_until": today + Days::new(90),
    });
    let published = json_ok(
        stack
            .post_json(ent(stack, "/api/v1/policies"), &admin, &policy)
            .await,
        201,
    )
    .await;
    assert_eq!(published["matched"], 1, "{published}");
}

async fn profile_and_benefits_in_the_browser(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Enterprise, Service::Construction, Service::Portal],
        backend,
    )
    .await;
    set_rules(&stack).await;
    let officer = reviewer(&stack, "commerce");
    json_ok(
        stack
            .client
            .put(ent(
                &stack,
                &format!("/api/v1/enterprises/{ENTERPRISE_A}/facts/employee_count"),
            ))
            .bearer_auth(&officer)
            .json(&json!({"value": 12, "source": "统计年报 2025"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    publish(&stack, "小微企业稳岗补助", json!({"fixed_fen": 500_000})).await;
    publish(
        &stack,
        "企业用工培训补贴",
        json!({"per_fact": "employee_count", "fen_each": 100_000, "cap_fen": 5_000_000}),
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let benefits = stack
        .get_json(
            ent(
                &stack,
                &format!("/api/v1/enterprises/{ENTERPRISE_A}/benefits"),
            ),
            &alice,
        )
        .await;
    let id_of = |title: &str| {
        benefits["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["policy_title"] == title)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (wage, training) = (id_of("小微企业稳岗补助"), id_of("企业用工培训补贴"));

    // 一企一档: the fact with its source; the others named, not on file.
    let browser = Browser::start("ent-benefits").await;
    let axe = Axe::load().await;
    sign_in(&browser, &stack, "applicant").await;
    browser.goto(&portal(&stack, "/enterprise/profile")).await;
    let facts = browser.text("[data-testid=facts]").await;
    assert!(
        facts.contains("从业人数") && facts.contains("12人"),
        "{facts}"
    );
    assert!(facts.contains("统计年报 2025"), "{facts}");
    assert!(facts.contains("高新技术企业") && facts.contains("未登记"));
    assert!(browser.source().await.contains("暂无工程建设项目"));
    fits_both_widths(&browser, &axe, "profile").await;

    // 我的政策: both, 无需申请 with the amount.
    browser.goto(&portal(&stack, "/enterprise/benefits")).await;
    let card = |id: &str| format!("section[data-benefit='{id}']");
    let message = browser
        .text(&format!("{} [data-testid=benefit-message]", card(&wage)))
        .await;
    assert_eq!(
        message,
        "无需申请，您符合《小微企业稳岗补助》，金额 5,000.00 元"
    );
    assert!(
        browser
            .text(&format!(
                "{} [data-testid=benefit-message]",
                card(&training)
            ))
            .await
            .contains("12,000.00 元")
    );
    fits_both_widths(&browser, &axe, "benefits").await;

    // An objection needs its reason (asked at the field), then becomes a
    // 诉求; the other is declined.
    browser.click(&format!("{} summary", card(&wage))).await;
    browser
        .click(&format!("button[data-object='{wage}']"))
        .await;
    assert_eq!(browser.text("#err-reason").await, "请填写理由");
    browser
        .fill(
            &format!("#object-{wage}"),
            "实际从业人数为 15 人，金额应按新标准核定",
        )
        .await;
    browser
        .click(&format!("button[data-object='{wage}']"))
        .await;
    assert!(browser.text(".flash").await.contains("异议已提交"));
    assert_eq!(
        browser
            .text(&format!("{} [data-testid=benefit-state]", card(&wage)))
            .await,
        "有异议"
    );
    browser.click(&format!("{} summary", card(&training))).await;
    browser
        .click(&format!("button[data-decline='{training}']"))
        .await;
    assert!(browser.text(".flash").await.contains("已放弃"));
    assert_eq!(
        browser
            .text(&format!("{} [data-testid=benefit-state]", card(&training)))
            .await,
        "企业放弃"
    );
    assert!(
        !browser
            .has(&format!("button[data-object='{training}']"))
            .await
    );
    browser.goto(&portal(&stack, "/enterprise/requests")).await;
    assert!(
        browser.source().await.contains("政策咨询"),
        "the objection's 诉求"
    );
    browser.quit().await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    requests_are_filed_followed_and_rated_in_the_browser,
    profile_and_benefits_in_the_browser,
);
