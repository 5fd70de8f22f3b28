//! `/healthz` (the process is alive), `/readyz` (it can do its work).
//!
//! Kubernetes restarts a pod on the first and routes traffic on the second,
//! so `/readyz` fails (503) only on a *critical* dependency: one without
//! which requests cannot be served (the database). A dependency whose loss
//! only delays effects (the broker: writes go on through the outbox; a
//! consumer waiting for a dependency) is reported in the answer as
//! `degraded` with a 200, so a Kafka outage does not empty every Service.
//! The answer names what is wrong in words; the driver's own error (host,
//! database name) stays in the log.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::Problem;

/// One dependency `/readyz` checks.
#[async_trait::async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// Short name shown in the answer (`database`, `broker`).
    fn name(&self) -> &'static str;
    /// Whether its failure makes the service unready (503). Non-critical
    /// failures are shown as `degraded` with a 200.
    fn critical(&self) -> bool {
        true
    }
    /// `Err` with a zh-CN reason fit for the public answer when the
    /// dependency does not answer; log the driver's error instead of
    /// returning it.
    async fn check(&self) -> Result<(), String>;
}

/// Something that contributes checks to [`Readiness`]: one check, or a
/// group of them (the event backbone adds its broker and consumer).
pub trait IntoChecks {
    /// The checks.
    fn into_checks(self) -> Vec<Arc<dyn ReadinessCheck>>;
}

impl<T: ReadinessCheck + 'static> IntoChecks for T {
    fn into_checks(self) -> Vec<Arc<dyn ReadinessCheck>> {
        vec![Arc::new(self)]
    }
}

/// The checks a service registers; stored as app data.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

impl Readiness {
    /// Adds a check (or a group of checks).
    pub fn with(mut self, checks: impl IntoChecks) -> Self {
        self.checks.extend(checks.into_checks());
        self
    }
}

/// Database readiness: `SELECT 1`.
pub struct DatabaseCheck(pub DatabaseConnection);

#[async_trait::async_trait]
impl ReadinessCheck for DatabaseCheck {
    fn name(&self) -> &'static str {
        "database"
    }
    async fn check(&self) -> Result<(), String> {
        crate::db::ping(&self.0).await.map_err(|e| {
            tracing::warn!(error = %e, "readiness: database does not answer");
            "数据库无法连接".to_owned()
        })
    }
}

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "degraded", "checks": [
    {"name": "database", "status": "ok", "critical": true},
    {"name": "broker", "status": "消息代理无法连接：写入照常，事件在发件箱中等待发送", "critical": false}
]}))]
pub struct HealthStatus {
    /// `ok`, or `degraded` when a non-critical dependency is down.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Each checked dependency and its state (`ok` or the failure).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

/// One dependency's state. Named `DependencyCheck` in the documents: the
/// document service's `CheckResult` (materials check) is another type.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DependencyCheck)]
pub struct CheckResult {
    /// Dependency name.
    pub name: &'static str,
    /// `ok` or the failure reason.
    pub status: String,
    /// Whether its failure makes the service unready.
    pub critical: bool,
}

/// Liveness: the process answers HTTP.
///
/// 调用方：任何人（无需登录），供探针使用。
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "进程存活", body = HealthStatus)),
    security(())
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus {
        status: "ok",
        checks: Vec::new(),
    })
}

/// Readiness: the critical dependencies (the database) answer. Others (the
/// broker, the consumer) are reported, and only make the answer `degraded`.
///
/// 调用方：任何人（无需登录），供探针使用。
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "可以处理请求（status 为 degraded 时，消息代理等非关键依赖不可用，写入照常，事件稍后送达）", body = HealthStatus),
        (status = 503, description = "关键依赖（数据库）不可用", body = Problem, content_type = "application/problem+json")
    ),
    security(())
)]
#[get("/readyz")]
pub async fn readyz(readiness: Option<web::Data<Readiness>>) -> Result<HttpResponse, Problem> {
    let Some(readiness) = readiness else {
        return Ok(HttpResponse::Ok().json(HealthStatus {
            status: "ok",
            checks: Vec::new(),
        }));
    };
    let mut results = Vec::new();
    let mut failed = Vec::new();
    let mut degraded = false;
    for check in &readiness.checks {
        let outcome = tokio::time::timeout(Duration::from_secs(3), check.check())
            .await
            .unwrap_or_else(|_| Err("检查超时".to_owned()));
        let status = match outcome {
            Ok(()) => "ok".to_owned(),
            Err(reason) => {
                if check.critical() {
                    failed.push(format!("{}: {reason}", check.name()));
                } else {
                    degraded = true;
                }
                reason
            }
        };
        results.push(CheckResult {
            name: check.name(),
            status,
            critical: check.critical(),
        });
    }
    if failed.is_empty() {
        Ok(HttpResponse::Ok().json(HealthStatus {
            status: if degraded { "degraded" } else { "ok" },
            checks: results,
        }))
    } else {
        Err(Problem::unavailable(format!(
            "依赖不可用：{}",
            failed.join("；")
        )))
    }
}
