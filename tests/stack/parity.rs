//! One approval engine under both services: construction at parity with
//! licensing (补正 and 特别程序 with paused clocks, a stopped stage's tasks
//! withdrawn), material ids checked the same way in both (foreign, unknown,
//! malformed and mistyped ids refused, nothing recorded), the one material
//! vocabulary, and inbox messages for every step, in names not codes.

use std::time::Duration;

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::construction::{con, file_and_accept, filled, project_code, register, submit_stage};
use crate::licensing::{hotel_answers, lic, put_json, uploaded_materials};

const WAIT: Duration = Duration::from_secs(60);

/// Titles and bodies of `token`'s inbox.
async fn inbox(stack: &TestStack, token: &str) -> Vec<(String, String)> {
    let page = stack
        .get_json(
            stack.url(Service::Notification, "/api/v1/inbox/messages?limit=100"),
            token,
        )
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["title"].as_str().unwrap().to_owned(),
                m["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits for a message titled `title` in `token`'s inbox; answers its body.
async fn message(stack: &TestStack, token: &str, title: &str) -> String {
    eventually(title, WAIT, || async {
        inbox(stack, token)
            .await
            .into_iter()
            .find(|(t, _)| t == title)
            .map(|(_, b)| b)
    })
    .await
}

/// The task of `stage` decided by `dept`.
fn task_in<'a>(stage: &'a Value, dept: &str) -> &'a Value {
    stage["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department_code"] == dept)
        .unwrap_or_else(|| panic!("no {dept} task in {stage}"))
}

fn in_queue(page: &Value, id: &Value) -> bool {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == *id)
}

