//! The JWK set cache behind JWKS mode.
//!
//! Keys are fetched once, kept in memory and looked up by `kid`. A token with
//! a `kid` we have not seen (the IdP rotated its keys) triggers a refetch, but
//! at most one per [`REFETCH_INTERVAL`] besides the initial load: anyone can
//! send tokens with made-up `kid`s, and they must not turn us into a tool for
//! hammering the IdP. Concurrent misses share one fetch.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::error::AuthError;

/// Minimum time between two refetches of the JWK set.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Time limit for one JWK set request.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// After this long a cached set is refreshed on the next request, so that a
/// key the IdP withdrew stops being trusted. A failed refresh keeps the old set.
pub const MAX_AGE: Duration = Duration::from_secs(3600);

/// The algorithms JWKS mode accepts at all. Never HMAC: the JWK set is public,
/// and an HMAC "key" taken from it would let anyone sign tokens.
pub(crate) const JWKS_ALGORITHMS: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// One usable verification key and the algorithms it may verify.
pub(crate) struct VerifyKey {
    kid: Option<String>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) key: DecodingKey,
}

struct KeySet {
    keys: Vec<Arc<VerifyKey>>,
    fetched_at: Instant,
}

impl KeySet {
    /// The key named `kid`; a token without `kid` only fits a set of exactly one key.
    fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyKey>> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .cloned(),
            None if self.keys.len() == 1 => self.keys.first().cloned(),
            None => None,
        }
    }
}

#[derive(Default)]
struct State {
    keys: Option<KeySet>,
    /// Whether the initial load has been tried (it does not count as a refetch).
    attempted: bool,
    last_refetch: Option<Instant>,
    /// Why the most recent fetch failed; cleared by a successful one.
    last_error: Option<String>,
}

/// Fetches and caches one JWK set URL.
pub(crate) struct JwksKeys {
    url: String,
    client: Result<reqwest::Client, String>,
    state: RwLock<State>,
    fetch_gate: tokio::sync::Mutex<()>,
}

#[derive(Deserialize)]
struct RawJwkSet {
    keys: Vec<serde_json::Value>,
}

impl JwksKeys {
    pub(crate) fn new(url: String) -> Self {
        // Building the client can only fail on TLS setup; keep the reason and
        // answer 503 per request rather than panic at start-up.
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("HTTP 客户端初始化失败: {e}"));
        Self {
            url,
            client,
            state: RwLock::new(State::default()),
            fetch_gate: tokio::sync::Mutex::new(()),
        }
    }

    /// The key for `kid`, fetching or refetching the set when allowed.
    pub(crate) async fn key_for(&self, kid: Option<&str>) -> Result<Arc<VerifyKey>, AuthError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let _gate = self.fetch_gate.lock().await;
        // Whoever held the gate before us may just have fetched what we need.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        if self.claim_fetch_slot() {
            let result = self.fetch().await;
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(keys) => {
                    tracing::info!(url = %self.url, keys = keys.len(), "JWK set loaded");
                    state.keys = Some(KeySet {
                        keys,
                        fetched_at: Instant::now(),
                    });
                    state.last_error = None;
                }
                Err(reason) => {
                    tracing::warn!(url = %self.url, %reason, "JWK set fetch failed");
                    state.last_error = Some(reason);
                }
            }
        }
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = state.keys.as_ref().and_then(|set| set.find(kid)) {
            return Ok(key);
        }
        match (&state.last_error, &state.keys) {
            (Some(reason), _) => Err(AuthError::JwksUnavailable(reason.clone())),
            (None, Some(_)) => Err(AuthError::UnknownKey),
            (None, None) => Err(AuthError::JwksUnavailable("JWK 集合尚未加载".to_owned())),
        }
    }

    /// A key from a fresh cached set; a set older than [`MAX_AGE`] counts as a miss.
    fn cached(&self, kid: Option<&str>) -> Option<Arc<VerifyKey>> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let set = state.keys.as_ref()?;
        if set.fetched_at.elapsed() >= MAX_AGE {
            return None;
        }
        set.find(kid)
    }

    /// Whether a fetch may happen now; if so, records it against the rate limit.
    fn claim_fetch_slot(&self) -> bool {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if !state.attempted {
            state.attempted = true;
            return true;
        }
        let now = Instant::now();
        if state
            .last_refetch
            .is_some_and(|at| now.duration_since(at) < REFETCH_INTERVAL)
        {
            return false;
        }
        state.last_refetch = Some(now);
        true
    }

    async fn fetch(&self) -> Result<Vec<Arc<VerifyKey>>, String> {
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let response = client
            .get(&self.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("请求 JWK 集合失败: {e}"))?;
        let raw: RawJwkSet = response
            .json()
            .await
            .map_err(|e| format!("JWK 集合不是有效的 JSON: {e}"))?;
        // One key we cannot read must not take the others down with it.
        Ok(raw
            .keys
            .into_iter()
            .filter_map(|value| match serde_json::from_value::<Jwk>(value) {
                Ok(jwk) => verify_key(&jwk).map(Arc::new),
                Err(e) => {
                    tracing::debug!(error = %e, "skipping unreadable JWK");
                    None
                }
            })
            .collect())
    }
}

/// Turns a JWK into a verification key, or `None` for keys JWKS mode must not
/// use: encryption keys, symmetric (`oct`) keys, curves and algorithms
/// outside [`JWKS_ALGORITHMS`], and keys whose `alg` contradicts their type.
fn verify_key(jwk: &Jwk) -> Option<VerifyKey> {
    let kid = jwk.common.key_id.clone();
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let by_type: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => {
            vec![Algorithm::RS256, Algorithm::RS384, Algorithm::RS512]
        }
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return None,
        },
        _ => {
            tracing::debug!(?kid, "skipping JWK of a type JWKS mode does not accept");
            return None;
        }
    };
    let algorithms = match jwk.common.key_algorithm {
        None => by_type,
        Some(declared) => match Algorithm::try_from(declared) {
            Ok(alg) if by_type.contains(&alg) => vec![alg],
            _ => {
                tracing::debug!(
                    ?kid,
                    ?declared,
                    "skipping JWK whose alg does not fit its key type"
                );
                return None;
            }
        },
    };
    let key = DecodingKey::from_jwk(jwk)
        .inspect_err(|e| tracing::debug!(?kid, error = %e, "skipping unusable JWK"))
        .ok()?;
    Some(VerifyKey {
        kid,
        algorithms,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(value: serde_json::Value) -> Jwk {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn symmetric_and_encryption_keys_are_never_used() {
        assert!(
            verify_key(&jwk(
                serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "kid": "h"})
            ))
            .is_none()
        );
        let ec = serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "enc", "kid": "e",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        });
        assert!(verify_key(&jwk(ec)).is_none());
    }

    #[test]
    fn a_key_declaring_an_alg_of_another_type_is_skipped() {
        let ec = serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "RS256", "kid": "e",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        });
        assert!(verify_key(&jwk(ec)).is_none());
    }

    #[test]
    fn an_ec_key_without_alg_gets_the_algorithm_of_its_curve() {
        let ec = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "e",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        });
        let key = verify_key(&jwk(ec)).unwrap();
        assert_eq!(key.algorithms, vec![Algorithm::ES256]);
        assert_eq!(key.kid.as_deref(), Some("e"));
    }
}
