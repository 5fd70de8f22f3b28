//! The portal's merged queues over real HTTP: one intake queue, one task
//! queue per department and one hand-out queue across the licensing and
//! construction services — ordering across the two, cursor paging, the
//! filters, who may read them, and the partial result when a source is
//! stopped.

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::construction::{approve_all, con, file_and_accept, filled, project_code, register};
use crate::licensing::{lic, uploaded_materials};

fn portal(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Portal, path)
}

fn partner(stack: &TestStack, scopes: &[&str]) -> String {
    stack.token(TokenRequest {
        sub: "partner-window-system".into(),
        roles: vec![Role::Partner],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ttl_secs: 600,
        ..Default::default()
    })
}

/// Submits (not accepts) a licensing application of enterprise A for
/// `scenario`, its form filled from the hotel sample plus the fields the
/// hotel does not have. The urban-management items: a convenience store's
/// outdoor sign permit (committed 3 working days), a restaurant's drainage
/// permit (5).
async fn submit_licensing(
    stack: &TestStack,
    applicant: &str,
    scenario: &str,
    answers: Value,
) -> Value {
    let notice = crate::licensing_more::notice(stack, scenario, &answers).await;
    let sample = yizhan_licensing::seed::sample_hotel_form();
    let extra = json!({"sign_size_m2": 6.5, "drainage_volume_m3_day": 12});
    let form: serde_json::Map<String, Value> = notice["form"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let key = f["key"].as_str().unwrap();
            let value = if sample[key].is_null() {
                extra[key].clone()
            } else {
                sample[key].clone()
            };
            assert!(!value.is_null(), "no sample value for {key}");
            (key.to_owned(), value)
        })
        .collect();
    let body = json!({
        "scenario": scenario,
        "answers": answers,
        "enterprise_uscc": ENTERPRISE_A,
        "form": form,
        "materials": uploaded_materials(stack, applicant, &notice).await,
    });
    json_ok(
        stack
            .post_json(lic(stack, "/api/v1/applications"), applicant, &body)
            .await,
        201,
    )
    .await
}

fn store() -> Value {
    json!({"sells_food": false, "sells_tobacco": false, "outdoor_sign": true})
}

fn restaurant() -> Value {
    json!({"floor_area_m2": 100, "outdoor_sign": false})
}

