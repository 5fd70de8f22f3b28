//! Licensing persistence: combined applications, and the transactions that
//! change them together with their tasks (the approval engine's, in
//! `yizhan_workflow`), timelines and outbox events. Handlers never build
//! queries; every write goes through a function here.
//!
//! Every write transaction starts with `begin_write` and takes the
//! application's lock first (the engine's subject lock): two reviewers
//! deciding the last two tasks of one bundle at once must not both miss the
//! other's approval, and one application's events must enter the outbox in
//! commit order (see docs/ARCHITECTURE.md, outbox).

pub mod catalog;
pub mod deadlines;
pub mod drafts;
pub mod entities;
mod intake;
mod licence;
pub mod lifecycle;
pub mod migration;
mod review;
pub mod stats;
mod submission;
pub mod tolerance;

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::{Map, Value};
use yizhan_approval::{Calendar, Clock, Limits, Status, WorkingTime};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_workflow::task::Engine;
use yizhan_workflow::timeline::Entry;

pub use entities::application;
pub use intake::{Intake, intake};
pub use licence::{hand_out, record_licence};
pub use migration::Migrator;
pub use review::{decide, step_task};
pub use submission::{NewApplication, Resubmission, resubmit, submit};
pub use yizhan_workflow::decide::{Decision, TaskWork};
pub use yizhan_workflow::idempotent::{Idempotent, Recorded};
pub use yizhan_workflow::task_row as task;
pub use yizhan_workflow::timeline_row as timeline;
pub use yizhan_workflow::{Actor, Error};

use crate::domain::application::{ApplicationKind, ApplicationStatus};
use crate::domain::notice::Notice;

/// `ce_source` of licensing events.
pub const SOURCE: &str = "/yizhan/licensing";

/// Certificate type of the 行业综合许可证 at the document service.
pub const LICENCE_TYPE: &str = "industry_comprehensive_licence";

/// 申请编号 of combined applications: `YZ`, the China-local day of
/// filing, that day's sequence (`YZ2026120300012`).
pub const NUMBERS: yizhan_workflow::numbers::Series = yizhan_workflow::numbers::Series {
    prefix: "YZ",
    table: "applications",
};

/// What a 404 names.
pub(crate) const NOT_FOUND: &str = "申请或任务";

/// The engine on `calendar`, acting as this service (automatic steps are
/// recorded as `licensing` in the role `system`).
pub fn engine(calendar: &Calendar) -> Engine<'_> {
    Engine::new(calendar, crate::SERVICE)
}

/// An application with its tasks and timeline.
#[derive(Debug, Clone)]
pub struct Parts {
    /// The application row.
    pub app: application::Model,
    /// Its tasks, in item order.
    pub tasks: Vec<task::Model>,
    /// Its timeline, in order.
    pub timeline: Vec<timeline::Model>,
}

impl application::Model {
    /// The stored status (only `ApplicationStatus` names are written).
    pub fn status(&self) -> ApplicationStatus {
        ApplicationStatus::from_wire(&self.status).unwrap_or(ApplicationStatus::Submitted)
    }

    /// The snapshot the application was made on.
    pub fn notice(&self) -> Result<Notice, DbErr> {
        serde_json::from_str(&self.notice)
            .map_err(|e| DbErr::Custom(format!("application {} notice: {e}", self.id)))
    }

    /// The stored kind (only `ApplicationKind` names are written).
    pub fn kind(&self) -> ApplicationKind {
        ApplicationKind::from_wire(&self.kind).unwrap_or(ApplicationKind::New)
    }

    /// 容缺受理: the materials still owed (empty when nothing is).
    pub fn owed(&self) -> Vec<IntakeDeficiency> {
        self.tolerance_missing
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// The form values as filed.
    pub fn form_values(&self) -> Map<String, Value> {
        serde_json::from_str(&self.form).unwrap_or_default()
    }

    /// Material code → material id as filed.
    pub fn material_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.materials).unwrap_or_default()
    }

    /// The bundle's clock, once accepted: paused while any of its `tasks`
    /// waits (补正, 特别程序), stopped at the outcome.
    pub fn clock(&self, tasks: &[task::Model]) -> Option<Clock> {
        let limits = Limits::new(
            WorkingTime::from_half_days(self.statutory_half_days),
            WorkingTime::from_half_days(self.committed_half_days),
        )
        .ok()?;
        yizhan_workflow::task::case_clock(self.accepted_at?, limits, tasks, self.concluded_at)
    }
}

/// The wire name of a task status (`in_review` …).
pub use yizhan_workflow::task::status_name;

