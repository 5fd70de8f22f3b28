//! 一企一档 and 免申即享 in the stack: officers set facts, certificates
//! issued by the document service fill the profile, a policy over a
//! licence item and a fact matches exactly the right enterprises (and one
//! more when its hotel licence is issued through licensing), a batch stays
//! within the budget, and every caller sees only what is theirs.

use std::time::Duration;

use chrono::{Days, Utc};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_events::Envelope;
use yizhan_events::contracts::{CertificateIssueRequested, CertificateItem, Event};
use yizhan_kit::testing::Backend;
use yizhan_types::Uscc;

use crate::common::*;
use crate::licensing::{hotel_answers, lic, uploaded_materials};

fn ent(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Enterprise, path)
}

/// A valid USCC of its own per `n` (the organisation code's check digit is
/// the one of `0-9X` that passes).
fn uscc(n: u32) -> String {
    "0123456789X"
        .chars()
        .find_map(|k| Uscc::with_check_char(&format!("91350100MA200{n:03}{k}")).ok())
        .unwrap()
        .as_str()
        .to_owned()
}

async fn put(stack: &TestStack, url: &str, token: &str, body: &Value) -> reqwest::Response {
    stack
        .client
        .put(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Licensing's certificate request, as its outbox relay would send it: the
/// document service issues the certificate, the enterprise service records
/// both.
async fn request_certificate(stack: &TestStack, holder: &str, item: (&str, &str)) {
    let request = CertificateIssueRequested {
        request_id: format!("seed-{holder}"),
        certificate_type: "industry_comprehensive_licence".into(),
        holder_uscc: holder.into(),
        holder_name: format!("企业{}", &holder[14..]),
        scope: "住宿服务".into(),
        items: vec![CertificateItem {
            item_code: item.0.into(),
            item_name: item.1.into(),
            department: "公安局".into(),
            permit_number: format!("XK-{holder}"),
        }],
        valid_from: yizhan_enterprise::today(Utc::now()),
        valid_until: None,
        requested_by_service: "licensing".into(),
    };
    let envelope = Envelope::new("/yizhan/licensing", &request, None);
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &stack.brokers)
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to(CertificateIssueRequested::TOPIC)
                .key(&envelope.subject)
                .payload(&envelope.data.to_string())
                .headers(envelope.headers()),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
}

/// Drives a hotel licence for `uscc` through licensing: submitted,
/// accepted, every item approved by its department.
async fn issue_hotel_licence(stack: &TestStack, applicant: &str, uscc: &str) {
    let notice = json_ok(
        stack
            .client
            .post(lic(stack, "/api/v1/notices"))
            .json(&json!({"scenario": "hotel", "answers": hotel_answers()}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let body = json!({
        "scenario": "hotel",
        "answers": hotel_answers(),
        "enterprise_uscc": uscc,
        "form": yizhan_licensing::seed::sample_hotel_form(),
        "materials": uploaded_materials(stack, applicant, &notice).await,
    });
    let app = json_ok(
        stack
            .post_json(lic(stack, "/api/v1/applications"), applicant, &body)
            .await,
        201,
    )
    .await;
    let id = app["id"].as_str().unwrap();
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let accepted = json_ok(
        stack
            .post_json(
                lic(stack, &format!("/api/v1/applications/{id}/intake")),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    for (n, task) in accepted["tasks"].as_array().unwrap().iter().enumerate() {
        let dept = task["department_code"].as_str().unwrap();
        json_ok(
            stack
                .post_json(
                    lic(
                        stack,
                        &format!("/api/v1/tasks/{}/decision", task["id"].as_str().unwrap()),
                    ),
                    &reviewer(stack, dept),
                    &json!({"decision": "approve", "permit_number": format!("XK-2026-{n:04}")}),
                )
                .await,
            200,
        )
        .await;
    }
}

/// The field the 422 answer names first.
async fn refused_field(response: reqwest::Response) -> Value {
    expect_problem(response, 422, "validation_failed").await["errors"][0]["field"].clone()
}

fn usccs_of(list: &Value) -> Vec<String> {
    let mut all: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["enterprise_uscc"].as_str().unwrap().to_owned())
        .collect();
    all.sort();
    all
}

async fn a_policy_matches_exactly_the_eligible_within_its_budget(backend: Backend) {
    let stack = TestStack::start(
        &[
            Service::Licensing,
            Service::Document,
            Service::Notification,
            Service::Enterprise,
        ],
        backend,
    )
    .await;
    let (a, b) = (ENTERPRISE_A.to_owned(), ENTERPRISE_B.to_owned());
    let (c, d, e) = (uscc(1), uscc(2), uscc(3));
    let officer = reviewer(&stack, "commerce");
    let admin = stack.staff("admin-1", Role::Admin);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let alice = stack.applicant("alice", &a);
    let bob = stack.applicant("bob", &b);
    let carol = stack.applicant("carol", &c);
    let fact_url =
        |who: &str, key: &str| ent(&stack, &format!("/api/v1/enterprises/{who}/facts/{key}"));
    let profile_url = |who: &str| ent(&stack, &format!("/api/v1/enterprises/{who}/profile"));
    let benefits_url = |who: &str| ent(&stack, &format!("/api/v1/enterprises/{who}/benefits"));

    // Officer-set facts: checked by kind, naming the field; clerks and
    // enterprises may not set them.
    for (who, staff) in [(&a, 12), (&b, 5), (&c, 30), (&d, 80), (&e, 10)] {
        json_ok(
            put(
                &stack,
                &fact_url(who, "employee_count"),
                &officer,
                &json!({"value": staff, "source": "统计年报 2025"}),
            )
            .await,
            200,
        )
        .await;
    }
    let body = json!({"value": 1, "source": "x"});
    expect_problem(
        put(&stack, &fact_url(&a, "employee_count"), &clerk, &body).await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        put(&stack, &fact_url(&a, "employee_count"), &alice, &body).await,
        403,
        "forbidden",
    )
    .await;
    let p = expect_problem(
        put(
            &stack,
            &fact_url(&a, "employee_count"),
            &officer,
            &json!({"value": "很多", "source": "x"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "value");
    assert_eq!(p["errors"][0]["message"], "从业人数应为整数");
    assert_eq!(
        refused_field(put(&stack, &fact_url(&a, "staff"), &officer, &body).await).await,
        "fact"
    );

    // Certificates for C and D (hotel) and E (food only) through the
    // document service; the profiles hold them once it has issued.
    request_certificate(
        &stack,
        &c,
        ("special_trade_permit_hotel", "特种行业许可（旅馆业）"),
    )
    .await;
    request_certificate(
        &stack,
        &d,
        ("special_trade_permit_hotel", "特种行业许可（旅馆业）"),
    )
    .await;
    request_certificate(&stack, &e, ("food_business_permit", "食品经营许可")).await;
    for who in [&c, &d, &e] {
        eventually(
            "the certificate in the profile",
            Duration::from_secs(60),
            || async {
                // Issued and its items known: the two come from different
                // topics, in either order.
                let p = stack.get_json(profile_url(who), &officer).await;
                let licence = &p["licences"][0];
                (licence["status"] == "有效"
                    && licence["items"].as_array().is_some_and(|i| !i.is_empty()))
                .then_some(())
            },
        )
        .await;
    }
    let carols = stack.get_json(profile_url(&c), &carol).await;
    assert_eq!(carols["facts"][0]["display"], "30人");
    assert_eq!(carols["facts"][0]["source"], "统计年报 2025");
    assert_eq!(
        carols["licences"][0]["items"][0]["name"],
        "特种行业许可（旅馆业）"
    );

    // Publishing: admins only; a bad rule is refused naming its place.
    let today = yizhan_enterprise::today(Utc::now());
    let policy = |rule: Value| {
        json!({
            "title": "小型旅馆纾困补助",
            "department": "commerce",
            "eligibility": rule,
            "amount": {"fixed_fen": 500_000},
            "budget_fen": 900_000,
            "valid_from": today,
            "valid_until": today + Days::new(90),
        })
    };
    let good = policy(json!({"all": [
        {"licence": "special_trade_permit_hotel", "issued_after": "2020-01-01"},
        {"fact": "employee_count", "op": "le", "value": 50}
    ]}));
    let policies = ent(&stack, "/api/v1/policies");
    expect_problem(
        stack.post_json(&policies, &officer, &good).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        refused_field(
            stack
                .post_json(
                    &policies,
                    &admin,
                    &policy(json!({"all": [
                        {"licence": "special_trade_permit_hotel"},
                        {"fact": "staff", "op": "le", "value": 50}
                    ]})),
                )
                .await
        )
        .await,
        "eligibility.all[1].fact"
    );
    assert_eq!(
        refused_field(
            stack
                .post_json(
                    &policies,
                    &admin,
                    &policy(json!({"licence": "hotel_permit"})),
                )
                .await
        )
        .await,
        "eligibility.licence"
    );
    let published = json_ok(stack.post_json(&policies, &admin, &good).await, 201).await;
    let policy_id = published["id"].as_str().unwrap().to_owned();
    assert_eq!(published["matched"], 1, "{published}");

    // Exactly C: D has too many staff, E no hotel licence, A none yet.
    let candidates = ent(&stack, &format!("/api/v1/policies/{policy_id}/candidates"));
    let list = stack.get_json(&candidates, &officer).await;
    assert_eq!(usccs_of(&list), vec![c.clone()]);
    let reasons = list["items"][0]["reasons"].to_string();
    assert!(
        reasons.contains("从业人数不超过50人（实际：30人）"),
        "{reasons}"
    );
    expect_problem(
        stack
            .get(&candidates, &reviewer(&stack, "public_security"))
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(stack.get(&candidates, &carol).await, 403, "forbidden").await;

    // A becomes eligible when its hotel licence is issued.
    issue_hotel_licence(&stack, &alice, &a).await;
    let mine = eventually("A's benefit", Duration::from_secs(90), || async {
        let list = stack.get_json(benefits_url(&a), &alice).await;
        (list["items"].as_array().unwrap().len() == 1).then_some(list)
    })
    .await;
    assert_eq!(
        mine["items"][0]["message"],
        "无需申请，您符合《小型旅馆纾困补助》，金额 5,000.00 元"
    );
    assert_eq!(mine["items"][0]["state_name"], "待审核");
    let list = stack.get_json(&candidates, &officer).await;
    let mut want = vec![a.clone(), c.clone()];
    want.sort();
    assert_eq!(usccs_of(&list), want);
    let id_of = |who: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["enterprise_uscc"] == who)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (a_id, c_id) = (id_of(&a), id_of(&c));

    // Scoping: A never sees B's profile or benefits, nor acts on C's.
    expect_problem(stack.get(profile_url(&b), &alice).await, 403, "forbidden").await;
    expect_problem(stack.get(benefits_url(&b), &alice).await, 403, "forbidden").await;
    assert_eq!(
        stack.get_json(benefits_url(&b), &bob).await["items"],
        json!([])
    );
    expect_problem(
        stack
            .post_json(
                ent(&stack, &format!("/api/v1/benefits/{c_id}/decline")),
                &alice,
                &json!({}),
            )
            .await,
        404,
        "not_found",
    )
    .await;

    // The budget: 9,000 元 cannot take both (refused whole), takes C.
    let batches = ent(&stack, &format!("/api/v1/policies/{policy_id}/batches"));
    let over = expect_problem(
        stack
            .post_json(&batches, &officer, &json!({"candidate_ids": [c_id, a_id]}))
            .await,
        409,
        "over_budget",
    )
    .await;
    assert_eq!(
        over["detail"],
        "本批合计 10,000.00 元，超出预算余额 9,000.00 元"
    );
    assert_eq!(
        usccs_of(&stack.get_json(&candidates, &officer).await).len(),
        2
    );
    assert!(
        stack.get_json(&candidates, &officer).await["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["state"] == "matched"),
        "nothing confirmed by a refused batch"
    );
    let batch = json_ok(
        stack
            .post_json(&batches, &officer, &json!({"candidate_ids": [c_id]}))
            .await,
        201,
    )
    .await;
    assert_eq!(batch["total"], "5,000.00 元");
    let over = expect_problem(
        stack
            .post_json(&batches, &admin, &json!({"candidate_ids": [a_id]}))
            .await,
        409,
        "over_budget",
    )
    .await;
    assert_eq!(
        over["detail"],
        "本批合计 5,000.00 元，超出预算余额 4,000.00 元"
    );
    assert_eq!(
        refused_field(
            stack
                .post_json(&batches, &officer, &json!({"candidate_ids": [c_id]}))
                .await
        )
        .await,
        "candidate_ids[0]"
    );

    // Before any dispatch rules, an objection cannot become a 诉求: refused
    // whole, so the candidate is not left 有异议 without its request.
    expect_problem(
        stack
            .post_json(
                ent(&stack, &format!("/api/v1/benefits/{a_id}/objection")),
                &alice,
                &json!({"reason": "预算不足不应影响我司"}),
            )
            .await,
        409,
        "dispatch_rules_missing",
    )
    .await;
    let mine = stack
        .get_json(&ent(&stack, "/api/v1/requests"), &alice)
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 0, "{mine}");

    // A objects; the objection becomes a 诉求 to the policy's department,
    // which the dispatch rules name (商务局 takes 融资服务 here).
    let route =
        |d: &str, n: &str| json!({"department": d, "department_name": n, "answer_limit_days": 5});
    let rules = json!({"routes": {
        "policy": route("development_reform", "发展和改革局"),
        "finance": route("commerce", "商务局"),
        "talent": route("talent_office", "人才工作办公室"),
        "land_planning": route("natural_resources", "自然资源和规划局"),
        "approvals": route("approval_bureau", "行政审批局"),
        "utilities": route("utilities_office", "水电气报装服务专班"),
        "legal": route("justice", "司法局"),
        "other": route("business_environment", "营商环境办公室"),
    }});
    let r = stack
        .client
        .put(ent(&stack, "/api/v1/dispatch-rules"))
        .bearer_auth(stack.staff("admin-rules", Role::Admin))
        .json(&rules)
        .send()
        .await
        .unwrap();
    json_ok(r, 200).await;
    let objected = json_ok(
        stack
            .post_json(
                ent(&stack, &format!("/api/v1/benefits/{a_id}/objection")),
                &alice,
                &json!({"reason": "预算不足不应影响我司"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(objected["state_name"], "有异议");
    let mine = stack
        .get_json(&ent(&stack, "/api/v1/requests"), &alice)
        .await;
    let filed = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "policy")
        .unwrap_or_else(|| panic!("the objection is one of A's requests: {mine}"));
    assert_eq!(filed["department_name"], "商务局");
    assert_eq!(filed["status_name"], "已派单");
    assert!(
        filed["description"]
            .as_str()
            .unwrap()
            .contains("预算不足不应影响我司"),
        "{filed}"
    );

    // Paid; C's inbox says so, in 元.
    let paid = json_ok(
        stack
            .post(
                ent(
                    &stack,
                    &format!("/api/v1/batches/{}/paid", batch["id"].as_str().unwrap()),
                ),
                &officer,
            )
            .await,
        200,
    )
    .await;
    assert_eq!(paid["items"][0]["state_name"], "已发放");
    let inbox = stack.url(Service::Notification, "/api/v1/inbox/messages?limit=100");
    eventually("C's payment message", Duration::from_secs(60), || async {
        let page = stack.get_json(&inbox, &carol).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| {
                m["title"] == "免申即享：已发放"
                    && m["body"]
                        .as_str()
                        .unwrap()
                        .starts_with("无需申请，您符合《小型旅馆纾困补助》，金额 5,000.00 元")
            })
            .then_some(())
    })
    .await;
    // B was told nothing.
    let page = stack.get_json(&inbox, &bob).await;
    assert!(!page["items"].to_string().contains("免申即享"), "{page}");
    stack.stop().await;
}

/// A benefit matched when the enterprise service records a new licence
/// reaches the enterprise's inbox while every relay polls only every ten
/// minutes: the consumer commit that matched wakes the enterprise relay.
async fn a_benefit_matched_by_a_new_licence_is_announced_at_once(backend: Backend) {
    let stack = TestStack::start_tuned(
        &[
            Service::Document,
            Service::Notification,
            Service::Enterprise,
        ],
        backend,
        |s| s.common.outbox.poll_interval_ms = 600_000,
    )
    .await;
    let admin = stack.staff("admin-1", Role::Admin);
    let officer = reviewer(&stack, "commerce");
    let hotel = ("special_trade_permit_hotel", "特种行业许可（旅馆业）");
    // A first holder makes the item known to the rules.
    let (first, holder) = (uscc(5), uscc(6));
    request_certificate(&stack, &first, hotel).await;
    let profile = ent(&stack, &format!("/api/v1/enterprises/{first}/profile"));
    eventually(
        "the first licence recorded",
        Duration::from_secs(60),
        || async {
            let p = stack.get_json(&profile, &officer).await;
            p["licences"][0]["items"]
                .as_array()
                .is_some_and(|i| !i.is_empty())
                .then_some(())
        },
    )
    .await;
    let today = yizhan_enterprise::today(Utc::now());
    let policy = json!({
        "title": "旅馆开业补助",
        "department": "commerce",
        "eligibility": {"licence": hotel.0},
        "amount": {"fixed_fen": 100_000},
        "budget_fen": 1_000_000,
        "valid_from": today,
        "valid_until": today + Days::new(30),
    });
    json_ok(
        stack
            .post_json(ent(&stack, "/api/v1/policies"), &admin, &policy)
            .await,
        201,
    )
    .await;
    // Then the second holder's licence: matched by the consumer.
    request_certificate(&stack, &holder, hotel).await;
    let applicant = stack.applicant("grace", &holder);
    let inbox = stack.url(Service::Notification, "/api/v1/inbox/messages?limit=100");
    eventually(
        "the match in the holder's inbox",
        Duration::from_secs(60),
        || async {
            let page = stack.get_json(&inbox, &applicant).await;
            page["items"]
                .as_array()
                .is_some_and(|m| {
                    m.iter().any(|m| {
                        m["title"] == "免申即享：无需申请"
                            && m["body"]
                                .as_str()
                                .is_some_and(|b| b.contains("旅馆开业补助"))
                    })
                })
                .then_some(())
        },
    )
    .await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    a_policy_matches_exactly_the_eligible_within_its_budget,
    a_benefit_matched_by_a_new_licence_is_announced_at_once,
);
