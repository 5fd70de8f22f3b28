//! The audit log over HTTP: a decision leaves exactly one row written with
//! it, a refusal one row of its own, reads none; only admins search and
//! export it, and the filters and both export formats return what they
//! should.

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::licensing::{accepted_store, lic};

async fn audit(stack: &TestStack, admin: &str, query: &str) -> Vec<Value> {
    let page = json_ok(
        stack
            .get(
                lic(stack, &format!("/api/v1/audit?limit=100&{query}")),
                admin,
            )
            .await,
        200,
    )
    .await;
    page["items"].as_array().unwrap().clone()
}

async fn decision_writes_one_row_and_refusal_its_own(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let admin = stack.staff("admin-1", Role::Admin);
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let (app_url, task, _) = accepted_store(&stack, &alice).await;
    let decide = lic(&stack, &format!("/api/v1/tasks/{task}/decision"));

    // Another department's reviewer is refused: one `refused` row, no change.
    let market = reviewer(&stack, "market_supervision");
    let refused = stack
        .post_json(
            &decide,
            &market,
            &json!({"decision": "approve", "permit_number": "YC-1"}),
        )
        .await;
    assert_eq!(refused.status(), 404);
    let rows = audit(&stack, &admin, "action=decision").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["outcome"], "refused");
    assert_eq!(rows[0]["status"], 404);
    assert_eq!(rows[0]["actor"], "reviewer-market_supervision");
    assert_eq!(rows[0]["department"], "market_supervision");

    let tobacco = reviewer(&stack, "tobacco");
    let decided = stack
        .client
        .post(&decide)
        .bearer_auth(&tobacco)
        .header("x-request-id", "audit-test-decision")
        .json(&json!({"decision": "approve", "permit_number": "YC-2026-0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 200, "{}", decided.text().await.unwrap());
    let rows = audit(&stack, &admin, "action=decision&outcome=succeeded").await;
    assert_eq!(rows.len(), 1, "one row for the decision: {rows:?}");
    let row = &rows[0];
    assert_eq!(row["actor"], "reviewer-tobacco");
    assert_eq!(row["roles"], json!(["dept_reviewer"]));
    assert_eq!(row["role_names"], json!(["部门审批人员"]));
    assert_eq!(row["department"], "tobacco");
    assert_eq!(row["action"], "POST /api/v1/tasks/{id}/decision");
    assert_eq!(row["request_id"], "audit-test-decision");
    assert_eq!(row["service"], "licensing");
    assert!(
        row["client_addr"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1")
    );
    assert!(!row["object"].as_str().unwrap().is_empty());

    // Reads are not recorded.
    let before = audit(&stack, &admin, "").await.len();
    stack.get_json(&app_url, &alice).await;
    assert_eq!(audit(&stack, &admin, "").await.len(), before);
    stack.stop().await;
}

async fn only_admins_search_and_export(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    for path in ["/api/v1/audit", "/api/v1/audit/export?format=csv"] {
        let url = lic(&stack, path);
        let anonymous = stack.client.get(&url).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{path}");
        for token in [
            stack.applicant("alice", ENTERPRISE_A),
            stack.staff("clerk-1", Role::WindowClerk),
            reviewer(&stack, "tobacco"),
            stack.staff("partner-1", Role::Partner),
        ] {
            expect_problem(stack.get(&url, &token).await, 403, "forbidden").await;
        }
    }
    stack.stop().await;
}

async fn filters_and_streamed_exports(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let admin = stack.staff("admin-1", Role::Admin);
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let (_, task, _) = accepted_store(&stack, &alice).await;
    // A refusal by another enterprise's applicant, to filter apart.
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let refused = stack
        .post_json(
            lic(&stack, &format!("/api/v1/tasks/{task}/decision")),
            &bob,
            &json!({"decision": "approve"}),
        )
        .await;
    assert!(refused.status().is_client_error());

    let all = audit(&stack, &admin, "").await;
    assert!(all.len() >= 3, "{all:?}");
    let alices = audit(&stack, &admin, "actor=alice").await;
    assert!(!alices.is_empty());
    assert!(alices.iter().all(|r| r["actor"] == "alice"));
    let of_a = audit(&stack, &admin, &format!("enterprise={ENTERPRISE_A}")).await;
    assert_eq!(of_a.len(), alices.len());
    let of_b = audit(&stack, &admin, &format!("enterprise={ENTERPRISE_B}")).await;
    assert_eq!(of_b.len(), 1);
    assert_eq!(of_b[0]["outcome"], "refused");
    let clerk_rows = audit(&stack, &admin, "action=intake").await;
    assert_eq!(clerk_rows.len(), 1);
    let object = clerk_rows[0]["object"].as_str().unwrap();
    assert!(
        audit(&stack, &admin, &format!("object={object}"))
            .await
            .iter()
            .all(|r| r["object"] == object)
    );
    let future = audit(&stack, &admin, "from=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());
    let past = audit(&stack, &admin, "to=2000-01-01T00:00:00Z").await;
    assert!(past.is_empty());
    let bad = expect_problem(
        stack
            .get(lic(&stack, "/api/v1/audit?from=yesterday"), &admin)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "from", "{bad}");

    // Pages of one row walk the whole log, newest first, without repeats.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = json_ok(
            stack
                .get(
                    lic(&stack, &format!("/api/v1/audit?limit=1{cursor}")),
                    &admin,
                )
                .await,
            200,
        )
        .await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let ids: Vec<i64> = all.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(seen, ids);

    let jsonl = stack
        .get(lic(&stack, "/api/v1/audit/export?format=jsonl"), &admin)
        .await;
    assert_eq!(jsonl.status(), 200);
    assert!(
        jsonl.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-ndjson")
    );
    let body = jsonl.text().await.unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut exported: Vec<i64> = lines.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    exported.reverse();
    assert_eq!(exported, ids, "export has every row, oldest first");

    let csv = stack
        .get(
            lic(&stack, "/api/v1/audit/export?format=csv&actor=alice"),
            &admin,
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let actor = headers.iter().position(|h| h == "actor").unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), alices.len());
    assert!(records.iter().all(|r| &r[actor] == "alice"));
    let bad_format = expect_problem(
        stack
            .get(lic(&stack, "/api/v1/audit/export?format=xml"), &admin)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(bad_format["errors"][0]["field"], "format");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    decision_writes_one_row_and_refusal_its_own,
    only_admins_search_and_export,
    filters_and_streamed_exports,
);
