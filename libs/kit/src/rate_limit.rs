//! Rate limits on the endpoints anyone may call: public reads (verification,
//! notices, catalogs) and the login pages. Each client address gets a GCRA
//! bucket per class (`governor`); a request over its quota is answered 429
//! problem+json with `Retry-After` before any handler or database work.
//!
//! The routes a service limits are code (each service lists its public
//! prefixes); the quotas are settings (`http.rate_limit`). Buckets live in
//! the process: with N replicas behind a balancer a client gets up to N
//! times the quota, which is still a bound, and needs no shared store.
//!
//! The client address is the TCP peer unless `client_ip_header` names a
//! header a trusted proxy sets (`X-Real-IP`, or `X-Forwarded-For`, of which
//! the last entry — the one the nearest proxy appended — is taken). Never
//! set it when clients reach the service directly: they could pick their own
//! bucket.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderName;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::Deserialize;

use crate::problem::Problem;

/// Which quota a route counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Public reads: verification, notices, catalogs.
    Public,
    /// Login pages and callbacks (stricter: each try may cost a provider round trip).
    Login,
}

/// A limited route: every path equal to `prefix` or below it (`prefix/…`).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    prefix: &'static str,
    class: Class,
}

impl Rule {
    /// Paths at or below `prefix` count against the public quota.
    pub const fn public(prefix: &'static str) -> Self {
        Self {
            prefix,
            class: Class::Public,
        }
    }

    /// Paths at or below `prefix` count against the login quota.
    pub const fn login(prefix: &'static str) -> Self {
        Self {
            prefix,
            class: Class::Login,
        }
    }

    fn matches(&self, path: &str) -> bool {
        path.strip_prefix(self.prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

/// States in `api` that every operation under a rate-limited prefix may
/// answer 429 problem+json with `Retry-After`: the limit is part of the
/// contract, so partners (and contract tests) see it.
pub fn document(api: &mut utoipa::openapi::OpenApi, rules: &[Rule]) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, header::HeaderBuilder};

    let response = ResponseBuilder::new()
        .description("请求过于频繁，请按 Retry-After 所示秒数后重试")
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(utoipa::openapi::schema::Object::with_type(
                    utoipa::openapi::schema::Type::Integer,
                )))
                .description(Some("建议等待的秒数"))
                .build(),
        )
        .content(
            crate::problem::PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    for (path, item) in api.paths.paths.iter_mut() {
        if !rules.iter().any(|r| r.matches(path)) {
            continue;
        }
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            operation
                .responses
                .responses
                .entry("429".to_owned())
                .or_insert_with(|| RefOr::T(response.clone()));
        }
    }
}

/// One quota: a sustained rate and the burst allowed on top of an idle bucket.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct QuotaSettings {
    /// Requests per minute per client address, sustained.
    pub per_minute: u32,
    /// Requests a client may make at once after being idle.
    pub burst: u32,
}

impl QuotaSettings {
    fn quota(&self) -> anyhow::Result<Quota> {
        let per_minute = NonZeroU32::new(self.per_minute)
            .ok_or_else(|| anyhow::anyhow!("rate_limit per_minute must be at least 1"))?;
        let burst = NonZeroU32::new(self.burst)
            .ok_or_else(|| anyhow::anyhow!("rate_limit burst must be at least 1"))?;
        Ok(Quota::per_minute(per_minute).allow_burst(burst))
    }
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            per_minute: 300,
            burst: 60,
        }
    }
}

/// `http.rate_limit`: quotas per client address.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// Off only for load and crash runs that drive one service from one address.
    pub enabled: bool,
    /// Public reads (verification, notices, catalogs).
    pub public: QuotaSettings,
    /// Login pages and callbacks.
    pub login: QuotaSettings,
    /// Header a trusted proxy sets to the client's address; `None`: the TCP peer.
    pub client_ip_header: Option<String>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            public: QuotaSettings::default(),
            login: QuotaSettings {
                per_minute: 30,
                burst: 10,
            },
            client_ip_header: None,
        }
    }
}

