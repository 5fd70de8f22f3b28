//! The open-task gauge (`yizhan_open_tasks`): how many tasks each department
//! holds, by the state of their committed-limit clock, for the dashboards
//! and for alerting on overdue work. Computed from the task rows by the
//! host's background job (every replica, on its tick), so it is right after
//! restarts and across replicas without counting events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{SlaState, Status};

use crate::form::Department;
use crate::task::Engine;
use crate::task_row as task;

/// The SLA states reported, as label values: every department gets all of
/// them, zeros included, so a state that empties drops to 0 on the graph.
const STATES: [&str; 4] = ["on_time", "warning", "overdue", "paused"];

/// Whether a task in `status` is still open (not decided, not ended).
fn is_open(status: Status) -> bool {
    !status.is_concluded() && !status.is_terminal()
}

fn label(state: SlaState) -> Option<&'static str> {
    match state {
        SlaState::OnTime => Some("on_time"),
        SlaState::Warning => Some("warning"),
        SlaState::Overdue => Some("overdue"),
        SlaState::Paused => Some("paused"),
        // A stopped clock belongs to a decided task; none is open.
        SlaState::Stopped => None,
    }
}

/// Open tasks per (department, state) as at `now`. Every department of
/// `catalog_departments`, and every one that ever had a task, appears with
/// all states, zeros included.
pub async fn count(
    engine: Engine<'_>,
    db: &DatabaseConnection,
    catalog_departments: &[Department],
    now: DateTime<Utc>,
) -> Result<BTreeMap<(String, &'static str), usize>, DbErr> {
    let mut departments: BTreeSet<String> = task::Entity::find()
        .select_only()
        .column(task::Column::DepartmentCode)
        .distinct()
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    departments.extend(catalog_departments.iter().map(|d| d.code.clone()));
    let open_codes: Vec<i32> = Status::ALL
        .into_iter()
        .filter(|s| is_open(*s))
        .map(|s| i32::from(s.code()))
        .collect();
    let open = task::Entity::find()
        .filter(task::Column::Blzt.is_in(open_codes))
        .all(db)
        .await?;
    let mut counts: BTreeMap<(String, &'static str), usize> = departments
        .into_iter()
        .flat_map(|d| STATES.map(|s| (d.clone(), s)))
        .map(|k| (k, 0))
        .collect();
    let local = china_local(now);
    for t in &open {
        let state = t
            .clock()
            .map(|c| c.reading_at(engine.calendar, local).committed.state)
            .and_then(label);
        if let Some(state) = state {
            *counts
                .entry((t.department_code.clone(), state))
                .or_default() += 1;
        }
    }
    Ok(counts)
}

/// Counts and sets the gauge, labelled with the engine's service. A failed
/// query leaves the last values (the job logs its own failures).
pub async fn report(
    engine: Engine<'_>,
    db: &DatabaseConnection,
    catalog_departments: &[Department],
    now: DateTime<Utc>,
) {
    match count(engine, db, catalog_departments, now).await {
        Ok(counts) => {
            for ((department, state), n) in counts {
                yizhan_kit::metrics::open_tasks(engine.service, &department, state, n);
            }
        }
        Err(e) => tracing::debug!(error = %e, "cannot count open tasks"),
    }
}
