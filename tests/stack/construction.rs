//! 工程建设项目审批 end to end over HTTP and Kafka: a small low-risk
//! project through all four stages with the construction permit issued by
//! the document service and the 24-day budget tracked; 容缺受理 supplied in
//! time and expired; 告知承诺 revoked; 拿地即开工 finalised on the land
//! grant; 联合验收 with a failure, rectification and re-inspection; 征求意见;
//! statistics; and the scoping refusals.

use std::time::Duration;

use serde_json::{Map, Value, json};
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::Backend;

use crate::common::*;

const WAIT: Duration = Duration::from_secs(60);

fn con(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Construction, path)
}

fn reviewer(stack: &TestStack, dept: &str) -> String {
    stack.token(TokenRequest {
        sub: format!("reviewer-{dept}"),
        roles: vec![Role::DeptReviewer],
        dept: Some(dept.into()),
        ttl_secs: 600,
        ..Default::default()
    })
}

fn agent(stack: &TestStack, sub: &str, enterprises: &[&str]) -> String {
    stack.token(TokenRequest {
        sub: sub.into(),
        roles: vec![Role::Agent],
        enterprises: enterprises.iter().map(|e| (*e).to_owned()).collect(),
        ttl_secs: 600,
        ..Default::default()
    })
}

fn partner(stack: &TestStack, scopes: &[&str]) -> String {
    stack.token(TokenRequest {
        sub: "partner-nr".into(),
        roles: vec![Role::Partner],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ttl_secs: 600,
        ..Default::default()
    })
}

async fn json_ok(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "body: {body}");
    serde_json::from_str(&body).unwrap()
}

/// A fresh valid project code per call (serial from a counter).
fn project_code(n: u32) -> String {
    format!("2026-350121-54-01-{:06}", 100 + n)
}

async fn register(
    stack: &TestStack,
    token: &str,
    code: &str,
    category: &str,
    land_granted: bool,
) -> Value {
    json_ok(
        stack
            .post_json(
                con(stack, "/api/v1/projects"),
                token,
                &json!({
                    "project_code": code,
                    "name": "福州一站科创园配套仓储用房",
                    "builder_uscc": ENTERPRISE_A,
                    "builder_name": "福州一站科技有限公司",
                    "location": "福州市闽侯县上街镇科技东路 8 号",
                    "category": category,
                    "scale": {"floor_area_m2": 2400, "total_investment_wan": 1800},
                    "land_granted": land_granted,
                }),
            )
            .await,
        201,
    )
    .await
}

/// The stage's merged form filled from the sample, and a fake material id
/// for every material except `skip`.
async fn filled(
    stack: &TestStack,
    token: &str,
    project: &str,
    stage: &str,
    skip: &[&str],
) -> (Value, Value) {
    let form = json_ok(
        stack
            .get(
                con(
                    stack,
                    &format!("/api/v1/projects/{project}/stages/{stage}/form"),
                ),
                token,
            )
            .await,
        200,
    )
    .await;
    let sample = yizhan_construction::seed::sample_form();
    let values: Map<String, Value> = form["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let k = f["key"].as_str().unwrap();
            (k.to_owned(), sample[k].clone())
        })
        .collect();
    let materials: Map<String, Value> = form["materials"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, m)| !skip.contains(&m["code"].as_str().unwrap()))
        .map(|(i, m)| {
            (
                m["code"].as_str().unwrap().to_owned(),
                json!(format!("0193aa00-0000-7000-8000-{i:012}")),
            )
        })
        .collect();
    (Value::Object(values), Value::Object(materials))
}

async fn submit_stage(
    stack: &TestStack,
    token: &str,
    project: &str,
    body: &Value,
) -> reqwest::Response {
    stack
        .post_json(
            con(stack, &format!("/api/v1/projects/{project}/stages")),
            token,
            body,
        )
        .await
}

