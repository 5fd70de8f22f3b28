//! 申请编号 and staff search through the services: filings on one day get
//! distinct consecutive numbers even when they arrive together, a replay
//! answers the same number, and the applications, stages and task lists
//! find exactly what a number, a USCC or a name names (`q`, checked).

use futures_util::future::join_all;
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::construction::{con, filled, submit_stage};
use crate::licensing::{lic, materials_for};

/// Today in China, as a number spells it.
fn today() -> String {
    yizhan_approval::calendar::china_local(chrono::Utc::now())
        .format("%Y%m%d")
        .to_string()
}

/// The sequences of `numbers`, checked to be `prefix` + today's date.
fn sequences(prefix: &str, numbers: &[String]) -> Vec<u32> {
    let head = format!("{prefix}{}", today());
    let mut seqs: Vec<u32> = numbers
        .iter()
        .map(|n| {
            assert!(n.starts_with(&head), "{n} is not {head}…");
            n[head.len()..].parse().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    seqs
}

/// A convenience-store application of `uscc` under the name `name`.
pub(crate) fn store_body(uscc: &str, name: &str, materials: &Value) -> Value {
    json!({
        "scenario": "convenience_store",
        "answers": {"sells_food": false, "sells_tobacco": true, "outdoor_sign": false},
        "enterprise_uscc": uscc,
        "form": {
            "enterprise_name": name,
            "legal_rep_name": "钱七",
            "legal_rep_id_no": "11010519491231002X",
            "contact_phone": "0591-87654321",
            "business_address": "福州市台江区八一七中路 2 号",
            "registered_capital_wan": 50,
            "business_scope": "日用百货零售；卷烟零售"
        },
        "materials": materials,
    })
}

/// The ids of a list page's items.
fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Reads `path` with `q` (percent-encoded) as `token`.
async fn search(stack: &TestStack, url: String, q: &str, token: &str) -> reqwest::Response {
    stack
        .client
        .get(reqwest::Url::parse_with_params(&url, &[("q", q)]).unwrap())
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn licensing_numbers_are_consecutive_replayable_and_searchable(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing], backend).await;
    let notice = json_ok(
        stack
            .client
            .post(lic(&stack, "/api/v1/notices"))
            .json(&json!({"scenario": "convenience_store",
                "answers": {"sells_food": false, "sells_tobacco": true, "outdoor_sign": false}}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let materials = materials_for(&notice);
    let a = stack.applicant("app-a", ENTERPRISE_A);
    let b = stack.applicant("app-b", ENTERPRISE_B);
    // Eight filings at once, two enterprises.
    let filings = (0..8).map(|i| {
        let (token, uscc) = if i < 6 {
            (&a, ENTERPRISE_A)
        } else {
            (&b, ENTERPRISE_B)
        };
        let body = store_body(uscc, &format!("一站便利店第{i}分店有限公司"), &materials);
        let stack = &stack;
        async move {
            json_ok(
                stack
                    .post_json(lic(stack, "/api/v1/applications"), token, &body)
                    .await,
                201,
            )
            .await
        }
    });
    let apps: Vec<Value> = join_all(filings).await;
    let numbers: Vec<String> = apps
        .iter()
        .map(|a| a["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sequences("YZ", &numbers), (1..=8).collect::<Vec<_>>());
    // A replay answers the number of the first filing, and takes none.
    let keyed = |key: &'static str| {
        stack
            .client
            .post(lic(&stack, "/api/v1/applications"))
            .bearer_auth(&a)
            .header("Idempotency-Key", key)
            .json(&store_body(
                ENTERPRISE_A,
                "一站便利店重试有限公司",
                &materials,
            ))
            .send()
    };
    let first = json_ok(keyed("k-1").await.unwrap(), 201).await;
    let replay = json_ok(keyed("k-1").await.unwrap(), 201).await;
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(replay["number"], first["number"]);
    let next = json_ok(keyed("k-2").await.unwrap(), 201).await;
    let mut all = numbers.clone();
    all.extend([&first, &next].map(|a| a["number"].as_str().unwrap().to_owned()));
    assert_eq!(sequences("YZ", &all), (1..=10).collect::<Vec<_>>());
    // The detail names the number too.
    let detail = stack
        .get_json(
            lic(
                &stack,
                &format!("/api/v1/applications/{}", apps[3]["id"].as_str().unwrap()),
            ),
            &a,
        )
        .await;
    assert_eq!(detail["number"], apps[3]["number"]);

    // Search: number (exact, any case), USCC (exact), name (substring).
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let list = || lic(&stack, "/api/v1/applications");
    let number = apps[3]["number"].as_str().unwrap();
    for q in [number.to_owned(), number.to_lowercase()] {
        let page = json_ok(search(&stack, list(), &q, &clerk).await, 200).await;
        assert_eq!(ids(&page), [apps[3]["id"].as_str().unwrap()], "q={q}");
        assert_eq!(page["items"][0]["number"], number);
    }
    // A prefix of a number is not a number.
    let page = json_ok(search(&stack, list(), &number[..10], &clerk).await, 200).await;
    assert!(ids(&page).is_empty(), "{page}");
    let mut of_b: Vec<String> = apps[6..]
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    of_b.sort();
    let mut found = ids(&json_ok(search(&stack, list(), ENTERPRISE_B, &clerk).await, 200).await);
    found.sort();
    assert_eq!(found, of_b);
    let page = json_ok(search(&stack, list(), "第4分店", &clerk).await, 200).await;
    assert_eq!(ids(&page), [apps[4]["id"].as_str().unwrap()]);
    // The applicant's search stays within their own enterprise.
    let page = json_ok(search(&stack, list(), ENTERPRISE_B, &a).await, 200).await;
    assert!(ids(&page).is_empty(), "{page}");
    // Bad q: named.
    for bad in ["长".repeat(101), "a\u{1}b".to_owned()] {
        let problem = expect_problem(
            search(&stack, list(), &bad, &clerk).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "q", "{problem}");
    }

    // The task queue: only the tasks of the application searched for.
    for app in [&apps[1], &apps[2]] {
        json_ok(
            stack
                .post_json(
                    lic(
                        &stack,
                        &format!(
                            "/api/v1/applications/{}/intake",
                            app["id"].as_str().unwrap()
                        ),
                    ),
                    &clerk,
                    &json!({"decision": "accept"}),
                )
                .await,
            200,
        )
        .await;
    }
    let accepted = stack
        .get_json(
            lic(
                &stack,
                &format!("/api/v1/applications/{}", apps[1]["id"].as_str().unwrap()),
            ),
            &clerk,
        )
        .await;
    let dept = accepted["tasks"][0]["department_code"].as_str().unwrap();
    let rev = reviewer(&stack, dept);
    let tasks = || lic(&stack, "/api/v1/tasks");
    let whole = json_ok(stack.get(tasks(), &rev).await, 200).await;
    assert_eq!(whole["items"].as_array().unwrap().len(), 2, "{whole}");
    let page = json_ok(
        search(&stack, tasks(), apps[1]["number"].as_str().unwrap(), &rev).await,
        200,
    )
    .await;
    assert_eq!(ids(&page), [accepted["tasks"][0]["id"].as_str().unwrap()]);
    assert_eq!(page["items"][0]["application_number"], apps[1]["number"]);
    let page = json_ok(search(&stack, tasks(), "第2分店", &rev).await, 200).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["application_id"], apps[2]["id"]);
    let page = json_ok(search(&stack, tasks(), ENTERPRISE_B, &rev).await, 200).await;
    assert!(ids(&page).is_empty(), "{page}");
    let problem = expect_problem(
        search(&stack, tasks(), &"x".repeat(101), &rev).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "q", "{problem}");
    stack.stop().await;
}

/// Registers a land-granted project of `uscc` named `name`; its id.
async fn project(stack: &TestStack, token: &str, n: u32, name: &str, uscc: &str) -> String {
    let p = json_ok(
        stack
            .post_json(
                con(stack, "/api/v1/projects"),
                token,
                &json!({
                    "project_code": crate::construction::project_code(500 + n),
                    "name": name,
                    "builder_uscc": uscc,
                    "builder_name": format!("{name}建设单位"),
                    "location": "福州市闽侯县上街镇科技东路 8 号",
                    "category": "small_low_risk",
                    "scale": {"floor_area_m2": 2400, "total_investment_wan": 1800},
                    "land_granted": true,
                }),
            )
            .await,
        201,
    )
    .await;
    p["id"].as_str().unwrap().to_owned()
}

async fn stage_numbers_are_consecutive_and_searchable(backend: Backend) {
    let stack = TestStack::start(&[Service::Construction], backend).await;
    let a = stack.applicant("builder-a", ENTERPRISE_A);
    let b = stack.applicant("builder-b", ENTERPRISE_B);
    let mut projects = Vec::new();
    for n in 0..5 {
        let (token, uscc) = if n < 4 {
            (&a, ENTERPRISE_A)
        } else {
            (&b, ENTERPRISE_B)
        };
        let id = project(&stack, token, n, &format!("一站{n}号仓储用房"), uscc).await;
        let (form, materials) = filled(&stack, token, &id, "land_planning", &[]).await;
        projects.push((token.clone(), id, form, materials));
    }
    let filings = projects.iter().map(|(token, id, form, materials)| {
        let stack = &stack;
        async move {
            json_ok(
                submit_stage(
                    stack,
                    token,
                    id,
                    &json!({"stage": "land_planning", "form": form, "materials": materials}),
                )
                .await,
                201,
            )
            .await
        }
    });
    let stages: Vec<Value> = join_all(filings).await;
    let numbers: Vec<String> = stages
        .iter()
        .map(|s| s["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sequences("GC", &numbers), (1..=5).collect::<Vec<_>>());
    // A replay of a keyed filing answers the same number.
    let (_, _, form, materials) = &projects[0];
    let extra = project(&stack, &a, 9, "一站重试仓储用房", ENTERPRISE_A).await;
    let keyed = || {
        stack
            .client
            .post(con(&stack, &format!("/api/v1/projects/{extra}/stages")))
            .bearer_auth(&a)
            .header("Idempotency-Key", "s-1")
            .json(&json!({"stage": "land_planning", "form": form, "materials": materials}))
            .send()
    };
    let first = json_ok(keyed().await.unwrap(), 201).await;
    let replay = json_ok(keyed().await.unwrap(), 201).await;
    assert_eq!(replay["number"], first["number"]);
    assert_eq!(
        sequences("GC", &[first["number"].as_str().unwrap().to_owned()]),
        [6]
    );

    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let list = || con(&stack, "/api/v1/stages");
    let page = json_ok(search(&stack, list(), &numbers[2], &clerk).await, 200).await;
    assert_eq!(ids(&page), [stages[2]["id"].as_str().unwrap()]);
    assert_eq!(page["items"][0]["number"], numbers[2].as_str());
    let page = json_ok(search(&stack, list(), ENTERPRISE_B, &clerk).await, 200).await;
    assert_eq!(ids(&page), [stages[4]["id"].as_str().unwrap()]);
    let page = json_ok(search(&stack, list(), "一站1号", &clerk).await, 200).await;
    assert_eq!(ids(&page), [stages[1]["id"].as_str().unwrap()]);
    let problem = expect_problem(
        search(&stack, list(), &"长".repeat(101), &clerk).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "q", "{problem}");

    // Accept two; a reviewer's queue finds the one searched for.
    for s in [&stages[0], &stages[3]] {
        json_ok(
            stack
                .post_json(
                    con(
                        &stack,
                        &format!("/api/v1/stages/{}/intake", s["id"].as_str().unwrap()),
                    ),
                    &clerk,
                    &json!({"decision": "accept"}),
                )
                .await,
            200,
        )
        .await;
    }
    let accepted =
        crate::construction::stage_of(&stack, &clerk, stages[3]["id"].as_str().unwrap()).await;
    let task = &accepted["tasks"][0];
    assert_eq!(task["application_number"], numbers[3].as_str());
    let rev = reviewer(&stack, task["department_code"].as_str().unwrap());
    let tasks = || con(&stack, "/api/v1/tasks");
    let page = json_ok(search(&stack, tasks(), &numbers[3], &rev).await, 200).await;
    let found: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["stage_application_id"].as_str().unwrap())
        .collect();
    assert!(!found.is_empty(), "{page}");
    assert!(found.iter().all(|s| *s == stages[3]["id"]), "{page}");
    assert_eq!(page["items"][0]["application_number"], numbers[3].as_str());
    let page = json_ok(search(&stack, tasks(), "一站0号", &rev).await, 200).await;
    assert!(!page["items"].as_array().unwrap().is_empty(), "{page}");
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["stage_application_id"] == stages[0]["id"]),
        "{page}"
    );
    let problem = expect_problem(
        search(&stack, tasks(), &"x".repeat(101), &rev).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "q", "{problem}");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    licensing_numbers_are_consecutive_replayable_and_searchable,
    stage_numbers_are_consecutive_and_searchable,
);
