//! 一业一证 end to end: notice → one form → intake → parallel review in
//! every department's queue → the comprehensive licence issued by the
//! document service → hand-out, over HTTP and Kafka, with scoping, the
//! rejection path and illegal transitions.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::seq::SliceRandom;
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;

const WAIT: Duration = Duration::from_secs(60);

pub fn lic(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Licensing, path)
}

pub fn hotel_answers() -> Value {
    json!({"serves_food": true, "floor_area_m2": 1200, "hosts_performances": true})
}

/// A made-up material id per material of the notice, for stacks without a
/// document service (material references are then not checked).
pub fn materials_for(notice: &Value) -> Value {
    let map: serde_json::Map<String, Value> = notice["materials"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                m["code"].as_str().unwrap().to_owned(),
                json!(format!("0193aa00-0000-7000-8000-{i:012}")),
            )
        })
        .collect();
    Value::Object(map)
}

/// Uploads one document per material of the notice, each under its own
/// type, for the caller's enterprise (the document service checks the
/// references).
pub async fn uploaded_materials(stack: &TestStack, token: &str, notice: &Value) -> Value {
    let codes: Vec<String> = notice["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_owned())
        .collect();
    Value::Object(materials_for_codes(stack, token, None, &codes).await)
}

pub async fn put_json(
    stack: &TestStack,
    url: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    stack
        .client
        .put(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn hotel_licence_end_to_end(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Document, Service::Notification],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);

    // The public catalog: six scenarios at least, the hotel among them.
    let scenarios = json_ok(
        stack
            .client
            .get(lic(&stack, "/api/v1/scenarios"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(scenarios["items"].as_array().unwrap().len() >= 6);
    let hotel = json_ok(
        stack
            .client
            .get(lic(&stack, "/api/v1/scenarios/hotel"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(hotel["items"].as_array().unwrap().len(), 6);

    // 一单告知, without logging in.
    let notice = json_ok(
        stack
            .client
            .post(lic(&stack, "/api/v1/notices"))
            .json(&json!({"scenario": "hotel", "answers": hotel_answers()}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let items = notice["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(notice["departments"].as_array().unwrap().len(), 5);
    assert_eq!(notice["committed_total"], 5.5);
    assert!(notice["statutory_total"].as_f64().unwrap() > 100.0);
    let names: Vec<&str> = notice["form"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(names.iter().filter(|k| **k == "enterprise_name").count(), 1);

    // A bad submission names every problem at once.
    let mut form = yizhan_licensing::seed::sample_hotel_form();
    form.as_object_mut().unwrap().remove("room_count");
    form["bed_count"] = json!("很多");
    let bad = json!({
        "scenario": "hotel",
        "answers": hotel_answers(),
        "enterprise_uscc": "91350100M000100Y44",
        "form": form,
        "materials": uploaded_materials(&stack, &alice, &notice).await,
    });
    let problem = expect_problem(
        stack
            .post_json(lic(&stack, "/api/v1/applications"), &alice, &bad)
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        ("enterprise_uscc", "invalid_check_digit"),
        ("form.room_count", "required"),
        ("form.bed_count", "invalid_type"),
    ] {
        assert!(
            fields.contains(&(want.0.into(), want.1.into())),
            "{want:?} not in {fields:?}"
        );
    }

    // 一表申请, idempotent.
    let good = json!({
        "scenario": "hotel",
        "answers": hotel_answers(),
        "enterprise_uscc": ENTERPRISE_A,
        "form": yizhan_licensing::seed::sample_hotel_form(),
        "materials": uploaded_materials(&stack, &alice, &notice).await,
    });
    let submit = |key: &'static str| {
        stack
            .client
            .post(lic(&stack, "/api/v1/applications"))
            .bearer_auth(&alice)
            .header("Idempotency-Key", key)
            .json(&good)
    };
    let app = json_ok(submit("hotel-1").send().await.unwrap(), 201).await;
    let id = app["id"].as_str().unwrap().to_owned();
    assert_eq!(app["status"], "submitted");
    assert_eq!(app["blzt"], 1);
    let replay = submit("hotel-1").send().await.unwrap();
    assert_eq!(replay.headers()["Idempotent-Replayed"], "true");
    assert_eq!(json_ok(replay, 201).await["id"], id.as_str());
    // Bob's applicant may not submit for Alice's enterprise.
    expect_problem(
        stack
            .post_json(lic(&stack, "/api/v1/applications"), &bob, &good)
            .await,
        403,
        "forbidden",
    )
    .await;

    let app_url = lic(&stack, &format!("/api/v1/applications/{id}"));
    // Scoping: Bob sees nothing of it and cannot act on it.
    expect_problem(stack.get(&app_url, &bob).await, 404, "not_found").await;
    expect_problem(
        put_json(&stack, &app_url, &bob, &good).await,
        404,
        "not_found",
    )
    .await;
    let bobs_list = stack
        .get_json(lic(&stack, "/api/v1/applications"), &bob)
        .await;
    assert_eq!(bobs_list["items"].as_array().unwrap().len(), 0);
    let alices_list = stack
        .get_json(lic(&stack, "/api/v1/applications"), &alice)
        .await;
    assert_eq!(alices_list["items"][0]["id"], id.as_str());
    // Only the window takes intake.
    let intake_url = format!("{app_url}/intake");
    expect_problem(
        stack
            .post_json(&intake_url, &alice, &json!({"decision": "accept"}))
            .await,
        403,
        "forbidden",
    )
    .await;

    // 一次性告知, correction, resubmission.
    expect_problem(
        stack
            .post_json(
                &intake_url,
                &clerk,
                &json!({"decision": "reject", "deficiencies": []}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    let returned = json_ok(
        stack
            .post_json(
                &intake_url,
                &clerk,
                &json!({"decision": "reject", "deficiencies": [
                    {"material": "floor_plan", "reason": "平面布局图未标注消防通道"},
                    {"field": "room_count", "reason": "客房数与平面图不一致"}
                ]}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["blzt"], 4);
    assert_eq!(returned["deficiencies"].as_array().unwrap().len(), 2);
    let resubmitted = json_ok(put_json(&stack, &app_url, &alice, &good).await, 200).await;
    assert_eq!(resubmitted["status"], "submitted");
    assert_eq!(resubmitted["blzt"], 1);

    // Acceptance: six tasks at once, each 部门开始办理 (8).
    let accepted = json_ok(
        stack
            .post_json(&intake_url, &clerk, &json!({"decision": "accept"}))
            .await,
        200,
    )
    .await;
    assert_eq!(accepted["status"], "in_review");
    assert_eq!(accepted["blzt"], 3);
    let tasks = accepted["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 6);
    assert!(tasks.iter().all(|t| t["blzt"] == 8));
    assert!(accepted["remaining_working_days"].as_f64().unwrap() > 0.0);
    // Accepting twice is an illegal transition.
    let again = expect_problem(
        stack
            .post_json(&intake_url, &clerk, &json!({"decision": "accept"}))
            .await,
        409,
        "illegal_transition",
    )
    .await;
    assert!(again["detail"].as_str().unwrap().contains("不能受理"));

    // Each department's queue holds exactly its own items.
    let mut by_dept: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in tasks {
        by_dept
            .entry(t["department_code"].as_str().unwrap().to_owned())
            .or_default()
            .push(t["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(by_dept.len(), 5);
    for (dept, ids) in &by_dept {
        let queue = stack
            .get_json(lic(&stack, "/api/v1/tasks"), &reviewer(&stack, dept))
            .await;
        let mut seen: Vec<String> = queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        seen.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(seen, want, "queue of {dept}");
    }

    // A reviewer of another department cannot decide; nor can an applicant.
    let police_task = &by_dept["public_security"][0];
    let decide_url = |task: &str| lic(&stack, &format!("/api/v1/tasks/{task}/decision"));
    let approve =
        |n: usize| json!({"decision": "approve", "permit_number": format!("XK-2026-{n:04}")});
    expect_problem(
        stack
            .post_json(
                decide_url(police_task),
                &reviewer(&stack, "culture_tourism"),
                &approve(0),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        stack
            .post_json(decide_url(police_task), &alice, &approve(0))
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        stack
            .post_json(
                decide_url(police_task),
                &reviewer(&stack, "public_security"),
                &json!({"decision": "approve"}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;

    // Approvals in a shuffled order.
    let mut all: Vec<(String, String)> = by_dept
        .iter()
        .flat_map(|(d, ids)| ids.iter().map(move |i| (d.clone(), i.clone())))
        .collect();
    all.shuffle(&mut rand::rng());
    for (n, (dept, task)) in all.iter().enumerate() {
        let decided = json_ok(
            stack
                .post_json(decide_url(task), &reviewer(&stack, dept), &approve(n))
                .await,
            200,
        )
        .await;
        assert_eq!(decided["blzt"], 11);
    }
    // Deciding again is an illegal transition.
    let (dept, task) = &all[0];
    expect_problem(
        stack
            .post_json(
                decide_url(task),
                &reviewer(&stack, dept),
                &json!({"decision": "reject", "reasons": "复核不通过"}),
            )
            .await,
        409,
        "illegal_transition",
    )
    .await;

    // The document service issues the licence; licensing hears of it.
    let issued = eventually("licence issued", WAIT, || async {
        let a = stack.get_json(&app_url, &alice).await;
        (a["status"] == "licence_issued").then_some(a)
    })
    .await;
    let certificate_id = issued["certificate_id"].as_str().unwrap().to_owned();
    let verified = json_ok(
        stack
            .client
            // The identifier is digits, capitals and dots: safe in a query.
            .get(stack.url(
                Service::Document,
                &format!("/api/v1/verify?id={certificate_id}"),
            ))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(
        verified["certificate"]["holder"]["name"],
        "福州一站酒店有限公司"
    );

    // Hand-out, once.
    let hand_out = format!("{app_url}/hand-out");
    expect_problem(stack.post(&hand_out, &alice).await, 403, "forbidden").await;
    let done = json_ok(stack.post(&hand_out, &clerk).await, 200).await;
    assert_eq!(done["status"], "handed_out");
    expect_problem(
        stack.post(&hand_out, &clerk).await,
        409,
        "illegal_transition",
    )
    .await;

    // The timeline has every step with its actor.
    let timeline = done["timeline"].as_array().unwrap();
    let steps: Vec<(&str, &str, &str)> = timeline
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["sub"].as_str().unwrap(),
                e["actor"]["role"].as_str().unwrap(),
            )
        })
        .collect();
    let count = |action: &str| steps.iter().filter(|s| s.0 == action).count();
    assert_eq!(steps[0], ("submitted", "alice", "applicant"));
    assert!(steps.contains(&("returned", "clerk-1", "window_clerk")));
    assert!(steps.contains(&("resubmitted", "alice", "applicant")));
    assert!(steps.contains(&("accepted", "clerk-1", "window_clerk")));
    assert_eq!(count("task_accepted"), 6);
    assert_eq!(count("task_in_review"), 6);
    assert_eq!(count("task_approved"), 6);
    assert!(steps.contains(&("task_approved", "reviewer-public_security", "dept_reviewer")));
    assert_eq!(count("bundle_approved"), 1);
    assert!(steps.contains(&("licence_issued", "document", "system")));
    assert_eq!(
        steps.last().unwrap(),
        &("handed_out", "clerk-1", "window_clerk")
    );
    let seqs: Vec<i64> = timeline
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert!(
        done["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["blzt"] == 11 && t["permit_number"].is_string())
    );

    // Supervision statistics: the six items were decided on the day of
    // acceptance, which is not counted, so none used a working day: all on
    // time, each item's whole statutory limit saved.
    let stats_url = lic(&stack, "/api/v1/statistics");
    let admin = stack.staff("admin-1", Role::Admin);
    let stats = stack.get_json(&stats_url, &admin).await;
    let items = stats["items"].as_array().unwrap();
    assert_eq!(items.len(), 6, "{stats}");
    for i in items {
        assert_eq!(i["decided"], 1, "{i}");
        assert_eq!(i["approved"], 1, "{i}");
        assert_eq!(i["avg_working_days"], 0.0, "{i}");
        assert_eq!(i["p90_working_days"], 0.0, "{i}");
        assert_eq!(i["on_time_rate"], 1.0, "{i}");
    }
    let fire = items
        .iter()
        .find(|i| i["item_code"] == "fire_safety_inspection")
        .unwrap();
    assert_eq!(fire["avg_days_saved"], 10.0, "statutory 10 days, none used");
    assert_eq!(stats["departments"].as_array().unwrap().len(), 5);
    assert_eq!(stats["bundles"]["decided"], 1);
    assert_eq!(
        stats["bundles"]["avg_days_saved"].as_f64(),
        notice["statutory_total"].as_f64(),
        "a bundle saves the items' statutory limits added up"
    );
    // A reviewer sees their own department only; an applicant nothing.
    let police = stack
        .get_json(&stats_url, &reviewer(&stack, "public_security"))
        .await;
    assert_eq!(police["items"].as_array().unwrap().len(), 1, "{police}");
    assert_eq!(police["items"][0]["department_code"], "public_security");
    assert!(police["bundles"].is_null());
    expect_problem(stack.get(&stats_url, &alice).await, 403, "forbidden").await;
    expect_problem(
        stack
            .get(format!("{stats_url}?from=2026-05-01&to=2026-04-01"), &admin)
            .await,
        422,
        "validation_failed",
    )
    .await;

    // The notification service told the applicant and each department.
    let inbox = stack.url(Service::Notification, "/api/v1/inbox/messages?limit=100");
    let titles = |page: serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let alice_titles = eventually("the licence message", Duration::from_secs(60), || async {
        let t = titles(stack.get_json(&inbox, &alice).await);
        t.iter().any(|t| t == "行业综合许可证已签发").then_some(t)
    })
    .await;
    assert!(
        alice_titles.iter().any(|t| t == "申请已受理"),
        "{alice_titles:?}"
    );
    assert_eq!(
        alice_titles
            .iter()
            .filter(|t| *t == "审批事项已通过")
            .count(),
        6,
        "{alice_titles:?}"
    );
    for dept in by_dept.keys() {
        let seen = eventually(
            "the department's task message",
            Duration::from_secs(30),
            || async {
                let t = titles(stack.get_json(&inbox, &reviewer(&stack, dept)).await);
                (!t.is_empty()).then_some(t)
            },
        )
        .await;
        assert_eq!(
            seen.iter().filter(|t| *t == "新的待审事项").count(),
            by_dept[dept].len(),
            "{dept}: {seen:?}"
        );
    }
    // Another enterprise sees none of it.
    let bob_page = stack.get_json(&inbox, &bob).await;
    assert!(titles(bob_page).is_empty());
    stack.stop().await;
}

async fn rejected_item_refuses_the_bundle(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let agent = agent(&stack, "agent-1", &[ENTERPRISE_B]);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let answers = json!({"sells_food": false, "sells_tobacco": true, "outdoor_sign": false});
    let notice = json_ok(
        stack
            .client
            .post(lic(&stack, "/api/v1/notices"))
            .json(&json!({"scenario": "convenience_store", "answers": answers}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(notice["items"].as_array().unwrap().len(), 2);
    let form = json!({
        "enterprise_name": "一站便利店有限公司",
        "legal_rep_name": "钱七",
        "legal_rep_id_no": "11010519491231002X",
        "contact_phone": "0591-87654321",
        "business_address": "福州市台江区八一七中路 2 号",
        "registered_capital_wan": 50,
        "business_scope": "日用百货零售；卷烟零售"
    });
    let body = json!({
        "scenario": "convenience_store",
        "answers": answers,
        "enterprise_uscc": ENTERPRISE_B,
        "form": form,
        "materials": materials_for(&notice),
    });
    // An agent files for the enterprise that authorised it.
    let app = json_ok(
        stack
            .post_json(lic(&stack, "/api/v1/applications"), &agent, &body)
            .await,
        201,
    )
    .await;
    let id = app["id"].as_str().unwrap();
    let app_url = lic(&stack, &format!("/api/v1/applications/{id}"));
    let accepted = json_ok(
        stack
            .post_json(
                &format!("{app_url}/intake"),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    let task_of = |dept: &str| {
        accepted["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["department_code"] == dept)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let tobacco = task_of("tobacco");
    let market = task_of("market_supervision");
    // Garbage never reaches the database as a 500.
    expect_problem(
        stack
            .post_json(
                lic(&stack, &format!("/api/v1/tasks/{tobacco}/decision")),
                &reviewer(&stack, "tobacco"),
                &json!({"decision": "reject", "reasons": "含\u{0}字符"}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    for path in [
        "/api/v1/applications/%00x",
        "/api/v1/applications/no%20such",
    ] {
        expect_problem(stack.get(lic(&stack, path), &agent).await, 404, "not_found").await;
    }
    let rejected = json_ok(
        stack
            .post_json(
                lic(&stack, &format!("/api/v1/tasks/{tobacco}/decision")),
                &reviewer(&stack, "tobacco"),
                &json!({"decision": "reject", "reasons": "经营场所距中小学校不足 50 米"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(rejected["blzt"], 13);
    let refused = stack.get_json(&app_url, &agent).await;
    assert_eq!(refused["status"], "refused");
    // The other department may still decide; the outcome stays refused.
    json_ok(
        stack
            .post_json(
                lic(&stack, &format!("/api/v1/tasks/{market}/decision")),
                &reviewer(&stack, "market_supervision"),
                &json!({"decision": "approve", "permit_number": "91350100MA00000001"}),
            )
            .await,
        200,
    )
    .await;
    let after = stack.get_json(&app_url, &agent).await;
    assert_eq!(after["status"], "refused");
    assert!(after["certificate_id"].is_null());
    let actions: Vec<&str> = after["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"task_rejected") && actions.contains(&"bundle_refused"));
    // The queue's default is the work still to do: empty now.
    let queue = stack
        .get_json(lic(&stack, "/api/v1/tasks"), &reviewer(&stack, "tobacco"))
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 0);
    let done = stack
        .get_json(
            lic(&stack, "/api/v1/tasks?status=rejected"),
            &reviewer(&stack, "tobacco"),
        )
        .await;
    assert_eq!(done["items"][0]["id"], tobacco.as_str());
    expect_problem(
        stack
            .get(
                lic(&stack, "/api/v1/tasks?status=bogus"),
                &reviewer(&stack, "tobacco"),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    // Hand-out before a licence exists is refused.
    expect_problem(
        stack.post(&format!("{app_url}/hand-out"), &clerk).await,
        409,
        "illegal_transition",
    )
    .await;
    stack.stop().await;
}

async fn calendar_and_notice_inputs(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let get = |path: &str| stack.client.get(lic(&stack, path)).send();
    // 2025 National Day: Oct 1-8 off, so the working day after Sep 30 is Oct 9.
    let span = json_ok(
        get("/api/v1/calendar/working-days?from=2025-09-30&to=2025-10-10")
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(span["working_days"], 2);
    assert_eq!(span["coverage"], "published");
    let next = json_ok(
        get("/api/v1/calendar/add?date=2025-09-30&days=1")
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(next["result"], "2025-10-09");
    let back = json_ok(
        get("/api/v1/calendar/add?date=2025-10-09&days=-1")
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(back["result"], "2025-09-30");
    expect_problem(
        get("/api/v1/calendar/add?date=2025-13-01&days=1")
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    expect_problem(
        get("/api/v1/calendar/add?date=2025-10-01&days=99999")
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    // The most negative i32 once crashed the handler (abs() overflow); schemathesis found it.
    let body = expect_problem(
        get("/api/v1/calendar/add?date=2000-01-01&days=-2147483648")
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "days");
    // Bad notice requests name their field.
    let notice = |body: Value| {
        stack
            .client
            .post(lic(&stack, "/api/v1/notices"))
            .json(&body)
            .send()
    };
    let p = expect_problem(
        notice(json!({"scenario": "spaceport", "answers": {}}))
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "scenario");
    let p = expect_problem(
        notice(json!({"scenario": "hotel", "answers": {"serves_food": "yes"}}))
            .await
            .unwrap(),
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
    assert!(fields.contains(&"answers.serves_food"));
    assert!(fields.contains(&"answers.floor_area_m2"));
    expect_problem(
        stack
            .client
            .get(lic(&stack, "/api/v1/scenarios/spaceport"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    stack.stop().await;
}

/// Reads every `MaterialsChecked` event on the document topic until one of
/// `checked_by` shows up; returns its payload.
async fn materials_checked_by(brokers: &str, checked_by: &str) -> Option<Value> {
    use rdkafka::ClientConfig;
    use rdkafka::Message;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::Headers;
    use yizhan_events::contracts::{Event, MaterialsChecked, topics};

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("check-reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topics::DOCUMENT]).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await else {
            continue;
        };
        let is_check = m
            .headers()
            .and_then(|h| h.iter().find(|h| h.key == "ce_type"))
            .and_then(|h| h.value)
            .is_some_and(|v| v == MaterialsChecked::TYPE.as_bytes());
        if !is_check {
            continue;
        }
        let payload: Value = serde_json::from_slice(m.payload().unwrap_or_default()).unwrap();
        if payload["checked_by"] == checked_by {
            return Some(payload);
        }
    }
    None
}

/// Issue 3, access: clerks and reviewers read the materials of applications
/// they handle (from licensing's events), nobody else; checks are events.
async fn handlers_read_referenced_materials_and_checks_are_events(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let doc = |path: String| stack.url(Service::Document, &path);
    let uploaded = |salt: &'static str| {
        let stack = &stack;
        let alice = &alice;
        async move {
            let r = upload(
                stack,
                alice,
                "floor_plan",
                "plan.pdf",
                pdf_bytes(300, salt),
                &[],
            )
            .await;
            json_ok(r, 201).await["id"].as_str().unwrap().to_owned()
        }
    };
    let referenced = uploaded("referenced").await;
    let unreferenced = uploaded("unreferenced").await;

    // Before any application references it, a clerk sees nothing.
    let material_url = doc(format!("/api/v1/materials/{referenced}"));
    expect_problem(stack.get(&material_url, &clerk).await, 404, "not_found").await;

    let notice = json_ok(
        stack
            .client
            .post(lic(&stack, "/api/v1/notices"))
            .json(&json!({"scenario": "hotel", "answers": hotel_answers()}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let mut materials = uploaded_materials(&stack, &alice, &notice).await;
    materials["floor_plan"] = json!(referenced);
    let body = json!({
        "scenario": "hotel",
        "answers": hotel_answers(),
        "enterprise_uscc": ENTERPRISE_A,
        "form": yizhan_licensing::seed::sample_hotel_form(),
        "materials": materials,
    });
    let app = json_ok(
        stack
            .post_json(lic(&stack, "/api/v1/applications"), &alice, &body)
            .await,
        201,
    )
    .await;
    let id = app["id"].as_str().unwrap();
    let accepted = json_ok(
        stack
            .post_json(
                lic(&stack, &format!("/api/v1/applications/{id}/intake")),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    let depts: Vec<&str> = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["department_code"].as_str().unwrap())
        .collect();
    assert!(depts.contains(&"public_security"), "{depts:?}");
    assert!(!depts.contains(&"tobacco"), "{depts:?}");

    // The grants arrive by event: the clerk, then the handling department.
    let police = reviewer(&stack, "public_security");
    for token in [&clerk, &police] {
        let got = eventually("a handler may read the material", WAIT, || async {
            let r = stack.get(&material_url, token).await;
            (r.status() == 200).then_some(r)
        })
        .await;
        let got: Value = got.json().await.unwrap();
        assert_eq!(got["id"], referenced.as_str());
        let content = stack
            .get(
                doc(format!("/api/v1/materials/{referenced}/content")),
                token,
            )
            .await;
        assert_eq!(content.status(), 200);
        assert!(content.bytes().await.unwrap().starts_with(b"%PDF-"));
    }
    // A department without a task in it, and any material no application
    // references, stay hidden; so does the archive.
    let tobacco = reviewer(&stack, "tobacco");
    for (token, path) in [
        (&tobacco, format!("/api/v1/materials/{referenced}")),
        (&tobacco, format!("/api/v1/materials/{referenced}/content")),
        (&clerk, format!("/api/v1/materials/{unreferenced}")),
        (&clerk, format!("/api/v1/materials/{unreferenced}/content")),
        (&police, format!("/api/v1/materials/{unreferenced}")),
        (
            &clerk,
            format!("/api/v1/enterprises/{ENTERPRISE_A}/materials"),
        ),
    ] {
        expect_problem(stack.get(doc(path.clone()), token).await, 404, "not_found").await;
    }

    // A check is answered and recorded as a `MaterialsChecked` event.
    let checked = json_ok(
        stack
            .post_json(
                doc("/api/v1/materials/check".into()),
                &clerk,
                &json!({
                    "enterprise_uscc": ENTERPRISE_A,
                    "material_ids": [referenced, "no-such-material"],
                }),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(checked["all_ok"], false);
    let event = materials_checked_by(&stack.brokers, "clerk-1")
        .await
        .expect("a MaterialsChecked event on the document topic");
    assert_eq!(event["enterprise_uscc"], ENTERPRISE_A);
    assert_eq!(event["all_ok"], false);
    assert_eq!(
        event["items"],
        json!([
            {"material_id": referenced, "status": "ok"},
            {"material_id": "no-such-material", "status": "not_found"},
        ])
    );
    stack.stop().await;
}

/// A convenience store application of enterprise `uscc`, submitted (已接件):
/// the application and its notice.
pub(crate) async fn submitted_store(
    stack: &TestStack,
    applicant: &str,
    uscc: &str,
) -> (Value, Value) {
    submitted_store_with_key(stack, applicant, uscc, None).await
}

/// [`submitted_store`], sent with `Idempotency-Key: key` when given.
pub(crate) async fn submitted_store_with_key(
    stack: &TestStack,
    applicant: &str,
    uscc: &str,
    key: Option<&str>,
) -> (Value, Value) {
    let answers = json!({"sells_food": false, "sells_tobacco": true, "outdoor_sign": false});
    let notice = json_ok(
        stack
            .client
            .post(lic(stack, "/api/v1/notices"))
            .json(&json!({"scenario": "convenience_store", "answers": answers}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let body = json!({
        "scenario": "convenience_store",
        "answers": answers,
        "enterprise_uscc": uscc,
        "form": {
            "enterprise_name": "一站便利店有限公司",
            "legal_rep_name": "钱七",
            "legal_rep_id_no": "11010519491231002X",
            "contact_phone": "0591-87654321",
            "business_address": "福州市台江区八一七中路 2 号",
            "registered_capital_wan": 50,
            "business_scope": "日用百货零售；卷烟零售"
        },
        "materials": materials_for(&notice),
    });
    let mut request = stack
        .client
        .post(lic(stack, "/api/v1/applications"))
        .bearer_auth(applicant)
        .json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let app = json_ok(request.send().await.unwrap(), 201).await;
    (app, notice)
}

/// A convenience store application of enterprise A, accepted: the app URL
/// and its tobacco task id.
pub(crate) async fn accepted_store(stack: &TestStack, applicant: &str) -> (String, String, Value) {
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let (app, notice) = submitted_store(stack, applicant, ENTERPRISE_A).await;
    let app_url = lic(
        stack,
        &format!("/api/v1/applications/{}", app["id"].as_str().unwrap()),
    );
    let accepted = json_ok(
        stack
            .post_json(
                &format!("{app_url}/intake"),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    let tobacco = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department_code"] == "tobacco")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (app_url, tobacco, notice)
}

fn task_in(app: &Value, id: &str) -> Value {
    app["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
        .clone()
}

async fn supplement_round_trip_and_special_procedure(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let (app_url, task, notice) = accepted_store(&stack, &alice).await;
    let tobacco = reviewer(&stack, "tobacco");
    let task_url = |p: &str| lic(&stack, &format!("/api/v1/tasks/{task}/{p}"));
    let material = notice["materials"][0]["code"].as_str().unwrap().to_owned();
    let before = task_in(&stack.get_json(&app_url, &alice).await, &task);
    assert_eq!(before["blzt"], 8);
    let remaining = before["remaining_working_days"].clone();
    assert!(remaining.is_number());

    // Supplying when nothing was requested is the engine's refusal.
    expect_problem(
        stack
            .post_json(task_url("supplements"), &alice, &json!({"form": {}}))
            .await,
        409,
        "illegal_transition",
    )
    .await;
    let list = json!({"items": [
        {"material": material, "reason": "复印件不清晰，请重新上传"},
        {"field": "business_scope", "reason": "经营范围须与营业执照一致"}
    ]});
    // Another department's reviewer never sees the task; an empty list and
    // unknown entries are named.
    expect_problem(
        stack
            .post_json(
                task_url("supplement-requests"),
                &reviewer(&stack, "market_supervision"),
                &list,
            )
            .await,
        404,
        "not_found",
    )
    .await;
    let empty = expect_problem(
        stack
            .post_json(
                task_url("supplement-requests"),
                &tobacco,
                &json!({"items": []}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(empty["errors"][0]["field"], "items");
    let unknown = expect_problem(
        stack
            .post_json(
                task_url("supplement-requests"),
                &tobacco,
                &json!({"items": [{"field": "no_such", "reason": "x"}]}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(unknown["errors"][0]["field"], "items[0].field");

    // 补正（开始）: the clock pauses.
    let paused = json_ok(
        stack
            .post_json(task_url("supplement-requests"), &tobacco, &list)
            .await,
        200,
    )
    .await;
    assert_eq!(paused["blzt"], 6);
    assert_eq!(paused["sla_state"], "paused");
    let tracked = task_in(&stack.get_json(&app_url, &alice).await, &task);
    assert_eq!(tracked["blzt"], 6);
    assert_eq!(tracked["remaining_working_days"], remaining);
    // The applicant sees the one-time list to answer.
    assert_eq!(
        tracked["supplement_request"].as_array().map(Vec::len),
        list["items"].as_array().map(Vec::len),
        "{tracked}"
    );
    assert_eq!(
        tracked["supplement_request"][0]["reason"],
        list["items"][0]["reason"]
    );
    // No decision and no second request while paused.
    expect_problem(
        stack
            .post_json(
                task_url("decision"),
                &tobacco,
                &json!({"decision": "approve", "permit_number": "YC350102000001"}),
            )
            .await,
        409,
        "illegal_transition",
    )
    .await;
    expect_problem(
        stack
            .post_json(task_url("supplement-requests"), &tobacco, &list)
            .await,
        409,
        "illegal_transition",
    )
    .await;
    // Another enterprise's applicant: 404; an incomplete supplement names
    // what is missing.
    let supply = json!({
        "form": {"business_scope": "日用百货零售；卷烟零售（依法须经批准的项目）"},
        "materials": {material.clone(): "0193aa00-0000-7000-8000-00000000aaaa"}
    });
    expect_problem(
        stack
            .post_json(task_url("supplements"), &bob, &supply)
            .await,
        404,
        "not_found",
    )
    .await;
    let partial = expect_problem(
        stack
            .post_json(
                task_url("supplements"),
                &alice,
                &json!({"form": supply["form"].clone()}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        partial["errors"][0]["field"],
        format!("materials.{material}").as_str()
    );

    // 补正（结束）→ back in review, the clock resumed where it stopped.
    let resumed = json_ok(
        stack
            .post_json(task_url("supplements"), &alice, &supply)
            .await,
        200,
    )
    .await;
    assert_eq!(resumed["blzt"], 8);
    assert_ne!(resumed["sla_state"], "paused");
    assert_eq!(resumed["remaining_working_days"], remaining);
    let app = stack.get_json(&app_url, &alice).await;
    assert_eq!(
        app["form"]["business_scope"],
        "日用百货零售；卷烟零售（依法须经批准的项目）"
    );
    let codes: Vec<i64> = app["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["task_id"] == task.as_str())
        .filter_map(|e| e["blzt"].as_i64())
        .collect();
    assert!(codes.ends_with(&[6, 7, 8]), "{codes:?}");
    // Supplying twice is refused.
    expect_problem(
        stack
            .post_json(task_url("supplements"), &alice, &supply)
            .await,
        409,
        "illegal_transition",
    )
    .await;

    // 特别程序: start (9, paused) and end (10, resumed).
    let missing = expect_problem(
        stack
            .post_json(
                task_url("special-procedure"),
                &tobacco,
                &json!({"action": "start"}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(missing["errors"][0]["field"], "kind");
    expect_problem(
        stack
            .post_json(
                task_url("special-procedure"),
                &tobacco,
                &json!({"action": "end"}),
            )
            .await,
        409,
        "illegal_transition",
    )
    .await;
    let started = json_ok(
        stack
            .post_json(
                task_url("special-procedure"),
                &tobacco,
                &json!({"action": "start", "kind": "expert_review", "reason": "选址需专家论证"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(started["blzt"], 9);
    assert_eq!(started["sla_state"], "paused");
    let queued = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == started["id"])
    };
    let queue_url = lic(&stack, "/api/v1/tasks?limit=100");
    assert!(
        !queued(&stack.get_json(&queue_url, &tobacco).await),
        "a task in a special procedure is not in the default queue"
    );
    let ended = json_ok(
        stack
            .post_json(
                task_url("special-procedure"),
                &tobacco,
                &json!({"action": "end"}),
            )
            .await,
        200,
    )
    .await;
    // 特别程序（结束）is recorded (BLZT 10 on the timeline) and the task is
    // back in review (8), in its department's default queue.
    assert_eq!(ended["blzt"], 8);
    assert_eq!(ended["remaining_working_days"], remaining);
    assert!(
        queued(&stack.get_json(&queue_url, &tobacco).await),
        "the task is back in the department's queue"
    );

    // Deciding afterwards works.
    let approved = json_ok(
        stack
            .post_json(
                task_url("decision"),
                &tobacco,
                &json!({"decision": "approve", "permit_number": "YC350102000001"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(approved["blzt"], 11);
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    hotel_licence_end_to_end,
    rejected_item_refuses_the_bundle,
    calendar_and_notice_inputs,
    handlers_read_referenced_materials_and_checks_are_events,
    supplement_round_trip_and_special_procedure,
);
