//! The runs the crawler visits afterwards: a hotel licence run (one
//! returned with a one-time list, one accepted with 容缺 and a 补正 open,
//! one approved and its licence issued), a construction run (one stage
//! concluded, one accepted with 容缺, one project at 竣工验收 with a 征求意见
//! waiting and a joint inspection under way) and an enterprise-services
//! run. Each answers the departments whose reviewers have pages to see.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;

use crate::common::*;
use crate::construction::{con, file_and_accept, project_code, register};
use crate::licensing::{hotel_answers, lic};

/// One PDF per material code, named in Chinese as a person would (the
/// filename is shown; a code in it would be the test's, not the portal's).
async fn materials(stack: &TestStack, token: &str, codes: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    for (n, code) in codes.iter().enumerate() {
        let response = upload(
            stack,
            token,
            code,
            &format!("材料{n}.pdf"),
            pdf_bytes(2048, &uuid::Uuid::now_v7().to_string()),
            &[],
        )
        .await;
        let id = json_ok(response, 201).await["id"].clone();
        out.insert(code.clone(), id);
    }
    Value::Object(out)
}

pub(crate) async fn hotel(stack: &TestStack, token: &str, skip: &[&str]) -> Value {
    let notice = crate::licensing_more::notice(stack, "hotel", &hotel_answers()).await;
    let codes: Vec<String> = notice["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_owned())
        .filter(|c| !skip.contains(&c.as_str()))
        .collect();
    let materials = materials(stack, token, &codes).await;
    json_ok(
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
    .await
}

pub(crate) async fn intake(stack: &TestStack, app: &Value, body: Value) -> Value {
    let clerk = stack.staff("clerk-crawl", Role::WindowClerk);
    let url = lic(
        stack,
        &format!(
            "/api/v1/applications/{}/intake",
            app["id"].as_str().unwrap()
        ),
    );
    json_ok(stack.post_json(url, &clerk, &body).await, 200).await
}

async fn decide(stack: &TestStack, task: &Value, action: &str, body: Value) {
    let dept = task["department_code"].as_str().unwrap();
    let url = lic(
        stack,
        &format!("/api/v1/tasks/{}/{action}", task["id"].as_str().unwrap()),
    );
    json_ok(
        stack.post_json(url, &reviewer(stack, dept), &body).await,
        200,
    )
    .await;
}

/// The licensing side of the run; answers the departments involved.
pub(crate) async fn licensing_run(stack: &TestStack, alice: &str) -> BTreeSet<String> {
    // Returned at intake with a one-time list of a field and a material.
    let returned = hotel(stack, alice, &[]).await;
    intake(
        stack,
        &returned,
        json!({"decision": "reject", "deficiencies": [
            {"field": "contact_phone", "reason": "联系电话无法接通"},
            {"material": "articles_of_association", "reason": "章程未盖章"},
        ]}),
    )
    .await;

    // 容缺受理, then one department asks for a 补正, one refuses.
    let tolerant = hotel(stack, alice, &["surveillance_plan"]).await;
    let due = chrono::Utc::now().date_naive() + chrono::Days::new(5);
    let accepted = intake(
        stack,
        &tolerant,
        json!({"decision": "accept_with_tolerance", "tolerance_due_date": due,
               "deficiencies": [{"material": "surveillance_plan", "reason": "监控方案待补"}]}),
    )
    .await;
    let tasks = accepted["tasks"].as_array().unwrap();
    decide(
        stack,
        &tasks[0],
        "supplement-requests",
        json!({"items": [{"field": "employee_count", "reason": "从业人数与健康证数量不符"}]}),
    )
    .await;
    decide(
        stack,
        &tasks[1],
        "decision",
        json!({"decision": "reject", "reasons": "经营场所距中小学校不足 50 米"}),
    )
    .await;

    // Waiting at the window.
    hotel(stack, alice, &[]).await;

    // Approved by every department: the licence is issued.
    let full = hotel(stack, alice, &[]).await;
    let accepted = intake(stack, &full, json!({"decision": "accept"})).await;
    let mut departments = BTreeSet::new();
    for (n, task) in accepted["tasks"].as_array().unwrap().iter().enumerate() {
        departments.insert(task["department_code"].as_str().unwrap().to_owned());
        decide(
            stack,
            task,
            "decision",
            json!({"decision": "approve", "permit_number": format!("JY-CRAWL-{n:03}")}),
        )
        .await;
    }
    let url = lic(
        stack,
        &format!("/api/v1/applications/{}", full["id"].as_str().unwrap()),
    );
    eventually("the hotel licence", Duration::from_secs(60), || async {
        let app = stack.get_json(&url, alice).await;
        app["certificate_id"].is_string().then_some(())
    })
    .await;
    departments
}

/// The construction side: one stage concluded, one owing materials.
pub(crate) async fn construction_run(stack: &TestStack, alice: &str) -> BTreeSet<String> {
    let done = register(stack, alice, &project_code(901), "small_low_risk", true).await;
    let stage = file_and_accept(
        stack,
        alice,
        done["id"].as_str().unwrap(),
        "land_planning",
        false,
    )
    .await;
    approve_as_written(stack, &stage).await;
    // Waiting at the window.
    let waiting = register(stack, alice, &project_code(903), "small_low_risk", true).await;
    let waiting = waiting["id"].as_str().unwrap();
    let (form, materials) =
        crate::construction::filled(stack, alice, waiting, "land_planning", &[]).await;
    let body = json!({"stage": "land_planning", "form": form, "materials": materials});
    json_ok(
        crate::construction::submit_stage(stack, alice, waiting, &body).await,
        201,
    )
    .await;
    let owing = register(stack, alice, &project_code(902), "small_low_risk", true).await;
    crate::construction::tolerance_stage(stack, alice, owing["id"].as_str().unwrap()).await;
    let mut departments = departments_of(stack, alice, &done).await;
    departments.extend(completion_run(stack, alice).await);
    departments
}

/// The departments with a task in `project`.
async fn departments_of(stack: &TestStack, alice: &str, project: &Value) -> BTreeSet<String> {
    let project = stack
        .get_json(
            con(
                stack,
                &format!("/api/v1/projects/{}", project["id"].as_str().unwrap()),
            ),
            alice,
        )
        .await;
    project["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["tasks"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["department_code"].as_str().map(str::to_owned))
        .collect()
}

/// Every open item of `stage` approved, with permit numbers as a
/// department writes them (not the item codes other tests use, which
/// would read as codes on the page).
async fn approve_as_written(stack: &TestStack, stage: &Value) {
    for (n, t) in stage["tasks"].as_array().unwrap().iter().enumerate() {
        if t["status"] != "in_review" || t["joint_inspection"] == true {
            continue;
        }
        let url = con(
            stack,
            &format!("/api/v1/tasks/{}/decision", t["id"].as_str().unwrap()),
        );
        let dept = reviewer(stack, t["department_code"].as_str().unwrap());
        let body = json!({"decision": "approve", "permit_number": format!("闽建-2026-{n:04}")});
        json_ok(stack.post_json(url, &dept, &body).await, 200).await;
    }
}

/// A project through to 竣工验收: a 征求意见 waiting for its answer, and a
/// joint inspection scheduled with one department's result still to
/// come (so its reviewer meets the result form). Answers the departments
/// involved.
async fn completion_run(stack: &TestStack, alice: &str) -> BTreeSet<String> {
    let project = register(stack, alice, &project_code(904), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    for stage in ["land_planning", "engineering_permit", "construction_permit"] {
        let accepted = file_and_accept(stack, alice, pid, stage, false).await;
        if stage == "construction_permit" {
            let task = &accepted["tasks"][0];
            let asker = task["department_code"].as_str().unwrap();
            let asked = if asker == "fire_review" {
                "housing"
            } else {
                "fire_review"
            };
            let url = con(
                stack,
                &format!(
                    "/api/v1/tasks/{}/consultations",
                    task["id"].as_str().unwrap()
                ),
            );
            let body =
                json!({"department": asked, "question": "请就消防车道设置提出意见", "due_days": 3});
            json_ok(
                stack.post_json(url, &reviewer(stack, asker), &body).await,
                201,
            )
            .await;
        }
        approve_as_written(stack, &accepted).await;
    }
    let completion = file_and_accept(stack, alice, pid, "completion", false).await;
    let clerk = stack.staff("clerk-crawl", Role::WindowClerk);
    let url = con(
        stack,
        &format!(
            "/api/v1/stages/{}/inspections",
            completion["id"].as_str().unwrap()
        ),
    );
    let body = json!({"slot": "2027-10-26T09:30:00+08:00", "location": "项目现场"});
    let round = json_ok(stack.post_json(url, &clerk, &body).await, 201).await;
    let invited = round["departments"].as_array().unwrap();
    for dept in invited.iter().skip(1) {
        let url = con(
            stack,
            &format!(
                "/api/v1/inspections/{}/results",
                round["id"].as_str().unwrap()
            ),
        );
        let body = json!({"passed": true, "record_number": "验收-2027-01"});
        let dept = reviewer(stack, dept.as_str().unwrap());
        json_ok(stack.post_json(url, &dept, &body).await, 200).await;
    }
    departments_of(stack, alice, &project).await
}

/// The enterprise services' side: dispatch rules to a department of the
/// catalogs (so its demo reviewer works the queue), one 诉求 open and one
/// closed with a 差评 being followed up, an officer-set fact and a policy
/// that matches on it. Answers the department involved.
pub(crate) async fn enterprise_run(stack: &TestStack, alice: &str) -> String {
    const DEPT: &str = "market_supervision";
    let ent = |path: &str| stack.url(Service::Enterprise, path);
    let admin = stack.staff("admin-crawl", Role::Admin);
    let routes: serde_json::Map<String, Value> = [
        "policy", "finance", "talent", "land_planning", "approvals", "utilities", "legal", "other",
    ]
    .iter()
    .map(|c| {
        let route = json!({"department": DEPT, "department_name": "市场监督管理局", "answer_limit_days": 5});
        ((*c).to_owned(), route)
    })
    .collect();
    let response = stack
        .client
        .put(ent("/api/v1/dispatch-rules"))
        .bearer_auth(&admin)
        .json(&json!({"routes": routes}))
        .send()
        .await
        .unwrap();
    json_ok(response, 200).await;
    let market = reviewer(stack, DEPT);
    let mut filed = Vec::new();
    for text in [
        "食品经营许可证延续需要准备哪些材料",
        "营业执照变更后许可证信息未同步",
    ] {
        let request = json_ok(
            stack
                .post_json(
                    ent("/api/v1/requests"),
                    alice,
                    &json!({"enterprise_uscc": ENTERPRISE_A, "category": "approvals",
                            "channel": "gaoxintong", "description": text}),
                )
                .await,
            201,
        )
        .await;
        filed.push(request["id"].as_str().unwrap().to_owned());
    }
    let step = |token: &str, id: &str, name: &str, body: Value| {
        let url = ent(&format!("/api/v1/requests/{id}/{name}"));
        let token = token.to_owned();
        async move { json_ok(stack.post_json(url, &token, &body).await, 200).await }
    };
    step(&market, &filed[0], "accept", json!({})).await;
    step(&market, &filed[1], "accept", json!({})).await;
    step(
        &market,
        &filed[1],
        "answer",
        json!({"answer": "已协调数据同步，请重新查询"}),
    )
    .await;
    step(
        alice,
        &filed[1],
        "rate",
        json!({"satisfaction": "acceptable"}),
    )
    .await;
    let rateables = stack.get_json(ent("/api/v1/rateables"), alice).await;
    let rateable = rateables["rateables"][0]["id"].clone();
    let rating = json!({"rateable_id": rateable, "score": 2, "comment": "答复较慢"});
    json_ok(
        stack
            .post_json(ent("/api/v1/ratings"), alice, &rating)
            .await,
        201,
    )
    .await;
    let fact = stack
        .client
        .put(ent(&format!(
            "/api/v1/enterprises/{ENTERPRISE_A}/facts/employee_count"
        )))
        .bearer_auth(&market)
        .json(&json!({"value": 30, "source": "统计年报 2025"}))
        .send()
        .await
        .unwrap();
    json_ok(fact, 200).await;
    let today = yizhan_enterprise::today(chrono::Utc::now());
    let policy = json!({
        "title": "小微企业稳岗补贴",
        "department": DEPT,
        "eligibility": {"fact": "employee_count", "op": "le", "value": 50},
        "amount": {"fixed_fen": 500_000},
        "budget_fen": 10_000_000,
        "valid_from": today,
        "valid_until": today + chrono::Days::new(90),
    });
    json_ok(
        stack
            .post_json(ent("/api/v1/policies"), &admin, &policy)
            .await,
        201,
    )
    .await;
    DEPT.to_owned()
}
