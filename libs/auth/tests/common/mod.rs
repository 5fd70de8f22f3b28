//! Shared helpers: a real actix-web app with guarded handlers, called once per request.
#![allow(dead_code)] // each test binary uses a different subset

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use actix_web::{App, test, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use yizhan_auth::{
    AuthConfig, AuthMode, Authenticator, OptionalPrincipal, Principal, Role, TokenRequest,
    mint_hs256,
};
use yizhan_kit::Problem;

pub const ISSUER: &str = "https://idp.yizhan.test/realms/yizhan";
pub const AUDIENCE: &str = "yizhan";
pub const SECRET: &[u8] = b"test-secret-test-secret-test-sec";

pub fn hs256_authenticator() -> Authenticator {
    Authenticator::new(AuthConfig::new(
        ISSUER,
        AUDIENCE,
        AuthMode::Hs256 {
            secret: SECRET.to_vec(),
        },
    ))
}

pub fn token_request(roles: &[Role]) -> TokenRequest {
    TokenRequest {
        sub: "user-1".into(),
        name: Some("张三".into()),
        roles: roles.to_vec(),
        uscc: Some("91350100M000100Y43".into()),
        enterprises: vec![],
        dept: None,
        scopes: vec![],
        ttl_secs: 600,
    }
}

pub fn hs256_token(roles: &[Role]) -> String {
    mint_hs256(SECRET, ISSUER, AUDIENCE, &token_request(roles))
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims that would pass validation, for hand-built tokens.
pub fn valid_claims() -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "sub": "user-1", "iss": ISSUER, "aud": AUDIENCE,
        "iat": now, "exp": now + 600, "roles": ["admin"]
    })
}

async fn me(who: Principal) -> web::Json<Principal> {
    web::Json(who)
}

async fn clerks_only(who: Principal) -> Result<web::Json<Principal>, Problem> {
    who.require_any(&[Role::WindowClerk, Role::DeptReviewer])?;
    Ok(web::Json(who))
}

async fn maybe(who: OptionalPrincipal) -> web::Json<serde_json::Value> {
    web::Json(serde_json::json!({ "sub": who.0.map(|p| p.sub) }))
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub www_authenticate: Option<String>,
    pub body: serde_json::Value,
}

impl Answer {
    /// Asserts a problem+json answer with `status` whose detail contains `detail`.
    pub fn assert_problem(&self, status: StatusCode, detail: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/problem+json"),
            "{self:?}"
        );
        assert_eq!(self.body["status"], status.as_u16(), "{self:?}");
        let shown = self.body["detail"].as_str().unwrap_or_default();
        assert!(shown.contains(detail), "expected {detail:?} in {self:?}");
    }
}

/// Calls `path` on a fresh app (`/me`, `/clerks`, `/maybe`) that shares `auth`.
pub async fn call(auth: Option<&Authenticator>, path: &str, authorization: Option<&str>) -> Answer {
    let mut app = App::new()
        .route("/me", web::get().to(me))
        .route("/clerks", web::get().to(clerks_only))
        .route("/maybe", web::get().to(maybe));
    if let Some(auth) = auth {
        app = app.app_data(web::Data::new(auth.clone()));
    }
    let service = test::init_service(app).await;
    let mut req = test::TestRequest::get().uri(path);
    if let Some(value) = authorization {
        req = req.insert_header((AUTHORIZATION, value));
    }
    let resp = test::call_service(&service, req.to_request()).await;
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &actix_web::http::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = resp.status();
    let content_type = header(CONTENT_TYPE);
    let www_authenticate = header(WWW_AUTHENTICATE);
    let bytes = test::read_body(resp).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Answer {
        status,
        content_type,
        www_authenticate,
        body,
    }
}

/// `Bearer <token>`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
