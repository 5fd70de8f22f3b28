//! 好差评 of concluded approvals in the stack: a licensing application
//! (from its events, applied twice) and a construction stage carried
//! through the construction service, the broker and the enterprise
//! service's consumer, with a bad rating opening the follow-up in the
//! department that decided last.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::construction::{file_and_accept, project_code, register};

fn url(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Enterprise, path)
}

/// A concluded licensing application becomes rateable by its applicant,
/// with the department that decided last as the responsible one; events
/// applied twice change nothing.
async fn a_concluded_application_is_rateable_by_its_applicant(backend: Backend) {
    use yizhan_events::Envelope;
    use yizhan_events::contracts::{Actor, BundleApproved, CertificateItem, TaskDecided};
    let stack = TestStack::start(&[Service::Enterprise], backend).await;
    let db = stack.connect(Service::Enterprise).await;
    let decided = TaskDecided {
        task_id: "task-1".into(),
        application_id: "app-1".into(),
        item_code: "food_business_licence".into(),
        item_name: Some("食品经营许可".into()),
        department_code: "market_supervision".into(),
        department_name: Some("市场监督管理局".into()),
        enterprise_uscc: ENTERPRISE_A.into(),
        decision: "approve".into(),
        blzt: 11,
        permit_number: Some("JY-1".into()),
        reasons: None,
        actor: Actor {
            sub: "reviewer-market_supervision".into(),
            role: "dept_reviewer".into(),
        },
        at: Utc::now(),
    };
    let approved = BundleApproved {
        application_id: "app-1".into(),
        number: None,
        enterprise_uscc: ENTERPRISE_A.into(),
        items: vec![CertificateItem {
            item_code: "food_business_licence".into(),
            item_name: "食品经营许可".into(),
            department: "市场监督管理局".into(),
            permit_number: "JY-1".into(),
        }],
        at: Utc::now(),
    };
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    // Decided but not concluded: nothing to rate yet.
    let apply = |event: Envelope| {
        let db = db.clone();
        async move {
            let txn = yizhan_kit::db::begin_write(&db).await.unwrap();
            yizhan_enterprise::handlers::rateable::apply(&txn, &event)
                .await
                .unwrap();
            txn.commit().await.unwrap();
        }
    };
    apply(Envelope::new("/yizhan/licensing", &decided, None)).await;
    let none = stack
        .get_json(url(&stack, "/api/v1/rateables"), &alice)
        .await;
    assert!(none["rateables"].as_array().unwrap().is_empty());
    for _ in 0..2 {
        apply(Envelope::new("/yizhan/licensing", &approved, None)).await;
    }
    let listed = stack
        .get_json(url(&stack, "/api/v1/rateables"), &alice)
        .await;
    let rateables = listed["rateables"].as_array().unwrap();
    assert_eq!(rateables.len(), 1);
    assert_eq!(rateables[0]["subject_name"], "一业一证申请");
    assert_eq!(rateables[0]["item_name"], "食品经营许可");
    assert_eq!(rateables[0]["department_name"], "市场监督管理局");
    let id = rateables[0]["id"].as_str().unwrap();
    expect_problem(
        stack
            .post_json(
                url(&stack, "/api/v1/ratings"),
                &bob,
                &json!({"rateable_id": id, "score": 5}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    let rated = json_ok(
        stack
            .post_json(
                url(&stack, "/api/v1/ratings"),
                &alice,
                &json!({"rateable_id": id, "score": 5}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(rated["score_name"], "非常满意");
    assert!(
        rated["follow_up"].is_null(),
        "a good rating opens no follow-up"
    );
    let market = stack
        .get_json(
            url(&stack, "/api/v1/ratings"),
            &reviewer(&stack, "market_supervision"),
        )
        .await;
    assert_eq!(market["items"].as_array().unwrap().len(), 1);
    // One rating is read by whoever may list it, and by no one else.
    let one = url(
        &stack,
        &format!("/api/v1/ratings/{}", rated["id"].as_str().unwrap()),
    );
    let seen = json_ok(
        stack
            .get(&one, &reviewer(&stack, "market_supervision"))
            .await,
        200,
    )
    .await;
    assert_eq!(seen["id"], rated["id"]);
    assert_eq!(seen["score_name"], "非常满意");
    json_ok(stack.get(&one, &alice).await, 200).await;
    for outsider in [&bob, &reviewer(&stack, "tax_bureau")] {
        expect_problem(stack.get(&one, outsider).await, 404, "not_found").await;
    }
    expect_problem(
        stack
            .get(&one, &stack.staff("clerk-1", Role::WindowClerk))
            .await,
        403,
        "forbidden",
    )
    .await;
    stack.stop().await;
}

/// A construction stage that completes through the real services becomes
/// rateable by its builder, named by the stage, with the department that
/// decided last responsible; a 差评 opens that department's follow-up, and
/// another enterprise sees nothing.
async fn a_completed_construction_stage_is_rated_by_its_builder(backend: Backend) {
    let stack = TestStack::start(
        &[
            Service::Construction,
            Service::Document,
            Service::Enterprise,
        ],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let project = register(&stack, &alice, &project_code(61), "small_low_risk", true).await;
    let pid = project["id"].as_str().unwrap();
    let stage = file_and_accept(&stack, &alice, pid, "land_planning", false).await;
    // Approve in order, remembering the department that decides last.
    let mut last_department = None;
    for t in stage["tasks"].as_array().unwrap() {
        if t["status"] != "in_review" || t["pre_approved"] == true {
            continue;
        }
        let dept = t["department_code"].as_str().unwrap();
        json_ok(
            stack
                .post_json(
                    stack.url(
                        Service::Construction,
                        &format!("/api/v1/tasks/{}/decision", t["id"].as_str().unwrap()),
                    ),
                    &reviewer(&stack, dept),
                    &json!({"decision": "approve", "permit_number": format!("PJ-{dept}")}),
                )
                .await,
            200,
        )
        .await;
        last_department = Some(dept.to_owned());
    }
    let last_code = last_department.expect("the stage had tasks to decide");
    let rateable = eventually("the stage is rateable", Duration::from_secs(60), || async {
        let listed = stack
            .get_json(url(&stack, "/api/v1/rateables"), &alice)
            .await;
        listed["rateables"]
            .as_array()
            .and_then(|r| r.first().cloned())
    })
    .await;
    assert_eq!(rateable["subject_name"], "工程建设项目审批阶段");
    assert_eq!(rateable["case_id"], stage["id"]);
    let last_name = rateable["department_name"].clone();
    assert!(
        last_name
            .as_str()
            .is_some_and(|n| !n.is_empty() && !n.contains('_')),
        "the department by its Chinese name: {rateable}"
    );
    assert!(
        !rateable["item_name"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
            && !rateable["item_name"].as_str().unwrap().contains('_'),
        "the stage by its Chinese name: {rateable}"
    );
    let bobs = stack.get_json(url(&stack, "/api/v1/rateables"), &bob).await;
    assert!(bobs["rateables"].as_array().unwrap().is_empty());
    let rated = json_ok(
        stack
            .post_json(
                url(&stack, "/api/v1/ratings"),
                &alice,
                &json!({"rateable_id": rateable["id"], "score": 1, "comment": "现场踏勘约了三次"}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(rated["follow_up_name"], "待核实");
    assert_eq!(rated["department_name"], last_name);
    let queue = stack
        .get_json(
            url(&stack, "/api/v1/ratings"),
            &reviewer(&stack, &last_code),
        )
        .await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == rated["id"]),
        "the deciding department follows it up: {queue}"
    );
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    a_concluded_application_is_rateable_by_its_applicant,
    a_completed_construction_stage_is_rated_by_its_builder
);
