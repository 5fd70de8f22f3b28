//! Signing in: demo users in development, OpenID Connect in production
//! (discovery, authorization code with PKCE, state and nonce, validated ID
//! tokens, refresh, RP-initiated logout: see [`crate::oidc`]).
//!
//! Either way the result is a token the services check themselves; the
//! portal verifies it with the same authenticator before it sets the
//! session cookie, so a provider token the services would refuse never
//! becomes a session.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::settings::CommonSettings;

use crate::oidc::{OidcError, Provider, RelyingParty};
use crate::pages::{PageError, local_path, render};
use crate::session::{LOGIN_COOKIE, MaybeViewer};
use crate::upstream::Upstream;
use crate::{AppState, DevSigner};

/// The enterprise the demo applicant and agent act for.
pub const DEMO_ENTERPRISE: &str = "91350100M000100Y43";
/// Its name.
pub const DEMO_ENTERPRISE_NAME: &str = "福州一站酒店有限公司";
/// Lifetime of a demo session (s).
const DEMO_TTL_SECS: i64 = 8 * 3600;

/// `[portal.oidc]`: the provider of production sign-in.
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct OidcSettings {
    /// The provider's issuer URL (`iss`); its endpoints and keys are
    /// discovered from `<issuer_url>/.well-known/openid-configuration`.
    pub issuer_url: Option<String>,
    /// The portal's client id at the provider; OIDC is off while unset.
    pub client_id: Option<String>,
    /// Client secret (confidential clients); public clients rely on PKCE.
    pub client_secret: Option<String>,
    /// Where the provider sends people back; defaults to
    /// `<http.public_base_url>/auth/callback`.
    pub redirect_url: Option<String>,
    /// Where the provider sends people after logging out; defaults to
    /// `<http.public_base_url>/`.
    pub post_logout_redirect_url: Option<String>,
    /// Requested scopes, space-separated (`openid` is always requested).
    pub scopes: Option<String>,
    /// Provider's name on the sign-in button.
    pub display_name: Option<String>,
    /// Lifetime of the session cookies (s). The session itself lasts as
    /// long as the provider keeps refreshing it, at most this long.
    pub session_ttl_secs: i64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            issuer_url: None,
            client_id: None,
            client_secret: None,
            redirect_url: None,
            post_logout_redirect_url: None,
            scopes: None,
            display_name: None,
            session_ttl_secs: 12 * 3600,
        }
    }
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("redirect_url", &self.redirect_url)
            .field("post_logout_redirect_url", &self.post_logout_redirect_url)
            .field("scopes", &self.scopes)
            .field("display_name", &self.display_name)
            .field("session_ttl_secs", &self.session_ttl_secs)
            .finish()
    }
}

/// A configured OIDC provider.
pub struct Oidc {
    /// Discovery, tokens, logout.
    pub provider: Provider,
    /// Shown on the sign-in page.
    pub display_name: String,
}

impl Oidc {
    /// The provider the settings describe; `None` while `client_id` is
    /// unset. A half-configured provider is a start-up error, not a login
    /// page that fails later.
    pub fn from_settings(
        settings: &OidcSettings,
        common: &CommonSettings,
    ) -> anyhow::Result<Option<Self>> {
        let Some(client_id) = settings.client_id.clone() else {
            return Ok(None);
        };
        let issuer = settings.issuer_url.clone().ok_or_else(|| {
            anyhow::anyhow!("portal.oidc.client_id is set, so portal.oidc.issuer_url is needed too")
        })?;
        let base = common
            .http
            .public_base_url
            .as_deref()
            .map(|b| b.trim_end_matches('/').to_owned());
        let redirect_url = match (&settings.redirect_url, &base) {
            (Some(url), _) => url.clone(),
            (None, Some(base)) => format!("{base}/auth/callback"),
            (None, None) => {
                anyhow::bail!("portal.oidc needs redirect_url or http.public_base_url")
            }
        };
        let post_logout_redirect_url = settings
            .post_logout_redirect_url
            .clone()
            .or_else(|| base.map(|b| format!("{b}/")));
        let scopes = settings
            .scopes
            .as_deref()
            .unwrap_or("openid profile")
            .split_whitespace()
            // The crate always asks for `openid` itself.
            .filter(|s| *s != "openid")
            .map(str::to_owned)
            .collect();
        Ok(Some(Self {
            provider: Provider::new(RelyingParty {
                issuer,
                client_id,
                client_secret: settings.client_secret.clone(),
                redirect_url,
                post_logout_redirect_url,
                scopes,
            })?,
            display_name: settings
                .display_name
                .clone()
                .unwrap_or_else(|| "统一身份认证".into()),
        }))
    }
}

