//! The OpenID Connect relying party behind the portal's production sign-in,
//! built on the `openidconnect` crate: provider discovery, the
//! authorization-code flow with PKCE, state and nonce, ID-token validation
//! (signature, `iss`, `aud`, `exp`, nonce, `at_hash`), refresh, and
//! RP-initiated logout.
//!
//! HTTP goes through the workspace's own reqwest (rustls) client, adapted
//! to the crate's `AsyncHttpClient`, so there is one HTTP stack, not two.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long discovered metadata (endpoints and signing keys) is reused
/// before it is fetched again; a provider that rotated its keys is picked
/// up within this time.
const METADATA_TTL: Duration = Duration::from_secs(10 * 60);
/// How long the answer to one refresh token is kept, so that concurrent
/// requests of one browser carrying the same (rotating, single-use) refresh
/// token share one refresh instead of revoking the session at the provider.
const REFRESH_SHARE: Duration = Duration::from_secs(60);

/// The portal's client at the provider, as configured.
#[derive(Clone)]
pub struct RelyingParty {
    /// `iss` of the provider; discovery reads `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (confidential client); `None` for a public client.
    pub client_secret: Option<String>,
    /// The portal's callback.
    pub redirect_url: String,
    /// Where the provider sends people after logging out.
    pub post_logout_redirect_url: Option<String>,
    /// Scopes requested besides `openid`.
    pub scopes: Vec<String>,
}

/// What went wrong, in the two kinds a page answers differently.
#[derive(Debug, Clone)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense: 503.
    Unavailable(String),
    /// The provider, or the portal's checks, refused: the sign-in (or the
    /// session) ends.
    Refused(String),
}

/// Tokens of a signed-in session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tokens {
    /// The access token, passed on to the services.
    pub access_token: String,
    /// The refresh token, when the provider issued one.
    pub refresh_token: Option<String>,
    /// The last ID token (the hint of the logout request).
    pub id_token: String,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
    /// The subject, equal in the ID token and the access token.
    pub sub: String,
}

/// The flow state kept in the browser between the redirect to the provider
/// and the callback (encrypted cookie).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    /// `state` sent to the provider.
    pub state: String,
    /// `nonce` the ID token must carry.
    pub nonce: String,
    /// PKCE verifier of the challenge sent.
    pub verifier: String,
    /// Local path to land on afterwards.
    pub next: String,
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Discovered {
    client: Client,
    end_session: Option<EndSessionUrl>,
    fetched: Instant,
}

type SharedRefresh = Arc<tokio::sync::OnceCell<Tokens>>;

/// A configured provider: settings, discovered metadata, HTTP client.
pub struct Provider {
    rp: RelyingParty,
    http: Http,
    discovered: tokio::sync::RwLock<Option<Arc<Discovered>>>,
    refreshes: Mutex<HashMap<String, (Instant, SharedRefresh)>>,
}

impl Provider {
    /// A provider; no I/O until the first sign-in (the provider may start
    /// after the portal).
    pub fn new(rp: RelyingParty) -> anyhow::Result<Self> {
        IssuerUrl::new(rp.issuer.clone())
            .map_err(|e| anyhow::anyhow!("portal.oidc.issuer_url is not a URL: {e}"))?;
        RedirectUrl::new(rp.redirect_url.clone())
            .map_err(|e| anyhow::anyhow!("portal.oidc.redirect_url is not a URL: {e}"))?;
        if let Some(url) = &rp.post_logout_redirect_url {
            PostLogoutRedirectUrl::new(url.clone()).map_err(|e| {
                anyhow::anyhow!("portal.oidc.post_logout_redirect_url is not a URL: {e}")
            })?;
        }
        Ok(Self {
            rp,
            http: Http(
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    // The crate's advice: following redirects opens SSRF holes.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?,
            ),
            discovered: tokio::sync::RwLock::new(None),
            refreshes: Mutex::new(HashMap::new()),
        })
    }

