//! 一业一证 beyond the main path: 容缺受理 (fulfilled and expired), deadline
//! alarms, material references checked against the document service,
//! catalog publishing, and the licence lifecycle (变更、延续、注销).
//!
//! Background jobs are driven at chosen moments through the service's own
//! store functions on its database, so "the due date passed" is tested
//! without waiting for it.

use chrono::{Duration as Days, NaiveDate, NaiveTime, Utc};
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::licensing::{hotel_answers, lic, materials_for, uploaded_materials};

const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The public 一单告知 notice of `scenario` with `answers`.
pub(crate) async fn notice(stack: &TestStack, scenario: &str, answers: &Value) -> Value {
    json_ok(
        stack
            .client
            .post(lic(stack, "/api/v1/notices"))
            .json(&json!({"scenario": scenario, "answers": answers}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

pub(crate) fn store_answers() -> Value {
    json!({"sells_food": false, "sells_tobacco": true, "outdoor_sign": false})
}

fn store_form() -> Value {
    json!({
        "enterprise_name": "一站便利店有限公司",
        "legal_rep_name": "钱七",
        "legal_rep_id_no": "11010519491231002X",
        "contact_phone": "0591-87654321",
        "business_address": "福州市台江区八一七中路 2 号",
        "registered_capital_wan": 50,
        "business_scope": "日用百货零售；卷烟零售"
    })
}

/// Submits a convenience store application of enterprise A; answers it.
pub(crate) async fn submit_store(stack: &TestStack, applicant: &str, materials: Value) -> Value {
    let body = json!({
        "scenario": "convenience_store",
        "answers": store_answers(),
        "enterprise_uscc": ENTERPRISE_A,
        "form": store_form(),
        "materials": materials,
    });
    json_ok(
        stack
            .post_json(lic(stack, "/api/v1/applications"), applicant, &body)
            .await,
        201,
    )
    .await
}

pub(crate) fn app_url(stack: &TestStack, app: &Value) -> String {
    lic(
        stack,
        &format!("/api/v1/applications/{}", app["id"].as_str().unwrap()),
    )
}

/// Approves every open task of `app` as its department's reviewer.
pub(crate) async fn approve_all(stack: &TestStack, app: &Value) -> Vec<Value> {
    let mut decided = Vec::new();
    for (n, t) in app["tasks"].as_array().unwrap().iter().enumerate() {
        let url = lic(
            stack,
            &format!("/api/v1/tasks/{}/decision", t["id"].as_str().unwrap()),
        );
        let dept = t["department_code"].as_str().unwrap();
        decided.push(
            json_ok(
                stack
                    .post_json(
                        url,
                        &reviewer(stack, dept),
                        &json!({"decision": "approve", "permit_number": format!("XK-{n}")}),
                    )
                    .await,
                200,
            )
            .await,
        );
    }
    decided
}

pub(crate) async fn accept(stack: &TestStack, url: &str) -> Value {
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    json_ok(
        stack
            .post_json(
                format!("{url}/intake"),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await
}

pub(crate) async fn wait_status(stack: &TestStack, url: &str, token: &str, status: &str) -> Value {
    eventually(status, WAIT, || async {
        let a = stack.get_json(url, token).await;
        (a["status"] == status).then_some(a)
    })
    .await
}

async fn certificate_status(stack: &TestStack, certificate_id: &str) -> Value {
    json_ok(
        stack
            .client
            .get(stack.url(
                Service::Document,
                &format!("/api/v1/verify?id={certificate_id}"),
            ))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

fn actions(app: &Value) -> Vec<String> {
    app["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn today() -> NaiveDate {
    (Utc::now() + Days::hours(8)).date_naive()
}

/// 容缺受理 whose owed materials arrive in time: reviewers approve meanwhile
/// (容缺通过, BLZT 12), the licence waits for the materials, then is issued.
async fn tolerance_fulfilled_in_time(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let notice = notice(&stack, "hotel", &hotel_answers()).await;
    let mut materials = uploaded_materials(&stack, &alice, &notice).await;
    // Two non-key materials not yet to hand.
    let owed = ["surveillance_plan", "fire_acceptance_proof"];
    for m in owed {
        let key = notice["materials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == m)
            .unwrap()["key"]
            .clone();
        assert_eq!(key, false, "{m} is non-key in the hotel notice");
        materials.as_object_mut().unwrap().remove(m);
    }
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
    let url = app_url(&stack, &app);
    let intake = format!("{url}/intake");
    let due = today() + Days::days(10);
    let tolerance = |list: Value, due: Value| json!({"decision": "accept_with_tolerance", "deficiencies": list, "tolerance_due_date": due});
    // A key material cannot be owed; a field cannot be; a date must lie
    // ahead; all named at once.
    let bad = expect_problem(
        stack
            .post_json(
                &intake,
                &clerk,
                &tolerance(
                    json!([
                        {"material": "legal_rep_id_card", "reason": "原件待补"},
                        {"field": "room_count", "reason": "待核实"}
                    ]),
                    json!(today()),
                ),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    let codes: Vec<(&str, &str)> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    for want in [
        ("deficiencies[0].material", "key_material"),
        ("deficiencies[1].field", "not_allowed"),
        ("tolerance_due_date", "out_of_range"),
    ] {
        assert!(codes.contains(&want), "{want:?} not in {codes:?}");
    }
    let list = json!([
        {"material": "surveillance_plan", "reason": "监控方案正在编制"},
        {"material": "fire_acceptance_proof", "reason": "消防验收文件待出具"}
    ]);
    let accepted = json_ok(
        stack
            .post_json(&intake, &clerk, &tolerance(list, json!(due)))
            .await,
        200,
    )
    .await;
    assert_eq!(accepted["status"], "in_review");
    assert_eq!(accepted["tolerance_due_date"], json!(due));
    assert_eq!(accepted["tolerance_missing"].as_array().unwrap().len(), 2);
    assert_eq!(accepted["tasks"].as_array().unwrap().len(), 6);

    // Approved meanwhile: 容缺通过, and no licence yet.
    let decided = approve_all(&stack, &accepted).await;
    assert!(decided.iter().all(|t| t["blzt"] == 12), "{decided:?}");
    let waiting = stack.get_json(&url, &alice).await;
    assert_eq!(waiting["status"], "in_review");
    assert!(waiting["certificate_id"].is_null());

    // Supplying: only what is owed, only by the applicant's side.
    let supply_url = format!("{url}/tolerance-materials");
    let owned = uploaded_materials(&stack, &alice, &notice).await;
    let plan = owned["surveillance_plan"].clone();
    expect_problem(
        stack
            .post_json(
                &supply_url,
                &bob,
                &json!({"materials": {"surveillance_plan": plan}}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    let not_owed = expect_problem(
        stack
            .post_json(
                &supply_url,
                &alice,
                &json!({"materials": {"floor_plan": owned["floor_plan"]}}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(not_owed["errors"][0]["field"], "materials.floor_plan");
    assert_eq!(not_owed["errors"][0]["code"], "not_owed");
    let partly = json_ok(
        stack
            .post_json(
                &supply_url,
                &alice,
                &json!({"materials": {"surveillance_plan": plan}}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(partly["tolerance_missing"].as_array().unwrap().len(), 1);
    assert_eq!(partly["status"], "in_review");
    let rest = json_ok(
        stack
            .post_json(
                &supply_url,
                &alice,
                &json!({"materials": {"fire_acceptance_proof": owned["fire_acceptance_proof"]}}),
            )
            .await,
        200,
    )
    .await;
    assert!(rest["tolerance_missing"].as_array().unwrap().is_empty());
    assert!(rest["tolerance_due_date"].is_null());
    assert_eq!(rest["status"], "approved", "the licence is requested now");
    let issued = wait_status(&stack, &url, &alice, "licence_issued").await;
    assert!(issued["certificate_id"].is_string());
    let steps = actions(&issued);
    assert_eq!(
        steps
            .iter()
            .filter(|a| *a == "tolerance_materials_provided")
            .count(),
        2
    );
    // Nothing is owed any more.
    expect_problem(
        stack
            .post_json(
                &supply_url,
                &alice,
                &json!({"materials": {"surveillance_plan": plan}}),
            )
            .await,
        409,
        "no_tolerance_open",
    )
    .await;
}

/// 容缺受理 whose owed material never arrives: the expiry job stops the
/// application; running tasks are withdrawn (14), approvals revoked (15).
async fn tolerance_expires(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let notice = notice(&stack, "hotel", &hotel_answers()).await;
    let mut materials = materials_for(&notice);
    materials
        .as_object_mut()
        .unwrap()
        .remove("surveillance_plan");
    let app = json_ok(
        stack
            .post_json(
                lic(&stack, "/api/v1/applications"),
                &alice,
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
    let url = app_url(&stack, &app);
    let due = today() + Days::days(3);
    let accepted = json_ok(
        stack
            .post_json(
                format!("{url}/intake"),
                &clerk,
                &json!({
                    "decision": "accept_with_tolerance",
                    "deficiencies": [{"material": "surveillance_plan", "reason": "监控方案待补"}],
                    "tolerance_due_date": due,
                }),
            )
            .await,
        200,
    )
    .await;
    // One department approves with tolerance; the others are still at work.
    let first = &accepted["tasks"][0];
    let decided = json_ok(
        stack
            .post_json(
                lic(
                    &stack,
                    &format!("/api/v1/tasks/{}/decision", first["id"].as_str().unwrap()),
                ),
                &reviewer(&stack, first["department_code"].as_str().unwrap()),
                &json!({"decision": "approve", "permit_number": "XK-1"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(decided["blzt"], 12);

    let db = stack.connect(Service::Licensing).await;
    let now = Utc::now();
    // On the due date itself nothing happens: the day is the applicant's.
    let stopped = yizhan_licensing::store::tolerance::expire(
        &db,
        &yizhan_approval::Calendar::builtin(),
        due,
        now,
        100,
    )
    .await
    .unwrap();
    assert_eq!(stopped, 0);
    // The day after, the application stops, once.
    let after = due + Days::days(1);
    let stopped = yizhan_licensing::store::tolerance::expire(
        &db,
        &yizhan_approval::Calendar::builtin(),
        after,
        now,
        100,
    )
    .await
    .unwrap();
    assert_eq!(stopped, 1);
    let again = yizhan_licensing::store::tolerance::expire(
        &db,
        &yizhan_approval::Calendar::builtin(),
        after,
        now,
        100,
    )
    .await
    .unwrap();
    assert_eq!(again, 0, "an application is stopped once");
    let ended = stack.get_json(&url, &alice).await;
    assert_eq!(ended["status"], "terminated", "{ended}");
    let blzt: Vec<i64> = ended["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["blzt"].as_i64().unwrap())
        .collect();
    assert_eq!(blzt[0], 15, "the approval given with tolerance is revoked");
    assert!(blzt[1..].iter().all(|b| *b == 14), "{blzt:?}");
    let steps = actions(&ended);
    assert_eq!(steps.iter().filter(|a| *a == "terminated").count(), 1);
    assert_eq!(steps.iter().filter(|a| *a == "task_revoked").count(), 1);
    assert_eq!(steps.iter().filter(|a| *a == "task_withdrawn").count(), 5);
    // Reviewers can no longer decide the withdrawn tasks.
    let second = &accepted["tasks"][1];
    expect_problem(
        stack
            .post_json(
                lic(
                    &stack,
                    &format!("/api/v1/tasks/{}/decision", second["id"].as_str().unwrap()),
                ),
                &reviewer(&stack, second["department_code"].as_str().unwrap()),
                &json!({"decision": "approve", "permit_number": "XK-2"}),
            )
            .await,
        409,
        "illegal_transition",
    )
    .await;
}

/// The deadline scheduler announces approaching and overdue once each per
/// task, at the moments the clock says, and never for a decided task.
async fn deadline_alarms_once_each(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let app = submit_store(
        &stack,
        &alice,
        materials_for(&notice(&stack, "convenience_store", &store_answers()).await),
    )
    .await;
    let url = app_url(&stack, &app);
    let accepted = accept(&stack, &url).await;
    let tasks = accepted["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    // The business licence (committed 0.5 day) is decided at once; the
    // tobacco licence (5 days) keeps running.
    let licence = tasks
        .iter()
        .find(|t| t["item_code"] == "business_licence")
        .unwrap();
    let tobacco = tasks
        .iter()
        .find(|t| t["item_code"] == "tobacco_retail_licence")
        .unwrap();
    json_ok(
        stack
            .post_json(
                lic(
                    &stack,
                    &format!("/api/v1/tasks/{}/decision", licence["id"].as_str().unwrap()),
                ),
                &reviewer(&stack, "market_supervision"),
                &json!({"decision": "approve", "permit_number": "YYZZ-1"}),
            )
            .await,
        200,
    )
    .await;
    let due: NaiveDate = serde_json::from_value(tobacco["due"]["date"].clone()).unwrap();
    let db = stack.connect(Service::Licensing).await;
    let calendar = yizhan_approval::Calendar::builtin();
    let at = |date: NaiveDate, hour: u32| {
        yizhan_approval::calendar::utc_of_china_local(
            date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap()),
        )
    };
    let sweep = |when| {
        let db = db.clone();
        let calendar = calendar.clone();
        async move {
            yizhan_licensing::store::deadlines::sweep(&db, &calendar, when, 500)
                .await
                .unwrap()
        }
    };
    // Nothing yet on the day of acceptance.
    let now = sweep(Utc::now()).await;
    assert_eq!((now.approaching, now.overdue), (0, 0));
    // The afternoon of the due day: the whole limit used, not passed.
    let warned = sweep(at(due, 15)).await;
    assert_eq!((warned.approaching, warned.overdue), (1, 0));
    let repeat = sweep(at(due, 16)).await;
    assert_eq!((repeat.approaching, repeat.overdue), (0, 0), "once");
    // A week later it is overdue: announced once.
    let late = sweep(at(due + Days::days(7), 10)).await;
    assert_eq!((late.approaching, late.overdue), (0, 1));
    let repeat = sweep(at(due + Days::days(8), 10)).await;
    assert_eq!((repeat.approaching, repeat.overdue), (0, 0), "once");
    let timeline = stack.get_json(&url, &alice).await;
    let steps = actions(&timeline);
    assert_eq!(
        steps
            .iter()
            .filter(|a| *a == "deadline_approaching")
            .count(),
        1
    );
    assert_eq!(steps.iter().filter(|a| *a == "deadline_overdue").count(), 1);
    let alarms: Vec<&Value> = timeline["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("deadline_"))
        .collect();
    assert!(
        alarms.iter().all(|e| e["task_id"] == tobacco["id"]),
        "the decided task raised no alarm: {alarms:?}"
    );
}

/// Material references are checked against the document service with the
/// caller's own rights: unknown ids and other enterprises' materials are
/// field errors, reported with the form's own errors.
async fn material_references_are_checked(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let notice = notice(&stack, "convenience_store", &store_answers()).await;
    let bobs = uploaded_materials(&stack, &bob, &notice).await;
    let mut materials = uploaded_materials(&stack, &alice, &notice).await;
    materials["legal_rep_id_card"] = json!("0193aa00-0000-7000-8000-0000000000ff");
    materials["business_premises_proof"] = bobs["business_premises_proof"].clone();
    let mut form = store_form();
    form.as_object_mut().unwrap().remove("business_scope");
    let problem = expect_problem(
        stack
            .post_json(
                lic(&stack, "/api/v1/applications"),
                &alice,
                &json!({
                    "scenario": "convenience_store",
                    "answers": store_answers(),
                    "enterprise_uscc": ENTERPRISE_A,
                    "form": form,
                    "materials": materials,
                }),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    for want in [
        ("materials.legal_rep_id_card", "unknown_material"),
        ("materials.business_premises_proof", "unknown_material"),
        ("form.business_scope", "required"),
    ] {
        assert!(fields.contains(&want), "{want:?} not in {fields:?}");
    }
    // With her own materials it goes through.
    let good = uploaded_materials(&stack, &alice, &notice).await;
    submit_store(&stack, &alice, good).await;
}

/// A document service that cannot answer: the submission is refused with
/// a 503 and nothing is recorded, rather than kept with unchecked
/// references.
async fn unreachable_document_service_refuses_with_503(backend: Backend) {
    let stack = TestStack::start_tuned(&[Service::Licensing], backend, |s| {
        // Nothing listens on port 9 (discard) here: the connection is refused.
        s.services.licensing.document_url = Some("http://127.0.0.1:9".into());
        s.services.licensing.document_timeout_ms = 500;
    })
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let n = notice(&stack, "convenience_store", &store_answers()).await;
    let problem = expect_problem(
        stack
            .post_json(
                lic(&stack, "/api/v1/applications"),
                &alice,
                &json!({
                    "scenario": "convenience_store",
                    "answers": store_answers(),
                    "enterprise_uscc": ENTERPRISE_A,
                    "form": store_form(),
                    "materials": materials_for(&n),
                }),
            )
            .await,
        503,
        "document_unavailable",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("未保存"));
    let mine = stack
        .get_json(lic(&stack, "/api/v1/applications"), &alice)
        .await;
    assert!(mine["items"].as_array().unwrap().is_empty(), "{mine}");
}

/// Administrators publish catalog versions; applications keep theirs.
async fn admin_publishes_catalog(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let admin = stack.staff("admin-1", Role::Admin);
    let catalog_url = lic(&stack, "/api/v1/catalog");
    let old_app = submit_store(
        &stack,
        &alice,
        materials_for(&notice(&stack, "convenience_store", &store_answers()).await),
    )
    .await;
    assert_eq!(old_app["catalog_version"], 1);

    let current = json_ok(stack.client.get(&catalog_url).send().await.unwrap(), 200).await;
    assert_eq!(current["version"], 1);
    let mut next = current.clone();
    next["version"] = json!(2);
    // The tobacco licence is promised in 3 days instead of 5.
    for item in next["items"].as_array_mut().unwrap() {
        if item["code"] == "tobacco_retail_licence" {
            item["committed_limit"] = json!(3.0);
        }
    }
    let put = |token: &str, body: &Value| {
        stack
            .client
            .put(&catalog_url)
            .bearer_auth(token)
            .json(body)
            .send()
    };
    expect_problem(put(&alice, &next).await.unwrap(), 403, "forbidden").await;
    expect_problem(
        put(&admin, &current).await.unwrap(),
        409,
        "catalog_version_conflict",
    )
    .await;
    let mut broken = next.clone();
    broken["items"][0]["department"] = json!("no_such_department");
    broken["scenarios"][0]["items"][0]["item"] = json!("no_such_item");
    // One material vocabulary: a code the document service has no type for
    // is refused, named by its field.
    broken["materials"][0]["code"] = json!("no_such_material_type");
    let problem = expect_problem(
        put(&admin, &broken).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"items[0].department"), "{fields:?}");
    assert!(fields.contains(&"scenarios[0].items[0].item"), "{fields:?}");
    let unknown_type = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "materials[0].code")
        .unwrap_or_else(|| panic!("materials[0].code not in {fields:?}"));
    assert_eq!(unknown_type["code"], "unknown_material_type");
    let published = json_ok(put(&admin, &next).await.unwrap(), 200).await;
    assert_eq!(published["version"], 2);
    // Every version stays readable, whole and unchanged (anyone may read).
    let version = |n: u32| {
        stack
            .client
            .get(lic(&stack, &format!("/api/v1/catalog/versions/{n}")))
            .send()
    };
    assert_eq!(json_ok(version(1).await.unwrap(), 200).await, current);
    assert_eq!(json_ok(version(2).await.unwrap(), 200).await, published);
    expect_problem(version(3).await.unwrap(), 404, "not_found").await;

    // New notices and applications use version 2 at once.
    let fresh = notice(&stack, "convenience_store", &store_answers()).await;
    assert_eq!(fresh["catalog_version"], 2);
    let tobacco = |n: &Value| {
        n["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == "tobacco_retail_licence")
            .unwrap()["committed_limit"]
            .clone()
    };
    assert_eq!(tobacco(&fresh), 3.0);
    let new_app = submit_store(&stack, &alice, materials_for(&fresh)).await;
    assert_eq!(new_app["catalog_version"], 2);
    // The application made before keeps version 1 and its 5-day promise.
    let kept = stack.get_json(app_url(&stack, &old_app), &alice).await;
    assert_eq!(kept["catalog_version"], 1);
    let kept_tobacco = kept["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "tobacco_retail_licence")
        .unwrap()["committed_limit"]
        .clone();
    assert_eq!(kept_tobacco, 5.0);
}

/// 变更 → the changed item is reviewed, a new licence replaces the old
/// (失效); 延续 → every item reviewed; 注销 → the licence is cancelled.
async fn licence_change_renewal_and_cancellation(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let n = notice(&stack, "convenience_store", &store_answers()).await;
    let app = submit_store(&stack, &alice, uploaded_materials(&stack, &alice, &n).await).await;
    let url = app_url(&stack, &app);
    let lifecycle = format!("{url}/lifecycle");
    // Not before a licence exists.
    expect_problem(
        stack
            .post_json(&lifecycle, &alice, &json!({"kind": "renewal"}))
            .await,
        409,
        "no_licence",
    )
    .await;
    let accepted = accept(&stack, &url).await;
    approve_all(&stack, &accepted).await;
    let first = wait_status(&stack, &url, &alice, "licence_issued").await;
    let first_cert = first["certificate_id"].as_str().unwrap().to_owned();

    // Others cannot; an unchanged change is refused; unknown fields named.
    expect_problem(
        stack
            .post_json(&lifecycle, &bob, &json!({"kind": "renewal"}))
            .await,
        404,
        "not_found",
    )
    .await;
    let same = expect_problem(
        stack
            .post_json(
                &lifecycle,
                &alice,
                &json!({"kind": "change", "form": {"business_scope": store_form()["business_scope"]}}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(same["errors"][0]["code"], "no_change");
    let unknown = expect_problem(
        stack
            .post_json(
                &lifecycle,
                &alice,
                &json!({"kind": "change", "form": {"pets": true}}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(unknown["errors"][0]["field"], "form.pets");

    // 变更: the business scope only concerns the business licence.
    let change = json_ok(
        stack
            .post_json(
                &lifecycle,
                &alice,
                &json!({"kind": "change", "form": {"business_scope": "日用百货零售；卷烟零售；文具销售"}}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(change["kind"], "change");
    assert_eq!(change["predecessor_id"], app["id"]);
    assert_eq!(change["items"].as_array().unwrap().len(), 1);
    assert_eq!(change["items"][0]["code"], "business_licence");
    // One lifecycle application at a time.
    expect_problem(
        stack
            .post_json(&lifecycle, &alice, &json!({"kind": "renewal"}))
            .await,
        409,
        "lifecycle_in_progress",
    )
    .await;
    let change_url = app_url(&stack, &change);
    let in_review = accept(&stack, &change_url).await;
    assert_eq!(in_review["tasks"].as_array().unwrap().len(), 1);
    approve_all(&stack, &in_review).await;
    let changed = wait_status(&stack, &change_url, &alice, "licence_issued").await;
    let second_cert = changed["certificate_id"].as_str().unwrap().to_owned();
    assert_ne!(second_cert, first_cert);
    // The new licence carries both permits; the old one lapses (05).
    let verified = certificate_status(&stack, &second_cert).await;
    assert_eq!(verified["valid"], true, "{verified}");
    let record = stack
        .get_json(
            stack.url(
                Service::Document,
                &format!("/api/v1/certificates/{second_cert}"),
            ),
            &alice,
        )
        .await;
    let permits: Vec<&str> = record["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["permit_number"].as_str().unwrap())
        .collect();
    assert_eq!(permits.len(), 2, "{record}");
    // The untouched tobacco permit carries over with its number.
    let tobacco_permit = first["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["item_code"] == "tobacco_retail_licence")
        .unwrap()["permit_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(permits.contains(&tobacco_permit.as_str()), "{record}");
    let old = eventually("the old licence lapses", WAIT, || async {
        let v = certificate_status(&stack, &first_cert).await;
        (v["valid"] == false).then_some(v)
    })
    .await;
    assert_eq!(old["status"]["code"], "05", "{old}");
    let first_after = stack.get_json(&url, &alice).await;
    assert!(actions(&first_after).contains(&"licence_superseded".to_owned()));
    // The superseded licence cannot be changed again.
    expect_problem(
        stack
            .post_json(&lifecycle, &alice, &json!({"kind": "renewal"}))
            .await,
        409,
        "licence_superseded",
    )
    .await;

    // 延续 on the newest licence: every item is reviewed again.
    let renewal = json_ok(
        stack
            .post_json(
                format!("{change_url}/lifecycle"),
                &alice,
                &json!({"kind": "renewal"}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(renewal["items"].as_array().unwrap().len(), 2);
    let renewal_url = app_url(&stack, &renewal);
    let renewing = accept(&stack, &renewal_url).await;
    assert_eq!(renewing["tasks"].as_array().unwrap().len(), 2);
    approve_all(&stack, &renewing).await;
    let renewed = wait_status(&stack, &renewal_url, &alice, "licence_issued").await;
    let third_cert = renewed["certificate_id"].as_str().unwrap().to_owned();

    // 注销: no review; accepting it cancels the licence (04).
    let cancellation = json_ok(
        stack
            .post_json(
                format!("{renewal_url}/lifecycle"),
                &alice,
                &json!({"kind": "cancellation"}),
            )
            .await,
        201,
    )
    .await;
    let cancel_url = app_url(&stack, &cancellation);
    let tolerance = expect_problem(
        stack
            .post_json(
                format!("{cancel_url}/intake"),
                &clerk,
                &json!({"decision": "accept_with_tolerance", "deficiencies": [{"material": "legal_rep_id_card", "reason": "x"}], "tolerance_due_date": today() + Days::days(3)}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(tolerance["errors"][0]["field"], "decision");
    let cancelled = accept(&stack, &cancel_url).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["tasks"].as_array().unwrap().is_empty());
    let gone = eventually("the licence is cancelled", WAIT, || async {
        let v = certificate_status(&stack, &third_cert).await;
        (v["valid"] == false).then_some(v)
    })
    .await;
    assert_eq!(gone["status"]["code"], "04", "{gone}");
}

/// A department's queue pages by cursor in urgency order, each task once.
async fn queue_pages_by_cursor(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let n = notice(&stack, "convenience_store", &store_answers()).await;
    let mut want = Vec::new();
    for _ in 0..5 {
        let app = submit_store(&stack, &alice, materials_for(&n)).await;
        let accepted = accept(&stack, &app_url(&stack, &app)).await;
        for t in accepted["tasks"].as_array().unwrap() {
            if t["department_code"] == "tobacco" {
                want.push(t["id"].as_str().unwrap().to_owned());
            }
        }
    }
    let tobacco = reviewer(&stack, "tobacco");
    let mut seen: Vec<String> = Vec::new();
    let mut url = lic(&stack, "/api/v1/tasks?limit=2");
    loop {
        let page = stack.get_json(&url, &tobacco).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => url = lic(&stack, &format!("/api/v1/tasks?limit=2&cursor={c}")),
            None => break,
        }
    }
    // Same day, same limit: urgency ties break by id, which is creation order.
    assert_eq!(seen, want);
}

yizhan_kit::backend_tests!(
    queue_pages_by_cursor,
    unreachable_document_service_refuses_with_503,
    tolerance_fulfilled_in_time,
    tolerance_expires,
    deadline_alarms_once_each,
    material_references_are_checked,
    admin_publishes_catalog,
    licence_change_renewal_and_cancellation,
);