/// One demo user of the dev login.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoUser {
    /// Form value.
    pub key: String,
    /// Shown name.
    pub name: String,
    /// Role, in Chinese.
    pub role: String,
    /// What they do.
    pub note: String,
}

fn token_request(key: &str, departments: &[(String, String)]) -> Option<TokenRequest> {
    let base = |sub: &str, name: &str, role: Role| TokenRequest {
        sub: sub.into(),
        name: Some(name.into()),
        roles: vec![role],
        ttl_secs: DEMO_TTL_SECS,
        ..Default::default()
    };
    match key {
        "applicant" => Some(TokenRequest {
            uscc: Some(DEMO_ENTERPRISE.into()),
            ..base("demo-applicant", "林申请", Role::Applicant)
        }),
        "agent" => Some(TokenRequest {
            enterprises: vec![DEMO_ENTERPRISE.into()],
            ..base("demo-agent", "陈帮办", Role::Agent)
        }),
        "clerk" => Some(base("demo-clerk", "周受理", Role::WindowClerk)),
        "specialist" => Some(TokenRequest {
            enterprises: vec![DEMO_ENTERPRISE.into()],
            ..base("demo-specialist", "郑专员", Role::Specialist)
        }),
        "hotline" => Some(base("demo-hotline", "何接线", Role::HotlineOperator)),
        "admin" => Some(base("demo-admin", "吴管理", Role::Admin)),
        other => {
            let dept = other.strip_prefix("reviewer:")?;
            let (code, name) = departments.iter().find(|(c, _)| c == dept)?;
            Some(TokenRequest {
                dept: Some(code.clone()),
                ..base(
                    &format!("demo-reviewer-{code}"),
                    &format!("{name}审批员"),
                    Role::DeptReviewer,
                )
            })
        }
    }
}

/// Every department of both catalogs (code, name), read over REST; a
/// service that does not answer just contributes none.
async fn departments(state: &AppState) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for service in [Upstream::Licensing, Upstream::Construction] {
        if let Ok(catalog) = state.upstream.get(service, "/api/v1/catalog", None).await {
            for d in catalog["departments"].as_array().into_iter().flatten() {
                if let (Some(code), Some(name)) = (d["code"].as_str(), d["name"].as_str())
                    && !out.iter().any(|(c, _)| c == code)
                {
                    out.push((code.to_owned(), name.to_owned()));
                }
            }
        }
    }
    out
}

fn demo_users(departments: &[(String, String)]) -> Vec<DemoUser> {
    let mut users = vec![
        DemoUser {
            key: "applicant".into(),
            name: format!("林申请（{DEMO_ENTERPRISE_NAME}）"),
            role: Role::Applicant.zh_name().into(),
            note: "填报一业一证申请、登记工程项目".into(),
        },
        DemoUser {
            key: "agent".into(),
            name: "陈帮办".into(),
            role: Role::Agent.zh_name().into(),
            note: format!("受{DEMO_ENTERPRISE_NAME}委托代办"),
        },
        DemoUser {
            key: "clerk".into(),
            name: "周受理".into(),
            role: Role::WindowClerk.zh_name().into(),
            note: "综合窗口受理、出件".into(),
        },
        DemoUser {
            key: "specialist".into(),
            name: "郑专员".into(),
            role: Role::Specialist.zh_name().into(),
            note: format!("服务{DEMO_ENTERPRISE_NAME}，代企业提交诉求"),
        },
        DemoUser {
            key: "hotline".into(),
            name: "何接线".into(),
            role: Role::HotlineOperator.zh_name().into(),
            note: "登记12345热线来电诉求".into(),
        },
    ];
    users.extend(departments.iter().map(|(code, name)| DemoUser {
        key: format!("reviewer:{code}"),
        name: format!("{name}审批员"),
        role: Role::DeptReviewer.zh_name().into(),
        note: format!("{name}审批队列"),
    }));
    users.push(DemoUser {
        key: "admin".into(),
        name: "吴管理".into(),
        role: Role::Admin.zh_name().into(),
        note: "事项目录与统计".into(),
    });
    users
}

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The sign-in page: the provider button, and the demo users in development.
#[get("/login")]
pub async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let next = local_path(query.next.as_deref());
    let users = if state.dev.is_some() {
        demo_users(&departments(&state).await)
    } else {
        Vec::new()
    };
    // One nonce per browser, kept across reloads so two open tabs agree.
    let nonce = req
        .cookie(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|n| n.len() == 32 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()));
    let mut page = render(
        viewer.0.as_ref(),
        "login.html",
        json!({
            "title": "登录",
            "next": next,
            "dev": state.dev.is_some(),
            "users": users,
            "login_csrf": state.sessions.login_csrf_for(&nonce),
            "oidc": state.oidc.as_ref().map(|o| o.display_name.clone()),
        }),
    )?;
    page.add_cookie(&state.sessions.login_nonce(nonce))
        .map_err(|_| PageError::Unavailable("登录页生成失败，请稍后重试".into()))?;
    Ok(page)
}

