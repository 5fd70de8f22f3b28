//! The portal's pages over real HTTP, without a browser: who may open
//! which page (and what the others get), CSRF on every change, and the demo
//! login (the OIDC login against a real provider: `oidc.rs`).

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;

/// A client that shows redirects instead of following them.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) fn session(token: &str) -> String {
    format!("yizhan_session={token}")
}

pub(crate) fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn page(stack: &TestStack, token: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = client().get(stack.url(Service::Portal, path));
    if let Some(token) = token {
        request = request.header(COOKIE, session(token));
    }
    request.send().await.unwrap()
}

/// The CSRF token a page's forms carry for this session.
pub(crate) async fn csrf(stack: &TestStack, token: &str) -> String {
    let html = page(stack, Some(token), "/").await.text().await.unwrap();
    let start = html
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 20;
    html[start..start + 32].to_owned()
}

/// Answers a 补正 on the business scope through the application page's
/// form.
pub(crate) async fn answer_supplement(
    stack: &TestStack,
    token: &str,
    task: &str,
    app_id: &str,
    business_scope: &str,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf(stack, token).await)
        .text("application_id", app_id.to_owned())
        .text("form.business_scope", business_scope.to_owned());
    client()
        .post(stack.url(
            Service::Portal,
            &format!("/licensing/tasks/{task}/supplements"),
        ))
        .header(COOKIE, session(token))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn pages_refuse_who_may_not_use_them(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Construction, Service::Portal],
        backend,
    )
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let urban = reviewer(&stack, "urban_management");

    // Public pages answer anyone.
    let scenarios = page(&stack, None, "/licensing").await;
    assert_eq!(scenarios.status(), 200);
    assert!(scenarios.text().await.unwrap().contains("开办酒店（旅馆）"));
    let questionnaire = page(&stack, None, "/licensing/scenarios/hotel").await;
    assert_eq!(questionnaire.status(), 200);
    assert_eq!(
        page(&stack, None, "/licensing/scenarios/no_such")
            .await
            .status(),
        404
    );

    // Signed-in pages send the anonymous (and a forged session) to sign in
    // and come back.
    for token in [None, Some("not.a.token")] {
        let r = page(&stack, token, "/licensing/applications").await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()[LOCATION],
            "/login?next=%2Flicensing%2Fapplications"
        );
    }

    // Each page for its roles only: the others get a 403 page in Chinese.
    let cases: [(&str, &str, &str); 8] = [
        ("clerk", &clerk, "/licensing/applications"),
        ("reviewer", &urban, "/construction/projects"),
        ("applicant", &alice, "/window/intake"),
        ("applicant", &alice, "/window/hand-out"),
        ("reviewer", &urban, "/window/intake"),
        ("applicant", &alice, "/review"),
        ("clerk", &clerk, "/review"),
        ("clerk", &clerk, "/licensing/apply?scenario=hotel"),
    ];
    for (who, token, path) in cases {
        let r = page(&stack, Some(token), path).await;
        assert_eq!(r.status(), 403, "{who} {path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{who} {path}: a page, not JSON"
        );
        assert!(
            r.text().await.unwrap().contains("此操作仅限"),
            "{who} {path}"
        );
    }
    // And open for theirs.
    for (token, path) in [
        (&alice, "/licensing/applications"),
        (&alice, "/construction/projects"),
        (&clerk, "/window/intake"),
        (&clerk, "/window/hand-out"),
        (&urban, "/review"),
    ] {
        assert_eq!(
            page(&stack, Some(token), path).await.status(),
            200,
            "{path}"
        );
    }

    // Changes need the session's CSRF token: missing or another session's
    // is refused before anything reaches a service.
    let form = |csrf: Option<&str>| {
        let mut fields = vec![
            ("decision", "accept".to_owned()),
            ("confirm", "yes".to_owned()),
        ];
        if let Some(c) = csrf {
            fields.push(("_csrf", c.to_owned()));
        }
        fields
    };
    let alices = csrf(&stack, &alice).await;
    let clerks = csrf(&stack, &clerk).await;
    assert_ne!(alices, clerks);
    for (what, fields) in [
        ("missing", form(None)),
        ("another session's", form(Some(&alices))),
    ] {
        let r = client()
            .post(stack.url(
                Service::Portal,
                "/window/licensing/01a20000-0000-7000-8000-000000000001/intake",
            ))
            .header(COOKIE, session(&clerk))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{what} CSRF token");
        assert!(r.text().await.unwrap().contains("表单已过期或来源不明"));
    }
    // With the right one the request reaches the service, which answers
    // for itself (no such application).
    let r = client()
        .post(stack.url(
            Service::Portal,
            "/window/licensing/01a20000-0000-7000-8000-000000000001/intake",
        ))
        .header(COOKIE, session(&clerk))
        .form(&form(Some(&clerks)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Bad input to the window's actions: a page with a 4xx, before any
    // service is asked.
    let post = |path: &str, fields: Vec<(&str, String)>| {
        client()
            .post(stack.url(Service::Portal, path))
            .header(COOKIE, session(&clerk))
            .form(&fields)
            .send()
    };
    let unknown_source = post(
        "/window/everything/01a20000-0000-7000-8000-000000000001/intake",
        vec![("_csrf", clerks.clone()), ("decision", "accept".into())],
    )
    .await
    .unwrap();
    assert_eq!(unknown_source.status(), 404);
    let no_decision = post(
        "/window/construction/01a20000-0000-7000-8000-000000000001/intake",
        vec![("_csrf", clerks.clone()), ("decision", "maybe".into())],
    )
    .await
    .unwrap();
    assert_eq!(no_decision.status(), 400);
    assert!(
        no_decision
            .text()
            .await
            .unwrap()
            .contains("请选择受理、容缺受理或不予受理")
    );
    // A file over the portal's 20 MB cap is refused while it is read.
    let huge = reqwest::multipart::Form::new()
        .text("_csrf", alices.clone())
        .part(
            "file.floor_plan",
            reqwest::multipart::Part::bytes(vec![b'%'; 20 * 1024 * 1024 + 1]).file_name("plan.pdf"),
        );
    let too_large = client()
        .post(stack.url(Service::Portal, "/licensing/apply"))
        .header(COOKIE, session(&alice))
        .multipart(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);
    assert!(too_large.text().await.unwrap().contains("超过 20 MB"));
    // A certificate file the portal does not pass on.
    assert_eq!(
        page(
            &stack,
            Some(&alice),
            "/certificates/1.2.156.3005.2.X/secret"
        )
        .await
        .status(),
        404
    );
    stack.stop().await;
}

async fn demo_login(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Construction, Service::Portal],
        backend,
    )
    .await;
    // Every role, and a reviewer for departments of both catalogs.
    let login = page(&stack, None, "/login?next=/review")
        .await
        .text()
        .await
        .unwrap();
    for needle in [
        "data-user=\"applicant\"",
        "data-user=\"agent\"",
        "data-user=\"clerk\"",
        "data-user=\"admin\"",
        "data-user=\"reviewer:market_supervision\"",
        "data-user=\"reviewer:natural_resources\"",
        "data-user=\"reviewer:urban_management\"",
        // `next` rides along (minijinja escapes the slash).
        "name=\"next\" value=\"&#x2f;review\"",
    ] {
        assert!(login.contains(needle), "{needle}");
    }
    // The sign-in form's CSRF token, bound to the login nonce cookie.
    let (nonce, login_csrf) = login_form(&stack).await;
    let sign_in = |user: &'static str, next: &'static str| {
        let url = stack.url(Service::Portal, "/login/dev");
        let (nonce, login_csrf) = (nonce.clone(), login_csrf.clone());
        async move {
            client()
                .post(url)
                .header(COOKIE, nonce)
                .form(&[
                    ("_csrf", login_csrf.as_str()),
                    ("user", user),
                    ("next", next),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let r = sign_in("reviewer:urban_management", "/review").await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/review");
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("yizhan_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let token = cookie["yizhan_session=".len()..].split(';').next().unwrap();
    // The token is one every service accepts, with the reviewer's claims.
    let me: Value = stack
        .get_json(stack.url(Service::Construction, "/api/v1/me"), token)
        .await;
    assert_eq!(me["dept"], "urban_management");
    assert_eq!(me["roles"][0], "dept_reviewer");
    // Only local paths are followed; unknown users sign no one in.
    let r = sign_in("clerk", "//evil.example/").await;
    assert_eq!(r.headers()[LOCATION], "/");
    let r = sign_in("root", "/").await;
    assert_eq!(r.status(), 400);
    assert!(set_cookies(&r).is_empty());
    let r = sign_in("reviewer:no_such_department", "/").await;
    assert_eq!(r.status(), 400);
    // Tabs and newlines, which browsers strip, never lead off-site.
    for tricky in ["/\t/evil.example", "/\n/evil.example", "/\\/evil.example"] {
        let r = client()
            .post(stack.url(Service::Portal, "/login/dev"))
            .header(COOKIE, nonce.clone())
            .form(&[
                ("_csrf", login_csrf.as_str()),
                ("user", "clerk"),
                ("next", tricky),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()[LOCATION], "/", "{tricky:?}");
    }
    // Login CSRF: a page elsewhere posting the form (no nonce cookie, or
    // another browser's token) signs no one in.
    let forged = [
        (None, Some(login_csrf.clone())),
        (Some(nonce.clone()), None),
        (Some(nonce.clone()), Some("0".repeat(32))),
        (Some(login_form(&stack).await.0), Some(login_csrf.clone())),
    ];
    for (cookie, token) in forged {
        let mut request = client().post(stack.url(Service::Portal, "/login/dev"));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let mut fields = vec![("user", "admin".to_owned()), ("next", "/".to_owned())];
        if let Some(token) = token {
            fields.push(("_csrf", token));
        }
        let r = request.form(&fields).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(
            set_cookies(&r)
                .iter()
                .all(|c| !c.starts_with("yizhan_session="))
        );
    }
    stack.stop().await;
}

/// A fresh browser's sign-in form: its nonce cookie (as a `Cookie` header)
/// and the form's CSRF token.
pub(crate) async fn login_form(stack: &TestStack) -> (String, String) {
    let r = page(stack, None, "/login").await;
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("yizhan_login="))
        .expect("a login nonce cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let nonce = cookie.split(';').next().unwrap().to_owned();
    let html = r.text().await.unwrap();
    let start = html
        .find("name=\"_csrf\" value=\"")
        .expect("a login CSRF token")
        + 20;
    (nonce, html[start..start + 32].to_owned())
}

/// A convenience store application of enterprise A, submitted through the
/// API (material ids not checked: no document service), and its notice.
async fn submit_store_with_notice(stack: &TestStack, alice: &str) -> (Value, Value) {
    let answers =
        serde_json::json!({"sells_food": false, "sells_tobacco": false, "outdoor_sign": false});
    let notice = crate::licensing_more::notice(stack, "convenience_store", &answers).await;
    let app = json_ok(
        stack
            .post_json(
                stack.url(Service::Licensing, "/api/v1/applications"),
                alice,
                &serde_json::json!({
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
                        "business_scope": "日用百货",
                    },
                    "materials": crate::licensing::materials_for(&notice),
                }),
            )
            .await,
        201,
    )
    .await;
    (app, notice)
}

pub(crate) async fn submit_store(stack: &TestStack, alice: &str) -> Value {
    submit_store_with_notice(stack, alice).await.0
}

async fn window_rejects_and_tolerates_through_the_pages(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Portal], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let (first, notice) = submit_store_with_notice(&stack, &alice).await;
    // The hotel has non-key materials, which 容缺受理 may owe.
    let hotel_notice =
        crate::licensing_more::notice(&stack, "hotel", &crate::licensing::hotel_answers()).await;
    let second = json_ok(
        stack
            .post_json(
                stack.url(Service::Licensing, "/api/v1/applications"),
                &alice,
                &serde_json::json!({
                    "scenario": "hotel",
                    "answers": crate::licensing::hotel_answers(),
                    "enterprise_uscc": ENTERPRISE_A,
                    "form": yizhan_licensing::seed::sample_hotel_form(),
                    "materials": crate::licensing::materials_for(&hotel_notice),
                }),
            )
            .await,
        201,
    )
    .await;
    let token = csrf(&stack, &clerk).await;
    let intake = |id: &str, fields: Vec<(String, String)>| {
        let request = client()
            .post(stack.url(Service::Portal, &format!("/window/licensing/{id}/intake")))
            .header(COOKIE, session(&clerk))
            .form(&fields);
        async move { request.send().await.unwrap() }
    };
    let field = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let api = |id: &str| stack.url(Service::Licensing, &format!("/api/v1/applications/{id}"));
    let first_id = first["id"].as_str().unwrap().to_owned();
    let second_id = second["id"].as_str().unwrap().to_owned();
    let material = notice["materials"][0]["code"].as_str().unwrap().to_owned();

    // The intake page shows the form and every material to judge.
    let intake_page = page(
        &stack,
        Some(&clerk),
        &format!("/window/licensing/{first_id}"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(intake_page.contains("id=\"intake-form\""));
    assert!(intake_page.contains(&format!("name=\"d.m.{material}\"")));
    assert!(intake_page.contains(&format!("name=\"d.bad.m.{material}\"")));

    // A rejection without reasons: the service's message, on a page.
    let bare = intake(
        &first_id,
        vec![field("_csrf", &token), field("decision", "reject")],
    )
    .await;
    assert_eq!(bare.status(), 422);
    assert!(
        bare.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        stack.get_json(api(&first_id), &alice).await["status"],
        "submitted"
    );

    // 不予受理 with the one-time list: every item marked "有问题" with its
    // reason; an unmarked one's text is not sent.
    let rejected = intake(
        &first_id,
        vec![
            field("_csrf", &token),
            field("decision", "reject"),
            field("d.bad.form.business_scope", "yes"),
            field("d.form.business_scope", "经营范围须与营业执照一致"),
            field("d.form.enterprise_name", "未勾选"),
            field(&format!("d.bad.m.{material}"), "yes"),
            field(&format!("d.m.{material}"), "复印件不清晰"),
        ],
    )
    .await;
    assert_eq!(rejected.status(), 303);
    let returned = stack.get_json(api(&first_id), &alice).await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(
        returned["deficiencies"].as_array().unwrap().len(),
        2,
        "{returned}"
    );
    let applicant_page = page(
        &stack,
        Some(&alice),
        &format!("/licensing/applications/{first_id}"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(applicant_page.contains("经营范围须与营业执照一致"));
    assert!(applicant_page.contains("复印件不清晰"));

    // The applicant corrects it on the form, filled in from the returned
    // application, and resubmits (不受理 → 已接件).
    let link_start = applicant_page
        .find("href=\"/licensing/apply?")
        .expect("a correct link")
        + 6;
    let link = applicant_page[link_start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(link.contains(&format!("resubmit={first_id}")), "{link}");
    let form_page = page(&stack, Some(&alice), &link).await;
    assert_eq!(form_page.status(), 200);
    let form_html = form_page.text().await.unwrap();
    assert!(form_html.contains("name=\"resubmit\""));
    assert!(
        form_html.contains("value=\"日用百货\""),
        "the form holds the returned values"
    );
    // Each flagged field and material is marked where it is corrected.
    assert!(form_html.contains("data-flagged=\"form.business_scope\""));
    assert!(form_html.contains(&format!("data-flagged=\"m.{material}\"")));
    assert!(form_html.contains("需补正：经营范围须与营业执照一致"));
    let mut corrected = reqwest::multipart::Form::new()
        .text("_csrf", csrf(&stack, &alice).await)
        .text("scenario", "convenience_store")
        .text("resubmit", first_id.clone())
        .text("enterprise_uscc", ENTERPRISE_A)
        .text("declaration", "yes");
    for (k, v) in first["answers"].as_object().unwrap() {
        corrected = corrected.text(format!("q.{k}"), v.to_string());
    }
    for (k, v) in returned["form"].as_object().unwrap() {
        let text = match (k.as_str(), v) {
            ("business_scope", _) => "日用百货零售".to_owned(),
            (_, Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        };
        corrected = corrected.text(format!("form.{k}"), text);
    }
    for (k, v) in returned["materials"].as_object().unwrap() {
        corrected = corrected.text(format!("m.{k}"), v.as_str().unwrap().to_owned());
    }
    let resubmitted = client()
        .post(stack.url(Service::Portal, "/licensing/apply"))
        .header(COOKIE, session(&alice))
        .multipart(corrected)
        .send()
        .await
        .unwrap();
    assert_eq!(resubmitted.status(), 303);
    assert!(
        resubmitted.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with(&format!("/licensing/applications/{first_id}?msg="))
    );
    let again = stack.get_json(api(&first_id), &alice).await;
    assert_eq!(again["status"], "submitted", "{again}");
    assert_eq!(again["form"]["business_scope"], "日用百货零售");

    // 容缺受理: a non-key material owed by a date.
    let owed = hotel_notice["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == false)
        .expect("a non-key material")["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let due = (chrono::Utc::now() + chrono::Duration::days(10))
        .date_naive()
        .to_string();
    let tolerated = intake(
        &second_id,
        vec![
            field("_csrf", &token),
            field("decision", "accept_with_tolerance"),
            field("confirm", "yes"),
            field(&format!("d.bad.m.{owed}"), "yes"),
            field(&format!("d.m.{owed}"), "原件待补交"),
            field("tolerance_due_date", &due),
        ],
    )
    .await;
    assert_eq!(tolerated.status(), 303);
    let accepted = stack.get_json(api(&second_id), &alice).await;
    assert_eq!(accepted["status"], "in_review");
    assert_eq!(accepted["tolerance_missing"][0]["material"], owed.as_str());
    assert_eq!(accepted["tolerance_due_date"], due.as_str());
    // Decided: the window page offers no intake any more.
    let after = page(
        &stack,
        Some(&clerk),
        &format!("/window/licensing/{second_id}"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(!after.contains("id=\"intake-form\""));
    stack.stop().await;
}

async fn supplement_round_trip_through_the_pages(backend: Backend) {
    let stack = TestStack::start(&[Service::Licensing, Service::Portal], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let clerk = stack.staff("clerk-1", Role::WindowClerk);
    let app = submit_store(&stack, &alice).await;
    let app_id = app["id"].as_str().unwrap().to_owned();
    let accepted = json_ok(
        stack
            .post_json(
                stack.url(
                    Service::Licensing,
                    &format!("/api/v1/applications/{app_id}/intake"),
                ),
                &clerk,
                &serde_json::json!({"decision": "accept"}),
            )
            .await,
        200,
    )
    .await;
    let task = accepted["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["department_code"] == "market_supervision")
        .unwrap()
        .clone();
    let task_id = task["id"].as_str().unwrap().to_owned();
    let market = reviewer(&stack, "market_supervision");

    // The reviewer reads the task with its fields and asks for a 补正.
    let task_page = page(
        &stack,
        Some(&market),
        &format!("/review/licensing/tasks/{task_id}?application={app_id}"),
    )
    .await;
    assert_eq!(task_page.status(), 200);
    let html = task_page.text().await.unwrap();
    assert!(
        html.contains("要求补正") && html.contains("日用百货"),
        "the reviewer sees the form values"
    );
    // Another department's reviewer does not get the task.
    let other = page(
        &stack,
        Some(&reviewer(&stack, "tobacco")),
        &format!("/review/licensing/tasks/{task_id}?application={app_id}"),
    )
    .await;
    assert_eq!(other.status(), 404);
    let asked = client()
        .post(stack.url(
            Service::Portal,
            &format!("/review/licensing/tasks/{task_id}/supplement-request"),
        ))
        .header(COOKIE, session(&market))
        .form(&[
            ("_csrf", csrf(&stack, &market).await),
            ("s.bad.form.business_scope", "yes".to_owned()),
            (
                "s.form.business_scope",
                "经营范围须与营业执照一致".to_owned(),
            ),
            ("s.form.enterprise_name", "未勾选，不在清单上".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 303);
    let url = stack.url(
        Service::Licensing,
        &format!("/api/v1/applications/{app_id}"),
    );
    let paused = stack.get_json(&url, &alice).await;
    let paused_task = paused["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == task_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(paused_task["blzt"], 6);
    assert_eq!(
        paused_task["supplement_request"].as_array().unwrap().len(),
        1,
        "unmarked items are not on the list: {paused_task}"
    );

    // The applicant sees the one-time list on the application page and
    // answers it there.
    let app_page = page(
        &stack,
        Some(&alice),
        &format!("/licensing/applications/{app_id}"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(app_page.contains(&format!(
        "action=\"/licensing/tasks/{task_id}/supplements\""
    )));
    assert!(app_page.contains("经营范围须与营业执照一致"));
    let supplied = answer_supplement(
        &stack,
        &alice,
        &task_id,
        &app_id,
        "日用百货零售；预包装食品销售",
    )
    .await;
    assert_eq!(supplied.status(), 303);
    assert!(
        supplied.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with(&format!("/licensing/applications/{app_id}?msg="))
    );
    let resumed = stack.get_json(&url, &alice).await;
    let resumed_task = resumed["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == task_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(resumed_task["blzt"], 8, "back in review: {resumed_task}");
    assert_eq!(
        resumed["form"]["business_scope"],
        "日用百货零售；预包装食品销售"
    );
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    pages_refuse_who_may_not_use_them,
    supplement_round_trip_through_the_pages,
    window_rejects_and_tolerates_through_the_pages,
    demo_login,
);
