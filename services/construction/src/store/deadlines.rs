//! 时限预警 for construction tasks: the engine's sweep
//! (`yizhan_workflow::deadlines`), announced as
//! `ConstructionDeadlineApproaching` and `ConstructionDeadlineOverdue` on
//! the construction topic (same facts as licensing's, with the project).

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use yizhan_approval::Calendar;
use yizhan_events::contracts::{ConstructionDeadlineApproaching, ConstructionDeadlineOverdue};

pub use yizhan_workflow::deadlines::SweepReport;

use super::{Error, SOURCE, engine};

/// Announces every alarm that has come by `now`, at most `batch` tasks per
/// call (the next tick takes the rest).
pub async fn sweep(
    db: &DatabaseConnection,
    calendar: &Calendar,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<SweepReport, Error> {
    yizhan_workflow::deadlines::sweep(engine(calendar), db, now, batch, |t, alarm| {
        let project = Some(t.subject_id.clone());
        alarm.event(
            SOURCE,
            t,
            project,
            ConstructionDeadlineApproaching,
            ConstructionDeadlineOverdue,
        )
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
