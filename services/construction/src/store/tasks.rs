//! Item tasks: creation at intake, the department queue, reviewers'
//! decisions (with 拿地即开工 pre-approval and 容缺 approvals), 告知承诺
//! verification and revocation, and 征求意见 between departments.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use yizhan_approval::{Calendar, Clock, ClockEvent, Command, Limits, Status, WorkingTime};
use yizhan_events::contracts::{
    ConstructionTaskStatusChanged, ConsultationAnswered, ConsultationRequested,
};

use super::projects::local_now;
use super::{
    Actor, SOURCE, Step, StoreError, add_timeline, conflict, consultation, due_key, json,
    parse_list, read_locked, stage_application, status_name, task,
};
use crate::domain::catalog::Item;
use crate::domain::project::StageStatus;

impl task::Model {
    /// The stored status.
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

/// The `ConstructionTaskStatusChanged` of `t` as it now stands.
pub(crate) fn status_event(
    t: &task::Model,
    action: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ConstructionTaskStatusChanged {
    ConstructionTaskStatusChanged {
        task_id: t.id.clone(),
        project_id: t.project_id.clone(),
        stage_application_id: t.stage_application_id.clone(),
        stage: t.stage.clone(),
        item_code: t.item_code.clone(),
        item_name: t.item_name.clone(),
        department_code: t.department_code.clone(),
        builder_uscc: t.builder_uscc.clone(),
        action: action.into(),
        blzt: t.status().code(),
        permit_number: t.permit_number.clone(),
        reasons: t.reasons.clone(),
        due_date: t.verification_due.or_else(|| {
            t.due_key
                .split(' ')
                .next()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        }),
        actor: actor.event(),
        at: now,
    }
}

/// One item to turn into a task.
pub(crate) struct NewTask<'a> {
    pub item: &'a Item,
    pub department_name: String,
    /// `Some(deadline)` when approved at once on commitment (告知承诺制).
    pub commitment: Option<NaiveDate>,
}

/// Creates one task of an accepted stage: BLZT 3 then 8, or on to 12 at
/// once under 告知承诺制 with its verification deadline.
pub(crate) async fn create(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    app: &stage_application::Model,
    new: &NewTask<'_>,
    local: NaiveDateTime,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<task::Model, StoreError> {
    let item = new.item;
    let limits = Limits::new(item.statutory_limit, item.committed_limit)
        .map_err(|e| DbErr::Custom(format!("item {} limits: {}", item.code, e.message())))?;
    let mut clock = Clock::start(local, limits);
    let due = clock.reading_at(calendar, local).committed.due;
    let accepted = Status::Received.apply(Command::Accept)?;
    let mut status = accepted.apply(Command::StartReview)?;
    if new.commitment.is_some() {
        status = status.apply(Command::ApproveWithTolerance)?;
        clock
            .stop(local)
            .map_err(|e| DbErr::Custom(format!("task clock: {}", e.message())))?;
    }
    let id = uuid::Uuid::now_v7().to_string();
    let row = task::Model {
        id: id.clone(),
        project_id: app.project_id.clone(),
        stage_application_id: app.id.clone(),
        builder_uscc: app.builder_uscc.clone(),
        stage: app.stage.clone(),
        category: app.category.clone(),
        item_code: item.code.clone(),
        item_name: item.name.clone(),
        department_code: item.department.clone(),
        department_name: new.department_name.clone(),
        status: status_name(status),
        blzt: i32::from(status.code()),
        statutory_half_days: item.statutory_limit.half_days(),
        committed_half_days: item.committed_limit.half_days(),
        accepted_at: local,
        clock_events: json(&clock.events()),
        due_key: due_key(due),
        pre_review: app.pre_review,
        pre_approved: false,
        commitment: new.commitment.is_some(),
        verification_due: new.commitment,
        verification: None,
        joint_inspection: item.joint_inspection,
        certificate: item.certificate.clone(),
        permit_number: None,
        reasons: None,
        decided_by: None,
        decided_at: None,
        created_at: now,
    }
    .into_active_model()
    .insert(txn)
    .await?;
    let title = match new.commitment {
        Some(by) => format!(
            "{}：告知承诺制，凭申请人承诺即时办结（容缺通过），{}须于 {by} 前完成核查",
            item.name, new.department_name
        ),
        None if app.pre_review => format!(
            "{}：推送至{}，拿地即开工预审",
            item.name, new.department_name
        ),
        None => format!("{}：推送至{}，部门开始办理", item.name, new.department_name),
    };
    add_timeline(
        txn,
        Step {
            project_id: &app.project_id,
            stage_application_id: Some(&app.id),
            task_id: Some(&id),
            action: if new.commitment.is_some() {
                "task_commitment_approved"
            } else {
                "task_in_review"
            },
            title,
            blzt: Some(status),
        },
        actor,
        now,
    )
    .await?;
    let action = if new.commitment.is_some() {
        "commitment_approved"
    } else {
        "created"
    };
    yizhan_events::outbox::enqueue(txn, SOURCE, &status_event(&row, action, actor, now)).await?;
    Ok(row)
}

/// Moves `t` to `to`, stopping its clock if still running (at the later of
/// now and its last event, so replica clock skew cannot break the sequence).
pub(crate) async fn stop_clock_and_set(
    txn: &DatabaseTransaction,
    t: task::Model,
    to: Status,
    now: DateTime<Utc>,
) -> Result<task::Model, StoreError> {
    let local = local_now(now);
    let mut events: Vec<ClockEvent> = serde_json::from_str(&t.clock_events).unwrap_or_default();
    let stopped = t
        .clock()
        .is_some_and(|c| c.phase() == yizhan_approval::ClockPhase::Stopped);
    if !stopped {
        let at = events
            .last()
            .map_or(local, |e| e.at.max(local))
            .max(t.accepted_at);
        events.push(ClockEvent::stop(at));
    }
    let mut a = t.into_active_model();
    a.status = Set(status_name(to));
    a.blzt = Set(i32::from(to.code()));
    a.clock_events = Set(json(&events));
    Ok(a.update(txn).await?)
}

/// One task row.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<task::Model>, DbErr> {
    task::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Consultations about one task, oldest first.
pub async fn consultations_of(
    db: &impl ConnectionTrait,
    task_id: &str,
) -> Result<Vec<consultation::Model>, DbErr> {
    consultation::Entity::find()
        .filter(consultation::Column::TaskId.eq(task_id))
        .order_by_asc(consultation::Column::Id)
        .all(db)
        .await
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
        .limit(limit + 1)
        .all(db)
        .await
}

/// A reviewer's decision.
#[derive(Debug, Clone)]
pub enum Decision {
    /// 审批通过 with the permit (or record) number.
    Approve {
        /// Number.
        permit_number: String,
    },
    /// 审批不通过 with reasons.
    Reject {
        /// Why.
        reasons: String,
    },
}

/// Reads task `id` of department `dept` under its project's lock (`NotFound`
/// for another department's task, so its existence is not revealed).
async fn locked_task(
    txn: &DatabaseTransaction,
    id: &str,
    dept: &str,
) -> Result<task::Model, StoreError> {
    read_locked(txn, async || {
        Ok(find(txn, id).await?.filter(|t| t.department_code == dept))
    })
    .await
}

async fn stage_of(
    txn: &DatabaseTransaction,
    t: &task::Model,
) -> Result<stage_application::Model, StoreError> {
    super::stages::find(txn, &t.stage_application_id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Decides a task, then runs the stage rule. While the project's land is
/// not granted, approving a pre-review task only records the pre-approval
/// (BLZT stays 8) until the land grant finalises it; while 容缺 materials
/// are owed, an approval is 12 (容缺通过). Joint-inspection items are
/// decided by the inspection, not here.
pub async fn decide(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    dept: &str,
    decision: Decision,
    actor: &Actor,
) -> Result<task::Model, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let current = locked_task(&txn, id, dept).await?;
    if current.joint_inspection {
        return Err(conflict(
            "joint_inspection_required",
            format!("{}须通过联合验收办结，不能单独审批", current.item_name),
        ));
    }
    if current.pre_approved {
        return Err(conflict(
            "already_pre_approved",
            format!(
                "{}已预审通过，待土地出让登记后自动转为正式批准",
                current.item_name
            ),
        ));
    }
    let app = stage_of(&txn, &current).await?;
    let project = super::projects::find(&txn, &current.project_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let owed = !parse_list(&app.owed_materials).is_empty();
    let now = Utc::now();
    let (updated, action, title) = match &decision {
        Decision::Approve { permit_number } if current.pre_review && !project.land_granted => {
            // The engine is asked now so an illegal state is refused here,
            // not at the land grant.
            current.status().apply(Command::Approve)?;
            let mut a = current.clone().into_active_model();
            a.pre_approved = Set(true);
            a.permit_number = Set(Some(permit_number.clone()));
            a.decided_by = Set(Some(actor.sub.clone()));
            a.decided_at = Set(Some(now));
            let t = a.update(&txn).await?;
            let title = format!(
                "{}：{}预审通过（{}），待土地出让登记后即时生效",
                t.item_name, t.department_name, permit_number
            );
            (t, "pre_approved", title)
        }
        Decision::Approve { permit_number } => {
            let command = if owed {
                Command::ApproveWithTolerance
            } else {
                Command::Approve
            };
            let to = current.status().apply(command)?;
            let t = stop_clock_and_set(&txn, current.clone(), to, now).await?;
            let mut a = t.into_active_model();
            a.permit_number = Set(Some(permit_number.clone()));
            a.decided_by = Set(Some(actor.sub.clone()));
            a.decided_at = Set(Some(now));
            let t = a.update(&txn).await?;
            let title = format!(
                "{}：{}审批通过{}，文号 {}",
                t.item_name,
                t.department_name,
                if owed { "（容缺通过）" } else { "" },
                permit_number
            );
            (t, "approved", title)
        }
        Decision::Reject { reasons } => {
            let to = current.status().apply(Command::Reject)?;
            let t = stop_clock_and_set(&txn, current.clone(), to, now).await?;
            let mut a = t.into_active_model();
            a.reasons = Set(Some(reasons.clone()));
            a.decided_by = Set(Some(actor.sub.clone()));
            a.decided_at = Set(Some(now));
            let t = a.update(&txn).await?;
            let title = format!(
                "{}：{}审批不通过（{}）",
                t.item_name, t.department_name, reasons
            );
            (t, "rejected", title)
        }
    };
    add_timeline(
        &txn,
        Step {
            project_id: &updated.project_id,
            stage_application_id: Some(&updated.stage_application_id),
            task_id: Some(id),
            action: &format!("task_{action}"),
            title,
            blzt: Some(updated.status()),
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(&txn, SOURCE, &status_event(&updated, action, actor, now))
        .await?;
    super::stages::evaluate_project(&txn, calendar, &updated.project_id, now).await?;
    let answer = find(&txn, id).await?.ok_or(StoreError::NotFound)?;
    txn.commit().await?;
    Ok(answer)
}

/// Verifies a 告知承诺 approval: passed keeps BLZT 12 on record; failed
/// revokes it (15), which stops its stage, and the project is told by the
/// events and its timeline.
pub async fn verify(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    dept: &str,
    passed: bool,
    findings: String,
    actor: &Actor,
) -> Result<task::Model, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let current = locked_task(&txn, id, dept).await?;
    if !current.commitment || current.verification.is_some() {
        return Err(conflict(
            "no_verification_pending",
            format!("{}没有待核查的告知承诺", current.item_name),
        ));
    }
    let now = Utc::now();
    let (updated, action) = if passed {
        let mut a = current.clone().into_active_model();
        a.verification = Set(Some("passed".into()));
        (a.update(&txn).await?, "verified")
    } else {
        let to = current.status().apply(Command::Revoke)?;
        let t = stop_clock_and_set(&txn, current.clone(), to, now).await?;
        let mut a = t.into_active_model();
        a.verification = Set(Some("failed".into()));
        a.reasons = Set(Some(findings.clone()));
        a.decided_by = Set(Some(actor.sub.clone()));
        a.decided_at = Set(Some(now));
        (a.update(&txn).await?, "revoked")
    };
    add_timeline(
        &txn,
        Step {
            project_id: &updated.project_id,
            stage_application_id: Some(&updated.stage_application_id),
            task_id: Some(id),
            action: &format!("task_{action}"),
            title: if passed {
                format!("{}：告知承诺核查属实（{findings}）", updated.item_name)
            } else {
                format!(
                    "{}：告知承诺核查不实，撤销审批决定（{findings}）",
                    updated.item_name
                )
            },
            blzt: Some(updated.status()),
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(&txn, SOURCE, &status_event(&updated, action, actor, now))
        .await?;
    // A revoked item stops a stage still in review; a stage already
    // complete keeps its record and the revocation stands beside it.
    let app = stage_of(&txn, &updated).await?;
    if app.status() == StageStatus::InReview {
        super::stages::evaluate_project(&txn, calendar, &updated.project_id, now).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// A consultation request.
#[derive(Debug, Clone)]
pub struct Consult {
    /// Asked department.
    pub to_department: String,
    /// The question.
    pub question: String,
    /// Working days to answer.
    pub due_days: u32,
}

/// 征求意见: the task's reviewer asks another department, with a deadline
/// in working days.
pub async fn consult(
    db: &DatabaseConnection,
    calendar: &Calendar,
    task_id: &str,
    dept: &str,
    ask: Consult,
    actor: &Actor,
) -> Result<consultation::Model, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let t = locked_task(&txn, task_id, dept).await?;
    if t.status().is_concluded() || t.status().is_terminal() {
        return Err(conflict(
            "task_concluded",
            format!("{}已办结，不能再征求意见", t.item_name),
        ));
    }
    let now = Utc::now();
    let due = calendar
        .add_working_days(local_now(now).date(), ask.due_days)
        .map_err(|e| DbErr::Custom(e.message().into()))?
        .value;
    let row = consultation::Model {
        id: uuid::Uuid::now_v7().to_string(),
        task_id: t.id.clone(),
        project_id: t.project_id.clone(),
        from_department: t.department_code.clone(),
        to_department: ask.to_department.clone(),
        question: ask.question.clone(),
        due_date: due,
        opinion: None,
        requested_by: actor.sub.clone(),
        answered_by: None,
        answered_at: None,
        created_at: now,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    add_timeline(
        &txn,
        Step {
            project_id: &t.project_id,
            stage_application_id: Some(&t.stage_application_id),
            task_id: Some(&t.id),
            action: "consultation_requested",
            title: format!(
                "{}：{}向 {} 征求意见，{due} 前答复",
                t.item_name, t.department_name, ask.to_department
            ),
            blzt: None,
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &ConsultationRequested {
            consultation_id: row.id.clone(),
            task_id: t.id.clone(),
            project_id: t.project_id.clone(),
            from_department: t.department_code.clone(),
            to_department: ask.to_department,
            question: ask.question,
            due_date: due,
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The asked department answers; the opinion becomes part of the task's
/// record. Another department's consultation is `NotFound`.
pub async fn answer(
    db: &DatabaseConnection,
    id: &str,
    dept: &str,
    opinion: String,
    actor: &Actor,
) -> Result<consultation::Model, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let addressed = async || {
        Ok(consultation::Entity::find_by_id(id.to_owned())
            .one(&txn)
            .await?
            .filter(|c| c.to_department == dept))
    };
    let c = read_locked(&txn, addressed).await?;
    if c.opinion.is_some() {
        return Err(conflict("already_answered", "该征求意见已答复"));
    }
    let now = Utc::now();
    let late = local_now(now).date() > c.due_date;
    let mut a = c.clone().into_active_model();
    a.opinion = Set(Some(opinion.clone()));
    a.answered_by = Set(Some(actor.sub.clone()));
    a.answered_at = Set(Some(now));
    let c = a.update(&txn).await?;
    add_timeline(
        &txn,
        Step {
            project_id: &c.project_id,
            stage_application_id: None,
            task_id: Some(&c.task_id),
            action: "consultation_answered",
            title: format!(
                "{} 答复征求意见{}：{opinion}",
                c.to_department,
                if late { "（逾期）" } else { "" }
            ),
            blzt: None,
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &ConsultationAnswered {
            consultation_id: c.id.clone(),
            task_id: c.task_id.clone(),
            project_id: c.project_id.clone(),
            to_department: c.to_department.clone(),
            opinion,
            late,
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

/// Consultations addressed to `dept`, oldest first, after the cursor id;
/// unanswered only unless `all`.
pub async fn consultations_for(
    db: &impl ConnectionTrait,
    dept: &str,
    all: bool,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<consultation::Model>, DbErr> {
    let mut q = consultation::Entity::find().filter(consultation::Column::ToDepartment.eq(dept));
    if !all {
        q = q.filter(consultation::Column::Opinion.is_null());
    }
    if let Some(id) = after {
        q = q.filter(consultation::Column::Id.gt(id));
    }
    q.order_by_asc(consultation::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await
}
