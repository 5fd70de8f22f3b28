//! Background jobs, run on a timer by every replica: 诉求 deadline alarms
//! and due 差评 follow-ups. Each is safe on several replicas at once (row
//! work under the row's lock, marks committed with the events).

use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use yizhan_approval::calendar::china_local;
use yizhan_workflow::deadlines::SweepReport;

use crate::AppState;
use crate::store::{ratings, requests};

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    /// 诉求 deadline alarms announced.
    pub alarms: SweepReport,
    /// 差评 follow-ups announced as due.
    pub follow_ups_due: usize,
}

/// Rows per sweep; the next tick takes the rest.
const BATCH: u64 = 500;

/// Runs every job once, as at `now`.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> Result<TickReport, requests::Error> {
    let alarms = requests::deadlines::sweep(&state.db, &state.calendar, now, BATCH).await?;
    let follow_ups_due = ratings::sweep_due(&state.db, china_local(now).date(), now, BATCH).await?;
    if alarms.approaching + alarms.overdue + follow_ups_due > 0 {
        state.signal.wake();
    }
    Ok(TickReport {
        alarms,
        follow_ups_due,
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
                follow_ups_due = r.follow_ups_due,
                "background jobs"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "background jobs failed; retrying next tick"),
        }
        if cancel
            .run_until_cancelled(actix_web::rt::time::sleep(every))
            .await
            .is_none()
        {
            return;
        }
    }
}