/// The demo-user form.
#[derive(Debug, Deserialize)]
pub struct DevLoginForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
    user: String,
    next: Option<String>,
}

/// Signs in as a demo user (development only: 404 otherwise).
#[post("/login/dev")]
pub async fn dev_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<DevLoginForm>,
) -> Result<HttpResponse, PageError> {
    let Some(signer) = state.dev.as_ref() else {
        return Err(PageError::NotFound("演示账号登录仅在开发环境开放".into()));
    };
    let expected = req
        .cookie(LOGIN_COOKIE)
        .map(|nonce| state.sessions.login_csrf_for(nonce.value()));
    if expected.is_none() || expected.as_deref() != form.csrf.as_deref() {
        return Err(PageError::Forbidden(
            "登录表单已过期或来源不明，请刷新登录页后重新登录".into(),
        ));
    }
    let departments = departments(&state).await;
    let request = token_request(&form.user, &departments)
        .ok_or_else(|| PageError::BadRequest("请选择一个演示账号".into()))?;
    let token = mint(signer, &request);
    Ok(signed_in(
        &state,
        &token,
        DEMO_TTL_SECS,
        &local_path(form.next.as_deref()),
    ))
}

fn mint(signer: &DevSigner, request: &TokenRequest) -> String {
    yizhan_auth::mint_hs256(&signer.secret, &signer.issuer, &signer.audience, request)
}

fn signed_in(state: &AppState, token: &str, ttl: i64, next: &str) -> HttpResponse {
    // A demo user replaces whoever was signed in, OIDC session included.
    let mut response = HttpResponse::SeeOther();
    for cookie in state.sessions.sign_out() {
        if cookie.name() != crate::session::SESSION_COOKIE {
            response.cookie(cookie);
        }
    }
    response
        .cookie(state.sessions.sign_in(token, ttl))
        .insert_header((header::LOCATION, next.to_owned()))
        .finish()
}

/// The logout form (CSRF-protected like every other change).
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(rename = "_csrf")]
    csrf: Option<String>,
}

/// Signs out: the portal's cookies go, and an OIDC session is also ended
/// at the provider (RP-initiated logout with the ID token as hint), which
/// sends the browser back to `post_logout_redirect_url`.
#[post("/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, PageError> {
    if let Some(viewer) = &viewer.0 {
        viewer.check_csrf(form.csrf.as_deref())?;
    }
    let mut location = "/".to_owned();
    if let Some(oidc) = &state.oidc
        && let Some(session) = state.sessions.oidc_session(&req)
    {
        match oidc.provider.logout_url(&session.id_token).await {
            Some(url) => location = url,
            None => {
                tracing::warn!("the provider has no end_session_endpoint; signed out locally only")
            }
        }
    }
    let mut response = HttpResponse::SeeOther();
    for cookie in state.sessions.sign_out() {
        response.cookie(cookie);
    }
    Ok(response
        .insert_header((header::LOCATION, location))
        .finish())
}

