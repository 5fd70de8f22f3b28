//! HS256 (development) mode through a real actix-web service: what is accepted,
//! and that every kind of bad credential is a 401 problem+json.

mod common;

use actix_web::http::StatusCode;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use yizhan_auth::{AuthConfig, AuthMode, Authenticator, Role, TokenRequest, mint_hs256};

#[actix_web::test]
async fn a_valid_token_is_accepted_with_its_claims() {
    let auth = hs256_authenticator();
    let req = TokenRequest {
        enterprises: vec!["91110000802100433B".into()],
        dept: Some("ZJJ".into()),
        scopes: vec!["queues:read".into()],
        ..token_request(&[Role::Applicant, Role::Agent])
    };
    let token = mint_hs256(SECRET, ISSUER, AUDIENCE, &req);
    let answer = call(Some(&auth), "/me", Some(&bearer(&token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        answer.body,
        serde_json::json!({
            "sub": "user-1",
            "name": "张三",
            "roles": ["applicant", "agent"],
            "uscc": "91350100M000100Y43",
            "enterprises": ["91110000802100433B"],
            "dept": "ZJJ",
            "scopes": ["queues:read"]
        })
    );
}

#[actix_web::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let auth = hs256_authenticator();
    let token = hs256_token(&[Role::Admin]);
    let answer = call(Some(&auth), "/me", Some(&format!("bearer {token}"))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
}

#[actix_web::test]
async fn a_missing_header_is_401_with_a_bearer_challenge() {
    let auth = hs256_authenticator();
    let answer = call(Some(&auth), "/me", None).await;
    answer.assert_problem(StatusCode::UNAUTHORIZED, "未提供访问令牌");
    assert_eq!(answer.body["code"], "unauthorized");
    assert!(
        answer
            .www_authenticate
            .as_deref()
            .is_some_and(|c| c.starts_with("Bearer")),
        "{answer:?}"
    );
}

#[actix_web::test]
async fn malformed_headers_are_401() {
    let auth = hs256_authenticator();
    for header in ["Basic x", "Bearer", "Bearer  ", "Token abc"] {
        call(Some(&auth), "/me", Some(header))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "Authorization 请求头格式错误");
    }
    for token in ["not-a-jwt", "a.b.c", "a.b"] {
        call(Some(&auth), "/me", Some(&bearer(token)))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "令牌格式错误");
    }
}

#[actix_web::test]
async fn an_expired_token_is_401() {
    let auth = hs256_authenticator();
    let req = TokenRequest {
        ttl_secs: -3600,
        ..token_request(&[Role::Admin])
    };
    let token = mint_hs256(SECRET, ISSUER, AUDIENCE, &req);
    let answer = call(Some(&auth), "/me", Some(&bearer(&token))).await;
    answer.assert_problem(StatusCode::UNAUTHORIZED, "令牌已过期");
    assert!(
        answer
            .www_authenticate
            .as_deref()
            .is_some_and(|c| c.contains("invalid_token")),
        "{answer:?}"
    );
}

#[actix_web::test]
async fn a_wrong_audience_is_401() {
    let auth = hs256_authenticator();
    let token = mint_hs256(
        SECRET,
        ISSUER,
        "some-other-app",
        &token_request(&[Role::Admin]),
    );
    call(Some(&auth), "/me", Some(&bearer(&token)))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "令牌受众(aud)不匹配");
}

#[actix_web::test]
async fn a_wrong_issuer_is_401() {
    let auth = hs256_authenticator();
    let token = mint_hs256(
        SECRET,
        "https://evil.test",
        AUDIENCE,
        &token_request(&[Role::Admin]),
    );
    call(Some(&auth), "/me", Some(&bearer(&token)))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "令牌签发者(iss)不匹配");
}

#[actix_web::test]
async fn an_unsigned_alg_none_token_is_401_not_500() {
    let auth = hs256_authenticator();
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = b64(valid_claims().to_string().as_bytes());
    for token in [
        format!("{header}.{claims}."),
        format!("{header}.{claims}"),
        // "None" and "NONE" must not slip through a case-sensitive allow-list either.
        format!("{}.{claims}.", b64(br#"{"alg":"NONE","typ":"JWT"}"#)),
    ] {
        let answer = call(Some(&auth), "/me", Some(&bearer(&token))).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{token}: {answer:?}"
        );
        assert_eq!(
            answer.content_type.as_deref(),
            Some("application/problem+json")
        );
    }
    call(
        Some(&auth),
        "/me",
        Some(&bearer(&format!("{header}.{claims}."))),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "不支持的令牌签名算法");
}

#[actix_web::test]
async fn a_token_signed_with_another_secret_is_401() {
    let auth = hs256_authenticator();
    let forged = mint_hs256(
        b"attacker-secret-attacker-secret!",
        ISSUER,
        AUDIENCE,
        &token_request(&[Role::Admin]),
    );
    call(Some(&auth), "/me", Some(&bearer(&forged)))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "令牌签名无效");
}

#[actix_web::test]
async fn a_tampered_payload_is_401() {
    let auth = hs256_authenticator();
    let token = hs256_token(&[Role::Applicant]);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = valid_claims();
    claims["roles"] = serde_json::json!(["admin"]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    call(Some(&auth), "/me", Some(&bearer(&tampered)))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "令牌签名无效");
}

#[actix_web::test]
async fn other_hmac_algorithms_are_401() {
    let auth = hs256_authenticator();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &valid_claims(),
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    call(Some(&auth), "/me", Some(&bearer(&token)))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "不支持的令牌签名算法");
}

#[actix_web::test]
async fn an_hs256_token_is_refused_by_a_jwks_deployment() {
    // The IdP is not even reachable: the algorithm is refused before any key
    // is looked up, so this is a 401 and not a 503.
    let auth = Authenticator::new(AuthConfig::new(
        ISSUER,
        AUDIENCE,
        AuthMode::Jwks {
            url: "http://127.0.0.1:9/jwks".into(),
        },
    ));
    let token = hs256_token(&[Role::Admin]);
    call(Some(&auth), "/me", Some(&bearer(&token)))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "不支持的令牌签名算法");
}

#[actix_web::test]
async fn require_any_with_the_wrong_role_is_403_naming_the_allowed_roles() {
    let auth = hs256_authenticator();
    let token = hs256_token(&[Role::Applicant]);
    let answer = call(Some(&auth), "/clerks", Some(&bearer(&token))).await;
    answer.assert_problem(StatusCode::FORBIDDEN, "综合窗口人员、部门审批人员");
    assert_eq!(answer.body["code"], "forbidden");

    let token = hs256_token(&[Role::DeptReviewer]);
    let answer = call(Some(&auth), "/clerks", Some(&bearer(&token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
}

#[actix_web::test]
async fn optional_principal_allows_anonymous_but_not_bad_tokens() {
    let auth = hs256_authenticator();
    let answer = call(Some(&auth), "/maybe", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, serde_json::json!({ "sub": null }));

    let token = hs256_token(&[Role::Admin]);
    let answer = call(Some(&auth), "/maybe", Some(&bearer(&token))).await;
    assert_eq!(answer.body, serde_json::json!({ "sub": "user-1" }));

    call(Some(&auth), "/maybe", Some("Basic x"))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "Authorization 请求头格式错误");
    call(Some(&auth), "/maybe", Some(&bearer("a.b.c")))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "令牌格式错误");
}

#[actix_web::test]
async fn a_missing_authenticator_is_an_opaque_500() {
    let token = hs256_token(&[Role::Admin]);
    let answer = call(None, "/me", Some(&bearer(&token))).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(answer.body["code"], "internal_error");
}
