//! 办事门户 (portal): the web pages applicants, window clerks and department
//! reviewers use, and the merged queues (REST, for the pages and for
//! partner systems).
//!
//! The portal owns no data. Everything it shows or changes goes through the
//! other services' REST APIs with the signed-in person's own token, so every
//! rule (who may do what, validation, state transitions) stays where it is
//! enforced today and the pages cannot drift from the API. Pages are
//! rendered on the server (minijinja templates compiled into the binary) and
//! work without JavaScript; forms post back and are answered with a redirect
//! or the same page with inline errors.

pub mod login;
pub mod oidc;
pub mod pages;
pub mod queues;
pub mod session;
pub mod upstream;

use std::time::Duration;

use actix_web::web;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_auth::Authenticator;
use yizhan_kit::health::Readiness;
use yizhan_kit::settings::CommonSettings;

/// Service name: log field, OpenAPI title.
pub const SERVICE: &str = "portal";

/// The portal's settings (`[portal]`, `YIZHAN_PORTAL__*`).
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Base URL of the licensing service; the all-in-one stack fills in the
    /// one it started.
    pub licensing_url: Option<String>,
    /// Base URL of the construction service.
    pub construction_url: Option<String>,
    /// Base URL of the document service.
    pub document_url: Option<String>,
    /// Base URL of the notification service.
    pub notification_url: Option<String>,
    /// Base URL of the enterprise service.
    pub enterprise_url: Option<String>,
    /// Timeout of one call to another service (ms). A queue source that
    /// does not answer in time is reported as unavailable, not waited for.
    pub upstream_timeout_ms: u64,
    /// Offer the demo-user login (`/login`). Only takes effect in `hs256`
    /// auth mode, where the portal can sign tokens; never in production.
    pub dev_login: bool,
    /// Mark the session cookie `Secure` (serve the portal over HTTPS).
    /// Cookies are `Secure` anyway whenever `http.public_base_url` is https.
    pub secure_cookies: bool,
    /// Base64 key of the CSRF tokens; every replica must share it. When
    /// unset one is generated into `<data_dir>/portal-csrf-key`.
    pub csrf_key: Option<String>,
    /// OpenID Connect login; off while `client_id` is unset.
    pub oidc: login::OidcSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8080,
            licensing_url: None,
            construction_url: None,
            document_url: None,
            notification_url: None,
            enterprise_url: None,
            upstream_timeout_ms: 3_000,
            dev_login: true,
            secure_cookies: false,
            csrf_key: None,
            oidc: login::OidcSettings::default(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("port", &self.port)
            .field("licensing_url", &self.licensing_url)
            .field("construction_url", &self.construction_url)
            .field("document_url", &self.document_url)
            .field("notification_url", &self.notification_url)
            .field("enterprise_url", &self.enterprise_url)
            .field("upstream_timeout_ms", &self.upstream_timeout_ms)
            .field("dev_login", &self.dev_login)
            .field("secure_cookies", &self.secure_cookies)
            .field("csrf_key", &self.csrf_key.as_ref().map(|_| "<redacted>"))
            .field("oidc", &self.oidc)
            .finish()
    }
}

/// Sign-in routes, limited per client address: the login page, the dev
/// login, the OIDC start and its callback, and any `/api/v1/auth` endpoint.
pub const RATE_LIMITED: &[yizhan_kit::rate_limit::Rule] = &[
    yizhan_kit::rate_limit::Rule::login("/login"),
    yizhan_kit::rate_limit::Rule::login("/auth"),
    yizhan_kit::rate_limit::Rule::login("/api/v1/auth"),
];

/// Signs demo-user tokens for the dev login (hs256 mode only).
#[derive(Clone)]
pub struct DevSigner {
    /// The deployment's HS256 secret.
    pub secret: Vec<u8>,
    /// `iss` of minted tokens.
    pub issuer: String,
    /// `aud` of minted tokens.
    pub audience: String,
}

impl std::fmt::Debug for DevSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevSigner")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// Shared handler state.
pub struct AppState {
    /// The other services.
    pub upstream: upstream::Upstreams,
    /// Checks session tokens.
    pub auth: Authenticator,
    /// Demo-user login, when enabled.
    pub dev: Option<DevSigner>,
    /// OIDC login, when configured.
    pub oidc: Option<login::Oidc>,
    /// Session cookies and CSRF tokens.
    pub sessions: session::Sessions,
    /// The address people reach the centre at (`http.public_base_url`):
    /// links printed on a licence use it, never an internal port.
    pub public_base_url: Option<String>,
}

/// The OpenAPI document (also written to `openapi/portal.json`): the merged
/// queues. The HTML pages are not part of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            SERVICE,
            "办事门户：综合窗口与部门审批的合并队列（跨一业一证与工程建设项目审批，按剩余工作时间排序）。页面为服务端渲染，不在本文档内。所有错误均为 RFC 9457 problem+json。",
        ),
        false,
        queues::configure,
    );
    yizhan_kit::rate_limit::document(&mut api, RATE_LIMITED);
    api
}

/// A built, bound, not yet running portal.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
}

impl Application {
    /// Binds (port 0 = any free port) and builds the server. `dev` signs
    /// demo-user tokens when the dev login is on.
    pub fn build(
        common: &CommonSettings,
        settings: &Settings,
        auth: Authenticator,
        dev: Option<DevSigner>,
    ) -> anyhow::Result<Self> {
        let upstream = upstream::Upstreams::new(
            settings,
            Duration::from_millis(settings.upstream_timeout_ms.max(1)),
        )?;
        let oidc = login::Oidc::from_settings(&settings.oidc, common)?;
        pages::load_templates();
        let state = web::Data::new(AppState {
            upstream,
            auth: auth.clone(),
            dev: dev.filter(|_| settings.dev_login),
            oidc,
            sessions: session::Sessions::new(common, settings)?,
            public_base_url: common
                .http
                .public_base_url
                .as_deref()
                .map(|b| b.trim_end_matches('/').to_owned()),
        });
        let (port, server) = yizhan_events::runtime::http_server(
            common,
            settings.port,
            openapi(),
            Readiness::default(),
            auth,
            yizhan_events::runtime::Guards {
                limited: RATE_LIMITED,
                audit: None,
            },
            move |cfg| {
                cfg.app_data(state.clone());
                // Pages for browsers: CSP without inline script, no framing.
                cfg.app_data(web::Data::new(yizhan_events::http_guards::PageHeaders));
                cfg.app_data(
                    web::FormConfig::default()
                        .limit(64 * 1024)
                        .error_handler(pages::form_error),
                );
                queues::configure(cfg);
                pages::configure(cfg);
            },
        )?;
        Ok(Self { port, server })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves HTTP until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let stopper = tokio::spawn(async move {
            cancel.cancelled().await;
            handle.stop(true).await;
        });
        self.server.await?;
        stopper.abort();
        Ok(())
    }
}