async fn construction_supplement_and_special_procedure(backend: Backend) {
    let stack = TestStack::start(
        &[
            Service::Construction,
            Service::Document,
            Service::Notification,
        ],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let project = register(&stack, &alice, &project_code(901), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let stage = file_and_accept(&stack, &alice, pid, "land_planning", false).await;
    let filing = task_in(&stage, "development_reform").clone();
    let tid = filing["id"].as_str().unwrap();
    let dev = reviewer(&stack, "development_reform");
    let task_url = |what: &str| con(&stack, &format!("/api/v1/tasks/{tid}/{what}"));
    let queue_url = con(&stack, "/api/v1/tasks?limit=100");
    let remaining = filing["remaining_working_days"].clone();

    // The department hears of the new task by name.
    let new_task = message(&stack, &dev, "新的待审事项").await;
    assert!(new_task.contains("企业投资项目备案"), "{new_task}");

    // 补正: the one-time list, names kept, the clock paused.
    expect_problem(
        stack
            .post_json(
                task_url("supplement-requests"),
                &dev,
                &json!({"items": [{"material": "no_such_material", "reason": "x"}]}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    let paused = json_ok(
        stack
            .post_json(
                task_url("supplement-requests"),
                &dev,
                &json!({"items": [
                    {"material": "filing_form", "reason": "备案表缺少单位盖章"},
                    {"field": "contact_phone", "reason": "联系电话无法接通"}
                ]}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(paused["blzt"], 6);
    assert_eq!(paused["sla_state"], "paused");
    assert_eq!(
        paused["supplement_request"][0]["name"],
        "企业投资项目备案表"
    );
    assert!(!in_queue(
        &stack.get_json(&queue_url, &dev).await,
        &filing["id"]
    ));
    let asked = message(&stack, &alice, "审批部门要求补正，请一次性补齐").await;
    assert!(
        asked.contains("企业投资项目备案表") && asked.contains("联系电话"),
        "{asked}"
    );
    assert!(
        !asked.contains("filing_form") && !asked.contains("contact_phone"),
        "{asked}"
    );

    // The answer covers the list exactly, with a material of its own type.
    let codes = ["filing_form".to_owned(), "site_plan".to_owned()];
    let fresh = materials_for_codes(&stack, &alice, None, &codes).await;
    let partial = expect_problem(
        stack
            .post_json(
                task_url("supplements"),
                &alice,
                &json!({"materials": {"filing_form": fresh["filing_form"]}}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(partial["errors"][0]["field"], "form.contact_phone");
    let mistyped = expect_problem(
        stack
            .post_json(
                task_url("supplements"),
                &alice,
                &json!({"form": {"contact_phone": "0591-87654321"},
                        "materials": {"filing_form": fresh["site_plan"]}}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(mistyped["errors"][0]["field"], "materials.filing_form");
    assert_eq!(mistyped["errors"][0]["code"], "material_type_mismatch");
    let bob = stack.applicant("bob", ENTERPRISE_B);
    expect_problem(
        stack
            .post_json(task_url("supplements"), &bob, &json!({"form": {}}))
            .await,
        404,
        "not_found",
    )
    .await;
    let resumed = json_ok(
        stack
            .post_json(
                task_url("supplements"),
                &alice,
                &json!({"form": {"contact_phone": "0591-87654321"},
                        "materials": {"filing_form": fresh["filing_form"]}}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(resumed["blzt"], 8, "补正（结束） then back in review");
    assert_eq!(resumed["remaining_working_days"], remaining);
    let stage_now = crate::construction::stage_of(
        &stack,
        &alice,
        filing["stage_application_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(stage_now["form"]["contact_phone"], "0591-87654321");
    // The reviewer may read the supplied material (granted by its event).
    let material = fresh["filing_form"].as_str().unwrap();
    eventually("the reviewer's read grant", WAIT, || async {
        let r = stack
            .get(
                stack.url(Service::Document, &format!("/api/v1/materials/{material}")),
                &dev,
            )
            .await;
        r.status().is_success().then_some(())
    })
    .await;

    // 特别程序: paused, out of the queue; ended, back in it.
    let special = json_ok(
        stack
            .post_json(
                task_url("special-procedure"),
                &dev,
                &json!({"action": "start", "kind": "hearing", "reason": "周边居民申请听证"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(special["blzt"], 9);
    assert_eq!(special["sla_state"], "paused");
    assert!(!in_queue(
        &stack.get_json(&queue_url, &dev).await,
        &filing["id"]
    ));
    let ended = json_ok(
        stack
            .post_json(
                task_url("special-procedure"),
                &dev,
                &json!({"action": "end"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(ended["blzt"], 8);
    assert_eq!(ended["remaining_working_days"], remaining);
    assert!(in_queue(
        &stack.get_json(&queue_url, &dev).await,
        &filing["id"]
    ));
    let trail: Vec<i64> = crate::construction::project_of(&stack, &alice, pid).await["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["task_id"] == filing["id"])
        .filter_map(|e| e["blzt"].as_i64())
        .collect();
    assert_eq!(trail, vec![3, 8, 6, 7, 8, 9, 10, 8]);

    // Decided afterwards; the builder hears of it by the item's name.
    let approved = json_ok(
        stack
            .post_json(
                task_url("decision"),
                &dev,
                &json!({"decision": "approve", "permit_number": "闽发改备[2026]901号"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(approved["blzt"], 11);
    let decided = message(&stack, &alice, "审批事项已通过").await;
    assert!(decided.contains("企业投资项目备案"), "{decided}");
    stack.stop().await;
}

async fn construction_refuses_foreign_unknown_and_mistyped_materials(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let project = register(&stack, &alice, &project_code(902), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let (form, materials) = filled(&stack, &alice, pid, "land_planning", &[]).await;
    let mut materials = materials.as_object().unwrap().clone();
    let codes: Vec<String> = materials.keys().cloned().collect();
    let bobs = materials_for_codes(&stack, &bob, None, &codes).await;
    let mut codes = codes.into_iter();
    let (foreign, unknown, malformed, mistyped) = (
        codes.next().unwrap(),
        codes.next().unwrap(),
        codes.next().unwrap(),
        codes.next().unwrap(),
    );
    materials.insert(foreign.clone(), bobs[&foreign].clone());
    materials.insert(
        unknown.clone(),
        json!("0193aa00-0000-7000-8000-00000000dead"),
    );
    materials.insert(malformed.clone(), json!("not a material id"));
    // Alice's own material of another type, filed under this code.
    let own_other = materials_for_codes(&stack, &alice, None, std::slice::from_ref(&foreign)).await;
    materials.insert(mistyped.clone(), own_other[&foreign].clone());
    let problem = expect_problem(
        submit_stage(
            &stack,
            &alice,
            pid,
            &json!({"stage": "land_planning", "form": form, "materials": materials}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let errors: Vec<(String, String)> = problem["errors"]
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
        (format!("materials.{foreign}"), "unknown_material"),
        (format!("materials.{unknown}"), "unknown_material"),
        (format!("materials.{malformed}"), "invalid_material_id"),
        (format!("materials.{mistyped}"), "material_type_mismatch"),
    ] {
        assert!(
            errors.contains(&(want.0.clone(), want.1.to_owned())),
            "{want:?} not in {errors:?}"
        );
    }
    // Nothing was recorded.
    let after = crate::construction::project_of(&stack, &alice, pid).await;
    assert!(after["stages"].as_array().unwrap().is_empty(), "{after}");
    stack.stop().await;
}

async fn a_stopped_stage_withdraws_its_open_tasks(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction, Service::Notification], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let project = register(&stack, &alice, &project_code(903), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let stage = file_and_accept(&stack, &alice, pid, "land_planning", false).await;
    assert_eq!(stage["tasks"].as_array().unwrap().len(), 2);
    let filing = task_in(&stage, "development_reform");
    let permit = task_in(&stage, "natural_resources");
    let refused = json_ok(
        stack
            .post_json(
                con(
                    &stack,
                    &format!("/api/v1/tasks/{}/decision", filing["id"].as_str().unwrap()),
                ),
                &reviewer(&stack, "development_reform"),
                &json!({"decision": "reject", "reasons": "不符合产业政策"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(refused["blzt"], 13);
    let stopped =
        crate::construction::stage_of(&stack, &alice, stage["id"].as_str().unwrap()).await;
    assert_eq!(stopped["status"], "stopped");
    let other = task_in(&stopped, "natural_resources");
    assert_eq!(other["blzt"], 14, "the open task is withdrawn: {stopped}");
    let resources = reviewer(&stack, "natural_resources");
    assert!(!in_queue(
        &stack
            .get_json(con(&stack, "/api/v1/tasks?limit=100"), &resources)
            .await,
        &permit["id"]
    ));
    for body in [
        json!({"decision": "approve", "permit_number": "地字第1号"}),
        json!({"decision": "reject", "reasons": "x"}),
    ] {
        expect_problem(
            stack
                .post_json(
                    con(
                        &stack,
                        &format!("/api/v1/tasks/{}/decision", permit["id"].as_str().unwrap()),
                    ),
                    &resources,
                    &body,
                )
                .await,
            409,
            "stage_not_in_review",
        )
        .await;
    }
    let told = message(&stack, &alice, "阶段审批已终止").await;
    assert!(told.contains("立项用地规划许可"), "{told}");
    let refusal = message(&stack, &alice, "审批事项未通过").await;
    assert!(refusal.contains("不符合产业政策"), "{refusal}");
    stack.stop().await;
}

async fn construction_messages_reach_builder_and_departments(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction, Service::Notification], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let project = register(&stack, &alice, &project_code(904), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let stage = file_and_accept(&stack, &alice, pid, "land_planning", false).await;
    let accepted = message(&stack, &alice, "阶段申请已受理").await;
    assert!(accepted.contains("立项用地规划许可"), "{accepted}");
    let resources = reviewer(&stack, "natural_resources");
    let housing = reviewer(&stack, "housing");
    let permit = task_in(&stage, "natural_resources")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // 征求意见, idempotent: a retry with the same key answers the first
    // consultation; the same key for another question is refused.
    let consult = |key: &str, question: &str| {
        stack
            .client
            .post(con(
                &stack,
                &format!("/api/v1/tasks/{permit}/consultations"),
            ))
            .bearer_auth(&resources)
            .header("Idempotency-Key", key)
            .json(&json!({"department": "housing", "question": question, "due_days": 3}))
            .send()
    };
    let asked = json_ok(
        consult("consult-1", "请就配套道路出入口提出意见")
            .await
            .unwrap(),
        201,
    )
    .await;
    let replay = consult("consult-1", "请就配套道路出入口提出意见")
        .await
        .unwrap();
    assert_eq!(replay.headers()["Idempotent-Replayed"], "true");
    assert_eq!(json_ok(replay, 201).await["id"], asked["id"]);
    expect_problem(
        consult("consult-1", "另一个问题").await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let listed = stack
        .get_json(con(&stack, "/api/v1/consultations?all=true"), &housing)
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    // The asked department hears, then the asker hears the answer.
    let question = message(&stack, &housing, "收到征求意见").await;
    assert!(
        question.contains("自然资源") && question.contains("建设用地规划许可证"),
        "{question}"
    );
    json_ok(
        stack
            .post_json(
                con(
                    &stack,
                    &format!(
                        "/api/v1/consultations/{}/reply",
                        asked["id"].as_str().unwrap()
                    ),
                ),
                &housing,
                &json!({"opinion": "同意，出入口距交叉口不少于 50 米"}),
            )
            .await,
        200,
    )
    .await;
    let answer = message(&stack, &resources, "征求意见已答复").await;
    assert!(
        answer.contains("住房") && answer.contains("50 米"),
        "{answer}"
    );
    crate::construction::approve_all(&stack, &stage).await;
    let done = message(&stack, &alice, "阶段审批已办结").await;
    assert!(done.contains("立项用地规划许可"), "{done}");
    // No message prints a stage or department code (the test's own permit
    // numbers, `WH-<item code>`, are the reviewers' words).
    for (title, body) in inbox(&stack, &alice).await {
        for code in ["natural_resources", "development_reform", "small_low_risk"] {
            assert!(!body.contains(code), "{title}: {body}");
        }
        assert!(!body.contains("「land_planning"), "{title}: {body}");
    }
    stack.stop().await;
}

async fn licensing_messages_name_items_fields_and_materials(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Document, Service::Notification],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
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
    // A material of the wrong type is refused and nothing is recorded.
    let good = materials.clone();
    materials["articles_of_association"] = good["floor_plan"].clone();
    let body = |materials: &Value| {
        json!({
            "scenario": "hotel",
            "answers": hotel_answers(),
            "enterprise_uscc": ENTERPRISE_A,
            "form": yizhan_licensing::seed::sample_hotel_form(),
            "materials": materials,
        })
    };
    let problem = expect_problem(
        stack
            .post_json(
                lic(&stack, "/api/v1/applications"),
                &alice,
                &body(&materials),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        problem["errors"][0]["field"],
        "materials.articles_of_association"
    );
    assert_eq!(problem["errors"][0]["code"], "material_type_mismatch");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("公司章程")
    );
    let list = stack
        .get_json(lic(&stack, "/api/v1/applications"), &alice)
        .await;
    assert!(list["items"].as_array().unwrap().is_empty());

    let app = json_ok(
        stack
            .post_json(lic(&stack, "/api/v1/applications"), &alice, &body(&good))
            .await,
        201,
    )
    .await;
    let id = app["id"].as_str().unwrap();
    let intake = lic(&stack, &format!("/api/v1/applications/{id}/intake"));
    json_ok(
        stack
            .post_json(
                &intake,
                &clerk,
                &json!({"decision": "reject", "deficiencies": [
                    {"material": "floor_plan", "reason": "未标注消防通道"},
                    {"field": "room_count", "reason": "与平面图不一致"}
                ]}),
            )
            .await,
        200,
    )
    .await;
    let returned = message(&stack, &alice, "申请未予受理，请一次性补齐后重新提交").await;
    assert!(
        returned.contains("经营场所平面布局图") && returned.contains("客房"),
        "{returned}"
    );
    assert!(!returned.contains("floor_plan") && !returned.contains("room_count"));
    // Corrected, accepted, and a 补正 asked for by one department.
    json_ok(
        put_json(
            &stack,
            &lic(&stack, &format!("/api/v1/applications/{id}")),
            &alice,
            &body(&good),
        )
        .await,
        200,
    )
    .await;
    let accepted = json_ok(
        stack
            .post_json(&intake, &clerk, &json!({"decision": "accept"}))
            .await,
        200,
    )
    .await;
    let task = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department_code"] == "public_security")
        .unwrap()
        .clone();
    let police = reviewer(&stack, "public_security");
    json_ok(
        stack
            .post_json(
                lic(
                    &stack,
                    &format!("/api/v1/tasks/{}/supplement-requests", task["id"].as_str().unwrap()),
                ),
                &police,
                &json!({"items": [{"material": "surveillance_plan", "reason": "监控点位图不清晰"}]}),
            )
            .await,
        200,
    )
    .await;
    let asked = message(&stack, &alice, "审批部门要求补正，请一次性补齐").await;
    assert!(
        asked.contains("视频监控安装说明") && asked.contains(task["item_name"].as_str().unwrap()),
        "{asked}"
    );
    assert!(!asked.contains("surveillance_plan"), "{asked}");
    stack.stop().await;
}

async fn every_catalog_material_is_a_published_type(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let types = json_ok(
        stack
            .client
            .get(stack.url(Service::Document, "/api/v1/material-types"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let known: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(!t["name"].as_str().unwrap().is_empty());
            t["code"].as_str().unwrap()
        })
        .collect();
    let licensing = yizhan_licensing::seed::catalog();
    let construction = yizhan_construction::seed::catalog();
    for code in licensing
        .materials
        .iter()
        .map(|m| m.code.as_str())
        .chain(construction.materials.iter().map(|m| m.code.as_str()))
    {
        assert!(known.contains(&code), "{code} is not a material type");
    }
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    construction_supplement_and_special_procedure,
    construction_refuses_foreign_unknown_and_mistyped_materials,
    a_stopped_stage_withdraws_its_open_tasks,
    construction_messages_reach_builder_and_departments,
    licensing_messages_name_items_fields_and_materials,
    every_catalog_material_is_a_published_type,
);
