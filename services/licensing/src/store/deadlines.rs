//! 时限预警 for licensing tasks: the engine's sweep
//! (`yizhan_workflow::deadlines`), announced as `DeadlineApproaching` and
//! `DeadlineOverdue` on the licensing topic.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use yizhan_approval::Calendar;
use yizhan_events::contracts::{DeadlineApproaching, DeadlineOverdue};

pub use yizhan_workflow::deadlines::{SweepReport, next_alarm_key};

use super::{Error, SOURCE, engine};

/// Announces every alarm that has come by `now`, at most `batch` tasks per
/// call (the scheduler calls again on its next tick, so a backlog drains).
pub async fn sweep(
    db: &DatabaseConnection,
    calendar: &Calendar,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<SweepReport, Error> {
    yizhan_workflow::deadlines::sweep(engine(calendar), db, now, batch, |t, alarm| {
        alarm.event(SOURCE, t, None, DeadlineApproaching, DeadlineOverdue)
    })
    .await
}

/// Refreshes the open-task gauge (`yizhan_open_tasks`) as at `now`, with a
/// row of zeros for every department of the catalog.
pub async fn report_open_tasks(
    db: &DatabaseConnection,
    calendar: &Calendar,
    departments: &[yizhan_workflow::form::Department],
    now: DateTime<Utc>,
) {
    yizhan_workflow::open_tasks::report(engine(calendar), db, departments, now).await;
}
