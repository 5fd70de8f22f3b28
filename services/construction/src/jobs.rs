//! The daily jobs: stop 容缺 stages whose materials are overdue, and send
//! the whole-process budget alerts. Both take the day as a parameter: the
//! admin route runs them for today (or a missed earlier day), tests for any
//! day through the store.

use std::time::Duration;

use actix_web::web;
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;

use crate::AppState;
use crate::store::StoreError;

/// What one run did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobReport {
    /// The day the jobs ran for.
    pub today: NaiveDate,
    /// 容缺 stages stopped.
    pub tolerance_expired: u32,
    /// Budget warnings sent.
    pub budget_warnings: u32,
    /// Budget overdue alerts sent.
    pub budget_overdue: u32,
}

/// Runs both jobs for `today`.
pub async fn run_daily(state: &AppState, today: NaiveDate) -> Result<JobReport, StoreError> {
    let tolerance_expired = crate::store::stages::expire_tolerances(&state.db, today).await?;
    let alerts = crate::store::projects::scan_budgets(&state.db, &state.calendar, today).await?;
    state.signal.wake();
    Ok(JobReport {
        today,
        tolerance_expired,
        budget_warnings: alerts.warnings,
        budget_overdue: alerts.overdue,
    })
}

/// Runs the jobs for the current China-local day every `every` until
/// `cancel`; failures are logged and retried at the next tick.
pub async fn run_periodically(
    state: web::Data<AppState>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let today = china_local(Utc::now()).date();
        match run_daily(&state, today).await {
            Ok(report) => tracing::info!(?report, "construction daily jobs"),
            Err(e) => tracing::warn!(error = %e, "construction daily jobs failed"),
        }
    }
}
