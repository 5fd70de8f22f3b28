//! Security probes over HTTP, as an attacker would try them: references to
//! another tenant's data, and claims honoured only for the role they
//! belong to.

use std::time::Duration;

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_events::Envelope;
use yizhan_events::contracts::{DeadlineApproaching, DeadlineLimit, DeadlineNotice, topics};
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::construction::{filled, project_code, register, submit_stage, supply_to};

/// The field errors of a 422 as (field, code).
async fn field_errors(response: reqwest::Response) -> Vec<(String, String)> {
    let problem = expect_problem(response, 422, "validation_failed").await;
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Material ids an attacker might file in enterprise A's project, each
/// with the field-error code the engine must answer: B's material (unknown
/// to A's applicant, who cannot see it), an id nobody issued, and text
/// that is no id at all. Answers (label, id, code).
async fn hostile_ids(stack: &TestStack, code: &str) -> Vec<(&'static str, String, &'static str)> {
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let bobs = materials_for_codes(stack, &bob, None, &[code.to_owned()]).await;
    vec![
        (
            "another enterprise's material",
            bobs[code].as_str().unwrap().to_owned(),
            "unknown_material",
        ),
        (
            "a random UUID",
            uuid::Uuid::new_v4().to_string(),
            "unknown_material",
        ),
        ("not an id", "not-a-uuid".to_owned(), "unknown_material"),
    ]
}

/// Construction checks every material id against the document service as
/// the caller: a stage filed (or 容缺 materials supplied) with another
/// enterprise's material, a made-up UUID or garbage is a 422 naming the
/// material's field, and nothing is recorded. An agent both enterprises
/// authorised can see B's material, and is still refused filing it in A's
/// project.
async fn construction_refuses_other_tenants_and_made_up_material_ids(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let both = agent(&stack, "agent-both", &[ENTERPRISE_A, ENTERPRISE_B]);

    // Filing a stage.
    let project = register(&stack, &alice, &project_code(950), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let (form, materials) = filled(&stack, &alice, pid, "land_planning", &[]).await;
    let materials = materials.as_object().unwrap().clone();
    let code = materials.keys().next().unwrap().clone();
    let field = format!("materials.{code}");
    for (label, id, want) in hostile_ids(&stack, &code).await {
        let mut hostile = materials.clone();
        hostile.insert(code.clone(), json!(id));
        let body = json!({"stage": "land_planning", "form": form, "materials": hostile});
        let errors = field_errors(submit_stage(&stack, &alice, pid, &body).await).await;
        assert_eq!(
            errors,
            vec![(field.clone(), want.to_owned())],
            "{label} filed by the applicant"
        );
    }
    let bobs_material = materials_for_codes(&stack, &bob, None, std::slice::from_ref(&code)).await;
    let mut hostile = materials.clone();
    hostile.insert(code.clone(), bobs_material[&code].clone());
    let body = json!({"stage": "land_planning", "form": form, "materials": hostile});
    let errors = field_errors(submit_stage(&stack, &both, pid, &body).await).await;
    assert_eq!(
        errors,
        vec![(field.clone(), "material_not_owned".to_owned())],
        "B's material filed in A's project by an agent of both"
    );
    let after = crate::construction::project_of(&stack, &alice, pid).await;
    assert!(after["stages"].as_array().unwrap().is_empty(), "{after}");

    // Supplying materials owed under 容缺受理.
    let project = register(&stack, &alice, &project_code(951), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let stage = crate::construction::tolerance_stage(&stack, &alice, pid).await;
    let sid = stage["id"].as_str().unwrap();
    let owed = "legal_rep_id_card";
    let field = format!("materials.{owed}");
    for (label, id, want) in hostile_ids(&stack, owed).await {
        let body = json!({"materials": {owed: id}});
        let errors = field_errors(supply_to(&stack, &alice, sid, body).await).await;
        assert_eq!(
            errors,
            vec![(field.clone(), want.to_owned())],
            "{label} supplied by the applicant"
        );
    }
    let bobs_material = materials_for_codes(&stack, &bob, None, &[owed.to_owned()]).await;
    let body = json!({"materials": {owed: bobs_material[owed]}});
    let errors = field_errors(supply_to(&stack, &both, sid, body).await).await;
    assert_eq!(
        errors,
        vec![(field.clone(), "material_not_owned".to_owned())],
        "B's material supplied to A's stage by an agent of both"
    );
    let unchanged = crate::construction::stage_of(&stack, &alice, sid).await;
    assert_eq!(
        unchanged["owed_materials"].as_array().unwrap().len(),
        2,
        "nothing was recorded: {unchanged}"
    );
    // The applicant's own material of the owed type is taken.
    let own = materials_for_codes(&stack, &alice, None, &[owed.to_owned()]).await;
    let supplied: Value = json_ok(
        supply_to(&stack, &alice, sid, json!({"materials": {owed: own[owed]}})).await,
        200,
    )
    .await;
    assert_eq!(
        supplied["owed_materials"].as_array().unwrap().len(),
        1,
        "{supplied}"
    );
    stack.stop().await;
}

/// The inbox honours an `enterprises` claim only on an agent's token: a
/// clerk, an admin or another enterprise's applicant whose token carries
/// `enterprises: [A]` sees none of A's messages; A's agent does.
async fn inbox_honours_the_enterprises_claim_only_for_agents(backend: Backend) {
    let stack = TestStack::start(&[Service::Notification], backend).await;
    let warning = DeadlineApproaching(DeadlineNotice {
        task_id: "task-9".into(),
        application_id: "app-9".into(),
        project_id: None,
        item_code: "SC-001".into(),
        item_name: "食品经营许可".into(),
        department_code: "market_supervision".into(),
        reviewer_sub: None,
        applicant_uscc: ENTERPRISE_A.into(),
        applicant_sub: None,
        due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        limit_kind: DeadlineLimit::Committed,
        working_days_remaining: 2,
    });
    let envelope = Envelope::new("/yizhan/licensing", &warning, None);
    crate::webhooks::produce_to(&stack.brokers, topics::LICENSING, &envelope).await;
    let inbox = stack.url(Service::Notification, "/api/v1/inbox/messages?limit=50");
    let count = |token: String| {
        let (stack, inbox) = (&stack, inbox.clone());
        async move {
            stack.get_json(&inbox, &token).await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let a_agent = agent(&stack, "agent-a", &[ENTERPRISE_A]);
    eventually(
        "the warning in A's agent's inbox",
        Duration::from_secs(60),
        || async { (count(a_agent.clone()).await == 1).then_some(()) },
    )
    .await;
    let claiming = |sub: &str, role: Role, uscc: Option<&str>| {
        stack.token(TokenRequest {
            sub: sub.into(),
            roles: vec![role],
            uscc: uscc.map(str::to_owned),
            enterprises: vec![ENTERPRISE_A.into()],
            ttl_secs: 600,
            ..Default::default()
        })
    };
    for (who, token) in [
        ("a clerk", claiming("clerk-9", Role::WindowClerk, None)),
        ("an admin", claiming("admin-9", Role::Admin, None)),
        (
            "B's applicant",
            claiming("bob-9", Role::Applicant, Some(ENTERPRISE_B)),
        ),
    ] {
        assert_eq!(count(token.clone()).await, 0, "{who} with enterprises [A]");
        let unread = stack
            .get_json(
                stack.url(Service::Notification, "/api/v1/inbox/unread-count"),
                &token,
            )
            .await;
        assert_eq!(unread["unread"], 0, "{who} with enterprises [A]: {unread}");
    }
    // A's own applicant still sees it, by the `uscc` claim.
    assert_eq!(count(stack.applicant("alice-9", ENTERPRISE_A)).await, 1);
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    construction_refuses_other_tenants_and_made_up_material_ids,
    inbox_honours_the_enterprises_claim_only_for_agents,
);

/// SQLite database files (and their `-wal` and `-shm`) are created
/// readable by their owner only: licensing.db holds legal
/// representatives' ID numbers. SQLite only: PostgreSQL keeps its own files.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_database_files_are_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let stack = TestStack::start(&[Service::Licensing, Service::Document], Backend::Sqlite).await;
    // A write, so the write-ahead log and its index exist.
    upload_one(&stack, &stack.applicant("alice", ENTERPRISE_A)).await;
    for service in [Service::Licensing, Service::Document] {
        let url = stack.database_url(service);
        let path = url
            .strip_prefix("sqlite://")
            .and_then(|rest| rest.split('?').next())
            .unwrap()
            .to_owned();
        let mut checked = 0;
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{path}{suffix}");
            let Ok(meta) = std::fs::metadata(&file) else {
                assert!(!suffix.is_empty(), "{file} exists");
                continue;
            };
            let mode = meta.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file} has mode {mode:o}");
            checked += 1;
        }
        assert!(checked >= 2, "the database and its WAL files of {path}");
    }
    stack.stop().await;
}
