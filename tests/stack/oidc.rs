//! The portal's OpenID Connect sign-in against a real provider:
//! panva/oidc-provider (npm), run by `tests/oidc-provider/provider.mjs` in
//! a Node process of its own, with the services in `jwks` mode checking
//! the provider's JWT access tokens. The test is the browser: a reqwest
//! client with a small cookie jar that follows each redirect itself.
//!
//! npm installs the provider once into `$HOME/.cache/yizhan-oidc-provider`
//! (`npm ci` from the committed lock file, see [`crate::npm`]). Without node or npm the tests
//! skip visibly, and fail under `CI=true`.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use tokio::io::{AsyncBufReadExt, BufReader};
use yizhan::Service;
use yizhan_kit::testing::{Backend, skip};

use crate::common::*;

/// The portal as the provider knows it; the test maps it to the real port
/// (the provider is configured before the portal has one).
const PORTAL: &str = "http://portal.test";
const CLIENT_ID: &str = "yizhan-portal";
const CLIENT_SECRET: &str = "portal-s3cret";
/// Short, so the test sees the portal refresh.
const ACCESS_TOKEN_TTL_SECS: u64 = 4;

/// The provider process (killed when dropped).
struct OidcProvider {
    issuer: String,
    _child: tokio::process::Child,
}

impl OidcProvider {
    /// Starts the provider, or `None` after [`skip`] when it cannot run.
    async fn start() -> Option<Self> {
        match Self::try_start().await {
            Ok(provider) => Some(provider),
            Err(reason) => {
                skip(&format!("the OIDC provider cannot run: {reason}"));
                None
            }
        }
    }

