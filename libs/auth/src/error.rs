//! Why a request could not be authenticated, and how each reason is answered.
//!
//! Every variant is a 401 problem with a zh-CN detail naming what is wrong,
//! except `JwksUnavailable`: the caller's token may be fine, we just cannot
//! check it right now, so that is a 503 and the client should retry.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use yizhan_kit::Problem;

/// A failed authentication.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("未提供访问令牌，请在 Authorization 请求头中携带 Bearer 令牌")]
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    #[error("Authorization 请求头格式错误，应为“Bearer <令牌>”")]
    MalformedHeader,
    /// The token is not a readable JWT (segments, base64, JSON header).
    #[error("令牌格式错误，无法解析")]
    Malformed,
    /// `exp` is in the past (beyond the leeway).
    #[error("令牌已过期，请重新登录")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("令牌尚未生效(nbf)")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("令牌签发者(iss)不匹配")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("令牌受众(aud)不匹配")]
    WrongAudience,
    /// A required registered claim (`exp`, `iss`, `aud`) is absent.
    #[error("令牌缺少必需的声明({0})")]
    MissingClaim(String),
    /// The claims do not have the shape yizhan expects; the reason is for logs.
    #[error("令牌声明格式错误：{0}")]
    InvalidClaims(String),
    /// The signature does not verify with the key.
    #[error("令牌签名无效")]
    BadSignature,
    /// The header's `alg` is not accepted by this deployment (including `none`
    /// and any HMAC algorithm in JWKS mode).
    #[error("不支持的令牌签名算法")]
    UnsupportedAlgorithm,
    /// The header's `alg` is accepted in general but not for the key named by `kid`.
    #[error("令牌签名算法与签名密钥不匹配")]
    AlgorithmMismatch,
    /// No key in the JWK set has the token's `kid`.
    #[error("令牌的签名密钥标识(kid)未知")]
    UnknownKey,
    /// The JWK set could not be fetched and no cached key fits; the reason is for logs.
    #[error("无法获取身份认证服务的公钥：{0}")]
    JwksUnavailable(String),
}

impl AuthError {
    /// The zh-CN sentence shown to the client. Internal reasons (IdP errors,
    /// serde messages) stay in the logs.
    pub fn detail(&self) -> String {
        match self {
            AuthError::InvalidClaims(_) => "令牌声明格式错误或缺少必需字段".to_owned(),
            AuthError::JwksUnavailable(_) => {
                "身份认证服务暂时无法访问，无法校验令牌，请稍后重试".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The RFC 6750 `WWW-Authenticate` challenge for this failure (ASCII only).
    fn challenge(&self) -> Option<String> {
        let description = match self {
            AuthError::Missing => return Some("Bearer realm=\"yizhan\"".to_owned()),
            AuthError::MalformedHeader => {
                return Some("Bearer realm=\"yizhan\", error=\"invalid_request\"".to_owned());
            }
            AuthError::JwksUnavailable(_) => return None,
            AuthError::Malformed => "malformed token",
            AuthError::Expired => "token expired",
            AuthError::NotYetValid => "token not yet valid",
            AuthError::WrongIssuer => "wrong issuer",
            AuthError::WrongAudience => "wrong audience",
            AuthError::MissingClaim(_) => "missing required claim",
            AuthError::InvalidClaims(_) => "invalid claims",
            AuthError::BadSignature => "invalid signature",
            AuthError::UnsupportedAlgorithm => "unsupported algorithm",
            AuthError::AlgorithmMismatch => "algorithm does not match key",
            AuthError::UnknownKey => "unknown key id",
        };
        Some(format!(
            "Bearer realm=\"yizhan\", error=\"invalid_token\", error_description=\"{description}\""
        ))
    }
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        match &err {
            AuthError::JwksUnavailable(_) => Problem::unavailable(err.detail()),
            _ => {
                let mut problem = Problem::unauthorized(err.detail());
                if let Some(challenge) = err.challenge() {
                    problem.www_authenticate = Some(challenge);
                }
                problem
            }
        }
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            AuthError::JwksUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        Problem::from(self.clone()).error_response()
    }
}

/// Maps jsonwebtoken's reasons onto ours.
impl From<jsonwebtoken::errors::Error> for AuthError {
    fn from(err: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind as K;
        match err.kind() {
            K::ExpiredSignature => AuthError::Expired,
            K::ImmatureSignature => AuthError::NotYetValid,
            K::InvalidIssuer => AuthError::WrongIssuer,
            K::InvalidAudience => AuthError::WrongAudience,
            K::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim.clone()),
            K::InvalidClaimFormat(claim) => AuthError::InvalidClaims(format!("{claim} 格式错误")),
            K::InvalidSignature => AuthError::BadSignature,
            K::InvalidAlgorithm
            | K::UnsupportedAlgorithm
            | K::InvalidAlgorithmName
            | K::MissingAlgorithm => AuthError::UnsupportedAlgorithm,
            // A key that cannot be used for verification: the IdP published
            // something broken. The token cannot be trusted either way.
            K::InvalidEcdsaKey | K::InvalidRsaKey(_) | K::InvalidEddsaKey | K::InvalidKeyFormat => {
                tracing::warn!(error = %err, "verification key unusable");
                AuthError::BadSignature
            }
            _ => AuthError::Malformed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rejection_is_401_except_an_unreachable_idp() {
        let p = Problem::from(AuthError::Expired);
        assert_eq!(p.status, 401);
        assert_eq!(p.detail.as_deref(), Some("令牌已过期，请重新登录"));
        let p = Problem::from(AuthError::WrongAudience);
        assert_eq!(p.detail.as_deref(), Some("令牌受众(aud)不匹配"));

        let p = Problem::from(AuthError::JwksUnavailable("connection refused".into()));
        assert_eq!(p.status, 503);
        assert!(!p.detail.unwrap().contains("connection refused"));
    }

    #[test]
    fn a_missing_token_gets_a_challenge_without_an_error_code() {
        let p = Problem::from(AuthError::Missing);
        assert_eq!(
            p.www_authenticate.as_deref(),
            Some("Bearer realm=\"yizhan\"")
        );
        let p = Problem::from(AuthError::BadSignature);
        assert!(p.www_authenticate.unwrap().contains("invalid_token"));
    }
}