/// The limiters of one service, in app data; the middleware consults them.
#[derive(Clone, Default)]
pub struct RateLimits {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    public: DefaultKeyedRateLimiter<IpAddr>,
    login: DefaultKeyedRateLimiter<IpAddr>,
    rules: Vec<Rule>,
    client_ip_header: Option<HeaderName>,
    checks: AtomicU64,
}

/// Forget idle clients every this many checks, so the buckets of addresses
/// seen once do not accumulate.
const PRUNE_EVERY: u64 = 4096;

impl RateLimits {
    /// Limiters for `rules` with the configured quotas; none when disabled.
    pub fn new(settings: &RateLimitSettings, rules: &[Rule]) -> anyhow::Result<Self> {
        if !settings.enabled || rules.is_empty() {
            return Ok(Self::default());
        }
        let client_ip_header = settings
            .client_ip_header
            .as_deref()
            .map(|h| HeaderName::try_from(h.trim().to_ascii_lowercase()))
            .transpose()
            .map_err(|e| anyhow::anyhow!("rate_limit client_ip_header: {e}"))?;
        Ok(Self {
            inner: Some(Arc::new(Inner {
                public: DefaultKeyedRateLimiter::keyed(settings.public.quota()?),
                login: DefaultKeyedRateLimiter::keyed(settings.login.quota()?),
                rules: rules.to_vec(),
                client_ip_header,
                checks: AtomicU64::new(0),
            })),
        })
    }

    /// `Err(wait)` when the request's client has used up its quota for the
    /// route's class; `Ok` for unlimited routes.
    fn check(&self, req: &ServiceRequest) -> Result<(), Duration> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let path = req.path();
        let Some(rule) = inner.rules.iter().find(|r| r.matches(path)) else {
            return Ok(());
        };
        let limiter = match rule.class {
            Class::Public => &inner.public,
            Class::Login => &inner.login,
        };
        if inner.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            inner.public.retain_recent();
            inner.login.retain_recent();
        }
        let client = inner.client_of(req);
        limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

impl Inner {
    fn client_of(&self, req: &ServiceRequest) -> IpAddr {
        let forwarded = self
            .client_ip_header
            .as_ref()
            .and_then(|h| req.headers().get(h))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        forwarded
            .or_else(|| req.peer_addr().map(|a| a.ip()))
            .unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }
}

/// The 429 answer: whole seconds to wait, at least one.
pub fn too_many_requests(wait: Duration) -> Problem {
    let secs = u32::try_from(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        .unwrap_or(u32::MAX)
        .max(1);
    Problem::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "请求过于频繁",
    )
    .with_detail(format!("来自您地址的请求过多，请在 {secs} 秒后重试"))
    .with_retry_after(secs)
}

/// Middleware: answers 429 for a client over its quota on a limited route.
/// Reads [`RateLimits`] from app data; without it nothing is limited.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = req
        .app_data::<web::Data<RateLimits>>()
        .map_or(Ok(()), |limits| limits.check(&req));
    match verdict {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(wait) => {
            let response = too_many_requests(wait).error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_whole_segments() {
        let rule = Rule::public("/api/v1/verify");
        assert!(rule.matches("/api/v1/verify"));
        assert!(rule.matches("/api/v1/verify/x"));
        assert!(!rule.matches("/api/v1/verifyx"));
        assert!(!rule.matches("/api/v1"));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(
            too_many_requests(Duration::from_millis(1)).retry_after,
            Some(1)
        );
        assert_eq!(
            too_many_requests(Duration::from_millis(2500)).retry_after,
            Some(3)
        );
        assert_eq!(too_many_requests(Duration::ZERO).retry_after, Some(1));
    }

    #[test]
    fn a_zero_quota_is_a_configuration_error() {
        let settings = RateLimitSettings {
            public: QuotaSettings {
                per_minute: 0,
                burst: 1,
            },
            ..RateLimitSettings::default()
        };
        assert!(RateLimits::new(&settings, &[Rule::public("/x")]).is_err());
    }
}
