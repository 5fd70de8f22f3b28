//! `/healthz` (the process is alive) and `/readyz` (its database and broker
//! answer). Kubernetes restarts on the first and routes traffic on the second.

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
    /// `Err` with a reason when the dependency does not answer.
    async fn check(&self) -> Result<(), String>;
}

/// The checks a service registers; stored as app data.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

impl Readiness {
    /// Adds a check.
    pub fn with(mut self, check: impl ReadinessCheck + 'static) -> Self {
        self.checks.push(Arc::new(check));
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
        crate::db::ping(&self.0).await.map_err(|e| e.to_string())
    }
}

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// Each checked dependency and its state (`ok` or the failure).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
}

/// One dependency's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// Dependency name.
    pub name: &'static str,
    /// `ok` or the failure reason.
    pub status: String,
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

/// Readiness: database and broker reachable.
///
/// 调用方：任何人（无需登录），供探针使用。
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "依赖均可用", body = HealthStatus),
        (status = 503, description = "某个依赖不可用", body = Problem, content_type = "application/problem+json")
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
    for check in &readiness.checks {
        let outcome = tokio::time::timeout(Duration::from_secs(3), check.check())
            .await
            .unwrap_or_else(|_| Err("检查超时".to_owned()));
        match outcome {
            Ok(()) => results.push(CheckResult {
                name: check.name(),
                status: "ok".into(),
            }),
            Err(reason) => {
                failed.push(format!("{}: {reason}", check.name()));
                results.push(CheckResult {
                    name: check.name(),
                    status: reason,
                });
            }
        }
    }
    if failed.is_empty() {
        Ok(HttpResponse::Ok().json(HealthStatus {
            status: "ok",
            checks: results,
        }))
    } else {
        Err(Problem::unavailable(format!(
            "依赖不可用：{}",
            failed.join("；")
        )))
    }
}