    /// The discovered metadata, fetched again after [`METADATA_TTL`]; a
    /// provider that does not answer then is served from the old copy.
    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        let cached = self.discovered.read().await.clone();
        if let Some(d) = &cached
            && d.fetched.elapsed() < METADATA_TTL
        {
            return Ok(d.clone());
        }
        let mut slot = self.discovered.write().await;
        if let Some(d) = slot.as_ref()
            && d.fetched.elapsed() < METADATA_TTL
        {
            return Ok(d.clone());
        }
        match self.discover().await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *slot = Some(fresh.clone());
                Ok(fresh)
            }
            Err(e) => match cached {
                Some(stale) => {
                    tracing::warn!(error = ?e, "OIDC discovery failed; using the metadata fetched before");
                    Ok(stale)
                }
                None => Err(e),
            },
        }
    }

    async fn discover(&self) -> Result<Discovered, OidcError> {
        let issuer = IssuerUrl::new(self.rp.issuer.clone())
            .map_err(|e| OidcError::Unavailable(format!("issuer_url 无效：{e}")))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                OidcError::Unavailable(format!("身份认证服务的配置（discovery）无法读取：{e}"))
            })?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let redirect = RedirectUrl::new(self.rp.redirect_url.clone())
            .map_err(|e| OidcError::Unavailable(format!("redirect_url 无效：{e}")))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.rp.client_id.clone()),
            self.rp.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        Ok(Discovered {
            client,
            end_session,
            fetched: Instant::now(),
        })
    }

    /// Where to send the browser to sign in, and what to keep until the
    /// callback.
    pub async fn start(&self, next: String) -> Result<(String, PendingLogin), OidcError> {
        let discovered = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.rp.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                next,
            },
        ))
    }

    /// Exchanges the callback's code (with the PKCE verifier) and validates
    /// the ID token against the nonce of this login.
    pub async fn finish(&self, code: &str, pending: &PendingLogin) -> Result<Tokens, OidcError> {
        let discovered = self.discovered().await?;
        let response = discovered
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unavailable(format!("身份认证服务未提供令牌端点：{e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let nonce = Nonce::new(pending.nonce.clone());
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Refused("身份认证服务未返回 ID 令牌".into()))?;
        let verifier = discovered.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| OidcError::Refused(format!("ID 令牌未通过校验：{e}")))?;
        check_access_token_hash(&response, id_token, claims, &discovered.client)?;
        Ok(tokens_of(&response, id_token, claims))
    }

    /// Trades `previous.refresh_token` for fresh tokens. A refresh token is
    /// used once: concurrent callers with the same one share the answer.
    pub async fn refresh(&self, previous: &Tokens) -> Result<Tokens, OidcError> {
        let Some(refresh_token) = previous.refresh_token.clone() else {
            return Err(OidcError::Refused(
                "会话已到期（身份认证服务未签发刷新令牌）".into(),
            ));
        };
        let key = hex::encode(Sha256::digest(refresh_token.as_bytes()));
        let cell = {
            let mut refreshes = self.refreshes.lock().unwrap_or_else(|e| e.into_inner());
            refreshes.retain(|_, (at, _)| at.elapsed() < REFRESH_SHARE);
            refreshes
                .entry(key)
                .or_insert_with(|| (Instant::now(), Arc::default()))
                .1
                .clone()
        };
        cell.get_or_try_init(|| self.refresh_once(previous, refresh_token))
            .await
            .cloned()
    }

    async fn refresh_once(
        &self,
        previous: &Tokens,
        refresh_token: String,
    ) -> Result<Tokens, OidcError> {
        let discovered = self.discovered().await?;
        let refresh_token = RefreshToken::new(refresh_token);
        let response = discovered
            .client
            .exchange_refresh_token(&refresh_token)
            .map_err(|e| OidcError::Unavailable(format!("身份认证服务未提供令牌端点：{e}")))?
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let mut tokens = match response.id_token() {
            // OIDC Core 12.2: a refreshed ID token has no nonce to check,
            // but the same issuer, audience and subject.
            Some(id_token) => {
                let verifier = discovered.client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                    .map_err(|e| OidcError::Refused(format!("刷新后的 ID 令牌未通过校验：{e}")))?;
                check_access_token_hash(&response, id_token, claims, &discovered.client)?;
                tokens_of(&response, id_token, claims)
            }
            None => Tokens {
                access_token: response.access_token().secret().clone(),
                refresh_token: None,
                id_token: previous.id_token.clone(),
                expires_at: expires_at(&response, response.access_token().secret()),
                sub: previous.sub.clone(),
            },
        };
        if tokens.sub != previous.sub {
            return Err(OidcError::Refused("刷新后的令牌属于另一个用户".into()));
        }
        // Without rotation the provider keeps the old refresh token valid.
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = previous.refresh_token.clone();
        }
        Ok(tokens)
    }

    /// The provider's logout URL for a session that holds `id_token`, or
    /// `None` when the provider has no `end_session_endpoint`.
    pub async fn logout_url(&self, id_token: &str) -> Option<String> {
        let discovered = self.discovered().await.ok()?;
        let endpoint = discovered.end_session.clone()?;
        let mut request =
            LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.rp.client_id.clone()));
        if let Ok(hint) = id_token.parse::<CoreIdToken>() {
            request = request.set_id_token_hint(&hint);
        }
        if let Some(url) = &self.rp.post_logout_redirect_url
            && let Ok(url) = PostLogoutRedirectUrl::new(url.clone())
        {
            request = request.set_post_logout_redirect_uri(url);
        }
        Some(request.http_get_url().to_string())
    }
}

