//! Browser sessions: the signed-in person's access token in an HttpOnly
//! cookie, and a CSRF token for every form that changes something.
//!
//! The cookie holds the token the services check themselves, so the portal
//! keeps no session store and a restart signs nobody out. The cookie is
//! `HttpOnly` (no script reads it) and `SameSite=Lax`; forms that change
//! state also carry a CSRF token derived from the session with a key of the
//! portal's own, so a page on another site cannot post them.
//!
//! An OIDC session adds a second cookie, encrypted and authenticated
//! (AES-256-GCM, the `cookie` crate's private jar) with a key derived from
//! the CSRF key: the refresh token, the ID token (the logout hint), the
//! access token's expiry and a session id the CSRF token is bound to (so
//! forms stay valid when the access token is refreshed). An expired access
//! token is refreshed before the page calls any service; a refused refresh
//! ends the session (both cookies removed) and the person signs in again.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time};
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use yizhan_auth::{Principal, Role};
use yizhan_kit::response_cookies;
use yizhan_kit::settings::CommonSettings;

use crate::AppState;
use crate::oidc::{OidcError, PendingLogin, Provider, Tokens};
use crate::pages::PageError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "yizhan_session";
/// Name of the cookie holding the sign-in page's nonce (login CSRF).
pub const LOGIN_COOKIE: &str = "yizhan_login";
/// Name of the encrypted cookie of an OIDC session (refresh and ID token).
pub const OIDC_SESSION_COOKIE: &str = "yizhan_oidc_session";
/// Name of the encrypted cookie of a sign-in in progress (state, nonce,
/// PKCE verifier, where to go next).
pub const OIDC_FLOW_COOKIE: &str = "yizhan_oidc";

/// What the encrypted session cookie holds (the access token is in the
/// session cookie, which keeps each cookie under the browsers' 4 KB).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcSession {
    /// Random id of this sign-in; CSRF tokens are bound to it.
    pub sid: String,
    /// The refresh token, when the provider issued one.
    pub refresh_token: Option<String>,
    /// The last ID token.
    pub id_token: String,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
    /// The subject.
    pub sub: String,
}

/// Makes session cookies and CSRF tokens.
pub struct Sessions {
    key: Vec<u8>,
    /// Encrypts the OIDC cookies.
    jar_key: Key,
    secure: bool,
    /// Lifetime of an OIDC session's cookies (s); the provider's refresh
    /// decides earlier.
    oidc_ttl_secs: i64,
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
        // A key of its own for encryption, derived so that one secret
        // (already shared by the replicas) is all there is to configure.
        let mut derive = Sha512::new();
        derive.update(&key);
        derive.update(b"\0portal-cookie-encryption\0");
        let jar_key = Key::from(&derive.finalize());
        // Behind an https address the cookies never travel in clear, even
        // if `secure_cookies` was forgotten.
        let https = common
            .http
            .public_base_url
            .as_deref()
            .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"));
        Ok(Self {
            key,
            jar_key,
            secure: settings.secure_cookies || https,
            oidc_ttl_secs: settings.oidc.session_ttl_secs.max(60),
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

    /// The cookies that sign out (the session and any OIDC session).
    pub fn sign_out(&self) -> Vec<Cookie<'static>> {
        [SESSION_COOKIE, OIDC_SESSION_COOKIE]
            .into_iter()
            .map(|name| {
                let mut cookie = Cookie::build(name, "")
                    .path("/")
                    .http_only(true)
                    .same_site(SameSite::Lax)
                    .secure(self.secure)
                    .finish();
                cookie.make_removal();
                cookie
            })
            .collect()
    }

    /// The cookies of an OIDC session holding `tokens`.
    pub fn sign_in_oidc(&self, tokens: &Tokens, sid: &str) -> Vec<Cookie<'static>> {
        let session = OidcSession {
            sid: sid.to_owned(),
            refresh_token: tokens.refresh_token.clone(),
            id_token: tokens.id_token.clone(),
            expires_at: tokens.expires_at,
            sub: tokens.sub.clone(),
        };
        let value = serde_json::to_string(&session).unwrap_or_default();
        let sealed = self.seal(
            Cookie::build(OIDC_SESSION_COOKIE, value)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(self.secure)
                .max_age(time::Duration::seconds(self.oidc_ttl_secs))
                .finish(),
        );
        if sealed.value().len() > 4000 {
            tracing::warn!(
                bytes = sealed.value().len(),
                "the OIDC session cookie is larger than browsers keep; shorten the provider's tokens"
            );
        }
        vec![
            self.sign_in(&tokens.access_token, self.oidc_ttl_secs),
            sealed,
        ]
    }

    /// The OIDC session of a request, when its cookie decrypts.
    pub fn oidc_session(&self, req: &HttpRequest) -> Option<OidcSession> {
        serde_json::from_str(&self.open(req, OIDC_SESSION_COOKIE)?).ok()
    }