/// Starts the authorization-code flow: state, nonce and PKCE verifier go
/// into a short-lived encrypted cookie, the browser to the provider.
#[get("/login/oidc")]
pub async fn oidc_start(
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let oidc = state
        .oidc
        .as_ref()
        .ok_or_else(|| PageError::NotFound("未配置统一身份认证（OIDC）".into()))?;
    let next = local_path(query.next.as_deref());
    let (location, pending) = oidc.provider.start(next).await.map_err(page_error)?;
    Ok(HttpResponse::SeeOther()
        .cookie(state.sessions.pending_login(&pending))
        .insert_header((header::LOCATION, location))
        .finish())
}

fn random_b64(len: usize) -> String {
    let bytes: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn page_error(e: OidcError) -> PageError {
    match e {
        OidcError::Unavailable(detail) => PageError::Unavailable(format!("{detail}，请稍后重试")),
        OidcError::Refused(detail) => PageError::Forbidden(format!("{detail}，请重新登录")),
    }
}

/// The provider's answer.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider sends the browser back here with a code: it is exchanged
/// for tokens (with the PKCE verifier), the ID token is validated
/// (signature, issuer, audience, expiry, this login's nonce, `at_hash`),
/// the access token is checked like every service checks it, and both
/// become the session.
#[get("/auth/callback")]
pub async fn oidc_callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, PageError> {
    let oidc = state
        .oidc
        .as_ref()
        .ok_or_else(|| PageError::NotFound("未配置统一身份认证（OIDC）".into()))?;
    if let Some(error) = &query.error {
        return Err(PageError::BadRequest(format!(
            "身份认证未完成：{}",
            query.error_description.as_deref().unwrap_or(error)
        )));
    }
    let pending = state
        .sessions
        .read_pending_login(&req)
        .ok_or_else(|| PageError::BadRequest("登录会话已过期，请重新登录".into()))?;
    if query.state.as_deref() != Some(pending.state.as_str()) {
        return Err(PageError::BadRequest(
            "登录请求与回调不匹配（state），请重新登录".into(),
        ));
    }
    let code = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| PageError::BadRequest("回调缺少授权码（code）".into()))?;
    let tokens = oidc
        .provider
        .finish(code, &pending)
        .await
        .map_err(page_error)?;
    let principal = state
        .auth
        .authenticate(&tokens.access_token)
        .await
        .map_err(|e| PageError::Forbidden(format!("身份认证服务签发的令牌未通过校验：{e}")))?;
    if principal.sub != tokens.sub {
        return Err(PageError::Forbidden(
            "访问令牌与 ID 令牌不属于同一用户，请重新登录".into(),
        ));
    }
    tracing::info!(sub = %principal.sub, "signed in through OIDC");
    let sid = random_b64(18);
    let mut response = HttpResponse::SeeOther();
    for cookie in state.sessions.sign_in_oidc(&tokens, &sid) {
        response.cookie(cookie);
    }
    Ok(response
        .cookie(state.sessions.pending_login_done())
        .insert_header((header::LOCATION, local_path(Some(&pending.next))))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_users_cover_every_role_and_department() {
        let departments = vec![
            ("market_regulation".to_owned(), "市场监督管理局".to_owned()),
            ("housing".to_owned(), "住房和城乡建设局".to_owned()),
        ];
        let users = demo_users(&departments);
        for key in ["applicant", "agent", "clerk", "admin", "reviewer:housing"] {
            let user = users.iter().find(|u| u.key == key).expect(key);
            let request = token_request(&user.key, &departments).expect(key);
            assert_eq!(request.ttl_secs, DEMO_TTL_SECS);
        }
        let reviewer = token_request("reviewer:housing", &departments).unwrap();
        assert_eq!(reviewer.roles, vec![Role::DeptReviewer]);
        assert_eq!(reviewer.dept.as_deref(), Some("housing"));
        let applicant = token_request("applicant", &departments).unwrap();
        assert_eq!(applicant.uscc.as_deref(), Some(DEMO_ENTERPRISE));
        // No department, no reviewer; nothing else signs anyone in.
        assert!(token_request("reviewer:nowhere", &departments).is_none());
        assert!(token_request("root", &departments).is_none());
    }
}
