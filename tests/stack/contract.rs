//! The partner contract as a client meets it over HTTP: methods a path does
//! not serve, and national-format e-certificate identifiers at `/verify`.

use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::*;

async fn a_method_a_path_does_not_serve_answers_405_naming_the_allowed_ones(backend: Backend) {
    let stack = TestStack::start(&[Service::Document, Service::Notification], backend).await;
    for (service, method, path, allow) in [
        (
            Service::Document,
            "TRACE",
            "/api/v1/materials/check",
            "POST",
        ),
        (Service::Document, "DELETE", "/api/v1/materials/abc", "GET"),
        (
            Service::Notification,
            "OPTIONS",
            "/api/v1/webhooks/subscriptions",
            "GET, POST",
        ),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = stack
            .client
            .request(method.clone(), stack.url(service, path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method} {path}");
        assert_eq!(r.headers()["allow"], allow, "{method} {path}");
        let problem = expect_problem(r, 405, "method_not_allowed").await;
        assert!(problem["title"].as_str().unwrap().contains("不被允许"));
    }
    // A path nobody serves is still 404.
    let r = stack
        .client
        .request(
            reqwest::Method::TRACE,
            stack.url(Service::Document, "/api/v1/nowhere"),
        )
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "not_found").await;
    stack.stop().await;
}

async fn verify_reads_national_identifiers_and_names_what_is_wrong(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let verify = |id: &str| {
        stack
            .client
            // Identifiers are 0-9, A-Z and dots: nothing to escape.
            .get(stack.url(Service::Document, &format!("/api/v1/verify?id={id}")))
            .send()
    };
    // The identifier a partner tried: well-formed, not issued here.
    let answer = json_ok(
        verify("1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U")
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(answer["identifier_valid"], true, "{answer}");
    assert_eq!(answer["found"], false);
    assert_eq!(answer["valid"], false);
    // A 21-character type code that is not a USCC and three digits.
    let problem = expect_problem(
        verify("1.2.156.3005.2.11100000000013338X011.11430000006122244L.20230000403.001.U")
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "id");
    assert_eq!(problem["errors"][0]["code"], "invalid_check_digit");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    a_method_a_path_does_not_serve_answers_405_naming_the_allowed_ones,
    verify_reads_national_identifiers_and_names_what_is_wrong,
);
