//! The queues the portal merges: the window's intake and hand-out lists and
//! the department review queues of licensing and construction, read with
//! per-item cursors (a merged page continues each list right after the last
//! item it used), in submission order for the window, by partners holding
//! `queues:read`; and the window's hand-out of a construction stage result.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::construction::{
    approve_all, con, file_and_accept, filled, partner, project_code, project_of, register,
    stage_of, submit_stage,
};
use crate::licensing::{lic, submitted_store};

const WAIT: Duration = Duration::from_secs(60);

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every id of the list at `url` (which has a query string), following
/// `next_cursor` two items at a time.
async fn all_pages(stack: &TestStack, url: &str, token: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_url = match &cursor {
            Some(c) => format!("{url}&limit=2&cursor={c}"),
            None => format!("{url}&limit=2"),
        };
        let page = json_ok(stack.get(page_url, token).await, 200).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
    }
}

/// Reads the whole list at `url` (which has a query string) in one page and
/// checks that every item's `cursor` is exactly the `next_cursor` of a page
/// ending at that item, and that passing it continues the list at the next
/// item. Answers the items.
async fn assert_item_cursors_continue(stack: &TestStack, url: &str, token: &str) -> Vec<Value> {
    let full = json_ok(stack.get(format!("{url}&limit=100"), token).await, 200).await;
    assert!(full["next_cursor"].is_null(), "{full}");
    let items = full["items"].as_array().unwrap().clone();
    assert!(items.len() >= 3, "too few items to tell: {full}");
    let all = ids(&full);
    for (k, item) in items.iter().enumerate() {
        let cursor = item["cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("item {k} has no cursor: {item}"));
        let next = json_ok(
            stack
                .get(format!("{url}&limit=2&cursor={cursor}"), token)
                .await,
            200,
        )
        .await;
        let want: Vec<String> = all[k + 1..].iter().take(2).cloned().collect();
        assert_eq!(ids(&next), want, "the list after item {k}");
        if k + 1 < items.len() {
            let ending_here = json_ok(
                stack.get(format!("{url}&limit={}", k + 1), token).await,
                200,
            )
            .await;
            assert_eq!(ending_here["next_cursor"], item["cursor"], "item {k}");
        }
    }
    items
}

/// A partner (`portal`, with `queues:read`) naming `dept` reads the same
/// queue at `url` as its reviewer did (`tasks`), cursors and all; without
/// `dept` it is told to name one.
async fn partner_reads_queue(
    stack: &TestStack,
    url: &str,
    dept: &str,
    portal: &str,
    tasks: &[Value],
) {
    let via_portal =
        assert_item_cursors_continue(stack, &format!("{url}&dept={dept}"), portal).await;
    assert_eq!(
        via_portal.iter().map(|t| &t["id"]).collect::<Vec<_>>(),
        tasks.iter().map(|t| &t["id"]).collect::<Vec<_>>()
    );
    let problem = expect_problem(stack.get(url, portal).await, 422, "validation_failed").await;
    assert_eq!(field_of(&problem), "dept");
}

/// Tasks inside a detail view carry no cursor: only list pages do.
fn assert_no_task_cursors(detail: &Value) {
    let tasks = detail["tasks"].as_array().unwrap();
    assert!(!tasks.is_empty(), "{detail}");
    assert!(tasks.iter().all(|t| t.get("cursor").is_none()), "{detail}");
}

fn field_of(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap()
}

async fn licensing_queues_cursors_order_and_partners(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);

    // Five submissions of two enterprises, interleaved.
    let mut created = Vec::new();
    for (token, uscc) in [
        (&alice, ENTERPRISE_A),
        (&bob, ENTERPRISE_B),
        (&alice, ENTERPRISE_A),
        (&bob, ENTERPRISE_B),
        (&alice, ENTERPRISE_A),
    ] {
        let (app, _) = submitted_store(&stack, token, uscc).await;
        created.push(app["id"].as_str().unwrap().to_owned());
    }
    let mut newest_first = created.clone();
    newest_first.reverse();

    // The window's intake queue: oldest first, paged in submission order.
    let intake = lic(&stack, "/api/v1/applications?status=submitted");
    let oldest = format!("{intake}&order=oldest_first");
    assert_eq!(all_pages(&stack, &oldest, &clerk).await, created);
    assert_eq!(all_pages(&stack, &intake, &clerk).await, newest_first);
    assert_eq!(
        all_pages(&stack, &format!("{intake}&order=newest_first"), &clerk).await,
        newest_first
    );
    let items = assert_item_cursors_continue(&stack, &oldest, &clerk).await;
    assert_eq!(items[0]["enterprise_uscc"], ENTERPRISE_A);
    assert_eq!(items[0]["status_name"], "已接件");
    assert_item_cursors_continue(&stack, &intake, &clerk).await;
    let problem = expect_problem(
        stack.get(format!("{intake}&order=bogus"), &clerk).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_of(&problem), "order");

    // Accepting three puts a tobacco task each in that department's queue
    // and leaves the other two in the intake queue.
    for id in &created[..3] {
        json_ok(
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
    }
    assert_eq!(all_pages(&stack, &oldest, &clerk).await, created[3..]);
    let tobacco = reviewer(&stack, "tobacco");
    let queue = lic(&stack, "/api/v1/tasks?status=in_review");
    let tasks = assert_item_cursors_continue(&stack, &queue, &tobacco).await;
    assert_eq!(tasks.len(), 3);
    // The application detail's tasks carry no cursor: only list pages do.
    let detail = json_ok(
        stack
            .get(
                lic(&stack, &format!("/api/v1/applications/{}", created[0])),
                &clerk,
            )
            .await,
        200,
    )
    .await;
    assert_no_task_cursors(&detail);

    // A reviewer may repeat their department, never name another.
    let own = json_ok(
        stack.get(format!("{queue}&dept=tobacco"), &tobacco).await,
        200,
    )
    .await;
    assert_eq!(own["items"].as_array().unwrap().len(), 3);
    expect_problem(
        stack.get(format!("{queue}&dept=fire"), &tobacco).await,
        403,
        "forbidden",
    )
    .await;

    // A partner with queues:read reads every enterprise's applications and
    // any department's queue it names; the same cursors work for it.
    let portal = partner(&stack, &["queues:read"]);
    let everyone = all_pages(
        &stack,
        &lic(&stack, "/api/v1/applications?order=oldest_first"),
        &portal,
    )
    .await;
    assert_eq!(everyone, created);
    partner_reads_queue(&stack, &queue, "tobacco", &portal, &tasks).await;
    let problem = expect_problem(
        stack
            .get(format!("{queue}&dept=no_such_dept"), &portal)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_of(&problem), "dept");
    // Read-only: the window's actions stay the window's.
    expect_problem(
        stack
            .post_json(
                lic(
                    &stack,
                    &format!("/api/v1/applications/{}/intake", created[3]),
                ),
                &portal,
                &json!({"decision": "accept"}),
            )
            .await,
        403,
        "forbidden",
    )
    .await;

    // Without the scope a partner reads neither list.
    let other = partner(&stack, &["construction:read"]);
    for url in [
        lic(&stack, "/api/v1/applications"),
        format!("{queue}&dept=tobacco"),
    ] {
        expect_problem(stack.get(url, &other).await, 403, "forbidden").await;
    }
    stack.stop().await;
}

/// Registers a project of enterprise A (land granted) and files its first
/// stage: accepted by the window, or only submitted.
async fn project_with_first_stage(stack: &TestStack, n: u32, accept: bool) -> Value {
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let project = register(stack, &alice, &project_code(n), "small_low_risk", true).await;
    let id = project["id"].as_str().unwrap();
    if accept {
        return file_and_accept(stack, &alice, id, "land_planning", false).await;
    }
    let (form, materials) = filled(stack, &alice, id, "land_planning", &[]).await;
    json_ok(
        submit_stage(
            stack,
            &alice,
            id,
            &json!({"stage": "land_planning", "form": form, "materials": materials}),
        )
        .await,
        201,
    )
    .await
}

async fn construction_queues_cursors_stage_list_and_partners(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let admin = stack.staff("admin-1", Role::Admin);

    let mut accepted = Vec::new();
    for n in 0..3 {
        accepted.push(project_with_first_stage(&stack, 60 + n, true).await);
    }
    let waiting = project_with_first_stage(&stack, 63, false).await;
    let stage_ids: Vec<String> = accepted
        .iter()
        .chain([&waiting])
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();

    // The department queue: every item's cursor continues the list.
    let dept = accepted[0]["tasks"][0]["department_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue = con(&stack, "/api/v1/tasks?status=in_review");
    let tasks = assert_item_cursors_continue(&stack, &queue, &reviewer(&stack, &dept)).await;
    assert_eq!(tasks.len(), 3);
    assert!(tasks.iter().all(|t| t["department_code"] == dept.as_str()));
    // The stage detail's tasks carry no cursor.
    let detail = stage_of(&stack, &alice, &stage_ids[0]).await;
    assert_no_task_cursors(&detail);

    // The window's stage list: oldest first across projects, filtered by
    // status, each item with its project and its own cursor.
    let stages = con(&stack, "/api/v1/stages?");
    assert_eq!(all_pages(&stack, &stages, &clerk).await, stage_ids);
    let in_review = con(&stack, "/api/v1/stages?status=in_review");
    let items = assert_item_cursors_continue(&stack, &in_review, &clerk).await;
    assert_eq!(
        items
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        stage_ids[..3]
    );
    let submitted = json_ok(
        stack
            .get(con(&stack, "/api/v1/stages?status=submitted"), &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&submitted), stage_ids[3..]);
    let item = &submitted["items"][0];
    assert_eq!(item["project_id"], waiting["project_id"]);
    assert_eq!(item["project_code"], project_code(63));
    assert_eq!(item["project_name"], "福州一站科创园配套仓储用房");
    assert_eq!(item["builder_uscc"], ENTERPRISE_A);
    assert_eq!(item["builder_name"], "福州一站科技有限公司");
    assert_eq!(item["stage"], "land_planning");
    assert_eq!(item["status"], "submitted");
    assert_eq!(item["status_name"], "已接件");
    assert_eq!(item["blzt"], 1);
    assert!(item["stage_name"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(item["cursor"].is_string());
    assert!(item["handed_out_at"].is_null() && item["certificate_id"].is_null());
    for (query, field) in [("status=bogus", "status"), ("awaiting=bogus", "awaiting")] {
        let problem = expect_problem(
            stack
                .get(con(&stack, &format!("/api/v1/stages?{query}")), &clerk)
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_of(&problem), field);
    }
    for token in [&alice, &reviewer(&stack, &dept)] {
        expect_problem(stack.get(stages.clone(), token).await, 403, "forbidden").await;
    }

    // A partner with queues:read reads the stage list and names the
    // department of the queue it reads; without the scope it reads neither.
    let portal = partner(&stack, &["queues:read"]);
    assert_eq!(
        ids(&json_ok(
            stack
                .get(con(&stack, "/api/v1/stages?status=submitted"), &portal)
                .await,
            200
        )
        .await),
        stage_ids[3..]
    );
    partner_reads_queue(&stack, &queue, &dept, &portal, &tasks).await;
    expect_problem(
        stack
            .get(
                format!("{queue}&dept=fire_review"),
                &reviewer(&stack, &dept),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    let other = partner(&stack, &["construction:read"]);
    for url in [stages.clone(), format!("{queue}&dept={dept}")] {
        expect_problem(stack.get(url, &other).await, 403, "forbidden").await;
    }
    stack.stop().await;
}

async fn hand_out(stack: &TestStack, token: &str, stage_id: &str) -> reqwest::Response {
    stack
        .post(
            con(stack, &format!("/api/v1/stages/{stage_id}/hand-out")),
            token,
        )
        .await
}

async fn stage_result_hand_out(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction, Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);

    // Three stages through to the construction permit, which the document
    // service issues.
    let project = register(&stack, &alice, &project_code(70), "small_low_risk", true).await;
    let project_id = project["id"].as_str().unwrap();
    let mut done = Vec::new();
    for stage in ["land_planning", "engineering_permit", "construction_permit"] {
        let accepted = file_and_accept(&stack, &alice, project_id, stage, false).await;
        approve_all(&stack, &accepted).await;
        done.push(accepted["id"].as_str().unwrap().to_owned());
    }
    let permit = done[2].clone();
    let certificate_id = eventually("construction permit issued", WAIT, || {
        let (stack, alice, permit) = (&stack, &alice, &permit);
        async move {
            stage_of(stack, alice, permit).await["certificate_id"]
                .as_str()
                .map(str::to_owned)
        }
    })
    .await;

    // The hand-out queue holds the permit stage only: the others completed
    // without a certificate.
    let awaiting = con(&stack, "/api/v1/stages?awaiting=hand_out");
    let queue = json_ok(stack.get(awaiting.clone(), &clerk).await, 200).await;
    assert_eq!(ids(&queue), vec![permit.as_str()]);
    assert_eq!(queue["items"][0]["certificate_id"], certificate_id.as_str());
    let completed = json_ok(
        stack
            .get(con(&stack, "/api/v1/stages?status=completed"), &clerk)
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&completed), done);

    // Only the window hands out; unknown ids are 404.
    let portal = partner(&stack, &["queues:read"]);
    for token in [
        &alice,
        &reviewer(&stack, "housing"),
        &stack.staff("admin-1", Role::Admin),
        &portal,
    ] {
        expect_problem(hand_out(&stack, token, &permit).await, 403, "forbidden").await;
    }
    for unknown in ["0193aa00-0000-7000-8000-000000000000", "nope"] {
        expect_problem(hand_out(&stack, &clerk, unknown).await, 404, "not_found").await;
    }
    // A completed stage without a certificate, and one still in review,
    // have nothing to hand out.
    let in_review = file_and_accept(&stack, &alice, project_id, "completion", false).await;
    for stage in [done[0].as_str(), in_review["id"].as_str().unwrap()] {
        let problem = expect_problem(
            hand_out(&stack, &clerk, stage).await,
            409,
            "illegal_transition",
        )
        .await;
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }

    let handed = json_ok(hand_out(&stack, &clerk, &permit).await, 200).await;
    assert_eq!(handed["id"], permit.as_str());
    assert_eq!(handed["status"], "completed");
    assert_eq!(handed["certificate_id"], certificate_id.as_str());
    assert_eq!(handed["handed_out_by"], "clerk-1");
    assert!(handed["handed_out_at"].is_string(), "{handed}");
    let again = expect_problem(
        hand_out(&stack, &clerk, &permit).await,
        409,
        "illegal_transition",
    )
    .await;
    assert!(
        again["detail"].as_str().unwrap().contains("已于"),
        "{again}"
    );
    assert!(ids(&json_ok(stack.get(awaiting, &clerk).await, 200).await).is_empty());
    let listed = json_ok(
        stack
            .get(con(&stack, "/api/v1/stages?status=completed"), &clerk)
            .await,
        200,
    )
    .await;
    assert_eq!(listed["items"][2]["handed_out_at"], handed["handed_out_at"]);

    // On the project's timeline with who, and one event in the outbox.
    let project = project_of(&stack, &alice, project_id).await;
    let step = project["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "stage_handed_out")
        .unwrap_or_else(|| panic!("no hand-out step: {}", project["timeline"]));
    assert_eq!(step["actor"]["sub"], "clerk-1");
    assert_eq!(step["actor"]["role"], "window_clerk");
    assert_eq!(step["stage_application_id"], permit.as_str());
    let db = stack.connect(Service::Construction).await;
    let events = yizhan_events::outbox::entity::Entity::find()
        .filter(
            yizhan_events::outbox::entity::Column::CeType
                .eq("cn.yizhan.construction.stage_result_handed_out.v1"),
        )
        .all(&db)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let payload: Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(payload["stage_application_id"], permit.as_str());
    assert_eq!(payload["certificate_id"], certificate_id.as_str());
    assert_eq!(payload["actor"]["sub"], "clerk-1");
    assert_eq!(events[0].partition_key, project_id);
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    licensing_queues_cursors_order_and_partners,
    construction_queues_cursors_stage_list_and_partners,
    stage_result_hand_out,
);
