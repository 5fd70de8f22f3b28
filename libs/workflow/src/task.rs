//! Task rows: reading their status and clock, creating them at acceptance,
//! and the one clock-stop rule.

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use yizhan_approval::{
    Calendar, Clock, ClockEvent, ClockPhase, Command, Deadline, Half, Limits, Status, WorkingTime,
};

use crate::Actor;
use crate::Result;
use crate::deadlines::next_alarm_key;
use crate::task_row::{self as task, Model};
use crate::timeline::{self, Entry};

/// What the engine needs of its host service.
#[derive(Debug, Clone, Copy)]
pub struct Engine<'a> {
    /// The working-day calendar clocks are read against.
    pub calendar: &'a Calendar,
    /// The host service's name (`licensing` …): the actor of automatic steps.
    pub service: &'static str,
}

impl<'a> Engine<'a> {
    /// The engine on `calendar`, acting as `service`.
    pub const fn new(calendar: &'a Calendar, service: &'static str) -> Self {
        Self { calendar, service }
    }

    /// The service itself, for automatic steps.
    pub fn system(&self) -> Actor {
        crate::actor::system(self.service)
    }
}

impl Model {
    /// The stored status (only `Status` names are written).
    pub fn status(&self) -> Status {
        Status::from_code(u8::try_from(self.blzt).unwrap_or(1)).unwrap_or(Status::Received)
    }

    /// The task's limits.
    pub fn limits(&self) -> Option<Limits> {
        Limits::new(
            WorkingTime::from_half_days(self.statutory_half_days),
            WorkingTime::from_half_days(self.committed_half_days),
        )
        .ok()
    }

    /// The recorded clock events.
    pub fn clock_events(&self) -> Vec<ClockEvent> {
        serde_json::from_str(&self.clock_events).unwrap_or_default()
    }

    /// The task's clock (`None` only for a corrupt row).
    pub fn clock(&self) -> Option<Clock> {
        Clock::from_events(self.accepted_at, self.limits()?, self.clock_events()).ok()
    }

    /// The open 补正 request's list, while the status is 补正（开始）.
    pub fn open_supplement(&self) -> Option<Vec<yizhan_events::contracts::IntakeDeficiency>> {
        (self.status() == Status::SupplementRequested)
            .then(|| {
                self.supplement_request
                    .as_deref()
                    .and_then(|json| serde_json::from_str(json).ok())
            })
            .flatten()
    }
}

/// The wire name of a status (`in_review` …).
pub fn status_name(status: Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Sort key of a deadline: ISO date then `am` < `pm`; no deadline sorts last.
pub fn due_key(due: Option<Deadline>) -> String {
    match due {
        Some(d) => format!(
            "{} {}",
            d.date,
            if d.half == Half::Morning { "am" } else { "pm" }
        ),
        None => "9999-12-31 pm".into(),
    }
}

/// The date part of a due key (`None` for "no deadline").
pub fn due_date_of_key(key: &str) -> Option<chrono::NaiveDate> {
    key.split(' ')
        .next()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|d| d.year_ce().1 < 9999)
}

use chrono::Datelike as _;

/// The one clock-stop rule, for tasks and for whole cases: a clock stops
/// at the later of now, its last recorded event and its acceptance, so a
/// clock skew between replicas can never make the sequence invalid.
pub fn stop_moment(
    now: NaiveDateTime,
    accepted_at: NaiveDateTime,
    last_event: Option<&ClockEvent>,
) -> NaiveDateTime {
    last_event.map_or(now, |e| e.at.max(now)).max(accepted_at)
}

/// JSON text of a value the engine stores.
pub(crate) fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Moves `t` to `to` on `active`, stopping its clock at `now` (China local)
/// by the rule of [`stop_moment`] unless already stopped, and recording the
/// working time used. Nothing is written yet.
pub(crate) fn stop_clock(
    engine: Engine<'_>,
    t: &Model,
    active: &mut task::ActiveModel,
    now: NaiveDateTime,
) {
    let mut events = t.clock_events();
    let stopped = t.clock().is_some_and(|c| c.phase() == ClockPhase::Stopped);
    if !stopped {
        let at = stop_moment(now, t.accepted_at, events.last());
        events.push(ClockEvent::stop(at));
        let used = t
            .limits()
            .and_then(|l| Clock::from_events(t.accepted_at, l, events.clone()).ok())
            .map(|c| c.reading_at(engine.calendar, at).used.half_days());
        active.used_half_days = Set(used);
    }
    active.clock_events = Set(json(&events));
    active.next_alarm_key = Set(None);
}

/// Sets status and BLZT code on `active`.
pub(crate) fn set_status(active: &mut task::ActiveModel, to: Status) {
    active.status = Set(status_name(to));
    active.blzt = Set(i32::from(to.code()));
}

/// One item to turn into a task at acceptance.
#[derive(Debug, Clone)]
pub struct NewTask<'a> {
    /// The subject (application, project).
    pub subject_id: &'a str,
    /// The case (application, stage application).
    pub case_id: &'a str,
    /// The applicant enterprise.
    pub enterprise_uscc: &'a str,
    /// 事项编码.
    pub item_code: &'a str,
    /// 事项名称.
    pub item_name: &'a str,
    /// Deciding department.
    pub department_code: &'a str,
    /// Its name.
    pub department_name: &'a str,
    /// 法定 and 承诺 limits.
    pub limits: Limits,
    /// The timeline's words for "pushed to the department" (e.g.
    /// `拿地即开工预审`); `None` for the plain `部门开始办理`.
    pub review_note: Option<&'a str>,
}