    /// The cookie of a sign-in in progress (only sent back to `/auth…`).
    pub fn pending_login(&self, pending: &PendingLogin) -> Cookie<'static> {
        self.seal(self.transient(
            OIDC_FLOW_COOKIE,
            serde_json::to_string(pending).unwrap_or_default(),
        ))
    }

    /// The sign-in in progress, when its cookie decrypts.
    pub fn read_pending_login(&self, req: &HttpRequest) -> Option<PendingLogin> {
        serde_json::from_str(&self.open(req, OIDC_FLOW_COOKIE)?).ok()
    }

    /// Removes the cookie of a finished sign-in.
    pub fn pending_login_done(&self) -> Cookie<'static> {
        let mut done = self.transient(OIDC_FLOW_COOKIE, String::new());
        done.make_removal();
        done
    }

    fn seal(&self, cookie: Cookie<'static>) -> Cookie<'static> {
        let name = cookie.name().to_owned();
        let mut jar = CookieJar::new();
        jar.private_mut(&self.jar_key).add(cookie);
        jar.get(&name)
            .cloned()
            .unwrap_or_else(|| Cookie::new(name, ""))
    }

    fn open(&self, req: &HttpRequest, name: &str) -> Option<String> {
        let cookie = req.cookie(name)?;
        let mut jar = CookieJar::new();
        jar.add_original(cookie.into_owned());
        jar.private(&self.jar_key)
            .get(name)
            .map(|c| c.value().to_owned())
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

    /// A short-lived cookie under `/auth`.
    fn transient(&self, name: &'static str, value: String) -> Cookie<'static> {
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
    /// Unread 站内消息 for the header; `None` when not asked (not a page)
    /// or the notification service did not answer.
    pub unread: Option<u64>,
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

/// The signed-in person of `req`: `Ok(None)` when nobody is (or their
/// session just ended), an error when the provider could not be asked to
/// refresh an expired session.
async fn viewer_of(req: &HttpRequest) -> Result<Option<Viewer>, PageError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Ok(None);
    };
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty());
    if let Some(oidc) = &state.oidc
        && let Some(session) = state.sessions.oidc_session(req)
    {
        return oidc_viewer(req, state, &oidc.provider, session, token).await;
    }
    let Some(token) = token else {
        return Ok(None);
    };
    let Ok(principal) = state.auth.authenticate(&token).await else {
        return Ok(None);
    };
    let csrf = state.sessions.csrf_for(&token);
    Ok(Some(Viewer {
        principal,
        token,
        csrf,
        unread: None,
    }))
}

/// An OIDC session's viewer, refreshing its access token once expired
/// (or refused), before any page calls a service with it.
async fn oidc_viewer(
    req: &HttpRequest,
    state: &AppState,
    provider: &Provider,
    session: OidcSession,
    token: Option<String>,
) -> Result<Option<Viewer>, PageError> {
    let csrf = state.sessions.csrf_for(&format!("oidc\0{}", session.sid));
    let now = chrono::Utc::now().timestamp();
    if let Some(token) = &token
        && now < session.expires_at
        && let Ok(principal) = state.auth.authenticate(token).await
    {
        return Ok(Some(Viewer {
            principal,
            token: token.clone(),
            csrf,
            unread: None,
        }));
    }
    let previous = Tokens {
        access_token: token.unwrap_or_default(),
        refresh_token: session.refresh_token.clone(),
        id_token: session.id_token.clone(),
        expires_at: session.expires_at,
        sub: session.sub.clone(),
    };
    let end = |reason: &str| -> Result<Option<Viewer>, PageError> {
        tracing::info!(sub = %session.sub, reason, "OIDC session ended");
        for cookie in state.sessions.sign_out() {
            response_cookies::queue(req, cookie);
        }
        Ok(None)
    };
    let tokens = match provider.refresh(&previous).await {
        Ok(tokens) => tokens,
        Err(OidcError::Refused(reason)) => return end(&reason),
        Err(OidcError::Unavailable(detail)) => {
            return Err(PageError::Unavailable(format!(
                "{detail}，登录状态暂时无法续期，请稍后重试"
            )));
        }
    };
    match state.auth.authenticate(&tokens.access_token).await {
        Ok(principal) if principal.sub == tokens.sub => {
            tracing::debug!(sub = %tokens.sub, "access token refreshed");
            for cookie in state.sessions.sign_in_oidc(&tokens, &session.sid) {
                response_cookies::queue(req, cookie);
            }
            Ok(Some(Viewer {
                principal,
                token: tokens.access_token,
                csrf,
                unread: None,
            }))
        }
        Ok(_) => end("the refreshed access token names another subject"),
        Err(e) => end(&format!("the refreshed access token was refused: {e}")),
    }
}

/// The viewer with their unread count, when `req` asks for a page (a GET
/// of an address without a file suffix): one call per page, none for a
/// form post (it redirects) or a QR image.
async fn with_unread(req: &HttpRequest, mut viewer: Viewer) -> Viewer {
    let file = req
        .path()
        .rsplit('/')
        .next()
        .is_some_and(|s| s.contains('.'));
    if req.method() == actix_web::http::Method::GET
        && !file
        && let Some(state) = req.app_data::<web::Data<AppState>>()
    {
        viewer.unread = state.upstream.unread_count(&viewer.token).await;
    }
    viewer
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
            let viewer = viewer_of(&req)
                .await?
                .ok_or_else(|| PageError::SignIn(here(&req)))?;
            Ok(with_unread(&req, viewer).await)
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
        // A public page still answers while the provider cannot refresh:
        // as if nobody were signed in (the cookies stay for later).
        Box::pin(async move {
            let viewer = match viewer_of(&req).await.ok().flatten() {
                Some(viewer) => Some(with_unread(&req, viewer).await),
                None => None,
            };
            Ok(MaybeViewer(viewer))
        })
    }
}