/// The material ids an application references (its material code → id
/// map's string values), for the events that let the document service
/// grant reads.
pub(crate) fn material_ids(materials: &Map<String, Value>) -> Vec<String> {
    materials
        .values()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

pub(crate) fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

pub(crate) fn item_codes(notice: &Notice) -> Vec<String> {
    notice.items.iter().map(|i| i.code.clone()).collect()
}

/// Bundle limits: items run in parallel, so the longest of each.
pub(crate) fn bundle_limits(notice: &Notice) -> (i64, i64) {
    let statutory = notice
        .items
        .iter()
        .map(|i| i.statutory_limit.half_days())
        .max()
        .unwrap_or(0);
    (statutory, notice.committed_total.half_days())
}

/// Takes the application's lock (the engine's subject lock).
pub(crate) async fn lock_application(txn: &DatabaseTransaction, id: &str) -> Result<(), DbErr> {
    yizhan_workflow::lock::subject(txn, id).await
}

/// Reads application `id` under its lock; `NotFound` when absent or when
/// `may_see` refuses it.
pub(crate) async fn locked_application(
    txn: &DatabaseTransaction,
    id: &str,
    may_see: impl Fn(&application::Model) -> bool,
) -> Result<application::Model, Error> {
    lock_application(txn, id).await?;
    application::Entity::find_by_id(id.to_owned())
        .one(txn)
        .await?
        .filter(|a| may_see(a))
        .ok_or(Error::NotFound(NOT_FOUND))
}

/// Appends an application-level step to its timeline.
pub(crate) async fn add_timeline(
    txn: &impl ConnectionTrait,
    application_id: &str,
    action: &str,
    title: String,
    actor: &Actor,
    blzt: Option<Status>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    yizhan_workflow::timeline::append(
        txn,
        Entry {
            subject_id: application_id,
            case_id: Some(application_id),
            task_id: None,
            action,
            title,
            blzt,
        },
        actor,
        at,
    )
    .await
}

/// Commits `txn` and answers the application as it now stands, read inside
/// the transaction so the answer is exactly what was committed.
pub(crate) async fn commit_with_parts(txn: DatabaseTransaction, id: &str) -> Result<Parts, Error> {
    let parts = load_parts(&txn, id)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    txn.commit().await?;
    Ok(parts)
}

/// An application with its tasks and timeline.
pub async fn load_parts(db: &impl ConnectionTrait, id: &str) -> Result<Option<Parts>, DbErr> {
    let Some(app) = find_application(db, id).await? else {
        return Ok(None);
    };
    parts_of(db, app).await.map(Some)
}

/// The tasks and timeline of an application row already read (a GET
/// that checked visibility on the row need not read it again).
pub async fn parts_of(db: &impl ConnectionTrait, app: application::Model) -> Result<Parts, DbErr> {
    let tasks = yizhan_workflow::task::of_case(db, &app.id).await?;
    let timeline = yizhan_workflow::timeline::of_subject(db, &app.id).await?;
    Ok(Parts {
        app,
        tasks,
        timeline,
    })
}

/// One application row.
pub async fn find_application(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<application::Model>, DbErr> {
    application::Entity::find_by_id(id.to_owned()).one(db).await
}

/// One task row.
pub async fn find_task(db: &impl ConnectionTrait, id: &str) -> Result<Option<task::Model>, DbErr> {
    yizhan_workflow::task::find(db, id).await
}

/// Whether the application has a task in `dept`'s queue.
pub async fn has_task_in(db: &impl ConnectionTrait, id: &str, dept: &str) -> Result<bool, DbErr> {
    yizhan_workflow::task::department_works_on(db, id, dept).await
}

/// An application's tasks, in item order.
pub(crate) async fn tasks_of(
    db: &impl ConnectionTrait,
    application_id: &str,
) -> Result<Vec<task::Model>, DbErr> {
    yizhan_workflow::task::of_case(db, application_id).await
}

/// Whose applications a list may show.
#[derive(Debug, Clone)]
pub enum ListScope {
    /// Everyone's (window clerks, admins).
    All,
    /// These enterprises' only.
    Enterprises(Vec<String>),
}

/// Applications (those `search` finds, when given) after the cursor id:
/// newest first, or oldest first
/// (`oldest_first`; ids are UUIDv7, so id order is submission order).
pub async fn list_applications(
    db: &impl ConnectionTrait,
    scope: &ListScope,
    status: Option<ApplicationStatus>,
    search: Option<&Search>,
    oldest_first: bool,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<application::Model>, DbErr> {
    let mut q = application::Entity::find();
    if let ListScope::Enterprises(list) = scope {
        q = q.filter(application::Column::EnterpriseUscc.is_in(list.iter().cloned()));
    }
    if let Some(s) = status {
        q = q.filter(application::Column::Status.eq(s.as_str()));
    }
    if let Some(search) = search {
        q = q.filter(matching(search));
    }
    q = match (oldest_first, after) {
        (true, Some(id)) => q.filter(application::Column::Id.gt(id)),
        (false, Some(id)) => q.filter(application::Column::Id.lt(id)),
        (_, None) => q,
    };
    let q = if oldest_first {
        q.order_by_asc(application::Column::Id)
    } else {
        q.order_by_desc(application::Column::Id)
    };
    q.limit(limit + 1).all(db).await
}

/// The query of the engine's queue (for the benchmarks' plans).
pub use yizhan_workflow::queue::select as queue_select;
pub use yizhan_workflow::search::Search;

/// Which applications `search` finds: number or USCC exactly, enterprise
/// name as a substring.
fn matching(search: &Search) -> sea_orm::Condition {
    search.matches(
        application::Column::Number,
        application::Column::EnterpriseUscc,
        search.contained_in(application::Column::EnterpriseName),
    )
}

/// A department's queue in urgency order (the engine's queue), only the
/// tasks of applications `search` finds when given.
pub async fn queue(
    db: &impl ConnectionTrait,
    dept: &str,
    status: Status,
    search: Option<&Search>,
    after: Option<(String, String)>,
    limit: u64,
) -> Result<Vec<task::Model>, DbErr> {
    let cases = search.map(|s| {
        sea_orm::sea_query::Query::select()
            .column(application::Column::Id)
            .from(application::Entity)
            .cond_where(matching(s))
            .to_owned()
    });
    yizhan_workflow::queue::department_matching(db, dept, status, cases, after, limit).await
}

/// The 申请编号 of the applications `ids`, by id.
pub async fn numbers_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = String>,
) -> Result<std::collections::HashMap<String, String>, DbErr> {
    let ids: std::collections::BTreeSet<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(String, String)> = application::Entity::find()
        .select_only()
        .column(application::Column::Id)
        .column(application::Column::Number)
        .filter(application::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// China local time of `now` (the engine's time zone).
pub(crate) fn local(now: DateTime<Utc>) -> NaiveDateTime {
    yizhan_approval::calendar::china_local(now)
}