    async fn try_start() -> Result<Self, String> {
        let version = tokio::process::Command::new("node")
            .arg("--version")
            .output()
            .await
            .map_err(|e| format!("node could not be run: {e}"))?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
        let major: u32 = version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        if major < 20 {
            return Err(format!("node {version} is older than 20"));
        }
        let dir = crate::npm::installed("oidc-provider", "oidc-provider/package.json").await?;
        // The script next to its node_modules (ESM resolves from the file).
        let script = dir.join(format!("provider-{}.mjs", uuid::Uuid::new_v4()));
        std::fs::copy(
            crate::npm::source("oidc-provider").join("provider.mjs"),
            &script,
        )
        .map_err(|e| e.to_string())?;
        let mut child = tokio::process::Command::new("node")
            .arg(&script)
            .env("PORT", "0")
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", format!("{PORTAL}/auth/callback"))
            .env("POST_LOGOUT_REDIRECT_URI", format!("{PORTAL}/"))
            .env("AUDIENCE", AUDIENCE)
            .env("ACCESS_TOKEN_TTL", ACCESS_TOKEN_TTL_SECS.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("node could not start the provider: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .map_err(|_| "the provider did not start within 60 s".to_owned())?
            .map_err(|e| e.to_string())?
            .ok_or("the provider exited before listening")?;
        let _ = std::fs::remove_file(&script);
        let issuer = line
            .strip_prefix("listening ")
            .ok_or_else(|| format!("unexpected first line from the provider: {line}"))?
            .to_owned();
        Ok(Self {
            issuer,
            _child: child,
        })
    }
}

/// The stack in `jwks` mode, trusting the provider; the portal signs in
/// through it.
async fn stack_for(provider: &OidcProvider, backend: Backend) -> TestStack {
    let issuer = provider.issuer.clone();
    TestStack::start_tuned(&[Service::Licensing, Service::Portal], backend, move |s| {
        s.common.auth.mode = "jwks".into();
        s.common.auth.issuer = issuer.clone();
        s.common.auth.jwks_url = Some(format!("{issuer}/jwks"));
        let oidc = &mut s.services.portal.oidc;
        oidc.issuer_url = Some(issuer);
        oidc.client_id = Some(CLIENT_ID.into());
        oidc.client_secret = Some(CLIENT_SECRET.into());
        oidc.redirect_url = Some(format!("{PORTAL}/auth/callback"));
        oidc.post_logout_redirect_url = Some(format!("{PORTAL}/"));
        oidc.scopes = Some("openid profile yizhan".into());
        oidc.display_name = Some("政务服务统一身份认证".into());
    })
    .await
}

/// One cookie as a browser keeps it.
#[derive(Clone, Debug)]
struct Kept {
    value: String,
    path: String,
}

/// A browser: a cookie jar (one host, 127.0.0.1, whose cookies ignore the
/// port as browsers' do) and requests that do not follow redirects.
#[derive(Clone)]
struct Browser {
    jar: BTreeMap<String, Kept>,
    client: reqwest::Client,
    portal: String,
}

impl Browser {
    fn new(stack: &TestStack) -> Self {
        Self {
            jar: BTreeMap::new(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            portal: stack.url(Service::Portal, ""),
        }
    }

    /// `http://portal.test/…` (as the provider knows the portal) mapped to
    /// the running portal.
    fn real(&self, url: &str) -> String {
        match url.strip_prefix(PORTAL) {
            Some(rest) => format!("{}{rest}", self.portal.trim_end_matches('/')),
            None if url.starts_with('/') => format!("{}{url}", self.portal.trim_end_matches('/')),
            None => url.to_owned(),
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.jar.get(name).map(|k| k.value.clone())
    }

    fn header_for(&self, url: &str) -> String {
        let path = reqwest::Url::parse(url).unwrap().path().to_owned();
        self.jar
            .iter()
            .filter(|(_, k)| path.starts_with(&k.path))
            .map(|(n, k)| format!("{n}={}", k.value))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let text = header.to_str().unwrap();
            let mut parts = text.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let mut path = "/".to_owned();
            let mut removed = value.is_empty();
            for attribute in parts {
                let lower = attribute.to_ascii_lowercase();
                if let Some(p) = attribute
                    .strip_prefix("path=")
                    .or(attribute.strip_prefix("Path="))
                {
                    path = p.to_owned();
                }
                if lower == "max-age=0" || (lower.starts_with("expires=") && lower.contains("1970"))
                {
                    removed = true;
                }
            }
            if removed {
                self.jar.remove(name);
            } else {
                self.jar.insert(
                    name.to_owned(),
                    Kept {
                        value: value.to_owned(),
                        path,
                    },
                );
            }
        }
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let url = self.real(url);
        let response = self
            .client
            .get(&url)
            .header(COOKIE, self.header_for(&url))
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let url = self.real(url);
        let response = self
            .client
            .post(&url)
            .header(COOKIE, self.header_for(&url))
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }
}

fn location(response: &reqwest::Response) -> String {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {} {:?}",
        response.status(),
        response.headers()
    );
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Signs `user` in at the provider, from the provider's authorization URL
/// to the callback URL it sends the browser back to (not yet followed).
async fn provider_login(browser: &mut Browser, authorize: &str, user: &str) -> String {
    // The provider may answer with relative locations: resolve them
    // against the page they came from, never against the portal.
    let at = |base: &str, location: String| {
        reqwest::Url::parse(base)
            .unwrap()
            .join(&location)
            .unwrap()
            .to_string()
    };
    let interaction = at(authorize, location(&browser.get(authorize).await));
    assert!(interaction.contains("/interaction/"), "{interaction}");
    assert_eq!(browser.get(&interaction).await.status(), 200);
    let resume = at(
        &interaction,
        location(&browser.post(&interaction, &[("login", user)]).await),
    );
    let callback = location(&browser.get(&resume).await);
    assert!(
        callback.starts_with(&format!("{PORTAL}/auth/callback?")),
        "{callback}"
    );
    callback
}

/// The `exp` of a JWT (not verified: the test reads its own cookie).
fn exp_of(jwt: &str) -> i64 {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["exp"].as_i64().expect("exp")
}

/// Waits until the wall clock (the provider's and the portal's: one
/// machine) is past `exp`.
async fn wait_past(exp: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while chrono::Utc::now().timestamp() <= exp {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the clock never passed {exp}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn csrf_of(html: &str) -> String {
    let start = html
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 20;
    html[start..start + 32].to_owned()
}

/// Login → the page shows the user → the access token expires → a page
/// that calls a service still works (refreshed, same CSRF token) → logout
/// goes through the provider's end_session and the session is gone → the
/// pre-logout cookies cannot come back (their refresh is refused and the
/// portal signs them out).
async fn oidc_login_refresh_and_logout(backend: Backend) {
    let Some(provider) = OidcProvider::start().await else {
        return;
    };
    let stack = stack_for(&provider, backend).await;
    let mut browser = Browser::new(&stack);

    let login = browser.get("/login").await.text().await.unwrap();
    assert!(login.contains("通过政务服务统一身份认证登录"), "{login}");

    // Start: to the provider's discovered authorization endpoint.
    let authorize = location(&browser.get("/login/oidc?next=/window/intake").await);
    assert!(
        authorize.starts_with(&format!("{}/auth?", provider.issuer)),
        "{authorize}"
    );
    assert_eq!(
        query_param(&authorize, "client_id").as_deref(),
        Some(CLIENT_ID)
    );
    assert_eq!(
        query_param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query_param(&authorize, "nonce").is_some_and(|n| n.len() >= 16));
    assert!(query_param(&authorize, "state").is_some());
    assert!(
        query_param(&authorize, "scope")
            .unwrap()
            .split(' ')
            .any(|s| s == "openid")
    );
    assert!(browser.cookie("yizhan_oidc").is_some(), "the flow cookie");

    let callback = provider_login(&mut browser, &authorize, "clerk").await;
    let done = browser.get(&callback).await;
    assert_eq!(location(&done), "/window/intake");
    let first_token = browser.cookie("yizhan_session").expect("a session");
    assert!(browser.cookie("yizhan_oidc_session").is_some());
    assert!(
        browser.cookie("yizhan_oidc").is_none(),
        "the flow cookie is spent"
    );
    assert!(
        !browser
            .cookie("yizhan_oidc_session")
            .unwrap()
            .contains("refresh"),
        "the refresh token is encrypted"
    );

    // The page calls licensing with the provider's access token.
    let intake = browser.get("/window/intake").await;
    assert_eq!(intake.status(), 200);
    let html = intake.text().await.unwrap();
    assert!(html.contains("周受理"), "{html}");
    let csrf = csrf_of(&html);

    // Past the access token's expiry the next page refreshes it first.
    let token = browser.cookie("yizhan_session").unwrap();
    wait_past(exp_of(&token)).await;
    let intake = browser.get("/window/intake").await;
    assert_eq!(intake.status(), 200);
    let html = intake.text().await.unwrap();
    assert!(html.contains("周受理"), "{html}");
    let refreshed = browser.cookie("yizhan_session").unwrap();
    assert_ne!(refreshed, token, "a new access token");
    assert_ne!(refreshed, first_token);
    assert!(exp_of(&refreshed) > exp_of(&token));
    assert_eq!(csrf_of(&html), csrf, "forms stay valid across a refresh");
    let before_logout = browser.clone();

    // Logout: RP-initiated, through the provider and back.
    let end_session = location(&browser.post("/logout", &[("_csrf", &csrf)]).await);
    assert!(
        end_session.starts_with(&format!("{}/session/end?", provider.issuer)),
        "{end_session}"
    );
    assert!(query_param(&end_session, "id_token_hint").is_some());
    assert_eq!(
        query_param(&end_session, "post_logout_redirect_uri").as_deref(),
        Some(&*format!("{PORTAL}/"))
    );
    assert!(browser.cookie("yizhan_session").is_none());
    assert!(browser.cookie("yizhan_oidc_session").is_none());
    let confirm = browser.get(&end_session).await.text().await.unwrap();
    let xsrf_at = confirm
        .find("name=\"xsrf\" value=\"")
        .expect("the logout form")
        + 19;
    let xsrf = &confirm[xsrf_at..xsrf_at + confirm[xsrf_at..].find('"').unwrap()];
    let back = location(
        &browser
            .post(
                &format!("{}/session/end/confirm", provider.issuer),
                &[("xsrf", xsrf), ("logout", "yes")],
            )
            .await,
    );
    assert!(back.starts_with(&format!("{PORTAL}/")), "{back}");
    let after = browser.get("/window/intake").await;
    assert!(location(&after).starts_with("/login"), "signed out");

    // The cookies from before the logout: once their access token expires,
    // the refresh is refused (the provider revoked the grant), and the
    // portal ends the session cleanly instead of failing the page.
    let mut stale = before_logout;
    wait_past(exp_of(&stale.cookie("yizhan_session").unwrap())).await;
    let replay = stale.get("/window/intake").await;
    assert!(
        location(&replay).starts_with("/login"),
        "a refused refresh signs out"
    );
    assert!(
        stale.cookie("yizhan_session").is_none(),
        "session cookie removed"
    );
    assert!(
        stale.cookie("yizhan_oidc_session").is_none(),
        "OIDC cookie removed"
    );
    stack.stop().await;
}

/// A callback that does not belong to the login the portal started, an ID
/// token for another nonce, and an ID token changed after signing: each is
/// refused and none becomes a session.
async fn oidc_refuses_forged_callbacks(backend: Backend) {
    let Some(provider) = OidcProvider::start().await else {
        return;
    };
    let stack = stack_for(&provider, backend).await;

    let refused = |response: &reqwest::Response, browser: &Browser, status: u16| {
        assert_eq!(response.status(), status, "{:?}", response.headers());
        assert!(browser.cookie("yizhan_session").is_none());
        assert!(browser.cookie("yizhan_oidc_session").is_none());
    };

    // Another state.
    let mut browser = Browser::new(&stack);
    let authorize = location(&browser.get("/login/oidc").await);
    let callback = provider_login(&mut browser, &authorize, "clerk").await;
    let state = query_param(&callback, "state").unwrap();
    let forged = callback.replace(&format!("state={state}"), "state=forged");
    let response = browser.get(&forged).await;
    refused(&response, &browser, 400);

    // Another nonce: the provider signs an ID token for a login the portal
    // never started.
    let mut browser = Browser::new(&stack);
    let authorize = location(&browser.get("/login/oidc").await);
    let nonce = query_param(&authorize, "nonce").unwrap();
    let other = authorize.replace(&format!("nonce={nonce}"), "nonce=someone-elses-nonce");
    assert_ne!(other, authorize);
    let callback = provider_login(&mut browser, &other, "clerk").await;
    let response = browser.get(&callback).await;
    refused(&response, &browser, 403);
    assert!(response.text().await.unwrap().contains("nonce"));

    // An ID token whose payload was changed after the provider signed it.
    let mut browser = Browser::new(&stack);
    let authorize = location(&browser.get("/login/oidc").await);
    let callback = provider_login(&mut browser, &authorize, "clerk").await;
    let armed = reqwest::Client::new()
        .post(format!("{}/test/tamper-next-id-token", provider.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), 204);
    let response = browser.get(&callback).await;
    refused(&response, &browser, 403);

    // Untampered, the same sign-in works: the refusals were the checks,
    // not a broken setup. (A new browser: the last one is signed in at
    // the provider, which would skip its login page.)
    let mut browser = Browser::new(&stack);
    let authorize = location(&browser.get("/login/oidc").await);
    let callback = provider_login(&mut browser, &authorize, "clerk").await;
    assert_eq!(location(&browser.get(&callback).await), "/");
    assert!(browser.cookie("yizhan_session").is_some());
    stack.stop().await;
}

yizhan_kit::backend_tests!(oidc_login_refresh_and_logout, oidc_refuses_forged_callbacks);