/// An `at_hash` in the ID token must match the access token it came with.
fn check_access_token_hash(
    response: &CoreTokenResponse,
    id_token: &CoreIdToken,
    claims: &CoreIdTokenClaims,
    client: &Client,
) -> Result<(), OidcError> {
    let Some(expected) = claims.access_token_hash() else {
        return Ok(());
    };
    let verifier = client.id_token_verifier();
    let refused = |e: String| OidcError::Refused(format!("ID 令牌的 at_hash 无法核对：{e}"));
    let alg = id_token.signing_alg().map_err(|e| refused(e.to_string()))?;
    let key = id_token
        .signing_key(&verifier)
        .map_err(|e| refused(e.to_string()))?;
    let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
        .map_err(|e| refused(e.to_string()))?;
    if actual != *expected {
        return Err(OidcError::Refused(
            "ID 令牌与访问令牌不匹配（at_hash）".into(),
        ));
    }
    Ok(())
}

fn tokens_of(
    response: &CoreTokenResponse,
    id_token: &CoreIdToken,
    claims: &CoreIdTokenClaims,
) -> Tokens {
    let access_token = response.access_token().secret().clone();
    Tokens {
        expires_at: expires_at(response, &access_token),
        access_token,
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
        id_token: id_token.to_string(),
        sub: claims.subject().as_str().to_owned(),
    }
}

/// The access token's expiry: its own `exp` when it is a JWT (the clock
/// the services check), otherwise now + `expires_in`.
fn expires_at(response: &CoreTokenResponse, access_token: &str) -> i64 {
    use base64::Engine;
    let from_jwt = access_token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|claims| claims["exp"].as_i64());
    from_jwt.unwrap_or_else(|| {
        let ttl = response
            .expires_in()
            .map_or(300, |d| i64::try_from(d.as_secs()).unwrap_or(300));
        chrono::Utc::now().timestamp() + ttl
    })
}

fn token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<
        RE,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> OidcError {
    match e {
        RequestTokenError::ServerResponse(answer) => OidcError::Refused(format!(
            "身份认证服务拒绝了请求：{}",
            answer
                .error_description()
                .cloned()
                .unwrap_or_else(|| { serde_json::to_string(answer.error()).unwrap_or_default() })
        )),
        RequestTokenError::Request(e) => {
            OidcError::Unavailable(format!("身份认证服务无法连接：{e}"))
        }
        other => OidcError::Unavailable(format!("身份认证服务的答复无法读取：{other}")),
    }
}

/// The workspace's reqwest client as the crate's HTTP client.
struct Http(reqwest::Client);

/// A failed HTTP exchange with the provider.
#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpError(e.to_string()))?;
            let mut answer = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| HttpError(e.to_string()))?;
            answer
                .body(body.to_vec())
                .map_err(|e| HttpError(e.to_string()))
        })
    }
}
