//! Verifying a bearer token into a [`Principal`].
//!
//! The order matters: the header's `alg` is checked against the deployment's
//! one family *before* any key is chosen, the key is chosen by the
//! deployment (secret, or JWK by `kid`) and never by the token, and the
//! signature is verified before any claim is trusted.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};

use crate::claims::{Claims, Principal};
use crate::config::{AuthConfig, AuthMode};
use crate::error::AuthError;
use crate::jwks::{JWKS_ALGORITHMS, JwksKeys};

/// Verifies bearer tokens for one deployment. Cheap to clone (one `Arc`);
/// register it once as `web::Data<Authenticator>` and the [`Principal`]
/// extractor finds it.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    /// Everything but the algorithm, which is fixed per token after the header check.
    validation: Validation,
    keys: KeySource,
}

enum KeySource {
    Hs256(DecodingKey),
    /// An empty dev secret would make every token forgeable; refuse them all.
    Hs256Disabled,
    Jwks(JwksKeys),
}

impl Authenticator {
    /// An authenticator for `config`. Does no I/O: in JWKS mode the key set is
    /// fetched on the first request that needs it.
    pub fn new(config: AuthConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.leeway = config.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;

        let keys = match config.mode {
            AuthMode::Hs256 { secret } if secret.is_empty() => {
                tracing::error!("HS256 secret is empty; every token will be refused");
                KeySource::Hs256Disabled
            }
            AuthMode::Hs256 { secret } => {
                if secret.len() < 32 {
                    tracing::warn!(bytes = secret.len(), "HS256 secret shorter than 32 bytes");
                }
                KeySource::Hs256(DecodingKey::from_secret(&secret))
            }
            AuthMode::Jwks { url } => KeySource::Jwks(JwksKeys::new(url)),
        };
        Self {
            inner: Arc::new(Inner {
                issuer: config.issuer,
                audience: config.audience,
                validation,
                keys,
            }),
        }
    }

    /// Verifies `token` (without the `Bearer ` prefix) and returns who it names.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthError> {
        let header = read_header(token)?;
        let (key, alg) = match &self.inner.keys {
            KeySource::Hs256(key) => {
                if header.alg != Algorithm::HS256 {
                    return Err(AuthError::UnsupportedAlgorithm);
                }
                (key.clone(), Algorithm::HS256)
            }
            KeySource::Hs256Disabled => return Err(AuthError::BadSignature),
            KeySource::Jwks(jwks) => {
                if !JWKS_ALGORITHMS.contains(&header.alg) {
                    return Err(AuthError::UnsupportedAlgorithm);
                }
                let key = jwks.key_for(header.kid.as_deref()).await?;
                if !key.algorithms.contains(&header.alg) {
                    return Err(AuthError::AlgorithmMismatch);
                }
                (key.key.clone(), header.alg)
            }
        };

        let mut validation = self.inner.validation.clone();
        validation.algorithms = vec![alg];
        // Decode into a JSON value first so that jsonwebtoken's own checks
        // (signature, then exp/nbf/iss/aud) report precise reasons before our
        // struct's shape is looked at.
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)?;
        let claims: Claims = serde_json::from_value(data.claims)
            .map_err(|e| AuthError::InvalidClaims(e.to_string()))?;
        Ok(claims.into())
    }
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match &self.inner.keys {
            KeySource::Hs256(_) | KeySource::Hs256Disabled => "hs256",
            KeySource::Jwks(_) => "jwks",
        };
        f.debug_struct("Authenticator")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("mode", &mode)
            .finish_non_exhaustive()
    }
}

