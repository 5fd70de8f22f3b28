//! Background jobs, run on a timer by every replica: deadline alarms
//! (`store::deadlines`), 容缺 expiry (`store::tolerance`), and picking up a
//! catalog another replica published. Each job is safe to run on several
//! replicas at once (row-level work under the application lock, marks
//! committed with the events), so no leader election is needed.

use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use yizhan_approval::calendar::china_local;

use crate::AppState;
use crate::store::{self, Error};

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    /// Deadline alarms announced.
    pub alarms: store::deadlines::SweepReport,
    /// Applications stopped because owed materials did not arrive.
    pub terminated: usize,
    /// A newer catalog version was adopted.
    pub catalog_adopted: Option<i32>,
}

/// Tasks per deadline sweep and applications per expiry run; the next tick
/// takes the rest.
const BATCH: u64 = 500;

/// Runs every job once, as at `now`.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> Result<TickReport, Error> {
    let alarms = store::deadlines::sweep(&state.db, &state.calendar, now, BATCH).await?;
    let departments = state.catalog().departments.clone();
    store::deadlines::report_open_tasks(&state.db, &state.calendar, &departments, now).await;
    let terminated = store::tolerance::expire(
        &state.db,
        &state.calendar,
        china_local(now).date(),
        now,
        BATCH,
    )
    .await?;
    let mut catalog_adopted = None;
    if let Some(latest) = store::catalog::latest_version(&state.db).await?
        && latest > state.catalog().version
    {
        state.adopt_catalog(store::catalog::latest(&state.db).await?);
        catalog_adopted = Some(latest);
    }
    if alarms.approaching + alarms.overdue + terminated > 0 {
        state.signal.wake();
    }
    Ok(TickReport {
        alarms,
        terminated,
        catalog_adopted,
    })
}

/// Ticks every `every` until `cancel`; a failed tick is logged and retried
/// on the next.
pub async fn run(state: web::Data<AppState>, every: Duration, cancel: CancellationToken) {
    loop {
        match tick(&state, Utc::now()).await {
            Ok(r) if r != TickReport::default() => tracing::info!(
                approaching = r.alarms.approaching,
                overdue = r.alarms.overdue,
                terminated = r.terminated,
                catalog = ?r.catalog_adopted,
                "background jobs"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "background jobs failed; retrying next tick"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}
