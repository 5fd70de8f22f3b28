//! Background jobs: the deadline alarms of item tasks (every tick), and the
//! daily jobs — stop 容缺 stages whose materials are overdue, send the
//! whole-process budget alerts — once per China-local day. The daily jobs
//! take the day as a parameter: the admin route runs them for today (or a
//! missed earlier day), tests for any day through the store. Every job is
//! safe on several replicas at once (row work under the project lock,
//! marks committed with their events).

use std::time::Duration;

use actix_web::web;
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;

use crate::AppState;
use crate::store::Error;

/// What one run did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::job_report)]
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
pub async fn run_daily(state: &AppState, today: NaiveDate) -> Result<JobReport, Error> {
    let tolerance_expired =
        crate::store::expire_tolerances(&state.db, &state.calendar, today).await?;
    let alerts = crate::store::projects::scan_budgets(&state.db, &state.calendar, today).await?;
    state.signal.wake();
    Ok(JobReport {
        today,
        tolerance_expired,
        budget_warnings: alerts.warnings,
        budget_overdue: alerts.overdue,
    })
}

/// Tasks per deadline sweep; the next tick takes the rest.
const SWEEP_BATCH: u64 = 500;

/// Every `every` until `cancel`: the deadline sweep, and the daily jobs
/// when the China-local day is one they have not run for yet. Failures are
/// logged and retried at the next tick.
pub async fn run_periodically(
    state: web::Data<AppState>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    let mut daily_done: Option<NaiveDate> = None;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = Utc::now();
        match crate::store::deadlines::sweep(&state.db, &state.calendar, now, SWEEP_BATCH).await {
            Ok(r) if r.approaching + r.overdue > 0 => {
                state.signal.wake();
                tracing::info!(
                    approaching = r.approaching,
                    overdue = r.overdue,
                    "deadline alarms"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deadline sweep failed; retrying next tick"),
        }
        crate::store::deadlines::report_open_tasks(
            &state.db,
            &state.calendar,
            &state.catalog.departments,
            now,
        )
        .await;
        let today = china_local(now).date();
        if daily_done == Some(today) {
            continue;
        }
        match run_daily(&state, today).await {
            Ok(report) => {
                daily_done = Some(today);
                tracing::info!(?report, "construction daily jobs");
            }
            Err(e) => tracing::warn!(error = %e, "construction daily jobs failed"),
        }
    }
}