async fn accept_licensing(stack: &TestStack, id: &str) {
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    json_ok(
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
}

/// A submitted (not accepted) construction stage application.
async fn submit_stage(stack: &TestStack, applicant: &str, project: &str, stage: &str) -> Value {
    let (form, materials) = filled(stack, applicant, project, stage, &[]).await;
    json_ok(
        crate::construction::submit_stage(
            stack,
            applicant,
            project,
            &json!({"stage": stage, "form": form, "materials": materials}),
        )
        .await,
        201,
    )
    .await
}

async fn page(stack: &TestStack, token: &str, path: &str) -> Value {
    json_ok(stack.get(portal(stack, path), token).await, 200).await
}

fn ids(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Reads a merged queue to the end, `limit` at a time; every page must say
/// it is complete (`partial: false`).
async fn read_all(stack: &TestStack, token: &str, path: &str, limit: u32) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let p = page(stack, token, &url).await;
        assert_eq!(p["partial"], false, "{p}");
        assert!(p["items"].as_array().unwrap().len() <= limit as usize);
        seen.extend(ids(&p));
        match p["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
    panic!("the queue never ended: {seen:?}");
}

async fn merged_queues_order_across_services(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);

    // Intake: licensing, construction, licensing — in submission order.
    let project = register(&stack, &alice, &project_code(1), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap().to_owned();
    let store_1 = submit_licensing(&stack, &alice, "convenience_store", store()).await;
    let stage = submit_stage(&stack, &alice, &pid, "land_planning").await;
    let store_2 = submit_licensing(&stack, &alice, "restaurant", restaurant()).await;
    let want_intake = vec![
        (
            "licensing".to_owned(),
            store_1["id"].as_str().unwrap().to_owned(),
        ),
        (
            "construction".to_owned(),
            stage["id"].as_str().unwrap().to_owned(),
        ),
        (
            "licensing".to_owned(),
            store_2["id"].as_str().unwrap().to_owned(),
        ),
    ];
    for limit in [1, 2, 50] {
        assert_eq!(
            read_all(&stack, &clerk, "/api/v1/queues/intake", limit).await,
            want_intake,
            "limit {limit}"
        );
    }
    let first = page(&stack, &clerk, "/api/v1/queues/intake?limit=1").await;
    let entry = &first["items"][0];
    assert_eq!(entry["kind"], "application");
    assert_eq!(entry["status"], "submitted");
    assert_eq!(entry["enterprise_uscc"], ENTERPRISE_A);
    assert_eq!(
        entry["page"],
        format!("/window/licensing/{}", want_intake[0].1)
    );
    // `type` narrows to one service.
    let only = read_all(
        &stack,
        &clerk,
        "/api/v1/queues/intake?type=construction",
        10,
    )
    .await;
    assert_eq!(only, vec![want_intake[1].clone()]);

    // Tasks: the urban-management reviewer's queue holds the store's
    // outdoor sign permit and the construction road-occupation task (both
    // due in 3 working days; a tie goes to licensing), then the
    // restaurant's drainage permit (5) — the construction task between the
    // two licensing ones, though it was accepted last.
    let clerk_con = stack.staff("clerk-1", Role::WindowClerk);
    json_ok(
        stack
            .post_json(
                con(
                    &stack,
                    &format!("/api/v1/stages/{}/intake", want_intake[1].1),
                ),
                &clerk_con,
                &json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    let land = crate::construction::stage_of(&stack, &alice, &want_intake[1].1).await;
    approve_all(&stack, &land).await;
    accept_licensing(&stack, &want_intake[0].1).await;
    accept_licensing(&stack, &want_intake[2].1).await;
    let engineering = file_and_accept(&stack, &alice, &pid, "engineering_permit", false).await;
    let road = engineering["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["item_code"] == "road_occupation")
        .expect("road occupation task")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let urban = reviewer(&stack, "urban_management");
    let tasks = read_all(&stack, &urban, "/api/v1/queues/tasks", 1).await;
    let sources: Vec<&str> = tasks.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        sources,
        ["licensing", "construction", "licensing"],
        "{tasks:?}"
    );
    assert_eq!(tasks[1].1, road);
    let full = page(&stack, &urban, "/api/v1/queues/tasks").await;
    let remaining: Vec<f64> = full["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["remaining_working_days"].as_f64().unwrap())
        .collect();
    assert!(
        remaining.windows(2).all(|w| w[0] <= w[1]),
        "least time left first: {remaining:?}"
    );
    assert_eq!(full["items"][1]["sla_state"], "on_time");
    assert_eq!(full["items"][1]["department_code"], "urban_management");
    assert_eq!(
        full["items"][1]["page"],
        format!("/review/construction/tasks/{road}")
    );
    assert!(
        full["items"][0]["page"]
            .as_str()
            .unwrap()
            .ends_with(&format!("?application={}", want_intake[0].1)),
        "a licensing task page names its application: {}",
        full["items"][0]
    );
    // Filters: one service; an SLA state nothing is in; a status.
    assert_eq!(
        read_all(&stack, &urban, "/api/v1/queues/tasks?type=licensing", 2)
            .await
            .len(),
        2
    );
    assert!(
        read_all(&stack, &urban, "/api/v1/queues/tasks?sla=overdue", 2)
            .await
            .is_empty()
    );
    assert_eq!(
        read_all(&stack, &urban, "/api/v1/queues/tasks?sla=on_time", 1)
            .await
            .len(),
        3
    );
    assert!(
        read_all(&stack, &urban, "/api/v1/queues/tasks?status=approved", 5)
            .await
            .is_empty()
    );
    // The intake queue is empty now: everything was accepted.
    assert!(
        read_all(&stack, &clerk, "/api/v1/queues/intake", 5)
            .await
            .is_empty()
    );

    // A partner system with `queues:read` reads the same queues; for tasks
    // it names the department.
    let window_system = partner(&stack, &["queues:read"]);
    let via_partner = read_all(
        &stack,
        &window_system,
        "/api/v1/queues/tasks?dept=urban_management",
        10,
    )
    .await;
    assert_eq!(via_partner, tasks);
    stack.stop().await;
}

async fn merged_queues_refuse_who_may_not_read_them(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Construction, Service::Portal],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let urban = reviewer(&stack, "urban_management");
    let cases: Vec<(&str, String, &str, u16)> = vec![
        ("applicant", alice.clone(), "/api/v1/queues/intake", 403),
        ("applicant", alice.clone(), "/api/v1/queues/tasks", 403),
        ("applicant", alice.clone(), "/api/v1/queues/hand-out", 403),
        ("reviewer", urban.clone(), "/api/v1/queues/intake", 403),
        ("reviewer", urban.clone(), "/api/v1/queues/hand-out", 403),
        ("clerk", clerk.clone(), "/api/v1/queues/tasks", 403),
        (
            "reviewer of another dept",
            urban.clone(),
            "/api/v1/queues/tasks?dept=health",
            403,
        ),
        (
            "partner without scope",
            partner(&stack, &[]),
            "/api/v1/queues/intake",
            403,
        ),
        (
            "partner without dept",
            partner(&stack, &["queues:read"]),
            "/api/v1/queues/tasks",
            422,
        ),
        (
            "bad type",
            clerk.clone(),
            "/api/v1/queues/intake?type=everything",
            422,
        ),
        (
            "bad sla",
            urban.clone(),
            "/api/v1/queues/tasks?sla=late",
            422,
        ),
        (
            "sla on intake",
            clerk.clone(),
            "/api/v1/queues/intake?sla=overdue",
            422,
        ),
        (
            "bad cursor",
            clerk.clone(),
            "/api/v1/queues/intake?cursor=@@",
            422,
        ),
        (
            "bad limit",
            clerk.clone(),
            "/api/v1/queues/intake?limit=0",
            422,
        ),
    ];
    for (who, token, path, status) in cases {
        let response = stack.get(portal(&stack, path), &token).await;
        assert_eq!(response.status().as_u16(), status, "{who} {path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json"),
            "{who} {path}"
        );
        let body: Value = response.json().await.unwrap();
        if status == 422 {
            let field = body["errors"][0]["field"].as_str().unwrap_or_default();
            assert!(
                ["type", "sla", "cursor", "limit", "dept"].contains(&field),
                "{who}: a 422 names its field: {body}"
            );
        }
    }
    let anonymous = stack
        .client
        .get(portal(&stack, "/api/v1/queues/intake"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // The allowed callers get pages.
    for (token, path) in [
        (&clerk, "/api/v1/queues/intake"),
        (&clerk, "/api/v1/queues/hand-out"),
        (&urban, "/api/v1/queues/tasks"),
    ] {
        let p = page(&stack, token, path).await;
        assert_eq!(p["partial"], false);
    }
    stack.stop().await;
}

async fn merged_queue_is_partial_while_a_source_is_stopped(backend: Backend) {
    let mut stack = TestStack::start(
        &[Service::Licensing, Service::Construction, Service::Portal],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let answers = json!({"sells_food": false, "sells_tobacco": false, "outdoor_sign": false});
    let notice = crate::licensing_more::notice(&stack, "convenience_store", &answers).await;
    let app = json_ok(
        stack
            .post_json(
                lic(&stack, "/api/v1/applications"),
                &alice,
                &json!({
                    "scenario": "convenience_store",
                    "answers": answers,
                    "enterprise_uscc": ENTERPRISE_A,
                    "form": {
                        "enterprise_name": "一站便利店有限公司",
                        "legal_rep_name": "钱七",
                        "legal_rep_id_no": "11010519491231002X",
                        "contact_phone": "0591-87654321",
                        "business_address": "福州市台江区八一七中路 2 号",
                        "registered_capital_wan": 50,
                        "business_scope": "日用百货零售",
                    },
                    "materials": crate::licensing::materials_for(&notice),
                }),
            )
            .await,
        201,
    )
    .await;
    let project = register(&stack, &alice, &project_code(2), "small_low_risk", true).await;
    let stage = submit_stage(
        &stack,
        &alice,
        project["id"].as_str().unwrap(),
        "land_planning",
    )
    .await;
    let both = page(&stack, &clerk, "/api/v1/queues/intake").await;
    assert_eq!(both["items"].as_array().unwrap().len(), 2);
    assert_eq!(both["partial"], false);

    // Stop the construction service; the portal keeps its old address,
    // where nothing answers now.
    let stopped = stack.url(Service::Construction, "");
    stack.settings_mut().services.portal.construction_url = Some(stopped);
    stack.restart(&[Service::Licensing, Service::Portal]).await;
    let partial = page(&stack, &clerk, "/api/v1/queues/intake").await;
    assert_eq!(partial["partial"], true, "{partial}");
    assert_eq!(partial["unavailable"][0]["source"], "construction");
    assert!(
        partial["unavailable"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("工程建设项目审批服务")
    );
    assert_eq!(
        ids(&partial),
        vec![(
            "licensing".to_owned(),
            app["id"].as_str().unwrap().to_owned()
        )]
    );
    // The clerk's page says so too, above the items it has.
    let page_html = stack
        .client
        .get(portal(&stack, "/window/intake"))
        .header(reqwest::header::COOKIE, format!("yizhan_session={clerk}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page_html.contains("data-testid=\"partial\""), "{page_html}");
    assert!(page_html.contains("工程建设项目审批服务"));
    assert!(page_html.contains(&format!("data-entry=\"{}\"", app["id"].as_str().unwrap())));
    // Only construction asked for: nothing answers at all.
    expect_problem(
        stack
            .get(
                portal(&stack, "/api/v1/queues/intake?type=construction"),
                &clerk,
            )
            .await,
        503,
        "service_unavailable",
    )
    .await;

    // Back up: the construction stage is there again, nothing was lost.
    stack.settings_mut().services.portal.construction_url = None;
    stack
        .restart(&[Service::Licensing, Service::Construction, Service::Portal])
        .await;
    let again = page(&stack, &clerk, "/api/v1/queues/intake").await;
    assert_eq!(again["partial"], false);
    assert!(
        ids(&again).contains(&(
            "construction".to_owned(),
            stage["id"].as_str().unwrap().to_owned()
        )),
        "{again}"
    );
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    merged_queues_order_across_services,
    merged_queues_refuse_who_may_not_read_them,
    merged_queue_is_partial_while_a_source_is_stopped,
);
