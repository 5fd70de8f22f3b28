//! Licensing persistence: applications, their item tasks and timelines, and
//! the transactions that change them together with their outbox events.
//! Handlers never build queries; every write goes through a function here.
//!
//! Every write transaction starts with `begin_write` and, on PostgreSQL,
//! takes the application's advisory lock first: two reviewers deciding the
//! last two tasks of one bundle at once must not both miss the other's
//! approval, and one application's events must enter the outbox in commit
//! order (see docs/ARCHITECTURE.md, outbox).

pub mod catalog;
pub mod deadlines;
pub mod entities;
pub mod lifecycle;
pub mod migration;
pub mod stats;
pub mod tolerance;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Map, Value};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{
    Calendar, Clock, ClockEvent, Command, Deadline, Half, Limits, Status, TransitionError,
    WorkingTime, parallel_pauses,
};
use yizhan_events::contracts::{
    ApplicationAccepted, ApplicationResubmitted, ApplicationReturned, ApplicationSubmitted,
    BundleApproved, BundleRefused, CertificateIssueRequested, IntakeDeficiency, LicenceHandedOut,
    LicenceIssued, LicensingActor, SpecialProcedureChanged, SupplementProvided,
    SupplementRequested, TaskCreated, TaskDecided, ToleranceTerms,
};
use yizhan_kit::Problem;
use yizhan_kit::idempotency::{self, LookupError, StoredResponse};

pub use entities::{application, task, timeline};
pub use migration::Migrator;

use crate::domain::application::{
    ApplicationKind, ApplicationStatus, BundleOutcome, bundle_outcome,
};
use crate::domain::notice::Notice;

/// `ce_source` of licensing events.
pub const SOURCE: &str = "/yizhan/licensing";

/// Certificate type of the 行业综合许可证 at the document service.
pub const LICENCE_TYPE: &str = "industry_comprehensive_licence";

/// Who acts, as the timeline and events record it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `sub`.
    pub sub: String,
    /// Role wire name (`system` for the certificate service's answer).
    pub role: String,
}

impl Actor {
    /// The service itself (automatic steps).
    pub fn system() -> Self {
        Self {
            sub: crate::SERVICE.into(),
            role: "system".into(),
        }
    }

