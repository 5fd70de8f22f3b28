//! Construction persistence: projects, stage applications, item tasks,
//! inspections, consultations and timelines, and the transactions that
//! change them together with their outbox events. Handlers never build
//! queries; every write goes through a function here.
//!
//! Every write transaction starts with `begin_write` and, on PostgreSQL,
//! takes the project's advisory lock first: two reviewers approving the
//! last two items of a stage at once must not both miss the other's
//! approval, and one project's events enter the outbox in commit order.

pub mod catalog;
pub mod entities;
pub mod inspections;
pub mod migration;
pub mod projects;
pub mod stages;
pub mod stats;
pub mod tasks;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QuerySelect, Set,
};
use yizhan_approval::{Deadline, Half, Status, TransitionError};
use yizhan_events::contracts::ConstructionActor;
use yizhan_kit::Problem;
use yizhan_kit::idempotency::{LookupError, StoredResponse};

pub use entities::{consultation, inspection, project, stage_application, task, timeline};
pub use migration::Migrator;

/// `ce_source` of construction events.
pub const SOURCE: &str = "/yizhan/construction";

/// Who acts, as the timeline and events record it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `sub`.
    pub sub: String,
    /// Role wire name (`system` for automatic steps).
    pub role: String,
}

impl Actor {
    /// The service itself (automatic steps: cascades, jobs, answers).
    pub fn system() -> Self {
        Self {
            sub: crate::SERVICE.into(),
            role: "system".into(),
        }
    }

    fn event(&self) -> ConstructionActor {
        ConstructionActor {
            sub: self.sub.clone(),
            role: self.role.clone(),
        }
    }
}

/// Why a store operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row (or not the caller's to see).
    #[error("not found")]
    NotFound,
    /// The state machine refused the command.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Another conflict or input problem, already phrased for the client.
    #[error("{0}")]
    State(Problem),
    /// Idempotency key reused.
    #[error(transparent)]
    Idempotency(#[from] LookupError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<Problem> for StoreError {
    fn from(p: Problem) -> Self {
        Self::State(p)
    }
}

/// A 409 with `code` and a zh-CN detail.
pub(crate) fn conflict(code: &str, detail: impl Into<String>) -> StoreError {
    StoreError::State(Problem::conflict(code, detail))
}

/// Idempotency parameters of a creating request.
pub struct Idempotent<'a> {
    /// Caller + route.
    pub scope: &'a str,
    /// Client key.
    pub key: &'a str,
    /// Request fingerprint.
    pub fingerprint: &'a str,
}

/// Result of a creating call.
pub enum Recorded<T> {
    /// Created now.
    Created(T),
    /// Replay of an earlier answer.
    Replayed(StoredResponse),
}

/// Looks the key up under its lock inside `txn`: `Some` is the stored answer.
async fn replay(
    txn: &DatabaseTransaction,
    idempotent: Option<&Idempotent<'_>>,
) -> Result<Option<StoredResponse>, StoreError> {
    let Some(i) = idempotent else {
        return Ok(None);
    };
    yizhan_kit::db::lock_key(txn, &format!("idempotency:{}:{}", i.scope, i.key)).await?;
    Ok(yizhan_kit::idempotency::lookup(txn, i.scope, i.key, i.fingerprint).await?)
}

/// Stores the 201 answer for the key, in the creating transaction.
async fn remember(
    txn: &DatabaseTransaction,
    idempotent: Option<&Idempotent<'_>>,
    answer: &impl serde::Serialize,
) -> Result<(), StoreError> {
    if let Some(i) = idempotent {
        yizhan_kit::idempotency::record(
            txn,
            i.scope,
            i.key,
            i.fingerprint,
            actix_web::http::StatusCode::CREATED,
            answer,
        )
        .await?;
    }
    Ok(())
}

/// The wire name of a task status (`in_review` …).
pub fn status_name(status: Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Sort key of a deadline: ISO date then `am` < `pm`.
pub(crate) fn due_key(due: Option<Deadline>) -> String {
    match due {
        Some(d) => format!(
            "{} {}",
            d.date,
            if d.half == Half::Morning { "am" } else { "pm" }
        ),
        None => "9999-12-31 pm".into(),
    }
}

pub(crate) fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

pub(crate) fn parse_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

async fn lock_project(txn: &DatabaseTransaction, id: &str) -> Result<(), DbErr> {
    yizhan_kit::db::lock_key(txn, &format!("construction-project:{id}")).await
}

/// A row that belongs to one project (whose lock guards it).
pub(crate) trait OfProject {
    /// The project's id.
    fn project_id(&self) -> &str;
}

macro_rules! of_project {
    ($($m:ty),*) => {$(
        impl OfProject for $m {
            fn project_id(&self) -> &str {
                &self.project_id
            }
        }
    )*};
}

of_project!(
    stage_application::Model,
    task::Model,
    inspection::Model,
    consultation::Model
);

/// Reads a row with `read` (`None`: not found, or not the caller's), takes
/// its project's lock and reads it again, so whatever committed before the
/// lock is seen.
pub(crate) async fn read_locked<M: OfProject>(
    txn: &DatabaseTransaction,
    read: impl AsyncFn() -> Result<Option<M>, DbErr>,
) -> Result<M, StoreError> {
    let found = read().await?.ok_or(StoreError::NotFound)?;
    lock_project(txn, found.project_id()).await?;
    read().await?.ok_or(StoreError::NotFound)
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

async fn add_timeline(
    txn: &impl ConnectionTrait,
    step: Step<'_>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let last: Option<i32> = timeline::Entity::find()
        .select_only()
        .column_as(timeline::Column::Seq.max(), "s")
        .filter(timeline::Column::ProjectId.eq(step.project_id))
        .into_tuple::<Option<i32>>()
        .one(txn)
        .await?
        .flatten();
    timeline::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        project_id: Set(step.project_id.to_owned()),
        seq: Set(last.unwrap_or(0) + 1),
        stage_application_id: Set(step.stage_application_id.map(str::to_owned)),
        task_id: Set(step.task_id.map(str::to_owned)),
        action: Set(step.action.to_owned()),
        title: Set(step.title),
        actor_sub: Set(actor.sub.clone()),
        actor_role: Set(actor.role.clone()),
        blzt: Set(step.blzt.map(|s| i32::from(s.code()))),
        at: Set(at),
    }
    .insert(txn)
    .await
    .map(|_| ())
}