/// Files `stage` with everything present and has the window accept it.
async fn file_and_accept(
    stack: &TestStack,
    token: &str,
    project: &str,
    stage: &str,
    pre_review: bool,
) -> Value {
    let (form, materials) = filled(stack, token, project, stage, &[]).await;
    let app = json_ok(
        submit_stage(
            stack,
            token,
            project,
            &json!({"stage": stage, "form": form, "materials": materials, "pre_review": pre_review}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(app["blzt"], 1);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    json_ok(
        stack
            .post_json(
                con(
                    stack,
                    &format!("/api/v1/stages/{}/intake", app["id"].as_str().unwrap()),
                ),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await
}

/// Every department approves its (non-joint) open tasks of the stage.
async fn approve_all(stack: &TestStack, stage: &Value) {
    for t in stage["tasks"].as_array().unwrap() {
        if t["joint_inspection"] == true || t["status"] != "in_review" || t["pre_approved"] == true
        {
            continue;
        }
        let dept = t["department_code"].as_str().unwrap();
        let done = json_ok(
            stack
                .post_json(
                    con(stack, &format!("/api/v1/tasks/{}/decision", t["id"].as_str().unwrap())),
                    &reviewer(stack, dept),
                    &json!({"decision": "approve", "permit_number": format!("WH-{}", t["item_code"].as_str().unwrap())}),
                )
                .await,
            200,
        )
        .await;
        assert!(matches!(done["blzt"].as_u64(), Some(8 | 11 | 12)), "{done}");
    }
}

async fn stage_of(stack: &TestStack, token: &str, id: &str) -> Value {
    json_ok(
        stack
            .get(con(stack, &format!("/api/v1/stages/{id}")), token)
            .await,
        200,
    )
    .await
}

async fn project_of(stack: &TestStack, token: &str, id: &str) -> Value {
    json_ok(
        stack
            .get(con(stack, &format!("/api/v1/projects/{id}")), token)
            .await,
        200,
    )
    .await
}

/// Runs stages 1-3 of a land-granted project to completion.
async fn through_construction_permit(stack: &TestStack, token: &str, project: &str) -> Value {
    let mut last = Value::Null;
    for stage in ["land_planning", "engineering_permit", "construction_permit"] {
        let accepted = file_and_accept(stack, token, project, stage, false).await;
        approve_all(stack, &accepted).await;
        last = stage_of(stack, token, accepted["id"].as_str().unwrap()).await;
        assert_eq!(last["status"], "completed", "{stage}: {last}");
    }
    last
}

/// The joint inspection of `stage` with every invited department passing,
/// except `fail` with its points.
async fn inspect(stack: &TestStack, stage_id: &str, fail: Option<(&str, &[&str])>) -> Value {
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let inspection = json_ok(
        stack
            .post_json(
                con(stack, &format!("/api/v1/stages/{stage_id}/inspections")),
                &clerk,
                &json!({"slot": "2027-10-26T09:30:00+08:00", "location": "项目现场"}),
            )
            .await,
        201,
    )
    .await;
    let id = inspection["id"].as_str().unwrap().to_owned();
    let mut last = inspection.clone();
    for dept in inspection["departments"].as_array().unwrap() {
        let dept = dept.as_str().unwrap();
        let body = match fail {
            Some((d, points)) if d == dept => json!({"passed": false, "points": points}),
            _ => {
                json!({"passed": true, "record_number": format!("YS-{dept}-{}", inspection["round"])})
            }
        };
        last = json_ok(
            stack
                .post_json(
                    con(stack, &format!("/api/v1/inspections/{id}/results")),
                    &reviewer(stack, dept),
                    &body,
                )
                .await,
            200,
        )
        .await;
    }
    last
}

async fn small_low_risk_project_through_four_stages(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let helper = agent(&stack, "agent-wang", &[ENTERPRISE_A]);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);

    // Categories with their budgets, public.
    let categories = json_ok(
        stack
            .client
            .get(con(&stack, "/api/v1/categories"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let small = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "small_low_risk")
        .unwrap();
    assert_eq!(small["budget_days"], 24);
    let catalog = json_ok(
        stack
            .client
            .get(con(&stack, "/api/v1/catalog"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(catalog["items"].as_array().unwrap().len() >= 30);

    // Every registration problem at once, each naming its field.
    let problem = expect_problem(
        stack
            .post_json(
                con(&stack, "/api/v1/projects"),
                &alice,
                &json!({
                    "project_code": "2026-3501-54-01-000001",
                    "name": "",
                    "builder_uscc": "91350100M000100Y44",
                    "builder_name": "福州一站科技有限公司",
                    "location": "福州",
                    "category": "small_low_risk",
                    "scale": {"floor_area_m2": 12000, "total_investment_wan": 1800},
                }),
            )
            .await,
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
    for f in [
        "project_code",
        "name",
        "builder_uscc",
        "scale.floor_area_m2",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }

    // 帮办代办: the agent registers for the enterprise that authorised it,
    // idempotently.
    let code = project_code(1);
    let body = json!({
        "project_code": code,
        "name": "福州一站科创园配套仓储用房",
        "builder_uscc": ENTERPRISE_A,
        "builder_name": "福州一站科技有限公司",
        "location": "福州市闽侯县上街镇科技东路 8 号",
        "category": "small_low_risk",
        "scale": {"floor_area_m2": 2400, "total_investment_wan": 1800},
        "land_granted": true,
    });
    let send = || {
        stack
            .client
            .post(con(&stack, "/api/v1/projects"))
            .bearer_auth(&helper)
            .header("Idempotency-Key", "p-1")
            .json(&body)
            .send()
    };
    let project = json_ok(send().await.unwrap(), 201).await;
    let id = project["id"].as_str().unwrap().to_owned();
    let replay = send().await.unwrap();
    assert_eq!(replay.headers()["Idempotent-Replayed"], "true");
    assert_eq!(json_ok(replay, 201).await["id"], id.as_str());
    assert_eq!(project["budget"]["budget_days"], 24);
    expect_problem(
        stack
            .post_json(con(&stack, "/api/v1/projects"), &alice, &body)
            .await,
        409,
        "project_code_taken",
    )
    .await;

    // Stages go in order.
    let (form, materials) = filled(&stack, &helper, &id, "engineering_permit", &[]).await;
    expect_problem(
        submit_stage(
            &stack,
            &helper,
            &id,
            &json!({"stage": "engineering_permit", "form": form, "materials": materials}),
        )
        .await,
        409,
        "stage_locked",
    )
    .await;

    // Stage 1 by the agent; the window returns it with the one-time list,
    // the agent files it again and it is accepted.
    let (form, materials) = filled(&stack, &helper, &id, "land_planning", &[]).await;
    let mut bad_form = form.clone();
    bad_form["total_investment_wan"] = json!("很多");
    let problem = expect_problem(
        submit_stage(
            &stack,
            &helper,
            &id,
            &json!({"stage": "land_planning", "form": bad_form, "materials": {}}),
        )
        .await,
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
    assert!(
        fields.contains(&"form.total_investment_wan") && fields.contains(&"materials.filing_form"),
        "{fields:?}"
    );
    let body = json!({"stage": "land_planning", "form": form, "materials": materials});
    let first = json_ok(submit_stage(&stack, &helper, &id, &body).await, 201).await;
    assert_eq!(first["submitted_role"], "agent");
    let returned = json_ok(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/stages/{}/intake", first["id"].as_str().unwrap())),
                &clerk,
                &json!({"decision": "reject", "deficiencies": [{"material": "site_plan", "reason": "总平面图未标注用地红线"}, {"field": "contact_phone", "reason": "联系电话无人接听"}]}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["blzt"], 4);
    assert_eq!(returned["deficiencies"].as_array().unwrap().len(), 2);
    let second = json_ok(submit_stage(&stack, &helper, &id, &body).await, 201).await;
    let accepted = json_ok(
        stack
            .post_json(
                con(
                    &stack,
                    &format!("/api/v1/stages/{}/intake", second["id"].as_str().unwrap()),
                ),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(accepted["blzt"], 3);
    let tasks = accepted["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2, "project filing and land planning permit");
    assert!(tasks.iter().all(|t| t["blzt"] == 8));
    // Each item is in its department's queue at once (parallel).
    for t in tasks {
        let dept = t["department_code"].as_str().unwrap();
        let queue = json_ok(
            stack
                .get(con(&stack, "/api/v1/tasks"), &reviewer(&stack, dept))
                .await,
            200,
        )
        .await;
        assert!(
            queue["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|q| q["id"] == t["id"]),
            "{dept}"
        );
    }
    approve_all(&stack, &accepted).await;
    let done = stage_of(&stack, &alice, accepted["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(
        project_of(&stack, &alice, &id).await["next_stage"],
        "engineering_permit"
    );

    // Stages 2 and 3; completing stage 3 requests the construction permit.
    for stage in ["engineering_permit", "construction_permit"] {
        let accepted = file_and_accept(&stack, &helper, &id, stage, false).await;
        approve_all(&stack, &accepted).await;
        assert_eq!(
            stage_of(&stack, &alice, accepted["id"].as_str().unwrap()).await["status"],
            "completed"
        );
    }
    let project = project_of(&stack, &alice, &id).await;
    let permit_stage = project["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "construction_permit")
        .unwrap()
        .clone();
    let permit_stage_id = permit_stage["id"].as_str().unwrap().to_owned();
    let certificate_id = eventually("construction permit issued", WAIT, || {
        let stack = &stack;
        let alice = &alice;
        let permit_stage_id = &permit_stage_id;
        async move {
            let s = stage_of(stack, alice, permit_stage_id).await;
            s["certificate_id"].as_str().map(str::to_owned)
        }
    })
    .await;
    assert!(
        certificate_id.starts_with("1.2.156.3005.2."),
        "{certificate_id}"
    );
    let cert = json_ok(
        stack
            .get(
                stack.url(
                    Service::Document,
                    &format!("/api/v1/certificates/{certificate_id}"),
                ),
                &alice,
            )
            .await,
        200,
    )
    .await;
    assert_eq!(cert["certificate_type"], "construction_permit");
    assert!(
        cert["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["item_code"] == "construction_permit")
    );
    assert!(cert["scope"].as_str().unwrap().contains(&code));

    // 竣工验收: joint items are not decided alone; one joint inspection
    // with every department passing completes the stage and the project.
    let completion = file_and_accept(&stack, &helper, &id, "completion", false).await;
    let joint = &completion["tasks"].as_array().unwrap()[0];
    expect_problem(
        stack
            .post_json(
                con(
                    &stack,
                    &format!("/api/v1/tasks/{}/decision", joint["id"].as_str().unwrap()),
                ),
                &reviewer(&stack, joint["department_code"].as_str().unwrap()),
                &json!({"decision": "approve", "permit_number": "X"}),
            )
            .await,
        409,
        "joint_inspection_required",
    )
    .await;
    let inspection = inspect(&stack, completion["id"].as_str().unwrap(), None).await;
    assert_eq!(inspection["status"], "passed");
    assert_eq!(inspection["departments"].as_array().unwrap().len(), 4);
    let project = project_of(&stack, &alice, &id).await;
    assert_eq!(project["status"], "completed", "{}", project["timeline"]);

    // The 24-day budget: every stage was accepted and decided the same day,
    // and the acceptance day is not counted, so nothing is used; the clock
    // stopped with the project.
    assert_eq!(project["budget"]["budget_days"], 24);
    assert_eq!(project["budget"]["used_days"], 0.0);
    assert_eq!(project["budget"]["remaining_days"], 24.0);
    assert_eq!(project["budget"]["state"], "stopped");
    // The timeline shows who acted: the agent, the window, reviewers, the
    // document service.
    let roles: Vec<&str> = project["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"]["role"].as_str().unwrap())
        .collect();
    for r in ["agent", "window_clerk", "dept_reviewer", "system"] {
        assert!(roles.contains(&r), "{r} not in {roles:?}");
    }
    assert!(
        project["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "certificate_issued")
    );
    stack.stop().await;
}

async fn scoping_refusals(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let stranger_agent = agent(&stack, "agent-li", &[ENTERPRISE_B]);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let admin = stack.staff("admin-1", Role::Admin);

    // Bob's applicant cannot register for Alice's enterprise.
    let body = json!({
        "project_code": project_code(2),
        "name": "项目", "builder_uscc": ENTERPRISE_A, "builder_name": "福州一站科技有限公司",
        "location": "福州", "category": "small_low_risk",
        "scale": {"floor_area_m2": 100, "total_investment_wan": 10},
    });
    expect_problem(
        stack
            .post_json(con(&stack, "/api/v1/projects"), &bob, &body)
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        stack
            .post_json(con(&stack, "/api/v1/projects"), &clerk, &body)
            .await,
        403,
        "forbidden",
    )
    .await;
    let project = register(&stack, &alice, &project_code(2), "small_low_risk", true).await;
    let id = project["id"].as_str().unwrap();

    // Another enterprise, an unauthorised agent, a partner without scope,
    // a reviewer with no task in it: 404, never data.
    let nosy_partner = partner(&stack, &[]);
    for token in [
        &bob,
        &stranger_agent,
        &nosy_partner,
        &reviewer(&stack, "housing"),
    ] {
        expect_problem(
            stack
                .get(con(&stack, &format!("/api/v1/projects/{id}")), token)
                .await,
            404,
            "not_found",
        )
        .await;
        expect_problem(
            stack
                .get(
                    con(
                        &stack,
                        &format!("/api/v1/projects/{id}/stages/land_planning/form"),
                    ),
                    token,
                )
                .await,
            404,
            "not_found",
        )
        .await;
    }
    let (form, materials) = filled(&stack, &alice, id, "land_planning", &[]).await;
    let stage_body = json!({"stage": "land_planning", "form": form, "materials": materials});
    expect_problem(
        submit_stage(&stack, &bob, id, &stage_body).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        submit_stage(&stack, &clerk, id, &stage_body).await,
        403,
        "forbidden",
    )
    .await;
    // Lists are scoped; a partner without scope may not list.
    let bobs = json_ok(stack.get(con(&stack, "/api/v1/projects"), &bob).await, 200).await;
    assert!(bobs["items"].as_array().unwrap().is_empty());
    let alices = json_ok(
        stack.get(con(&stack, "/api/v1/projects"), &alice).await,
        200,
    )
    .await;
    assert_eq!(alices["items"].as_array().unwrap().len(), 1);
    expect_problem(
        stack
            .get(con(&stack, "/api/v1/projects"), &nosy_partner)
            .await,
        403,
        "forbidden",
    )
    .await;
    let reader = partner(&stack, &["construction:read"]);
    json_ok(
        stack
            .get(con(&stack, &format!("/api/v1/projects/{id}")), &reader)
            .await,
        200,
    )
    .await;

    let app = json_ok(submit_stage(&stack, &alice, id, &stage_body).await, 201).await;
    let app_id = app["id"].as_str().unwrap();
    // Only the window takes intake.
    for token in [&alice, &reviewer(&stack, "housing"), &admin] {
        expect_problem(
            stack
                .post_json(
                    con(&stack, &format!("/api/v1/stages/{app_id}/intake")),
                    token,
                    &json!({"decision": "accept"}),
                )
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    expect_problem(
        stack
            .get(con(&stack, &format!("/api/v1/stages/{app_id}")), &bob)
            .await,
        404,
        "not_found",
    )
    .await;
    let accepted = json_ok(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/stages/{app_id}/intake")),
                &clerk,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    let task = &accepted["tasks"].as_array().unwrap()[0];
    let task_id = task["id"].as_str().unwrap();
    let own = task["department_code"].as_str().unwrap();
    let other = if own == "housing" {
        "ecology"
    } else {
        "housing"
    };
    // Another department's task: 404 to read, decide, consult.
    let stranger = reviewer(&stack, other);
    expect_problem(
        stack
            .get(con(&stack, &format!("/api/v1/tasks/{task_id}")), &stranger)
            .await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/tasks/{task_id}/decision")),
                &stranger,
                &json!({"decision": "approve", "permit_number": "X"}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    let queue = json_ok(
        stack.get(con(&stack, "/api/v1/tasks"), &stranger).await,
        200,
    )
    .await;
    assert!(
        !queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == task["id"])
    );
    // The applicant may not decide; a reviewer token without `dept` has no queue.
    expect_problem(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/tasks/{task_id}/decision")),
                &alice,
                &json!({"decision": "approve", "permit_number": "X"}),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    let deptless = stack.staff("r-0", Role::DeptReviewer);
    expect_problem(
        stack.get(con(&stack, "/api/v1/tasks"), &deptless).await,
        403,
        "forbidden",
    )
    .await;
    // The reviewer of the task's department reads the project.
    json_ok(
        stack
            .get(
                con(&stack, &format!("/api/v1/projects/{id}")),
                &reviewer(&stack, own),
            )
            .await,
        200,
    )
    .await;
    // Garbage ids are 404, not 500; statistics and jobs are staff-only.
    expect_problem(
        stack
            .get(con(&stack, "/api/v1/projects/%27%20OR%201=1"), &alice)
            .await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        stack
            .get(con(&stack, "/api/v1/statistics?by=stage"), &alice)
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        stack
            .post_json(con(&stack, "/api/v1/jobs/daily"), &clerk, &json!({}))
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/projects/{id}/land-grant")),
                &alice,
                &json!({"contract_number": "X", "granted_on": "2026-11-23"}),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(small_low_risk_project_through_four_stages, scoping_refusals,);
