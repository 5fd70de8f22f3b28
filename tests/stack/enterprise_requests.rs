//! 诉求 and 好差评 in the stack, over real HTTP on SQLite and PostgreSQL:
//! the issue's flow (filed by a 营商专员, dispatched, transferred once,
//! answered late with both alarms, rated 不满意, reopened, answered and
//! rated 满意, statistics exact), a 差评's follow-up through rectification,
//! and scoping.

use chrono::{Days, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::Backend;

use crate::common::*;

fn url(stack: &TestStack, path: &str) -> String {
    stack.url(Service::Enterprise, path)
}

fn rules() -> Value {
    let route = |d: &str, n: &str, days: i32| json!({"department": d, "department_name": n, "answer_limit_days": days});
    json!({"routes": {
        "policy": route("development_reform", "发展和改革局", 5),
        "finance": route("finance_bureau", "金融服务中心", 3),
        "talent": route("talent_office", "人才工作办公室", 5),
        "land_planning": route("natural_resources", "自然资源和规划局", 10),
        "approvals": route("approval_bureau", "行政审批局", 3),
        "utilities": route("utilities_office", "水电气报装服务专班", 5),
        "legal": route("justice", "司法局", 5),
        "other": route("business_environment", "营商环境办公室", 5),
    }})
}

fn specialist(stack: &TestStack, enterprises: &[&str]) -> String {
    stack.token(TokenRequest {
        sub: "specialist-1".into(),
        roles: vec![Role::Specialist],
        enterprises: enterprises.iter().map(|e| (*e).to_owned()).collect(),
        ttl_secs: 600,
        ..Default::default()
    })
}

pub(crate) async fn set_rules(stack: &TestStack) {
    let admin = stack.staff("admin-1", Role::Admin);
    let r = stack
        .client
        .put(url(stack, "/api/v1/dispatch-rules"))
        .bearer_auth(&admin)
        .json(&rules())
        .send()
        .await
        .unwrap();
    let body = json_ok(r, 200).await;
    assert_eq!(body["rules"].as_array().unwrap().len(), 8);
}

pub(crate) async fn step(
    stack: &TestStack,
    token: &str,
    id: &str,
    name: &str,
    body: Value,
) -> Value {
    json_ok(
        stack
            .post_json(
                url(stack, &format!("/api/v1/requests/{id}/{name}")),
                token,
                &body,
            )
            .await,
        200,
    )
    .await
}

fn actions(view: &Value) -> Vec<String> {
    view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn outbox_count(db: &sea_orm::DatabaseConnection, ce_type: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM outbox_events WHERE ce_type = '{ce_type}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn the_issue_flow_with_alarms_reopening_and_exact_statistics(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise], backend).await;
    let spec = specialist(&stack, &[ENTERPRISE_A]);
    let alice = stack.applicant("alice", ENTERPRISE_A);
    // Before the rules are set nothing can be dispatched.
    let file = json!({
        "enterprise_uscc": ENTERPRISE_A, "category": "finance", "channel": "specialist_visit",
        "description": "扩大产能需要 500 万元流动资金贷款，希望了解贴息政策"
    });
    expect_problem(
        stack
            .post_json(url(&stack, "/api/v1/requests"), &spec, &file)
            .await,
        409,
        "dispatch_rules_missing",
    )
    .await;
    set_rules(&stack).await;
    let filed = json_ok(
        stack
            .post_json(url(&stack, "/api/v1/requests"), &spec, &file)
            .await,
        201,
    )
    .await;
    let id = filed["id"].as_str().unwrap().to_owned();
    assert_eq!(filed["status_name"], "已派单");
    assert_eq!(filed["department_name"], "金融服务中心");
    assert_eq!(filed["channel_name"], "营商专员走访");
    assert_eq!(filed["limit"]["limit_name"], "签收时限");
    assert_eq!(actions(&filed), ["filed", "dispatched"]);
    // A second request of the same department for the statistics.
    let other = json_ok(
        stack
            .post_json(
                url(&stack, "/api/v1/requests"),
                &alice,
                &json!({"enterprise_uscc": ENTERPRISE_A, "category": "finance",
                        "channel": "gaoxintong", "description": "咨询科技贷款"}),
            )
            .await,
        201,
    )
    .await;
    // The specialist sees both open requests of their enterprise.
    let assigned = stack
        .get_json(url(&stack, "/api/v1/requests-assigned"), &spec)
        .await;
    assert_eq!(assigned["items"].as_array().unwrap().len(), 2);
    // The other is withdrawn at once: unresolved, and no clock runs.
    let other_id = other["id"].as_str().unwrap();
    let withdrawn = step(&stack, &alice, other_id, "withdraw", json!({})).await;
    assert_eq!(withdrawn["status_name"], "已撤回");
    assert!(withdrawn["limit"].is_null());
    let assigned = stack
        .get_json(url(&stack, "/api/v1/requests-assigned"), &spec)
        .await;
    assert_eq!(assigned["items"].as_array().unwrap().len(), 1);

    // Transferred once, with a reason, to the talent office.
    let finance = reviewer(&stack, "finance_bureau");
    let talent = reviewer(&stack, "talent_office");
    let moved = step(
        &stack,
        &finance,
        &id,
        "transfer",
        json!({"to_department": "talent_office", "reason": "属人才贷政策，由人才办承办"}),
    )
    .await;
    assert_eq!(moved["department_name"], "人才工作办公室");
    assert_eq!(moved["transfers"], 1);
    // Finance no longer sees it; talent does.
    expect_problem(
        stack
            .get(url(&stack, &format!("/api/v1/requests/{id}")), &finance)
            .await,
        404,
        "not_found",
    )
    .await;
    let queue = stack
        .get_json(url(&stack, "/api/v1/request-queue"), &talent)
        .await;
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let accepted = step(&stack, &talent, &id, "accept", json!({})).await;
    assert_eq!(accepted["status_name"], "办理中");
    assert_eq!(accepted["limit"]["limit_name"], "答复时限");
    let due: chrono::NaiveDate =
        serde_json::from_value(accepted["limit"]["due_date"].clone()).unwrap();

    // Time passes: the sweep warns on the due day, then says overdue.
    let db = stack.connect(Service::Enterprise).await;
    let calendar = yizhan_approval::Calendar::builtin();
    let at = |date: chrono::NaiveDate, hour: u32| {
        yizhan_approval::calendar::utc_of_china_local(
            date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap()),
        )
    };
    let sweep = |when| {
        let (db, calendar) = (db.clone(), calendar.clone());
        async move {
            yizhan_enterprise::store::requests::deadlines::sweep(&db, &calendar, when, 500)
                .await
                .unwrap()
        }
    };
    let now = sweep(Utc::now()).await;
    assert_eq!((now.approaching, now.overdue), (0, 0));
    let warned = sweep(at(due, 15)).await;
    assert_eq!((warned.approaching, warned.overdue), (1, 0));
    assert_eq!(sweep(at(due, 16)).await.approaching, 0, "warned once");
    let late_day = due + Days::new(7);
    let overdue = sweep(at(late_day, 10)).await;
    assert_eq!((overdue.approaching, overdue.overdue), (0, 1));
    assert_eq!(sweep(at(late_day, 11)).await.overdue, 0, "overdue once");
    for t in [
        "cn.yizhan.enterprise.request_deadline_approaching.v1",
        "cn.yizhan.enterprise.request_deadline_overdue.v1",
    ] {
        assert_eq!(outbox_count(&db, t).await, 1, "{t}");
    }
    // Answered a week late (the store at that moment: the wall clock
    // cannot be moved over HTTP).
    let answered = yizhan_enterprise::store::requests::commands::act(
        &db,
        &calendar,
        &id,
        |_| true,
        yizhan_enterprise::store::requests::commands::Step::Answer {
            answer: "可申请人才贷贴息，材料清单见附件".into(),
        },
        &yizhan_events::contracts::Actor {
            sub: "reviewer-talent_office".into(),
            role: "dept_reviewer".into(),
        },
        at(late_day, 14),
    )
    .await
    .unwrap();
    assert!(answered.answered_late);
    let first_round = answered.handling_half_days.unwrap();
    assert!(first_round > 6, "more than the 5-day limit: {first_round}");

    // 不满意 reopens once; the second answer is on time; 满意 closes.
    let reopened = step(
        &stack,
        &alice,
        &id,
        "rate",
        json!({"satisfaction": "dissatisfied"}),
    )
    .await;
    assert_eq!(reopened["status_name"], "办理中");
    assert_eq!(reopened["round"], 2);
    let again = step(
        &stack,
        &talent,
        &id,
        "answer",
        json!({"answer": "已协调合作银行，下周一上门办理"}),
    )
    .await;
    assert_eq!(again["status_name"], "已答复");
    let closed = step(
        &stack,
        &alice,
        &id,
        "rate",
        json!({"satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(closed["status_name"], "已办结");
    assert_eq!(closed["satisfaction_name"], "满意");
    let handling = closed["handling_half_days"].as_i64().unwrap();
    assert!(handling >= first_round);
    let steps = actions(&closed);
    for a in [
        "filed",
        "dispatched",
        "transferred",
        "accepted",
        "deadline_approaching",
        "deadline_overdue",
        "answered",
        "rated",
        "reopened",
    ] {
        assert!(steps.iter().any(|s| s == a), "{a} in {steps:?}");
    }
    // Rated once more: refused, naming the status.
    expect_problem(
        stack
            .post_json(
                url(&stack, &format!("/api/v1/requests/{id}/rate")),
                &alice,
                &json!({"satisfaction": "satisfied"}),
            )
            .await,
        409,
        "illegal_transition",
    )
    .await;

    // Statistics, exact: talent handled one (answered late, 满意); finance
    // had the other, withdrawn.
    let admin = stack.staff("admin-1", Role::Admin);
    let stats = stack
        .get_json(url(&stack, "/api/v1/request-statistics"), &admin)
        .await;
    let t = &stats["departments"]["talent_office"];
    assert_eq!(
        (
            t["total"].as_u64(),
            t["resolved"].as_u64(),
            t["on_time"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(t["satisfaction_per_mille"], 1000);
    assert_eq!(t["p90_handling_half_days"].as_i64(), Some(handling));
    let f = &stats["departments"]["finance_bureau"];
    assert_eq!(
        (f["total"].as_u64(), f["resolved"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(f["resolution_per_mille"], 0);
    assert!(f["satisfaction_per_mille"].is_null(), "no rating, no rate");
    let finance_category = &stats["categories"]["finance"];
    assert_eq!(finance_category["total"], 2);
    assert_eq!(finance_category["resolution_per_mille"], 500);
    assert_eq!(stats["channels"]["gaoxintong"]["total"], 1);
    assert_eq!(stats["channels"]["specialist_visit"]["resolved"], 1);
    stack.stop().await;
}

async fn a_bad_rating_is_followed_up_until_rectified(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise], backend).await;
    set_rules(&stack).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let approvals = reviewer(&stack, "approval_bureau");
    let filed = json_ok(
        stack
            .post_json(
                url(&stack, "/api/v1/requests"),
                &alice,
                &json!({"enterprise_uscc": ENTERPRISE_A, "category": "approvals",
                        "channel": "gaoxintong", "description": "食品经营许可材料被反复要求补交"}),
            )
            .await,
        201,
    )
    .await;
    let id = filed["id"].as_str().unwrap();
    step(&stack, &approvals, id, "accept", json!({})).await;
    let asked = step(
        &stack,
        &approvals,
        id,
        "ask",
        json!({"question": "请提供被要求补交的材料清单"}),
    )
    .await;
    assert_eq!(asked["status_name"], "待企业补充");
    assert_eq!(asked["limit"]["state_name"], "暂停计时");
    step(
        &stack,
        &alice,
        id,
        "reply",
        json!({"reply": "健康证明、平面图各两次"}),
    )
    .await;
    step(
        &stack,
        &approvals,
        id,
        "answer",
        json!({"answer": "已核实并一次性告知"}),
    )
    .await;
    step(
        &stack,
        &alice,
        id,
        "rate",
        json!({"satisfaction": "acceptable"}),
    )
    .await;
    // The closed request is rateable 1-5 by its applicant only.
    let rateables = stack
        .get_json(url(&stack, "/api/v1/rateables"), &alice)
        .await;
    let rateable = rateables["rateables"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(rateables["rateables"][0]["subject_name"], "企业诉求");
    let bobs = stack.get_json(url(&stack, "/api/v1/rateables"), &bob).await;
    assert!(bobs["rateables"].as_array().unwrap().is_empty());
    expect_problem(
        stack
            .post_json(
                url(&stack, "/api/v1/ratings"),
                &bob,
                &json!({"rateable_id": rateable, "score": 1}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    let bad = expect_problem(
        stack
            .post_json(
                url(&stack, "/api/v1/ratings"),
                &alice,
                &json!({"rateable_id": rateable, "score": 7}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "score");
    let rated = json_ok(
        stack
            .post_json(
                url(&stack, "/api/v1/ratings"),
                &alice,
                &json!({"rateable_id": rateable, "score": 2, "comment": "材料要求反复变化"}),
            )
            .await,
        201,
    )
    .await;
    assert_eq!(rated["score_name"], "不满意");
    assert_eq!(rated["follow_up_name"], "待核实");
    assert_eq!(rated["department_name"], "行政审批局");
    let rating_id = rated["id"].as_str().unwrap();
    // Once.
    expect_problem(
        stack
            .post_json(
                url(&stack, "/api/v1/ratings"),
                &alice,
                &json!({"rateable_id": rateable, "score": 5}),
            )
            .await,
        409,
        "already_rated",
    )
    .await;
    // Another department cannot touch it; the responsible one verifies and
    // rectifies.
    expect_problem(
        stack
            .post_json(
                url(&stack, &format!("/api/v1/ratings/{rating_id}/verify")),
                &reviewer(&stack, "justice"),
                &json!({"substantiated": true, "note": "x"}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        stack
            .post_json(
                url(&stack, &format!("/api/v1/ratings/{rating_id}/rectify")),
                &approvals,
                &json!({"note": "提前整改"}),
            )
            .await,
        409,
        "illegal_transition",
    )
    .await;
    let verified = json_ok(
        stack
            .post_json(
                url(&stack, &format!("/api/v1/ratings/{rating_id}/verify")),
                &approvals,
                &json!({"substantiated": true, "note": "窗口未一次性告知"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(verified["follow_up_name"], "整改中");
    let done = json_ok(
        stack
            .post_json(
                url(&stack, &format!("/api/v1/ratings/{rating_id}/rectify")),
                &approvals,
                &json!({"note": "已修订一次性告知单并培训窗口人员"}),
            )
            .await,
        200,
    )
    .await;
    assert_eq!(done["follow_up_name"], "已整改");
    assert_eq!(done["follow_up_on_time"], true);
    // The applicant sees the result; B sees nothing of A's.
    let mine = stack.get_json(url(&stack, "/api/v1/ratings"), &alice).await;
    assert_eq!(
        mine["items"][0]["rectification"],
        "已修订一次性告知单并培训窗口人员"
    );
    let bobs = stack.get_json(url(&stack, "/api/v1/ratings"), &bob).await;
    assert!(bobs["items"].as_array().unwrap().is_empty());
    let db = stack.connect(Service::Enterprise).await;
    for t in [
        "cn.yizhan.enterprise.rating_recorded.v1",
        "cn.yizhan.enterprise.rating_follow_up_opened.v1",
        "cn.yizhan.enterprise.rating_follow_up_concluded.v1",
    ] {
        assert_eq!(outbox_count(&db, t).await, 1, "{t}");
    }
    let admin = stack.staff("admin-1", Role::Admin);
    let stats = stack
        .get_json(url(&stack, "/api/v1/rating-statistics"), &admin)
        .await;
    let d = &stats["departments"]["approval_bureau"];
    assert_eq!((d["total"].as_u64(), d["bad"].as_u64()), (Some(1), Some(1)));
    assert_eq!(d["rectified_on_time_per_mille"], 1000);
    assert_eq!(stats["channels"]["gaoxintong"]["score_sum"], 2);
    stack.stop().await;
}

async fn requests_are_scoped_and_checked(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise], backend).await;
    set_rules(&stack).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let hotline = stack.staff("operator-1", Role::HotlineOperator);
    // The hotline files for any enterprise.
    let filed = json_ok(
        stack
            .post_json(
                url(&stack, "/api/v1/requests"),
                &hotline,
                &json!({"enterprise_uscc": ENTERPRISE_A, "category": "utilities",
                        "channel": "hotline_12345", "description": "厂房用电增容"}),
            )
            .await,
        201,
    )
    .await;
    let id = filed["id"].as_str().unwrap();
    // B never sees A's request, neither in a list nor by id.
    let bobs = stack.get_json(url(&stack, "/api/v1/requests"), &bob).await;
    assert!(bobs["items"].as_array().unwrap().is_empty());
    expect_problem(
        stack
            .get(url(&stack, &format!("/api/v1/requests/{id}")), &bob)
            .await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        stack
            .get(
                url(&stack, &format!("/api/v1/requests?uscc={ENTERPRISE_A}")),
                &bob,
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    let alices = stack
        .get_json(url(&stack, "/api/v1/requests"), &alice)
        .await;
    assert_eq!(alices["items"][0]["channel_name"], "12345热线");
    // B cannot file for A, nor can a specialist for an enterprise not theirs.
    for token in [&bob, &specialist(&stack, &[ENTERPRISE_B])] {
        expect_problem(
            stack
                .post_json(
                    url(&stack, "/api/v1/requests"),
                    token,
                    &json!({"enterprise_uscc": ENTERPRISE_A, "category": "legal",
                            "channel": "salon", "description": "合同纠纷"}),
                )
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    // Wrong roles.
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    for (method_path, token) in [
        ("/api/v1/request-queue", &alice),
        ("/api/v1/request-statistics", &reviewer(&stack, "justice")),
        ("/api/v1/requests", &clerk),
        ("/api/v1/requests-assigned", &alice),
    ] {
        expect_problem(
            stack.get(url(&stack, method_path), token).await,
            403,
            "forbidden",
        )
        .await;
    }
    let r = stack
        .client
        .put(url(&stack, "/api/v1/dispatch-rules"))
        .bearer_auth(reviewer(&stack, "justice"))
        .json(&rules())
        .send()
        .await
        .unwrap();
    expect_problem(r, 403, "forbidden").await;
    // The enterprise cannot accept; another department cannot answer.
    expect_problem(
        stack
            .post_json(
                url(&stack, &format!("/api/v1/requests/{id}/accept")),
                &alice,
                &json!({}),
            )
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        stack
            .post_json(
                url(&stack, &format!("/api/v1/requests/{id}/accept")),
                &reviewer(&stack, "justice"),
                &json!({}),
            )
            .await,
        404,
        "not_found",
    )
    .await;
    // Bad input names the field.
    let bad = expect_problem(
        stack
            .post_json(
                url(&stack, "/api/v1/requests"),
                &alice,
                &json!({"enterprise_uscc": ENTERPRISE_A, "category": "tax",
                        "channel": "fax", "description": " "}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["category", "channel", "description"]);
    let mut incomplete = rules();
    incomplete["routes"]
        .as_object_mut()
        .unwrap()
        .remove("legal");
    let r = stack
        .client
        .put(url(&stack, "/api/v1/dispatch-rules"))
        .bearer_auth(stack.staff("admin-1", Role::Admin))
        .json(&incomplete)
        .send()
        .await
        .unwrap();
    let bad = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(bad["errors"][0]["field"], "routes.legal");
    let utilities = reviewer(&stack, "utilities_office");
    let bad = expect_problem(
        stack
            .post_json(
                url(&stack, &format!("/api/v1/requests/{id}/transfer")),
                &utilities,
                &json!({"to_department": "nowhere", "reason": "不归我们"}),
            )
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "to_department");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    the_issue_flow_with_alarms_reopening_and_exact_statistics,
    a_bad_rating_is_followed_up_until_rectified,
    requests_are_scoped_and_checked
);
