//! actix-web extractors: `Principal` (a token is required) and
//! `OptionalPrincipal` (anonymous allowed, but a token that is there must be good).

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use yizhan_kit::Problem;

use crate::authenticator::Authenticator;
use crate::claims::Principal;
use crate::error::AuthError;

/// The bearer token in the `Authorization` header: `Ok(None)` when there is
/// no header, an error when there is one but it is not `Bearer <token>`. The
/// scheme is case-insensitive (RFC 7235).
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, AuthError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(AuthError::MalformedHeader)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(AuthError::MalformedHeader);
    }
    Ok(Some(token.to_owned()))
}

#[allow(clippy::result_large_err)] // the extractor's error type is `Problem` anyway
fn authenticator(req: &HttpRequest) -> Result<Authenticator, Problem> {
    if let Some(data) = req.app_data::<web::Data<Authenticator>>() {
        return Ok(data.get_ref().clone());
    }
    if let Some(auth) = req.app_data::<Authenticator>() {
        return Ok(auth.clone());
    }
    // A wiring bug, not the caller's fault: say so in the log, answer an opaque 500.
    tracing::error!(
        path = %req.path(),
        "no Authenticator registered as app data; add .app_data(web::Data::new(authenticator))"
    );
    Err(Problem::internal())
}

async fn verify(auth: Authenticator, token: String) -> Result<Principal, Problem> {
    auth.authenticate(&token).await.map_err(|err| {
        tracing::debug!(reason = ?err, "bearer token refused");
        Problem::from(err)
    })
}

impl FromRequest for Principal {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    #[allow(clippy::result_large_err)]
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let prepared = authenticator(req).and_then(|auth| match bearer_token(req.headers()) {
            Ok(Some(token)) => Ok((auth, token)),
            Ok(None) => Err(AuthError::Missing.into()),
            Err(err) => Err(err.into()),
        });
        Box::pin(async move {
            let (auth, token) = prepared?;
            verify(auth, token).await
        })
    }
}

/// For endpoints that serve anonymous callers too: no `Authorization`
/// header gives `None`, while a header that is present but bad is still a
/// 401 (a client that meant to log in should hear that it failed).
#[derive(Debug, Clone)]
pub struct OptionalPrincipal(pub Option<Principal>);

impl FromRequest for OptionalPrincipal {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let prepared = match bearer_token(req.headers()) {
            Ok(None) => Ok(None),
            Ok(Some(token)) => authenticator(req).map(|auth| Some((auth, token))),
            Err(err) => Err(Problem::from(err)),
        };
        Box::pin(async move {
            match prepared? {
                None => Ok(OptionalPrincipal(None)),
                Some((auth, token)) => verify(auth, token)
                    .await
                    .map(|p| OptionalPrincipal(Some(p))),
            }
        })
    }
}

/// The request's `Authorization` header as sent, to forward the caller's
/// own token to a peer service (which then answers what the caller may
/// see, no more).
pub fn authorization(req: &actix_web::HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc "] {
            assert_eq!(
                bearer_token(&headers(value)).unwrap().as_deref(),
                Some("abc")
            );
        }
        assert_eq!(bearer_token(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_malformed() {
        for value in [
            "Basic x",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Token abc",
            "abc",
        ] {
            assert_eq!(
                bearer_token(&headers(value)),
                Err(AuthError::MalformedHeader),
                "{value:?}"
            );
        }
    }
}
