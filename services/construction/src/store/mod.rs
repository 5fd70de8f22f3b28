//! Construction persistence: projects, stage applications, item tasks (the
//! approval engine's rows with construction's details), inspections,
//! consultations and timelines, and the transactions that change them
//! together with their outbox events. Handlers never build queries; every
//! write goes through a function here.
//!
//! Every write transaction starts with `begin_write` and takes the
//! project's lock first (the engine's subject lock): two reviewers
//! approving the last two items of a stage at once must not both miss the
//! other's approval, and one project's events enter the outbox in commit
//! order.

pub mod catalog;
pub mod consultations;
pub mod deadlines;
pub mod entities;
pub mod inspections;
mod intake;
pub mod migration;
pub mod projects;
mod rule;
pub mod stages;
pub mod stats;
pub mod task_steps;
pub mod tasks;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};
use yizhan_approval::{Calendar, Status};
use yizhan_workflow::lock::OfSubject;
use yizhan_workflow::task::Engine;
use yizhan_workflow::timeline::Entry;

pub use entities::{consultation, inspection, project, stage_application, task_detail};
pub use intake::{Intake, expire_tolerances, intake, supply_owed};
pub use migration::Migrator;
pub(crate) use rule::evaluate_project;
pub use rule::record_certificate;
pub use tasks::Task;
pub use yizhan_workflow::idempotent::{Idempotent, Recorded};
pub use yizhan_workflow::task::{due_key, status_name};
pub use yizhan_workflow::timeline_row as timeline;
pub use yizhan_workflow::{Actor, Error};

/// 申请编号 of stage applications: `GC` (工程), the China-local day of
/// filing, that day's sequence (`GC2026120300012`).
pub const NUMBERS: yizhan_workflow::numbers::Series = yizhan_workflow::numbers::Series {
    prefix: "GC",
    table: "stage_applications",
};

/// `ce_source` of construction events.
pub const SOURCE: &str = "/yizhan/construction";

/// What a 404 names.
pub(crate) const NOT_FOUND: &str = "项目、阶段申请或任务";

/// The engine on `calendar`, acting as this service (automatic steps are
/// recorded as `construction` in the role `system`).
pub fn engine(calendar: &Calendar) -> Engine<'_> {
    Engine::new(calendar, crate::SERVICE)
}

/// A 409 with `code` and a zh-CN detail.
pub(crate) fn conflict(code: &str, detail: impl Into<String>) -> Error {
    Error::conflict(code, detail)
}

pub(crate) fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

pub(crate) fn parse_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Takes the project's lock (the engine's subject lock).
pub(crate) async fn lock_project(txn: &DatabaseTransaction, id: &str) -> Result<(), DbErr> {
    yizhan_workflow::lock::subject(txn, id).await
}

macro_rules! of_project {
    ($($m:ty),*) => {$(
        impl OfSubject for $m {
            fn subject_id(&self) -> &str {
                &self.project_id
            }
        }
    )*};
}

of_project!(
    stage_application::Model,
    inspection::Model,
    consultation::Model
);

/// Reads a row with `read` (`None`: not found, or not the caller's), takes
/// its project's lock and reads it again, so whatever committed before the
/// lock is seen.
pub(crate) async fn read_locked<M: OfSubject>(
    txn: &DatabaseTransaction,
    read: impl AsyncFn() -> Result<Option<M>, DbErr>,
) -> Result<M, Error> {
    yizhan_workflow::lock::read_locked(txn, NOT_FOUND, read).await
}

/// One timeline step, as the store writes it.
pub(crate) struct Step<'a> {
    pub project_id: &'a str,
    pub stage_application_id: Option<&'a str>,
    pub task_id: Option<&'a str>,
    pub action: &'a str,
    pub title: String,
    pub blzt: Option<Status>,
}

/// Appends a step to the project's timeline.
pub(crate) async fn add_timeline(
    txn: &impl ConnectionTrait,
    step: Step<'_>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    yizhan_workflow::timeline::append(
        txn,
        Entry {
            subject_id: step.project_id,
            case_id: step.stage_application_id,
            task_id: step.task_id,
            action: step.action,
            title: step.title,
            blzt: step.blzt,
        },
        actor,
        at,
    )
    .await
}
