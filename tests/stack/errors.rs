//! Every error path answers problem+json with a stable code and the field
//! named: malformed JSON, wrong content type, oversized bodies, unknown
//! routes, bad query parameters, bad headers.

use yizhan::Service;
use yizhan_auth::Role;
use yizhan_kit::testing::Backend;

use crate::common::*;

async fn json_body_errors_are_problems_naming_the_field(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let clerk = stack.staff("clerk", Role::WindowClerk);
    let url = stack.url(Service::Document, "/api/v1/materials/check");
    let post = |body: Vec<u8>, content_type: &'static str| {
        stack
            .client
            .post(&url)
            .bearer_auth(&clerk)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let r = post(b"{\"enterprise_uscc\": ".to_vec(), "application/json")
        .await
        .unwrap();
    let body = expect_problem(r, 400, "bad_request").await;
    assert_eq!(body["errors"][0]["code"], "malformed_json");

    let r = post(
        b"enterprise_uscc=x".to_vec(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    expect_problem(r, 415, "unsupported_media_type").await;

    let huge = format!(
        "{{\"enterprise_uscc\": \"{}\", \"material_ids\": []}}",
        "9".repeat(2 * 1024 * 1024)
    );
    let r = post(huge.into_bytes(), "application/json").await.unwrap();
    expect_problem(r, 413, "payload_too_large").await;

    let r = post(br#"{"material_ids": ["a"]}"#.to_vec(), "application/json")
        .await
        .unwrap();
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "enterprise_uscc");
    assert_eq!(body["errors"][0]["code"], "required");

    let r = post(
        br#"{"enterprise_uscc": 7, "material_ids": ["a"]}"#.to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "invalid_type");

    let r = post(
        br#"{"enterprise_uscc": "x", "material_ids": [], "extra": 1}"#.to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "extra");

    // Several field problems are reported together (一次性告知).
    let r = post(
        br#"{"enterprise_uscc": "91350100M000100Y44", "material_ids": []}"#.to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    let body = expect_problem(r, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["enterprise_uscc", "material_ids"]);
    assert_eq!(body["errors"][0]["code"], "invalid_check_digit");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("校验位")
    );
    stack.stop().await;
}

async fn unknown_routes_and_bad_parameters_are_problems(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    for service in Service::ALL {
        let r = stack
            .client
            .get(stack.url(service, "/api/v1/no-such-thing"))
            .send()
            .await
            .unwrap();
        expect_problem(r, 404, "not_found").await;
        let r = stack
            .client
            .delete(stack.url(service, "/healthz"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error());
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json")
        );
        // Health and the API description answer without a token.
        let health: serde_json::Value = stack
            .client
            .get(stack.url(service, "/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["status"], "ok");
        let ready = stack
            .client
            .get(stack.url(service, "/readyz"))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 200);
        let ready: serde_json::Value = ready.json().await.unwrap();
        let checks: Vec<&str> = ready["checks"]
            .as_array()
            .map(|checks| checks.iter().map(|c| c["name"].as_str().unwrap()).collect())
            .unwrap_or_default();
        // The portal keeps no data and sends no events: it is ready when it
        // serves (a source that is down makes its pages partial, not it).
        let want: Vec<&str> = if service.has_database() {
            vec!["database", "broker", "consumer"]
        } else {
            vec![]
        };
        assert_eq!(checks, want, "{}", service.name());
        let api: serde_json::Value = stack
            .client
            .get(stack.url(service, "/api-docs/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(api["openapi"].as_str().unwrap().starts_with("3.1"));
        let ui = stack
            .client
            .get(stack.url(service, "/swagger-ui/"))
            .send()
            .await
            .unwrap();
        assert_eq!(ui.status(), 200);
        // Every answer carries a request id and trace context.
        assert!(ui.headers().contains_key("x-request-id"));
        assert!(ui.headers().contains_key("traceparent"));
    }
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let inbox = stack.url(Service::Notification, "/api/v1/inbox/messages");
    let r = stack.get(format!("{inbox}?limit=0"), &alice).await;
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "limit");
    let r = stack.get(format!("{inbox}?limit=abc"), &alice).await;
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "invalid_query");
    let r = stack.get(format!("{inbox}?cursor=%21%21"), &alice).await;
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "cursor");
    // A bad Idempotency-Key header is named.
    let r = stack
        .client
        .post(stack.url(Service::Document, "/api/v1/materials"))
        .bearer_auth(&alice)
        .header("Idempotency-Key", "")
        .multipart(reqwest::multipart::Form::new().text("material_type", "floor_plan"))
        .send()
        .await
        .unwrap();
    let body = expect_problem(r, 400, "bad_request").await;
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
    // Multipart endpoints refuse other content types with 415.
    let r = stack
        .post_json(
            stack.url(Service::Document, "/api/v1/materials"),
            &alice,
            &serde_json::json!({"material_type": "floor_plan"}),
        )
        .await;
    expect_problem(r, 415, "unsupported_media_type").await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    json_body_errors_are_problems_naming_the_field,
    unknown_routes_and_bad_parameters_are_problems,
);
