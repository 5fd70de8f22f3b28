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

pub(crate) fn con(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Construction, path)
}

pub(crate) fn partner(stack: &TestStack, scopes: &[&str]) -> String {
    stack.token(TokenRequest {
        sub: "partner-nr".into(),
        roles: vec![Role::Partner],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ttl_secs: 600,
        ..Default::default()
    })
}

/// A fresh valid project code per call (serial from a counter).
pub(crate) fn project_code(n: u32) -> String {
    format!("2026-350121-54-01-{:06}", 100 + n)
}

pub(crate) async fn register(
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

/// The stage's merged form filled from the sample, and a material of its
/// own type for every material except `skip` (uploaded when the stack runs
/// the document service, made up otherwise).
pub(crate) async fn filled(
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
    let codes: Vec<String> = form["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_owned())
        .filter(|c| !skip.contains(&c.as_str()))
        .collect();
    // Every project in these tests is ENTERPRISE_A's; an agent names it.
    let materials = materials_for_codes(stack, token, Some(ENTERPRISE_A), &codes).await;
    (Value::Object(values), Value::Object(materials))
}

pub(crate) async fn submit_stage(
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
pub(crate) async fn file_and_accept(
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
pub(crate) async fn approve_all(stack: &TestStack, stage: &Value) {
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

pub(crate) async fn stage_of(stack: &TestStack, token: &str, id: &str) -> Value {
    json_ok(
        stack
            .get(con(stack, &format!("/api/v1/stages/{id}")), token)
            .await,
        200,
    )
    .await
}

pub(crate) async fn project_of(stack: &TestStack, token: &str, id: &str) -> Value {
    json_ok(
        stack
            .get(con(stack, &format!("/api/v1/projects/{id}")), token)
            .await,
        200,
    )
    .await
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

pub(crate) async fn intake(stack: &TestStack, stage_id: &str, body: &Value) -> reqwest::Response {
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    stack
        .post_json(
            con(stack, &format!("/api/v1/stages/{stage_id}/intake")),
            &clerk,
            body,
        )
        .await
}

/// Stage 1 of a small low-risk project filed without its two non-key
/// materials and accepted with tolerance (容缺受理); answers the stage.
pub(crate) async fn tolerance_stage(stack: &TestStack, token: &str, project: &str) -> Value {
    let owed = ["legal_rep_id_card", "land_document"];
    let (form, materials) = filled(stack, token, project, "land_planning", &owed).await;
    let app = json_ok(
        submit_stage(
            stack,
            token,
            project,
            &json!({"stage": "land_planning", "form": form, "materials": materials}),
        )
        .await,
        201,
    )
    .await;
    let id = app["id"].as_str().unwrap();
    // Key materials can never be owed, nor ones already given; the period
    // is bounded. Every problem at once.
    let problem = expect_problem(
        intake(
            stack,
            id,
            &json!({"decision": "accept_with_tolerance", "owed_materials": ["filing_form", "site_plan", "legal_rep_id_card"], "tolerance_days": 99}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let codes: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"key_material") && codes.contains(&"out_of_range"),
        "{codes:?}"
    );
    let accepted = json_ok(
        intake(stack, id, &json!({"decision": "accept_with_tolerance", "owed_materials": owed, "tolerance_days": 3})).await,
        200,
    )
    .await;
    assert_eq!(accepted["status"], "in_review");
    assert_eq!(accepted["owed_materials"].as_array().unwrap().len(), 2);
    assert!(accepted["tolerance_due"].as_str().is_some());
    accepted
}

async fn tolerance_supplied_in_time_and_expired(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let admin = stack.staff("admin-1", Role::Admin);

    // In time: approvals while materials are owed are 12 (容缺通过); the
    // stage completes only once they are supplied.
    let project = register(&stack, &alice, &project_code(3), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let stage = tolerance_stage(&stack, &alice, pid).await;
    let sid = stage["id"].as_str().unwrap();
    approve_all(&stack, &stage).await;
    let waiting = stage_of(&stack, &alice, sid).await;
    assert_eq!(
        waiting["status"], "in_review",
        "owed materials hold the stage"
    );
    assert!(
        waiting["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["blzt"] == 12)
    );
    let supply = |body: Value| {
        let stack = &stack;
        let alice = &alice;
        async move {
            stack
                .post_json(
                    con(stack, &format!("/api/v1/stages/{sid}/owed-materials")),
                    alice,
                    &body,
                )
                .await
        }
    };
    expect_problem(
        supply(json!({"materials": {"site_plan": "0193aa00-0000-7000-8000-0000000000aa"}})).await,
        422,
        "validation_failed",
    )
    .await;
    let partial = json_ok(
        supply(json!({"materials": {"legal_rep_id_card": "0193aa00-0000-7000-8000-0000000000ab"}}))
            .await,
        200,
    )
    .await;
    assert_eq!(partial["status"], "in_review");
    let done = json_ok(
        supply(json!({"materials": {"land_document": "0193aa00-0000-7000-8000-0000000000ac"}}))
            .await,
        200,
    )
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["owed_materials"].as_array().unwrap().is_empty());
    // Nothing left to expire for it.
    let far = chrono::Utc::now().date_naive() + chrono::Days::new(60);
    // The admin route runs the jobs for today at the latest: running them
    // for a future day would stop applications before their due date.
    let early = expect_problem(
        stack
            .post_json(
                con(&stack, "/api/v1/jobs/daily"),
                &admin,
                &json!({"today": far}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(early["errors"][0]["field"], "today");
    // A future day is for tests only, through the store on the database.
    let db = stack.connect(Service::Construction).await;
    let expire = |day: chrono::NaiveDate| {
        let db = db.clone();
        async move {
            yizhan_construction::store::expire_tolerances(
                &db,
                &yizhan_approval::Calendar::builtin(),
                day,
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(expire(far).await, 0);

    // Expired: one item approved meanwhile (12), one still open; the daily
    // job run for a day after the due date stops the stage: the approval is
    // revoked (15), the open item ends 13.
    let project = register(&stack, &alice, &project_code(4), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let stage = tolerance_stage(&stack, &alice, pid).await;
    let sid = stage["id"].as_str().unwrap();
    let first = &stage["tasks"].as_array().unwrap()[0];
    json_ok(
        stack
            .post_json(
                con(
                    &stack,
                    &format!("/api/v1/tasks/{}/decision", first["id"].as_str().unwrap()),
                ),
                &reviewer(&stack, first["department_code"].as_str().unwrap()),
                &json!({"decision": "approve", "permit_number": "BA-1"}),
            )
            .await,
        200,
    )
    .await;
    // The due date itself is still in time.
    let due: chrono::NaiveDate = serde_json::from_value(stage["tolerance_due"].clone()).unwrap();
    assert_eq!(expire(due).await, 0);
    assert_eq!(expire(far).await, 1);
    assert_eq!(expire(far).await, 0, "a stage is stopped once");
    let stopped = stage_of(&stack, &alice, sid).await;
    assert_eq!(stopped["status"], "stopped");
    assert!(stopped["stop_reason"].as_str().unwrap().contains("逾期"));
    let codes: Vec<u64> = stopped["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["blzt"].as_u64().unwrap())
        .collect();
    // The engine's one 容缺 expiry rule: the tolerance approval revoked
    // (15), the open task withdrawn (14).
    assert_eq!(codes, vec![15, 14]);
    // Supplying after the stop is refused; the stage can be filed again.
    expect_problem(
        supply_to(
            &stack,
            &alice,
            sid,
            json!({"materials": {"legal_rep_id_card": "0193aa00-0000-7000-8000-0000000000ad"}}),
        )
        .await,
        409,
        "nothing_owed",
    )
    .await;
    let project = project_of(&stack, &alice, pid).await;
    assert_eq!(project["next_stage"], "land_planning");
    stack.stop().await;
}

pub(crate) async fn supply_to(
    stack: &TestStack,
    token: &str,
    sid: &str,
    body: Value,
) -> reqwest::Response {
    stack
        .post_json(
            con(stack, &format!("/api/v1/stages/{sid}/owed-materials")),
            token,
            &body,
        )
        .await
}

async fn commitment_approval_later_revoked(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let project = register(&stack, &alice, &project_code(5), "social_investment", true).await;
    let pid = project["id"].as_str().unwrap();
    // The EIA report is not needed under commitment.
    let (form, materials) = filled(&stack, &alice, pid, "land_planning", &["eia_report"]).await;
    let problem = expect_problem(
        submit_stage(
            &stack,
            &alice,
            pid,
            &json!({"stage": "land_planning", "form": form, "materials": materials, "commitments": ["eia_approval", "land_pre_review"]}),
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
        fields.contains(&"commitments[1]") && fields.contains(&"commitment_statement"),
        "{fields:?}"
    );
    assert!(!fields.contains(&"materials.eia_report"), "{fields:?}");
    let app = json_ok(
        submit_stage(
            &stack,
            &alice,
            pid,
            &json!({"stage": "land_planning", "form": form, "materials": materials, "commitments": ["eia_approval"], "commitment_statement": "本单位承诺项目符合环境影响评价审批条件，如有不实自愿承担撤销许可的后果。"}),
        )
        .await,
        201,
    )
    .await;
    let accepted = json_ok(
        intake(
            &stack,
            app["id"].as_str().unwrap(),
            &json!({"decision": "accept"}),
        )
        .await,
        200,
    )
    .await;
    let eia = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["item_code"] == "eia_approval")
        .unwrap()
        .clone();
    // Approved at once on the commitment, with a verification deadline.
    assert_eq!(eia["blzt"], 12);
    assert_eq!(eia["commitment"], true);
    assert!(eia["verification_due"].as_str().is_some());
    let ecology = reviewer(&stack, "ecology");
    let pending = json_ok(
        stack
            .get(
                con(&stack, "/api/v1/tasks?status=approved_with_tolerance"),
                &ecology,
            )
            .await,
        200,
    )
    .await;
    assert!(
        pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == eia["id"])
    );
    // Another department cannot verify it; an item without commitment has
    // nothing to verify.
    let eia_id = eia["id"].as_str().unwrap();
    expect_problem(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/tasks/{eia_id}/verification")),
                &reviewer(&stack, "water"),
                &json!({"passed": false, "findings": "x"}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    let filing = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["item_code"] == "project_filing")
        .unwrap();
    expect_problem(
        stack
            .post_json(
                con(
                    &stack,
                    &format!(
                        "/api/v1/tasks/{}/verification",
                        filing["id"].as_str().unwrap()
                    ),
                ),
                &reviewer(&stack, "development_reform"),
                &json!({"passed": true, "findings": "x"}),
            )
            .await,
        409,
        "no_verification_pending",
    )
    .await;
    // The check finds the commitment untrue: revoked (15), the stage stops,
    // the project is told on its timeline.
    let revoked = json_ok(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/tasks/{eia_id}/verification")),
                &ecology,
                &json!({"passed": false, "findings": "现场核查发现项目位于饮用水水源保护区，承诺不实"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(revoked["blzt"], 15);
    assert_eq!(revoked["verification"], "failed");
    let stage = stage_of(&stack, &alice, accepted["id"].as_str().unwrap()).await;
    assert_eq!(stage["status"], "stopped");
    let project = project_of(&stack, &alice, pid).await;
    let timeline = project["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e["action"] == "task_revoked" && e["blzt"] == 15)
    );
    assert!(timeline.iter().any(|e| e["action"] == "stage_stopped"));
    // Revoked is final.
    expect_problem(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/tasks/{eia_id}/verification")),
                &ecology,
                &json!({"passed": true, "findings": "x"}),
            )
            .await,
        409,
        "no_verification_pending",
    )
    .await;
    stack.stop().await;
}

async fn pre_review_finalised_on_land_grant(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let project = register(&stack, &alice, &project_code(6), "small_low_risk", false).await;
    let pid = project["id"].as_str().unwrap();
    let land = file_and_accept(&stack, &alice, pid, "land_planning", false).await;
    approve_all(&stack, &land).await;
    // Later stages need the land grant, unless filed for pre-review.
    let (form, materials) = filled(&stack, &alice, pid, "engineering_permit", &[]).await;
    expect_problem(
        submit_stage(
            &stack,
            &alice,
            pid,
            &json!({"stage": "engineering_permit", "form": form, "materials": materials}),
        )
        .await,
        409,
        "land_not_granted",
    )
    .await;
    let mut stages = Vec::new();
    for stage in ["engineering_permit", "construction_permit"] {
        let accepted = file_and_accept(&stack, &alice, pid, stage, true).await;
        assert_eq!(accepted["pre_review"], true);
        approve_all(&stack, &accepted).await;
        let held = stage_of(&stack, &alice, accepted["id"].as_str().unwrap()).await;
        assert_eq!(held["status"], "in_review");
        for t in held["tasks"].as_array().unwrap() {
            assert_eq!(t["pre_approved"], true, "{t}");
            assert_eq!(t["blzt"], 8, "pre-approval is not final");
        }
        stages.push(held);
    }
    // Pre-approved twice is refused.
    let t = &stages[0]["tasks"][0];
    expect_problem(
        stack
            .post_json(
                con(
                    &stack,
                    &format!("/api/v1/tasks/{}/decision", t["id"].as_str().unwrap()),
                ),
                &reviewer(&stack, t["department_code"].as_str().unwrap()),
                &json!({"decision": "approve", "permit_number": "again"}),
            )
            .await,
        409,
        "already_pre_approved",
    )
    .await;
    // The land grant arrives from the natural-resources system: everything
    // pre-approved is final at once, both stages complete, and the permit
    // is requested the same day.
    let nr = partner(&stack, &["construction:land_grant"]);
    let after = json_ok(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/projects/{pid}/land-grant")),
                &nr,
                &json!({"contract_number": "闽侯出让〔2026〕18号", "granted_on": "2026-11-23"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(after["land_granted"], true);
    for s in after["stages"].as_array().unwrap() {
        assert_eq!(s["status"], "completed", "{}", s["stage"]);
        assert!(
            s["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["blzt"] == 11 && t["pre_approved"] == false)
        );
    }
    expect_problem(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/projects/{pid}/land-grant")),
                &nr,
                &json!({"contract_number": "X", "granted_on": "2026-11-23"}),
            )
            .await,
        409,
        "land_already_granted",
    )
    .await;
    let permit_stage = stages[1]["id"].as_str().unwrap().to_owned();
    let certificate = eventually("permit after land grant", WAIT, || {
        let stack = &stack;
        let alice = &alice;
        let permit_stage = &permit_stage;
        async move {
            stage_of(stack, alice, permit_stage).await["certificate_id"]
                .as_str()
                .map(str::to_owned)
        }
    })
    .await;
    assert!(certificate.starts_with("1.2.156.3005.2."));
    stack.stop().await;
}

async fn joint_inspection_failure_rectification_and_pass(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let project = register(&stack, &alice, &project_code(7), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();

    // 征求意见 on the way: housing asks the fire department about a drawing.
    let stage3_started = {
        for stage in ["land_planning", "engineering_permit"] {
            let accepted = file_and_accept(&stack, &alice, pid, stage, false).await;
            approve_all(&stack, &accepted).await;
        }
        file_and_accept(&stack, &alice, pid, "construction_permit", false).await
    };
    let drawing = stage3_started["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["item_code"] == "drawing_review")
        .unwrap()
        .clone();
    let drawing_id = drawing["id"].as_str().unwrap();
    let housing = reviewer(&stack, "housing");
    let fire = reviewer(&stack, "fire_review");
    expect_problem(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/tasks/{drawing_id}/consultations")),
                &housing,
                &json!({"department": "nowhere", "question": "", "due_days": 0}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    let asked = json_ok(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/tasks/{drawing_id}/consultations")),
                &housing,
                &json!({"department": "fire_review", "question": "请就疏散楼梯设置提出意见", "due_days": 3}),
            )
            .await,
        201,
    )
    .await;
    let inbox = json_ok(
        stack.get(con(&stack, "/api/v1/consultations"), &fire).await,
        200,
    )
    .await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == asked["id"])
    );
    expect_problem(
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
                &json!({"opinion": "x"}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
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
                &fire,
                &json!({"opinion": "同意，疏散楼梯设置符合规范"}),
            )
            .await,
        200,
    )
    .await;
    let record = json_ok(
        stack
            .get(
                con(&stack, &format!("/api/v1/tasks/{drawing_id}")),
                &housing,
            )
            .await,
        200,
    )
    .await;
    assert_eq!(
        record["consultations"][0]["opinion"],
        "同意，疏散楼梯设置符合规范"
    );
    approve_all(&stack, &stage3_started).await;

    // 联合验收: fire fails with two points; one rectification list.
    let completion = file_and_accept(&stack, &alice, pid, "completion", false).await;
    let cid = completion["id"].as_str().unwrap();
    let points: &[&str] = &["二层疏散指示标志缺失", "消火栓箱未设置操作说明"];
    let first = inspect(&stack, cid, Some(("fire_review", points))).await;
    assert_eq!(first["status"], "failed");
    assert_eq!(first["rectification"].as_array().unwrap().len(), 2);
    let stage = stage_of(&stack, &alice, cid).await;
    assert_eq!(stage["status"], "in_review");
    let fire_task = stage["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department_code"] == "fire_review")
        .unwrap();
    assert_eq!(fire_task["blzt"], 8);
    // No re-inspection before the rectification is reported.
    let slot = json!({"slot": "2027-11-02T09:30:00+08:00", "location": "项目现场"});
    expect_problem(
        stack
            .post_json(
                con(&stack, &format!("/api/v1/stages/{cid}/inspections")),
                &clerk,
                &slot,
            )
            .await,
        409,
        "inspection_open",
    )
    .await;
    let first_id = first["id"].as_str().unwrap();
    expect_problem(
        stack
            .post_json(
                con(
                    &stack,
                    &format!("/api/v1/inspections/{first_id}/rectification"),
                ),
                &stack.applicant("bob", ENTERPRISE_B),
                &json!({"statement": "x"}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    json_ok(
        stack
            .post_json(
                con(
                    &stack,
                    &format!("/api/v1/inspections/{first_id}/rectification"),
                ),
                &alice,
                &json!({"statement": "已补设疏散指示标志并完善消火栓箱标识"}),
            )
            .await,
        200,
    )
    .await;
    // The re-inspection invites only the department that has not passed.
    let second = inspect(&stack, cid, None).await;
    assert_eq!(second["round"], 2);
    assert_eq!(second["departments"], json!(["fire_review"]));
    assert_eq!(second["status"], "passed");
    let project = project_of(&stack, &alice, pid).await;
    assert_eq!(project["status"], "completed");
    let timeline = project["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e["action"] == "rectification_reported")
    );
    assert!(
        timeline
            .iter()
            .any(|e| e["action"] == "consultation_answered")
    );

    // Statistics by department and stage count what happened.
    let admin = stack.staff("admin-1", Role::Admin);
    let by_dept = json_ok(
        stack
            .get(con(&stack, "/api/v1/statistics?by=department"), &admin)
            .await,
        200,
    )
    .await;
    let fire_row = by_dept
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "fire_review")
        .unwrap();
    assert_eq!(fire_row["name"], "建设工程消防审验中心");
    assert_eq!(
        fire_row["approved"], 2,
        "fire design review and fire acceptance"
    );
    let by_stage = json_ok(
        stack
            .get(con(&stack, "/api/v1/statistics?by=stage"), &clerk)
            .await,
        200,
    )
    .await;
    assert_eq!(by_stage.as_array().unwrap().len(), 4);
    expect_problem(
        stack
            .get(con(&stack, "/api/v1/statistics?by=planet"), &admin)
            .await,
        422,
        "validation_failed",
    )
    .await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    small_low_risk_project_through_four_stages,
    scoping_refusals,
    tolerance_supplied_in_time_and_expired,
    commitment_approval_later_revoked,
    pre_review_finalised_on_land_grant,
    joint_inspection_failure_rectification_and_pass,
);