/// Creates the task of an accepted item: 已受理 (BLZT 3) by `actor`, then
/// 部门开始办理 (8) in its department's queue, its clock started at
/// `accepted_at` (China local; the acceptance day itself is not counted).
/// Two timeline entries record both steps.
pub async fn create(
    engine: Engine<'_>,
    txn: &DatabaseTransaction,
    new: &NewTask<'_>,
    accepted_at: NaiveDateTime,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Model> {
    let clock = Clock::start(accepted_at, new.limits);
    let due = clock.reading_at(engine.calendar, accepted_at).committed.due;
    let accepted = Status::Received.apply(Command::Accept)?;
    let status = accepted.apply(Command::StartReview)?;
    let id = uuid::Uuid::now_v7().to_string();
    let row = Model {
        id: id.clone(),
        subject_id: new.subject_id.to_owned(),
        case_id: new.case_id.to_owned(),
        enterprise_uscc: new.enterprise_uscc.to_owned(),
        item_code: new.item_code.to_owned(),
        item_name: new.item_name.to_owned(),
        department_code: new.department_code.to_owned(),
        department_name: new.department_name.to_owned(),
        status: status_name(status),
        blzt: i32::from(status.code()),
        statutory_half_days: new.limits.statutory().half_days(),
        committed_half_days: new.limits.committed().half_days(),
        accepted_at,
        clock_events: "[]".into(),
        due_key: due_key(due),
        permit_number: None,
        reasons: None,
        decided_by: None,
        decided_at: None,
        supplement_request: None,
        next_alarm_key: next_alarm_key(&clock, engine.calendar, accepted_at, false, false),
        warned_at: None,
        overdue_notified_at: None,
        used_half_days: None,
        created_at: now,
    }
    .into_active_model()
    .insert(txn)
    .await?;
    let entry = |action, title, blzt| Entry {
        subject_id: new.subject_id,
        case_id: Some(new.case_id),
        task_id: Some(&id),
        action,
        title,
        blzt: Some(blzt),
    };
    timeline::append(
        txn,
        entry(
            "task_accepted",
            format!("{}：已受理", new.item_name),
            accepted,
        ),
        actor,
        now,
    )
    .await?;
    timeline::append(
        txn,
        entry(
            "task_in_review",
            format!(
                "{}：推送至{}，{}",
                new.item_name,
                new.department_name,
                new.review_note.unwrap_or("部门开始办理")
            ),
            status,
        ),
        &engine.system(),
        now,
    )
    .await?;
    Ok(row)
}

/// One task row.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>, DbErr> {
    task::Entity::find_by_id(id.to_owned()).one(db).await
}

/// A case's tasks, in creation order.
pub async fn of_case(db: &impl ConnectionTrait, case_id: &str) -> Result<Vec<Model>, DbErr> {
    task::Entity::find()
        .filter(task::Column::CaseId.eq(case_id))
        .order_by_asc(task::Column::Id)
        .all(db)
        .await
}

/// A subject's tasks (every case's), in creation order.
pub async fn of_subject(db: &impl ConnectionTrait, subject_id: &str) -> Result<Vec<Model>, DbErr> {
    task::Entity::find()
        .filter(task::Column::SubjectId.eq(subject_id))
        .order_by_asc(task::Column::Id)
        .all(db)
        .await
}

/// Reads task `id` under its subject's lock, if `may_act` allows the
/// caller to act on it (otherwise `NotFound`, so its existence is not
/// revealed).
pub async fn locked(
    txn: &DatabaseTransaction,
    id: &str,
    may_act: impl Fn(&Model) -> bool,
) -> Result<Model> {
    // Read, lock, read again: whatever committed before the lock is seen.
    // (Written out rather than through `lock::read_locked`: an async
    // closure here would make the sweep's future not provably `Send`.)
    let found = find(txn, id)
        .await?
        .filter(|t| may_act(t))
        .ok_or(crate::Error::NotFound("任务"))?;
    crate::lock::subject(txn, &found.subject_id).await?;
    find(txn, id)
        .await?
        .filter(|t| may_act(t))
        .ok_or(crate::Error::NotFound("任务"))
}

/// The working time a set of parallel tasks used when their case
/// concluded at `at` (half days): the case clock pauses while any task
/// waits (补正, 特别程序) and stops at `at`.
pub fn case_clock(
    accepted_at: NaiveDateTime,
    limits: Limits,
    tasks: &[Model],
    concluded_at: Option<NaiveDateTime>,
) -> Option<Clock> {
    let task_events: Vec<Vec<ClockEvent>> = tasks.iter().map(Model::clock_events).collect();
    let mut events = yizhan_approval::parallel_pauses(task_events.iter().map(Vec::as_slice));
    if let Some(at) = concluded_at {
        events.retain(|e| e.at <= at);
        let at = stop_moment(at, accepted_at, events.last());
        events.push(ClockEvent::stop(at));
    }
    Clock::from_events(accepted_at, limits, events).ok()
}

/// Whether department `dept` has a task of subject `subject_id` (a
/// reviewer may read the subjects its department works on).
pub async fn department_works_on(
    db: &impl ConnectionTrait,
    subject_id: &str,
    dept: &str,
) -> Result<bool, DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(task::Entity::find()
        .filter(task::Column::SubjectId.eq(subject_id))
        .filter(task::Column::DepartmentCode.eq(dept))
        .count(db)
        .await?
        > 0)
}
