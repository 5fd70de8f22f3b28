//! Security probes over HTTP, as an attacker would try them: references to
//! another tenant's data.

use serde_json::{Value, json};
use yizhan::Service;
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

yizhan_kit::backend_tests!(construction_refuses_other_tenants_and_made_up_material_ids,);