/// Reads the JOSE header. A header naming an algorithm jsonwebtoken does not
/// know (`"none"` above all) fails to parse there; report that as an
/// unsupported algorithm rather than as garbage, since that is what it is.
fn read_header(token: &str) -> Result<Header, AuthError> {
    match jsonwebtoken::decode_header(token) {
        Ok(header) => {
            // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
            if header.crit.is_some() {
                return Err(AuthError::Malformed);
            }
            Ok(header)
        }
        Err(_) => {
            let names_an_alg = token
                .split('.')
                .next()
                .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
                .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
                .is_some_and(|header| header.get("alg").is_some_and(|alg| alg.is_string()));
            if names_an_alg && token.split('.').count() == 3 {
                Err(AuthError::UnsupportedAlgorithm)
            } else {
                Err(AuthError::Malformed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{TokenRequest, mint_hs256};
    use crate::role::Role;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn hs256() -> Authenticator {
        Authenticator::new(AuthConfig::new(
            "yizhan-dev",
            "yizhan",
            AuthMode::Hs256 {
                secret: SECRET.to_vec(),
            },
        ))
    }

    fn request(ttl_secs: i64) -> TokenRequest {
        TokenRequest {
            sub: "u1".into(),
            roles: vec![Role::Applicant],
            ttl_secs,
            ..Default::default()
        }
    }

    #[actix_web::test]
    async fn leeway_accepts_a_token_that_just_expired() {
        let token = mint_hs256(SECRET, "yizhan-dev", "yizhan", &request(-10));
        assert!(hs256().authenticate(&token).await.is_ok());
        let token = mint_hs256(SECRET, "yizhan-dev", "yizhan", &request(-120));
        assert_eq!(hs256().authenticate(&token).await, Err(AuthError::Expired));
    }

    #[actix_web::test]
    async fn a_future_nbf_is_refused() {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "sub": "u1", "iss": "yizhan-dev", "aud": "yizhan",
            "exp": now + 600, "nbf": now + 300
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(
            hs256().authenticate(&token).await,
            Err(AuthError::NotYetValid)
        );
    }

    #[actix_web::test]
    async fn exp_iss_and_aud_are_required() {
        let now = chrono::Utc::now().timestamp();
        for missing in ["exp", "iss", "aud"] {
            let mut claims = serde_json::json!({
                "sub": "u1", "iss": "yizhan-dev", "aud": "yizhan", "exp": now + 600
            });
            claims.as_object_mut().unwrap().remove(missing);
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(SECRET),
            )
            .unwrap();
            assert_eq!(
                hs256().authenticate(&token).await,
                Err(AuthError::MissingClaim(missing.to_owned())),
                "without {missing}"
            );
        }
    }

    #[actix_web::test]
    async fn an_hs384_token_is_refused_in_hs256_mode() {
        let claims = serde_json::json!({
            "sub": "u1", "iss": "yizhan-dev", "aud": "yizhan",
            "exp": chrono::Utc::now().timestamp() + 600
        });
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS384),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(
            hs256().authenticate(&token).await,
            Err(AuthError::UnsupportedAlgorithm)
        );
    }

    #[actix_web::test]
    async fn an_empty_secret_refuses_everything() {
        let auth = Authenticator::new(AuthConfig::new(
            "yizhan-dev",
            "yizhan",
            AuthMode::Hs256 { secret: Vec::new() },
        ));
        let token = mint_hs256(b"", "yizhan-dev", "yizhan", &request(600));
        assert_eq!(
            auth.authenticate(&token).await,
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn authenticator_and_its_future_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync>(_: &T) {}
        fn assert_send<T: Send>(_: &T) {}
        let auth = hs256();
        assert_send_sync(&auth);
        assert_send(&auth.authenticate("x"));
        let jwks = Authenticator::new(AuthConfig::new(
            "i",
            "a",
            AuthMode::Jwks {
                url: "http://127.0.0.1:9".into(),
            },
        ));
        assert_send(&jwks.authenticate("x"));
    }

    #[test]
    fn garbage_is_malformed_and_unknown_algs_are_unsupported() {
        assert_eq!(read_header("abc").unwrap_err(), AuthError::Malformed);
        assert_eq!(read_header("a.b.c").unwrap_err(), AuthError::Malformed);
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(
            read_header(&format!("{none}.e30.")).unwrap_err(),
            AuthError::UnsupportedAlgorithm
        );
    }
}
