//! How a deployment verifies tokens: one issuer, one audience, one key source.

use std::fmt;

/// Leeway for `exp`/`nbf` when the configuration does not say otherwise.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;

/// Where the verification keys come from. Each mode accepts exactly one
/// family of algorithms, so a token can never choose a weaker check than the
/// deployment intends (the HS/RS "algorithm confusion" attack).
#[derive(Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// Development: a shared HS256 secret (see [`crate::load_or_create_dev_secret`]).
    /// Only `HS256` tokens are accepted.
    Hs256 {
        /// The raw secret bytes.
        secret: Vec<u8>,
    },
    /// Production: public keys from an OIDC provider's JWK set. Only RS256,
    /// RS384, RS512, ES256 and ES384 are accepted, and only with a key of the
    /// matching type; HMAC algorithms never.
    Jwks {
        /// The JWK set URL, e.g. `https://idp/realms/yizhan/protocol/openid-connect/certs`.
        url: String,
    },
}

// Manual so that a secret never reaches a log line through `{:?}`.
impl fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthMode::Hs256 { secret } => f
                .debug_struct("Hs256")
                .field("secret", &format_args!("[{} bytes redacted]", secret.len()))
                .finish(),
            AuthMode::Jwks { url } => f.debug_struct("Jwks").field("url", url).finish(),
        }
    }
}

/// Token verification settings for one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Audience that must be in `aud`.
    pub audience: String,
    /// Key source and accepted algorithms.
    pub mode: AuthMode,
    /// Clock skew allowed on `exp`/`nbf`, in seconds ([`DEFAULT_LEEWAY_SECS`]).
    pub leeway_secs: u64,
}

impl AuthConfig {
    /// A configuration with the default leeway.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, mode: AuthMode) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            mode,
            leeway_secs: DEFAULT_LEEWAY_SECS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let config = AuthConfig::new(
            "iss",
            "aud",
            AuthMode::Hs256 {
                secret: b"super-secret-value".to_vec(),
            },
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains("super-secret-value"), "{shown}");
        assert!(shown.contains("redacted"));
        assert_eq!(config.leeway_secs, 30);
    }
}
