//! Every protected endpoint refuses bad tokens with 401 and wrong roles with
//! 403, as problem+json, on every service.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::Backend;

use crate::common::*;

fn request(roles: Vec<Role>) -> TokenRequest {
    TokenRequest {
        sub: "mallory".into(),
        roles,
        uscc: Some(ENTERPRISE_A.into()),
        ttl_secs: 600,
        ..Default::default()
    }
}

async fn bad_tokens_are_refused_with_401_on_every_service(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let good = request(vec![Role::Applicant]);
    let expired = yizhan_auth::mint_hs256(
        &stack.secret,
        ISSUER,
        AUDIENCE,
        &TokenRequest {
            ttl_secs: -3600,
            ..good.clone()
        },
    );
    let wrong_audience = yizhan_auth::mint_hs256(&stack.secret, ISSUER, "someone-else", &good);
    let wrong_issuer = yizhan_auth::mint_hs256(&stack.secret, "evil-issuer", AUDIENCE, &good);
    let forged =
        yizhan_auth::mint_hs256(b"not-the-deployment-secret-at-all", ISSUER, AUDIENCE, &good);
    let valid = stack.token(good.clone());
    let claims = valid.split('.').nth(1).unwrap();
    let alg_none = format!(
        "{}.{claims}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    // A valid signature over tampered claims: roles changed to admin.
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    payload["roles"] = serde_json::json!(["admin"]);
    let parts: Vec<&str> = valid.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );

    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        (
            "not bearer",
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("a:b")
            )),
        ),
        ("empty bearer", Some("Bearer ".into())),
        ("garbage", Some("Bearer not.a.jwt".into())),
        ("expired", Some(format!("Bearer {expired}"))),
        ("wrong audience", Some(format!("Bearer {wrong_audience}"))),
        ("wrong issuer", Some(format!("Bearer {wrong_issuer}"))),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        ("forged signature", Some(format!("Bearer {forged}"))),
        ("tampered claims", Some(format!("Bearer {tampered}"))),
    ];
    for service in Service::ALL {
        for (what, header) in &cases {
            let mut req = stack.client.get(stack.url(service, "/api/v1/me"));
            if let Some(h) = header {
                req = req.header("Authorization", h);
            }
            let response = req.send().await.unwrap();
            assert!(
                response.headers().contains_key("www-authenticate"),
                "{what} on {}",
                service.name()
            );
            let body = expect_problem(response, 401, "unauthorized").await;
            assert!(
                body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{what}: {body}"
            );
        }
        // And the valid token passes, with its claims.
        let me: serde_json::Value = stack
            .get_json(stack.url(service, "/api/v1/me"), &valid)
            .await;
        assert_eq!(me["sub"], "mallory");
        assert_eq!(me["uscc"], ENTERPRISE_A);
    }
    // Protected data endpoints refuse too, not just /me.
    let inbox = stack
        .get(
            stack.url(Service::Notification, "/api/v1/inbox/messages"),
            &expired,
        )
        .await;
    expect_problem(inbox, 401, "unauthorized").await;
    let upload_refused = upload(
        &stack,
        &forged,
        "floor_plan",
        "a.pdf",
        pdf_bytes(10, "x"),
        &[],
    )
    .await;
    expect_problem(upload_refused, 401, "unauthorized").await;
    stack.stop().await;
}

async fn wrong_roles_get_403(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    for role in [
        Role::WindowClerk,
        Role::DeptReviewer,
        Role::Admin,
        Role::Partner,
    ] {
        let token = stack.token(request(vec![role]));
        let r = upload(
            &stack,
            &token,
            "floor_plan",
            "a.pdf",
            pdf_bytes(10, "x"),
            &[("enterprise_uscc", ENTERPRISE_A)],
        )
        .await;
        expect_problem(r, 403, "forbidden").await;
    }
    let check_url = stack.url(Service::Document, "/api/v1/materials/check");
    let body = serde_json::json!({"enterprise_uscc": ENTERPRISE_A, "material_ids": ["x"]});
    for token in [
        stack.applicant("alice", ENTERPRISE_A),
        stack.token(request(vec![Role::Agent])),
        // A partner without the materials:check scope.
        stack.token(TokenRequest {
            scopes: vec!["queues:read".into()],
            ..request(vec![Role::Partner])
        }),
    ] {
        let r = stack.post_json(&check_url, &token, &body).await;
        expect_problem(r, 403, "forbidden").await;
    }
    // The allowed callers pass.
    for token in [
        stack.staff("clerk", Role::WindowClerk),
        stack.staff("reviewer", Role::DeptReviewer),
        stack.token(TokenRequest {
            scopes: vec!["materials:check".into()],
            ..request(vec![Role::Partner])
        }),
    ] {
        let r = stack.post_json(&check_url, &token, &body).await;
        assert_eq!(r.status(), 200);
    }
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    bad_tokens_are_refused_with_401_on_every_service,
    wrong_roles_get_403
);
