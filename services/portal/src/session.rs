//! Browser sessions: the signed-in person's access token in an HttpOnly
//! cookie, and a CSRF token for every form that changes something.
//!
//! The cookie holds the token the services check themselves, so the portal
//! keeps no session store and a restart signs nobody out. The cookie is
//! `HttpOnly` (no script reads it) and `SameSite=Lax`; forms that change
//! state also carry a CSRF token derived from the session token with a key
//! of the portal's own, so a page on another site cannot post them.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use sha2::{Digest, Sha256};
use yizhan_auth::{Principal, Role};
use yizhan_kit::settings::CommonSettings;

use crate::AppState;
use crate::pages::PageError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "yizhan_session";
/// Name of the cookie holding the sign-in page's nonce (login CSRF).
pub const LOGIN_COOKIE: &str = "yizhan_login";

/// Makes session cookies and CSRF tokens.
pub struct Sessions {
    key: Vec<u8>,
    secure: bool,
}

impl Sessions {
    /// The CSRF key is configured (`portal.csrf_key`, shared by replicas)
    /// or generated once under `data_dir` (so a restarted portal agrees).
    pub fn new(common: &CommonSettings, settings: &crate::Settings) -> anyhow::Result<Self> {
        let key = match &settings.csrf_key {
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| anyhow::anyhow!("portal.csrf_key is not base64"))?,
            None => {
                yizhan_auth::load_or_create_dev_secret(&common.data_dir.join("portal-csrf-key"))?
            }
        };
        anyhow::ensure!(
            key.len() >= 16,
            "portal.csrf_key must hold at least 16 bytes"
        );
        // Behind an https address the cookies never travel in clear, even
        // if `secure_cookies` was forgotten.
        let https = common
            .http
            .public_base_url
            .as_deref()
            .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"));
        Ok(Self {
            key,
            secure: settings.secure_cookies || https,
        })
    }

    /// The CSRF token of the session holding `token`.
    pub fn csrf_for(&self, token: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(&self.key);
        hasher.update(b"\0csrf\0");
        hasher.update(token.as_bytes());
        hex::encode(&hasher.finalize()[..16])
    }

    /// The cookie that signs `token` in for `max_age_secs`.
    pub fn sign_in(&self, token: &str, max_age_secs: i64) -> Cookie<'static> {
        Cookie::build(SESSION_COOKIE, token.to_owned())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(time::Duration::seconds(max_age_secs.max(60)))
            .finish()
    }

    /// The cookie that signs out.
    pub fn sign_out(&self) -> Cookie<'static> {
        let mut cookie = Cookie::build(SESSION_COOKIE, "")
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .finish();
        cookie.make_removal();
        cookie
    }

    /// The CSRF token of a sign-in form, bound to the browser's login nonce
    /// cookie: a page elsewhere can neither read the cookie nor mint the
    /// token, so it cannot sign a victim in as someone else.
    pub fn login_csrf_for(&self, nonce: &str) -> String {
        self.csrf_for(&format!("login\0{nonce}"))
    }

    /// The sign-in page's nonce cookie (only sent back to `/login…`).
    pub fn login_nonce(&self, nonce: String) -> Cookie<'static> {
        Cookie::build(LOGIN_COOKIE, nonce)
            .path("/login")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .max_age(time::Duration::hours(12))
            .finish()
    }

    /// A short-lived cookie (OIDC state, PKCE verifier, where to go next).
    pub fn transient(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build(name, value)
            .path("/auth")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(time::Duration::minutes(10))
            .finish()
    }
}

/// The signed-in person of a page request.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Who it is, as the token says.
    pub principal: Principal,
    /// The token, passed on to the services.
    pub token: String,
    /// The CSRF token forms must carry.
    pub csrf: String,
}

impl Viewer {
    /// Passes when the viewer holds one of `roles`; otherwise a 403 page.
    pub fn require(&self, roles: &[Role]) -> Result<(), PageError> {
        self.principal
            .require_any(roles)
            .map_err(|p| PageError::Forbidden(p.detail.unwrap_or_default()))
    }

    /// Checks a posted CSRF token.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), PageError> {
        if given == Some(self.csrf.as_str()) {
            Ok(())
        } else {
            Err(PageError::Forbidden(
                "表单已过期或来源不明，请刷新页面后重新提交".into(),
            ))
        }
    }

    /// The enterprise the viewer files for: an applicant's own, or an
    /// agent's first authorising enterprise.
    pub fn enterprise(&self) -> Option<String> {
        if self.principal.has_role(Role::Applicant) {
            return self.principal.uscc.clone();
        }
        self.principal.enterprises.first().cloned()
    }
}

async fn viewer_of(req: &HttpRequest) -> Option<Viewer> {
    let state = req.app_data::<web::Data<AppState>>()?;
    let token = req.cookie(SESSION_COOKIE)?.value().to_owned();
    if token.is_empty() {
        return None;
    }
    let principal = state.auth.authenticate(&token).await.ok()?;
    let csrf = state.sessions.csrf_for(&token);
    Some(Viewer {
        principal,
        token,
        csrf,
    })
}

/// Where to come back after signing in: this request's path and query.
fn here(req: &HttpRequest) -> String {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if req.method() == actix_web::http::Method::GET {
        path.to_owned()
    } else {
        req.path().to_owned()
    }
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            viewer_of(&req)
                .await
                .ok_or_else(|| PageError::SignIn(here(&req)))
        })
    }
}

/// The viewer when someone is signed in (public pages).
pub struct MaybeViewer(pub Option<Viewer>);

impl FromRequest for MaybeViewer {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeViewer(viewer_of(&req).await)) })
    }
}