    fn event(&self) -> LicensingActor {
        LicensingActor {
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
    /// Another state conflict, already phrased for the client.
    #[error("{0}")]
    State(Problem),
    /// Idempotency key reused.
    #[error(transparent)]
    Idempotency(#[from] LookupError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbErr),
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

    /// The bundle's clock, once accepted: paused while any of its `tasks`
    /// waits (补正, 特别程序; see `parallel_pauses`), stopped at the outcome.
    pub fn clock(&self, tasks: &[task::Model]) -> Option<Clock> {
        let accepted = self.accepted_at?;
        let limits = Limits::new(
            WorkingTime::from_half_days(self.statutory_half_days),
            WorkingTime::from_half_days(self.committed_half_days),
        )
        .ok()?;
        let task_events: Vec<Vec<ClockEvent>> = tasks
            .iter()
            .map(|t| serde_json::from_str(&t.clock_events).unwrap_or_default())
            .collect();
        let mut events = parallel_pauses(task_events.iter().map(Vec::as_slice));
        if let Some(at) = self.concluded_at {
            events.retain(|e| e.at <= at);
            events.push(ClockEvent::stop(events.last().map_or(at, |e| e.at.max(at))));
        }
        Clock::from_events(accepted, limits, events).ok()
    }
}

impl task::Model {
    /// The stored status (only `Status` names are written).
    pub fn status(&self) -> Status {
        Status::from_code(u8::try_from(self.blzt).unwrap_or(1)).unwrap_or(Status::Received)
    }

    /// The task's clock.
    pub fn clock(&self) -> Option<Clock> {
        let limits = Limits::new(
            WorkingTime::from_half_days(self.statutory_half_days),
            WorkingTime::from_half_days(self.committed_half_days),
        )
        .ok()?;
        let events: Vec<ClockEvent> = serde_json::from_str(&self.clock_events).ok()?;
        Clock::from_events(self.accepted_at, limits, events).ok()
    }
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
pub enum Recorded {
    /// Created now.
    Created(Box<Parts>),
    /// Replay of an earlier answer.
    Replayed(StoredResponse),
}

/// A validated application ready to record.
#[derive(Debug, Clone)]
pub struct NewApplication {
    /// Applicant enterprise.
    pub enterprise_uscc: String,
    /// Its name.
    pub enterprise_name: String,
    /// The notice (snapshot).
    pub notice: Notice,
    /// Form values.
    pub form: Map<String, Value>,
    /// Material code → id.
    pub materials: Map<String, Value>,
    /// Who submits.
    pub actor: Actor,
    /// New licence, or change / renewal / cancellation of one.
    pub kind: ApplicationKind,
    /// The application whose licence a lifecycle application concerns.
    pub predecessor_id: Option<String>,
}

/// The material ids an application references (its material code → id map's
/// string values), for the events that let the document service grant reads.
fn material_ids(materials: &Map<String, Value>) -> Vec<String> {
    materials
        .values()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

fn item_codes(notice: &Notice) -> Vec<String> {
    notice.items.iter().map(|i| i.code.clone()).collect()
}

/// Bundle limits: items run in parallel, so the longest of each.
fn bundle_limits(notice: &Notice) -> (i64, i64) {
    let statutory = notice
        .items
        .iter()
        .map(|i| i.statutory_limit.half_days())
        .max()
        .unwrap_or(0);
    (statutory, notice.committed_total.half_days())
}

pub(crate) async fn lock_application(txn: &DatabaseTransaction, id: &str) -> Result<(), DbErr> {
    yizhan_kit::db::lock_key(txn, &format!("licensing-application:{id}")).await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_timeline(
    txn: &impl ConnectionTrait,
    application_id: &str,
    task_id: Option<&str>,
    action: &str,
    title: String,
    actor: &Actor,
    blzt: Option<Status>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let last: Option<i32> = timeline::Entity::find()
        .select_only()
        .column_as(timeline::Column::Seq.max(), "s")
        .filter(timeline::Column::ApplicationId.eq(application_id))
        .into_tuple::<Option<i32>>()
        .one(txn)
        .await?
        .flatten();
    timeline::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        application_id: Set(application_id.to_owned()),
        seq: Set(last.unwrap_or(0) + 1),
        task_id: Set(task_id.map(str::to_owned)),
        action: Set(action.to_owned()),
        title: Set(title),
        actor_sub: Set(actor.sub.clone()),
        actor_role: Set(actor.role.clone()),
        blzt: Set(blzt.map(|s| i32::from(s.code()))),
        at: Set(at),
    }
    .insert(txn)
    .await
    .map(|_| ())
}

/// Records a new application (已接件), its timeline entry, its
/// `ApplicationSubmitted` event and (if keyed) the idempotent response, in
/// one transaction. A unique violation from a concurrent request with the
/// same key is retried and then finds the winner's stored answer.
pub async fn submit<R: serde::Serialize>(
    db: &DatabaseConnection,
    new: NewApplication,
    idempotent: Option<Idempotent<'_>>,
    respond: impl Fn(&Parts) -> R,
) -> Result<Recorded, StoreError> {
    let mut attempt = 1;
    loop {
        match submit_once(db, new.clone(), idempotent.as_ref(), &respond).await {
            Err(StoreError::Db(e)) if attempt < 3 && yizhan_kit::db::is_unique_violation(&e) => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn submit_once<R: serde::Serialize>(
    db: &DatabaseConnection,
    new: NewApplication,
    idempotent: Option<&Idempotent<'_>>,
    respond: &impl Fn(&Parts) -> R,
) -> Result<Recorded, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    if let Some(i) = idempotent {
        yizhan_kit::db::lock_key(&txn, &format!("idempotency:{}:{}", i.scope, i.key)).await?;
        if let Some(stored) = idempotency::lookup(&txn, i.scope, i.key, i.fingerprint).await? {
            return Ok(Recorded::Replayed(stored));
        }
    }
    if let Some(pred) = &new.predecessor_id {
        lifecycle::check_predecessor(&txn, pred, None).await?;
    }
    let now = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let (statutory, committed) = bundle_limits(&new.notice);
    let app = application::Model {
        id: id.clone(),
        scenario_code: new.notice.scenario_code.clone(),
        catalog_version: new.notice.catalog_version,
        enterprise_uscc: new.enterprise_uscc.clone(),
        enterprise_name: new.enterprise_name.clone(),
        status: ApplicationStatus::Submitted.as_str().into(),
        notice: json(&new.notice),
        form: json(&new.form),
        materials: json(&new.materials),
        deficiencies: None,
        submitted_by: new.actor.sub.clone(),
        statutory_half_days: statutory,
        committed_half_days: committed,
        accepted_at: None,
        concluded_at: None,
        certificate_id: None,
        created_at: now,
        updated_at: now,
        kind: new.kind.as_str().into(),
        predecessor_id: new.predecessor_id.clone(),
        tolerance_missing: None,
        tolerance_due: None,
        used_half_days: None,
    };
    application::Entity::insert(app.clone().into_active_model())
        .exec(&txn)
        .await?;
    add_timeline(
        &txn,
        &id,
        None,
        "submitted",
        match new.kind {
            ApplicationKind::New => format!(
                "提交一表申请（{}，共 {} 个事项），已接件",
                new.notice.scenario_name,
                new.notice.items.len()
            ),
            ApplicationKind::Cancellation => "提交行业综合许可证注销申请，已接件".into(),
            kind => format!(
                "提交行业综合许可证{}申请（涉及 {} 个事项），已接件",
                kind.zh_name(),
                new.notice.items.len()
            ),
        },
        &new.actor,
        Some(Status::Received),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &ApplicationSubmitted {
            application_id: id.clone(),
            scenario_code: new.notice.scenario_code.clone(),
            catalog_version: new.notice.catalog_version,
            enterprise_uscc: new.enterprise_uscc.clone(),
            enterprise_name: new.enterprise_name.clone(),
            item_codes: item_codes(&new.notice),
            material_ids: material_ids(&new.materials),
            actor: new.actor.event(),
            at: now,
            kind: new.kind.as_str().into(),
            predecessor_id: new.predecessor_id.clone(),
        },
    )
    .await?;
    let parts = load_parts(&txn, &id).await?.ok_or(StoreError::NotFound)?;
    if let Some(i) = idempotent {
        idempotency::record(
            &txn,
            i.scope,
            i.key,
            i.fingerprint,
            actix_web::http::StatusCode::CREATED,
            &respond(&parts),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Recorded::Created(Box::new(parts)))
}

/// The window's intake decision.
#[derive(Debug, Clone)]
pub enum Intake {
    /// 受理.
    Accept,
    /// 容缺受理: accepted with these non-key materials owed by `due`.
    AcceptWithTolerance {
        /// What is owed.
        missing: Vec<IntakeDeficiency>,
        /// Last day to supply it (inclusive).
        due: NaiveDate,
    },
    /// 不受理, with the one-time list of deficiencies.
    Return(Vec<IntakeDeficiency>),
}

/// Applies the intake decision. Accepting turns every item into a task in
/// its department's queue at once (BLZT 3, then 8), each with its clock
/// started at acceptance (the acceptance day itself is not counted).
pub async fn intake(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    decision: Intake,
    actor: &Actor,
) -> Result<Parts, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    lock_application(&txn, id).await?;
    let app = application::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let from = app.status().intake_status();
    let now = Utc::now();
    let local = china_local(now);
    let mut active = app.clone().into_active_model();
    active.updated_at = Set(now);
    match decision {
        Intake::Return(deficiencies) => {
            let to = from.apply(Command::ReturnForCorrection)?;
            active.status = Set(ApplicationStatus::Returned.as_str().into());
            active.deficiencies = Set(Some(json(&deficiencies)));
            active.update(&txn).await?;
            add_timeline(
                &txn,
                id,
                None,
                "returned",
                format!("不受理，一次性告知 {} 处需补齐", deficiencies.len()),
                actor,
                Some(to),
                now,
            )
            .await?;
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &ApplicationReturned {
                    application_id: id.to_owned(),
                    enterprise_uscc: app.enterprise_uscc.clone(),
                    deficiencies,
                    actor: actor.event(),
                    at: now,
                },
            )
            .await?;
        }
        Intake::Accept | Intake::AcceptWithTolerance { .. } => {
            let to = from.apply(Command::Accept)?;
            if app.kind() == ApplicationKind::Cancellation {
                lifecycle::accept_cancellation(&txn, &app, active, to, actor, now, local).await?;
                return commit_with_parts(txn, id).await;
            }
            let notice = app.notice()?;
            let tolerance = match decision {
                Intake::AcceptWithTolerance { missing, due } => Some(ToleranceTerms {
                    missing,
                    due_date: due,
                }),
                _ => None,
            };
            active.status = Set(ApplicationStatus::InReview.as_str().into());
            active.accepted_at = Set(Some(local));
            if let Some(t) = &tolerance {
                active.tolerance_missing = Set(Some(json(&t.missing)));
                active.tolerance_due = Set(Some(t.due_date));
            }
            let accepted = active.update(&txn).await?;
            let title = match &tolerance {
                None => "综合窗口受理，各事项同步推送至审批部门".into(),
                Some(t) => format!(
                    "综合窗口容缺受理：{} 项非关键材料须于 {} 前补交，各事项同步推送至审批部门",
                    t.missing.len(),
                    t.due_date
                ),
            };
            add_timeline(&txn, id, None, "accepted", title, actor, Some(to), now).await?;
            for item in &notice.items {
                create_task(&txn, calendar, &app, item, local, now, actor).await?;
            }
            let bundle_due = accepted
                .clock(&[])
                .map(|c| c.reading_at(calendar, local).committed.due)
                .and_then(|d| d.map(|d| d.date))
                .unwrap_or(local.date());
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &ApplicationAccepted {
                    application_id: id.to_owned(),
                    enterprise_uscc: app.enterprise_uscc.clone(),
                    committed_half_days: notice.committed_total.half_days(),
                    committed_due_date: bundle_due,
                    tolerance,
                    actor: actor.event(),
                    at: now,
                },
            )
            .await?;
        }
    }
    commit_with_parts(txn, id).await
}

async fn create_task(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    app: &application::Model,
    item: &crate::domain::notice::NoticeItem,
    local: NaiveDateTime,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<(), StoreError> {
    let limits = Limits::new(item.statutory_limit, item.committed_limit)
        .map_err(|e| DbErr::Custom(format!("item {} limits: {}", item.code, e.message())))?;
    let clock = Clock::start(local, limits);
    let due = clock.reading_at(calendar, local).committed.due;
    let next_alarm_key = deadlines::next_alarm_key(&clock, calendar, local, false, false);
    let accepted = Status::Received.apply(Command::Accept)?;
    let status = accepted.apply(Command::StartReview)?;
    let id = uuid::Uuid::now_v7().to_string();
    task::ActiveModel {
        id: Set(id.clone()),
        application_id: Set(app.id.clone()),
        enterprise_uscc: Set(app.enterprise_uscc.clone()),
        item_code: Set(item.code.clone()),
        item_name: Set(item.name.clone()),
        department_code: Set(item.department_code.clone()),
        department_name: Set(item.department_name.clone()),
        status: Set(status_name(status)),
        blzt: Set(i32::from(status.code())),
        statutory_half_days: Set(item.statutory_limit.half_days()),
        committed_half_days: Set(item.committed_limit.half_days()),
        accepted_at: Set(local),
        clock_events: Set("[]".into()),
        due_key: Set(due_key(due)),
        permit_number: Set(None),
        reasons: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        created_at: Set(now),
        supplement_request: Set(None),
        next_alarm_key: Set(next_alarm_key),
        warned_at: Set(None),
        overdue_notified_at: Set(None),
        used_half_days: Set(None),
    }
    .insert(txn)
    .await?;
    let system = Actor::system();
    add_timeline(
        txn,
        &app.id,
        Some(&id),
        "task_accepted",
        format!("{}：已受理", item.name),
        actor,
        Some(accepted),
        now,
    )
    .await?;
    add_timeline(
        txn,
        &app.id,
        Some(&id),
        "task_in_review",
        format!(
            "{}：推送至{}，部门开始办理",
            item.name, item.department_name
        ),
        &system,
        Some(status),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &TaskCreated {
            task_id: id,
            application_id: app.id.clone(),
            item_code: item.code.clone(),
            item_name: item.name.clone(),
            department_code: item.department_code.clone(),
            enterprise_uscc: app.enterprise_uscc.clone(),
            blzt: status.code(),
            due_date: due.map(|d| d.date).unwrap_or(local.date()),
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// A corrected application for resubmission.
#[derive(Debug, Clone)]
pub struct Resubmission {
    /// Enterprise name as now filled in.
    pub enterprise_name: String,
    /// The recomputed notice (same catalog version).
    pub notice: Notice,
    /// Form values.
    pub form: Map<String, Value>,
    /// Materials.
    pub materials: Map<String, Value>,
}

/// Resubmits a returned application (BLZT 4 → 1).
pub async fn resubmit(
    db: &DatabaseConnection,
    id: &str,
    update: Resubmission,
    actor: &Actor,
) -> Result<Parts, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    lock_application(&txn, id).await?;
    let app = application::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let to = app.status().intake_status().apply(Command::Resubmit)?;
    let now = Utc::now();
    let (statutory, committed) = bundle_limits(&update.notice);
    let mut active = app.clone().into_active_model();
    active.status = Set(ApplicationStatus::Submitted.as_str().into());
    active.enterprise_name = Set(update.enterprise_name);
    active.notice = Set(json(&update.notice));
    active.form = Set(json(&update.form));
    active.materials = Set(json(&update.materials));
    active.statutory_half_days = Set(statutory);
    active.committed_half_days = Set(committed);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    add_timeline(
        &txn,
        id,
        None,
        "resubmitted",
        "按一次性告知补齐后重新提交，已接件".into(),
        actor,
        Some(to),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &ApplicationResubmitted {
            application_id: id.to_owned(),
            enterprise_uscc: app.enterprise_uscc.clone(),
            item_codes: item_codes(&update.notice),
            material_ids: material_ids(&update.materials),
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    commit_with_parts(txn, id).await
}

/// A reviewer's decision on a task.
#[derive(Debug, Clone)]
pub enum Decision {
    /// 审批通过 with the permit number.
    Approve {
        /// 许可证号.
        permit_number: String,
    },
    /// 审批不通过 with reasons.
    Reject {
        /// Why.
        reasons: String,
    },
}

/// Decides a task of department `dept` and applies the bundle rule
/// (`domain::application`): the last approval approves the bundle and
/// requests the licence in the same transaction; a rejection refuses it.
/// A task of another department is `NotFound`, so its existence is not
/// revealed.
pub async fn decide(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    dept: &str,
    decision: Decision,
    actor: &Actor,
) -> Result<task::Model, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let found = task::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .filter(|t| t.department_code == dept)
        .ok_or(StoreError::NotFound)?;
    lock_application(&txn, &found.application_id).await?;
    // Re-read under the lock: a concurrent decision may have committed.
    let current = task::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let owed = find_application(&txn, &current.application_id)
        .await?
        .is_some_and(|a| !a.owed().is_empty());
    let (command, permit_number, reasons) = match &decision {
        // Materials still owed under 容缺受理: 办结（容缺通过）, BLZT 12.
        Decision::Approve { permit_number } if owed => (
            Command::ApproveWithTolerance,
            Some(permit_number.clone()),
            None,
        ),
        Decision::Approve { permit_number } => {
            (Command::Approve, Some(permit_number.clone()), None)
        }
        Decision::Reject { reasons } => (Command::Reject, None, Some(reasons.clone())),
    };
    let to = current.status().apply(command)?;
    let now = Utc::now();
    let local = china_local(now);
    let mut events: Vec<ClockEvent> =
        serde_json::from_str(&current.clock_events).unwrap_or_default();
    // A stop is recorded at the later of now and the last event, so a clock
    // skew between replicas can never make the sequence invalid.
    let at = events
        .last()
        .map_or(local, |e| e.at.max(local))
        .max(current.accepted_at);
    events.push(ClockEvent::stop(at));
    let used = current
        .clock()
        .and_then(|c| Clock::from_events(c.accepted_at(), c.limits(), events.clone()).ok())
        .map(|c| c.reading_at(calendar, at).used.half_days());
    let mut active = current.clone().into_active_model();
    active.status = Set(status_name(to));
    active.blzt = Set(i32::from(to.code()));
    active.clock_events = Set(json(&events));
    active.next_alarm_key = Set(None);
    active.used_half_days = Set(used);
    active.permit_number = Set(permit_number.clone());
    active.reasons = Set(reasons.clone());
    active.decided_by = Set(Some(actor.sub.clone()));
    active.decided_at = Set(Some(now));
    let updated = active.update(&txn).await?;
    let title = match &decision {
        Decision::Approve { permit_number } if owed => format!(
            "{}：{}审批通过（容缺通过，待补交容缺材料），许可证号 {}",
            current.item_name, current.department_name, permit_number
        ),
        Decision::Approve { permit_number } => format!(
            "{}：{}审批通过，许可证号 {}",
            current.item_name, current.department_name, permit_number
        ),
        Decision::Reject { reasons } => format!(
            "{}：{}审批不通过（{}）",
            current.item_name, current.department_name, reasons
        ),
    };
    let action = if to == Status::Rejected {
        "task_rejected"
    } else {
        "task_approved"
    };
    add_timeline(
        &txn,
        &current.application_id,
        Some(id),
        action,
        title,
        actor,
        Some(to),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &TaskDecided {
            task_id: id.to_owned(),
            application_id: current.application_id.clone(),
            item_code: current.item_code.clone(),
            department_code: current.department_code.clone(),
            enterprise_uscc: current.enterprise_uscc.clone(),
            decision: if to == Status::Rejected {
                "reject"
            } else {
                "approve"
            }
            .into(),
            blzt: to.code(),
            permit_number,
            reasons: reasons.clone(),
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    conclude_bundle(&txn, calendar, &current.application_id, now, local).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Applies the bundle rule (`domain::application`) after a decision or
/// after owed 容缺 materials arrive: nothing while materials are owed.
pub(crate) async fn conclude_bundle(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    application_id: &str,
    now: DateTime<Utc>,
    local: NaiveDateTime,
) -> Result<(), StoreError> {
    let app = application::Entity::find_by_id(application_id.to_owned())
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if app.status() != ApplicationStatus::InReview {
        // Already concluded (refused by an earlier rejection): later
        // decisions are on record but do not change the outcome.
        return Ok(());
    }
    let tasks = tasks_of(txn, application_id).await?;
    let statuses: Vec<Status> = tasks.iter().map(task::Model::status).collect();
    let system = Actor::system();
    let concluded_at = app.accepted_at.map_or(local, |a| a.max(local));
    let outcome = match bundle_outcome(&statuses) {
        BundleOutcome::Approved if !app.owed().is_empty() => BundleOutcome::Pending,
        other => other,
    };
    match outcome {
        BundleOutcome::Pending => {}
        BundleOutcome::Approved => {
            let notice = app.notice()?;
            let items = lifecycle::licence_items(txn, &app, &tasks).await?;
            let mut active = app.clone().into_active_model();
            active.status = Set(ApplicationStatus::Approved.as_str().into());
            active.concluded_at = Set(Some(concluded_at));
            active.used_half_days = Set(bundle_used(calendar, &app, &tasks, concluded_at));
            active.updated_at = Set(now);
            active.update(txn).await?;
            add_timeline(
                txn,
                application_id,
                None,
                "bundle_approved",
                format!(
                    "全部 {} 个事项审批通过（一标核准），申请签发{}",
                    tasks.len(),
                    notice.licence_name
                ),
                &system,
                None,
                now,
            )
            .await?;
            let (valid_from, valid_until) =
                lifecycle::licence_term(txn, &app, local.date()).await?;
            yizhan_events::outbox::enqueue(
                txn,
                SOURCE,
                &BundleApproved {
                    application_id: application_id.to_owned(),
                    enterprise_uscc: app.enterprise_uscc.clone(),
                    items: items.clone(),
                    at: now,
                },
            )
            .await?;
            yizhan_events::outbox::enqueue(
                txn,
                SOURCE,
                &CertificateIssueRequested {
                    request_id: application_id.to_owned(),
                    certificate_type: LICENCE_TYPE.into(),
                    holder_uscc: app.enterprise_uscc.clone(),
                    holder_name: app.enterprise_name.clone(),
                    scope: format!(
                        "{}：{}",
                        notice.licence_name,
                        items
                            .iter()
                            .map(|i| i.item_name.as_str())
                            .collect::<Vec<_>>()
                            .join("、")
                    ),
                    items,
                    valid_from,
                    valid_until,
                    requested_by_service: crate::SERVICE.into(),
                },
            )
            .await?;
        }
        BundleOutcome::Refused => {
            let rejected = tasks
                .iter()
                .find(|t| t.status() == Status::Rejected)
                .ok_or_else(|| {
                    DbErr::Custom(format!("{application_id}: refused without a rejection"))
                })?;
            let mut active = app.clone().into_active_model();
            active.status = Set(ApplicationStatus::Refused.as_str().into());
            active.concluded_at = Set(Some(concluded_at));
            active.used_half_days = Set(bundle_used(calendar, &app, &tasks, concluded_at));
            active.updated_at = Set(now);
            active.update(txn).await?;
            add_timeline(
                txn,
                application_id,
                None,
                "bundle_refused",
                format!("{}未获批准，联办申请不予许可", rejected.item_name),
                &system,
                None,
                now,
            )
            .await?;
            yizhan_events::outbox::enqueue(
                txn,
                SOURCE,
                &BundleRefused {
                    application_id: application_id.to_owned(),
                    enterprise_uscc: app.enterprise_uscc.clone(),
                    item_code: rejected.item_code.clone(),
                    reasons: rejected.reasons.clone().unwrap_or_default(),
                    at: now,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// The bundle's working time used when it concludes at `at`, in half days.
fn bundle_used(
    calendar: &Calendar,
    app: &application::Model,
    tasks: &[task::Model],
    at: NaiveDateTime,
) -> Option<i64> {
    let mut concluded = app.clone();
    concluded.concluded_at = Some(at);
    concluded
        .clock(tasks)
        .map(|c| c.reading_at(calendar, at).used.half_days())
}

/// Records the issued licence for the application `request_id` names, in
/// the consumer's transaction. `false` when no such application exists
/// here (another service's request).
pub async fn record_licence(
    txn: &DatabaseTransaction,
    request_id: &str,
    certificate_id: &str,
) -> Result<bool, DbErr> {
    lock_application(txn, request_id).await?;
    let Some(app) = application::Entity::find_by_id(request_id.to_owned())
        .one(txn)
        .await?
    else {
        return Ok(false);
    };
    match app.status() {
        ApplicationStatus::Approved => {}
        ApplicationStatus::LicenceIssued | ApplicationStatus::HandedOut => return Ok(true),
        other => {
            return Err(DbErr::Custom(format!(
                "certificate {certificate_id} issued for application {request_id} in status {}",
                other.as_str()
            )));
        }
    }
    let now = Utc::now();
    let mut active = app.clone().into_active_model();
    active.status = Set(ApplicationStatus::LicenceIssued.as_str().into());
    active.certificate_id = Set(Some(certificate_id.to_owned()));
    active.updated_at = Set(now);
    active.update(txn).await?;
    let notice = app.notice()?;
    add_timeline(
        txn,
        request_id,
        None,
        "licence_issued",
        format!(
            "{}已签发，电子证照标识 {certificate_id}",
            notice.licence_name
        ),
        &Actor {
            sub: "document".into(),
            role: "system".into(),
        },
        None,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &LicenceIssued {
            application_id: request_id.to_owned(),
            enterprise_uscc: app.enterprise_uscc.clone(),
            certificate_id: certificate_id.to_owned(),
            at: now,
        },
    )
    .await?;
    lifecycle::supersede_predecessor(txn, &app, certificate_id, now).await?;
    Ok(true)
}

/// Records hand-out at the window (已发证 → 已出件).
pub async fn hand_out(
    db: &DatabaseConnection,
    id: &str,
    actor: &Actor,
) -> Result<Parts, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    lock_application(&txn, id).await?;
    let app = application::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let status = app.status();
    let (ApplicationStatus::LicenceIssued, Some(certificate_id)) =
        (status, app.certificate_id.clone())
    else {
        return Err(StoreError::State(Problem::conflict(
            "illegal_transition",
            format!(
                "申请当前状态为「{}」，只有已发证的申请可以出件",
                status.zh_name()
            ),
        )));
    };
    let now = Utc::now();
    let mut active = app.clone().into_active_model();
    active.status = Set(ApplicationStatus::HandedOut.as_str().into());
    active.updated_at = Set(now);
    active.update(&txn).await?;
    add_timeline(
        &txn,
        id,
        None,
        "handed_out",
        "综合窗口统一出件，行业综合许可证已交付".into(),
        actor,
        None,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &LicenceHandedOut {
            application_id: id.to_owned(),
            enterprise_uscc: app.enterprise_uscc.clone(),
            certificate_id,
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    commit_with_parts(txn, id).await
}

async fn tasks_of(
    db: &impl ConnectionTrait,
    application_id: &str,
) -> Result<Vec<task::Model>, DbErr> {
    task::Entity::find()
        .filter(task::Column::ApplicationId.eq(application_id))
        .order_by_asc(task::Column::Id)
        .all(db)
        .await
}

/// Commits `txn` and answers the application as it now stands, read inside
/// the transaction so the answer is exactly what was committed.
async fn commit_with_parts(txn: DatabaseTransaction, id: &str) -> Result<Parts, StoreError> {
    let parts = load_parts(&txn, id).await?.ok_or(StoreError::NotFound)?;
    txn.commit().await?;
    Ok(parts)
}

/// An application with its tasks and timeline.
pub async fn load_parts(db: &impl ConnectionTrait, id: &str) -> Result<Option<Parts>, DbErr> {
    let Some(app) = application::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let tasks = tasks_of(db, id).await?;
    let timeline = timeline::Entity::find()
        .filter(timeline::Column::ApplicationId.eq(id))
        .order_by_asc(timeline::Column::Seq)
        .all(db)
        .await?;
    Ok(Some(Parts {
        app,
        tasks,
        timeline,
    }))
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
    task::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Whether the application has a task in `dept`'s queue.
pub async fn has_task_in(db: &impl ConnectionTrait, id: &str, dept: &str) -> Result<bool, DbErr> {
    Ok(task::Entity::find()
        .filter(task::Column::ApplicationId.eq(id))
        .filter(task::Column::DepartmentCode.eq(dept))
        .count(db)
        .await?
        > 0)
}

/// Whose applications a list may show.
#[derive(Debug, Clone)]
pub enum ListScope {
    /// Everyone's (window clerks, admins).
    All,
    /// These enterprises' only.
    Enterprises(Vec<String>),
}

/// Applications after the cursor id: newest first, or oldest first
/// (`oldest_first`; ids are UUIDv7, so id order is submission order).
pub async fn list_applications(
    db: &impl ConnectionTrait,
    scope: &ListScope,
    status: Option<ApplicationStatus>,
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

/// A department's queue in urgency order (earliest committed deadline
/// first), after the cursor `(due_key, id)`. Served by the `tasks_queue`
/// index.
pub async fn queue(
    db: &impl ConnectionTrait,
    dept: &str,
    status: Status,
    after: Option<(String, String)>,
    limit: u64,
) -> Result<Vec<task::Model>, DbErr> {
    queue_select(dept, status, after, limit + 1).all(db).await
}

/// The query behind [`queue`] (`limit` rows), for callers that want to see
/// its plan (the benchmark prints it).
pub fn queue_select(
    dept: &str,
    status: Status,
    after: Option<(String, String)>,
    limit: u64,
) -> sea_orm::Select<task::Entity> {
    let mut q = task::Entity::find()
        .filter(task::Column::DepartmentCode.eq(dept))
        .filter(task::Column::Status.eq(status_name(status)));
    if let Some((key, id)) = after {
        // One row comparison, so PostgreSQL seeks the index to the cursor
        // (docs/BENCHMARKS.md, the queue at depth).
        q = q.filter(yizhan_kit::pagination::after_pair(
            task::Column::DueKey,
            task::Column::Id,
            key,
            id,
        ));
    }
    q.order_by_asc(task::Column::DueKey)
        .order_by_asc(task::Column::Id)
        .limit(limit)
}

/// A pause or resumption of a task's review (补正, 特别程序).
#[derive(Debug, Clone)]
pub enum TaskStep {
    /// 要求补正 with the one-time list (BLZT 6, clock paused).
    RequestSupplement {
        /// Everything to supply.
        items: Vec<IntakeDeficiency>,
    },
    /// 补正材料提交 (BLZT 7 then 8, clock resumed). Every requested field
    /// and material must be supplied; nothing else may be.
    ProvideSupplement {
        /// Form field key → value.
        form: Map<String, Value>,
        /// Material code → material id.
        materials: Map<String, Value>,
    },
    /// 启动特别程序 (BLZT 9, clock paused).
    StartSpecialProcedure {
        /// `hearing`, `testing` or `expert_review`.
        kind: String,
        /// Why.
        reason: String,
    },
    /// 结束特别程序 (BLZT 10, clock resumed).
    EndSpecialProcedure,
}

fn special_kind_name(kind: &str) -> &'static str {
    match kind {
        "hearing" => "听证",
        "testing" => "检验检测",
        "expert_review" => "专家评审",
        _ => "特别程序",
    }
}

/// An application's form values and material ids after a supplement.
type FormAndMaterials = (Map<String, Value>, Map<String, Value>);

/// Checks a supplement against the open request: every requested field and
/// material present, nothing else, values valid against the snapshot.
fn check_supplement(
    notice: &Notice,
    app: &application::Model,
    requested: &[IntakeDeficiency],
    form: &Map<String, Value>,
    materials: &Map<String, Value>,
) -> Result<FormAndMaterials, Problem> {
    let mut errors = Vec::new();
    for d in requested {
        if let Some(f) = &d.field
            && !form.contains_key(f)
        {
            errors.push(yizhan_kit::FieldError::new(
                format!("form.{f}"),
                "required",
                format!("补正清单要求补充此项：{}", d.reason),
            ));
        }
        if let Some(m) = &d.material
            && !materials.contains_key(m)
        {
            errors.push(yizhan_kit::FieldError::new(
                format!("materials.{m}"),
                "required",
                format!("补正清单要求补交此材料：{}", d.reason),
            ));
        }
    }
    for k in form.keys() {
        if !requested.iter().any(|d| d.field.as_deref() == Some(k)) {
            errors.push(yizhan_kit::FieldError::new(
                format!("form.{k}"),
                "not_requested",
                "补正清单未要求补充此项",
            ));
        }
    }
    for k in materials.keys() {
        if !requested.iter().any(|d| d.material.as_deref() == Some(k)) {
            errors.push(yizhan_kit::FieldError::new(
                format!("materials.{k}"),
                "not_requested",
                "补正清单未要求补交此材料",
            ));
        }
    }
    let mut merged_form: Map<String, Value> = serde_json::from_str(&app.form).unwrap_or_default();
    let mut merged_materials: Map<String, Value> =
        serde_json::from_str(&app.materials).unwrap_or_default();
    merged_form.extend(form.clone());
    merged_materials.extend(materials.clone());
    // Only problems with what was supplied now are the applicant's to fix
    // here; the rest of the file was accepted as it is.
    errors.extend(
        crate::domain::form::validate(notice, &merged_form, &merged_materials)
            .into_iter()
            .filter(|e| {
                form.keys().any(|k| e.field == format!("form.{k}"))
                    || materials
                        .keys()
                        .any(|k| e.field == format!("materials.{k}"))
            }),
    );
    if errors.is_empty() {
        Ok((merged_form, merged_materials))
    } else {
        Err(Problem::validation(errors))
    }
}

/// Pauses or resumes a task's review per `step`, with the SLA clock paused
/// or resumed where it stopped (approval engine), a timeline entry and an
/// event, in one transaction. A task `may_act` refuses is `NotFound`, so
/// its existence is not revealed; an illegal sequence is the engine's
/// `TransitionError`.
pub async fn step_task(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    may_act: impl Fn(&task::Model) -> bool,
    step: TaskStep,
    actor: &Actor,
) -> Result<task::Model, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let found = task::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .filter(|t| may_act(t))
        .ok_or(StoreError::NotFound)?;
    lock_application(&txn, &found.application_id).await?;
    let current = task::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let from = current.status();
    let commands: &[Command] = match &step {
        TaskStep::RequestSupplement { .. } => &[Command::RequestSupplement],
        TaskStep::ProvideSupplement { .. } => &[Command::ReceiveSupplement, Command::StartReview],
        TaskStep::StartSpecialProcedure { .. } => &[Command::StartSpecialProcedure],
        TaskStep::EndSpecialProcedure => &[Command::EndSpecialProcedure],
    };
    let mut statuses = Vec::new();
    let mut status = from;
    for &c in commands {
        status = status.apply(c)?;
        statuses.push(status);
    }
    let now = Utc::now();
    let local = china_local(now);
    let mut clock = current
        .clock()
        .ok_or_else(|| DbErr::Custom(format!("task {id}: unreadable clock")))?;
    let at = clock
        .events()
        .last()
        .map_or(local, |e| e.at.max(local))
        .max(current.accepted_at);
    let clocked = match commands[0].clock_effect() {
        Some(yizhan_approval::ClockEffect::Pause(reason)) => clock.pause(at, reason),
        Some(yizhan_approval::ClockEffect::Resume) => clock.resume(at),
        _ => Ok(()),
    };
    clocked.map_err(|e| StoreError::State(Problem::conflict(e.code(), e.message())))?;
    let due = clock.reading_at(calendar, local).committed.due;
    let app = application::Entity::find_by_id(current.application_id.clone())
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut active = current.clone().into_active_model();
    active.status = Set(status_name(status));
    active.blzt = Set(i32::from(status.code()));
    active.clock_events = Set(json(&clock.events()));
    active.due_key = Set(due_key(due));
    active.next_alarm_key = Set(deadlines::next_alarm_key(
        &clock,
        calendar,
        local,
        current.warned_at.is_some(),
        current.overdue_notified_at.is_some(),
    ));
    let item = current.item_name.clone();
    let dept_name = current.department_name.clone();
    match &step {
        TaskStep::RequestSupplement { items } => {
            active.supplement_request = Set(Some(json(items)));
            let updated = active.update(&txn).await?;
            add_timeline(
                &txn,
                &current.application_id,
                Some(id),
                "supplement_requested",
                format!(
                    "{item}：{dept_name}要求补正，一次性告知 {} 项，暂停计时",
                    items.len()
                ),
                actor,
                Some(status),
                now,
            )
            .await?;
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &SupplementRequested {
                    task_id: id.to_owned(),
                    application_id: current.application_id.clone(),
                    item_code: current.item_code.clone(),
                    department_code: current.department_code.clone(),
                    enterprise_uscc: current.enterprise_uscc.clone(),
                    items: items.clone(),
                    blzt: status.code(),
                    actor: actor.event(),
                    at: now,
                },
            )
            .await?;
            txn.commit().await?;
            Ok(updated)
        }
        TaskStep::ProvideSupplement { form, materials } => {
            let requested: Vec<IntakeDeficiency> = current
                .supplement_request
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            let (merged_form, merged_materials) =
                check_supplement(&app.notice()?, &app, &requested, form, materials)
                    .map_err(StoreError::State)?;
            let updated = active.update(&txn).await?;
            let mut app_active = app.clone().into_active_model();
            app_active.form = Set(json(&merged_form));
            app_active.materials = Set(json(&merged_materials));
            app_active.updated_at = Set(now);
            app_active.update(&txn).await?;
            add_timeline(
                &txn,
                &current.application_id,
                Some(id),
                "supplement_provided",
                format!("{item}：申请人已按补正清单提交，恢复计时"),
                actor,
                Some(statuses[0]),
                now,
            )
            .await?;
            add_timeline(
                &txn,
                &current.application_id,
                Some(id),
                "task_in_review",
                format!("{item}：{dept_name}继续办理"),
                &Actor::system(),
                Some(status),
                now,
            )
            .await?;
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &SupplementProvided {
                    task_id: id.to_owned(),
                    application_id: current.application_id.clone(),
                    item_code: current.item_code.clone(),
                    department_code: current.department_code.clone(),
                    enterprise_uscc: current.enterprise_uscc.clone(),
                    fields: form.keys().cloned().collect(),
                    material_ids: material_ids(materials),
                    blzt: status.code(),
                    actor: actor.event(),
                    at: now,
                },
            )
            .await?;
            txn.commit().await?;
            Ok(updated)
        }
        TaskStep::StartSpecialProcedure { kind, reason } => {
            let updated = active.update(&txn).await?;
            add_timeline(
                &txn,
                &current.application_id,
                Some(id),
                "special_procedure_started",
                format!(
                    "{item}：{dept_name}启动特别程序（{}：{reason}），暂停计时",
                    special_kind_name(kind)
                ),
                actor,
                Some(status),
                now,
            )
            .await?;
            special_event(
                &txn,
                &current,
                "start",
                Some(kind),
                Some(reason),
                status,
                actor,
                now,
            )
            .await?;
            txn.commit().await?;
            Ok(updated)
        }
        TaskStep::EndSpecialProcedure => {
            let updated = active.update(&txn).await?;
            add_timeline(
                &txn,
                &current.application_id,
                Some(id),
                "special_procedure_ended",
                format!("{item}：特别程序结束，恢复计时"),
                actor,
                Some(status),
                now,
            )
            .await?;
            special_event(&txn, &current, "end", None, None, status, actor, now).await?;
            txn.commit().await?;
            Ok(updated)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn special_event(
    txn: &DatabaseTransaction,
    task: &task::Model,
    action: &str,
    kind: Option<&String>,
    reason: Option<&String>,
    status: Status,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &SpecialProcedureChanged {
            task_id: task.id.clone(),
            application_id: task.application_id.clone(),
            item_code: task.item_code.clone(),
            department_code: task.department_code.clone(),
            enterprise_uscc: task.enterprise_uscc.clone(),
            action: action.into(),
            kind: kind.cloned(),
            reason: reason.cloned(),
            blzt: status.code(),
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    Ok(())
}
