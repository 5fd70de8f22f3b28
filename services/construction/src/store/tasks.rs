//! Item tasks: the approval engine's rows (`yizhan_workflow`) with what
//! construction adds (`task_details`): creation at intake (with 告知承诺制
//! approvals), reviewers' decisions (with 拿地即开工 pre-approval and 容缺
//! approvals), 补正 and 特别程序, 告知承诺 verification and revocation.

use std::collections::HashMap;
use std::ops::Deref;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use yizhan_approval::{Calendar, Limits, Status};
use yizhan_events::contracts::ConstructionTaskStatusChanged;
use yizhan_workflow::decide::{self, Decision};
use yizhan_workflow::task::NewTask;
use yizhan_workflow::task_row;

use super::{
    Actor, Error, NOT_FOUND, SOURCE, conflict, engine, parse_list, projects, stage_application,
    stages, task_detail,
};
use crate::domain::catalog::Item;
use crate::domain::project::StageStatus;

/// A construction item task: the engine's row (its fields read through
/// `Deref`) and construction's details. The project is the engine's
/// subject, the stage application its case, the builder its enterprise.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// The engine's row.
    pub row: task_row::Model,
    /// What construction adds.
    pub detail: task_detail::Model,
}

impl Deref for Task {
    type Target = task_row::Model;

    fn deref(&self) -> &task_row::Model {
        &self.row
    }
}

impl Task {
    /// The project.
    pub fn project_id(&self) -> &str {
        &self.row.subject_id
    }

    /// The stage application.
    pub fn stage_application_id(&self) -> &str {
        &self.row.case_id
    }

    /// The builder (建设单位).
    pub fn builder_uscc(&self) -> &str {
        &self.row.enterprise_uscc
    }
}

/// Pairs engine rows with their details (one query for all).
async fn with_details(
    db: &impl ConnectionTrait,
    rows: Vec<task_row::Model>,
) -> Result<Vec<Task>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut details: HashMap<String, task_detail::Model> = task_detail::Entity::find()
        .filter(task_detail::Column::TaskId.is_in(rows.iter().map(|r| r.id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.task_id.clone(), d))
        .collect();
    rows.into_iter()
        .map(|row| {
            let detail = details
                .remove(&row.id)
                .ok_or_else(|| DbErr::Custom(format!("task {} has no details", row.id)))?;
            Ok(Task { row, detail })
        })
        .collect()
}

/// Engine rows of tasks, with their details.
pub async fn complete(
    db: &impl ConnectionTrait,
    rows: Vec<task_row::Model>,
) -> Result<Vec<Task>, DbErr> {
    with_details(db, rows).await
}

/// One task.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Task>, DbErr> {
    match yizhan_workflow::task::find(db, id).await? {
        Some(row) => Ok(with_details(db, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// A stage application's tasks, oldest first.
pub async fn of_stage(db: &impl ConnectionTrait, stage_id: &str) -> Result<Vec<Task>, DbErr> {
    with_details(db, yizhan_workflow::task::of_case(db, stage_id).await?).await
}

/// A project's tasks, oldest first.
pub async fn of_project(db: &impl ConnectionTrait, project_id: &str) -> Result<Vec<Task>, DbErr> {
    with_details(db, yizhan_workflow::task::of_subject(db, project_id).await?).await
}

/// Saves changed details.
pub(crate) async fn save_detail(
    txn: &DatabaseTransaction,
    detail: task_detail::ActiveModel,
) -> Result<task_detail::Model, DbErr> {
    detail.update(txn).await
}

/// The `ConstructionTaskStatusChanged` of `t` as it now stands.
pub(crate) fn status_event(
    t: &Task,
    action: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ConstructionTaskStatusChanged {
    ConstructionTaskStatusChanged {
        task_id: t.id.clone(),
        project_id: t.project_id().to_owned(),
        stage_application_id: t.stage_application_id().to_owned(),
        stage: t.detail.stage.clone(),
        item_code: t.item_code.clone(),
        item_name: t.item_name.clone(),
        department_code: t.department_code.clone(),
        department_name: Some(t.department_name.clone()),
        builder_uscc: t.builder_uscc().to_owned(),
        action: action.into(),
        blzt: t.status().code(),
        permit_number: t.permit_number.clone(),
        reasons: t.reasons.clone(),
        due_date: t
            .detail
            .verification_due
            .or_else(|| yizhan_workflow::task::due_date_of_key(&t.due_key)),
        supplement: Vec::new(),
        material_ids: Vec::new(),
        special_procedure: None,
        actor: actor.clone(),
        at: now,
    }
}

/// Publishes `t`'s status change.
pub(crate) async fn announce(
    txn: &DatabaseTransaction,
    t: &Task,
    action: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    yizhan_events::outbox::enqueue(txn, SOURCE, &status_event(t, action, actor, now))
        .await
        .map(|_| ())
}

/// One item to turn into a task.
pub(crate) struct NewItemTask<'a> {
    pub item: &'a Item,
    pub department_name: String,
    /// `Some(deadline)` when approved at once on commitment (告知承诺制).
    pub commitment: Option<NaiveDate>,
}

/// Creates one task of an accepted stage: BLZT 3 then 8 in its
/// department's queue, or on to 12 at once under 告知承诺制 with its
/// verification deadline.
pub(crate) async fn create(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    app: &stage_application::Model,
    new: &NewItemTask<'_>,
    local: NaiveDateTime,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<Task, Error> {
    let item = new.item;
    let limits = Limits::new(item.statutory_limit, item.committed_limit)
        .map_err(|e| DbErr::Custom(format!("item {} limits: {}", item.code, e.message())))?;
    let mut row = yizhan_workflow::task::create(
        engine(calendar),
        txn,
        &NewTask {
            subject_id: &app.project_id,
            case_id: &app.id,
            enterprise_uscc: &app.builder_uscc,
            item_code: &item.code,
            item_name: &item.name,
            department_code: &item.department,
            department_name: &new.department_name,
            limits,
            review_note: app.pre_review.then_some("拿地即开工预审"),
        },
        local,
        actor,
        now,
    )
    .await?;
    let detail = task_detail::Model {
        task_id: row.id.clone(),
        stage: app.stage.clone(),
        category: app.category.clone(),
        pre_review: app.pre_review,
        pre_approved: false,
        commitment: new.commitment.is_some(),
        verification_due: new.commitment,
        verification: None,
        joint_inspection: item.joint_inspection,
        certificate: item.certificate.clone(),
    }
    .into_active_model()
    .insert(txn)
    .await?;
    let mut action = "created";
    if let Some(by) = new.commitment {
        row = decide::approve_on_commitment(
            engine(calendar),
            txn,
            row,
            format!(
                "{}：告知承诺制，凭申请人承诺即时办结（容缺通过），{}须于 {by} 前完成核查",
                item.name, new.department_name
            ),
            actor,
            now,
        )
        .await?;
        action = "commitment_approved";
    }
    let t = Task { row, detail };
    announce(txn, &t, action, actor, now).await?;
    Ok(t)
}

/// Reads task `id` of department `dept` under its project's lock
/// (`NotFound` for another department's task, so its existence is not
/// revealed).
pub(crate) async fn locked(
    txn: &DatabaseTransaction,
    id: &str,
    may_act: impl Fn(&task_row::Model) -> bool,
) -> Result<Task, Error> {
    let row = yizhan_workflow::task::locked(txn, id, may_act).await?;
    with_details(txn, vec![row])
        .await?
        .pop()
        .ok_or(Error::NotFound(NOT_FOUND))
}

pub(crate) async fn stage_of(
    txn: &DatabaseTransaction,
    t: &Task,
) -> Result<stage_application::Model, Error> {
    stages::find(txn, t.stage_application_id())
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))
}

/// A task of a stopped or concluded stage takes no more work: 409.
pub(crate) fn check_stage_open(t: &Task, app: &stage_application::Model) -> Result<(), Error> {
    if app.status() == StageStatus::InReview {
        return Ok(());
    }
    Err(conflict(
        "stage_not_in_review",
        format!(
            "「{}」阶段申请当前状态为「{}」，{}不能再办理",
            app.stage().zh_name(),
            app.status().zh_name(),
            t.item_name
        ),
    ))
}

/// Decides a task, then runs the stage rule. While the project's land is
/// not granted, approving a pre-review task only records the pre-approval
/// (BLZT stays 8) until the land grant finalises it; while 容缺 materials
/// are owed, an approval is 12 (容缺通过). Joint-inspection items are
/// decided by the inspection, not here. A task of a stage that is no
/// longer in review (stopped, completed) is a 409.
pub async fn decide(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    dept: &str,
    decision: Decision,
    actor: &Actor,
) -> Result<Task, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let current = locked(&txn, id, |t| t.department_code == dept).await?;
    if current.detail.joint_inspection {
        return Err(conflict(
            "joint_inspection_required",
            format!("{}须通过联合验收办结，不能单独审批", current.item_name),
        ));
    }
    if current.detail.pre_approved {
        return Err(conflict(
            "already_pre_approved",
            format!(
                "{}已预审通过，待土地出让登记后自动转为正式批准",
                current.item_name
            ),
        ));
    }
    let app = stage_of(&txn, &current).await?;
    check_stage_open(&current, &app)?;
    let project = projects::find(&txn, current.project_id())
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    let owed = !parse_list(&app.owed_materials).is_empty();
    let now = Utc::now();
    let decided = match decision {
        Decision::Approve { permit_number, .. }
            if current.detail.pre_review && !project.land_granted =>
        {
            // The engine is asked now so an illegal state is refused here,
            // not at the land grant.
            current.status().apply(yizhan_approval::Command::Approve)?;
            let mut row = current.row.clone().into_active_model();
            row.permit_number = Set(Some(permit_number.clone()));
            row.decided_by = Set(Some(actor.sub.clone()));
            row.decided_at = Set(Some(now));
            let row = row.update(&txn).await?;
            let mut d = current.detail.clone().into_active_model();
            d.pre_approved = Set(true);
            let detail = save_detail(&txn, d).await?;
            super::add_timeline(
                &txn,
                super::Step {
                    project_id: &row.subject_id,
                    stage_application_id: Some(&row.case_id),
                    task_id: Some(id),
                    action: "task_pre_approved",
                    title: format!(
                        "{}：{}预审通过（{}），待土地出让登记后即时生效",
                        row.item_name, row.department_name, permit_number
                    ),
                    blzt: Some(row.status()),
                },
                actor,
                now,
            )
            .await?;
            let t = Task { row, detail };
            announce(&txn, &t, "pre_approved", actor, now).await?;
            t
        }
        decision => {
            let decision = decision.given_owed(owed);
            let row = decide::decide(
                engine(calendar),
                &txn,
                current.row.clone(),
                &decision,
                actor,
                now,
            )
            .await?;
            let action = if row.status() == Status::Rejected {
                "rejected"
            } else {
                "approved"
            };
            let t = Task {
                row,
                detail: current.detail.clone(),
            };
            announce(&txn, &t, action, actor, now).await?;
            t
        }
    };
    super::evaluate_project(&txn, calendar, decided.project_id(), now).await?;
    let answer = find(&txn, id).await?.ok_or(Error::NotFound(NOT_FOUND))?;
    txn.commit().await?;
    Ok(answer)
}

/// Verifies a 告知承诺 approval: passed keeps BLZT 12 on record; failed
/// revokes it (15), which stops its stage (its open tasks withdrawn), and
/// the project is told by the events and its timeline.
pub async fn verify(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    dept: &str,
    passed: bool,
    findings: String,
    actor: &Actor,
) -> Result<Task, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let current = locked(&txn, id, |t| t.department_code == dept).await?;
    if !current.detail.commitment || current.detail.verification.is_some() {
        return Err(conflict(
            "no_verification_pending",
            format!("{}没有待核查的告知承诺", current.item_name),
        ));
    }
    let now = Utc::now();
    let mut d = current.detail.clone().into_active_model();
    d.verification = Set(Some(if passed { "passed" } else { "failed" }.into()));
    let detail = save_detail(&txn, d).await?;
    let (row, action) = if passed {
        super::add_timeline(
            &txn,
            super::Step {
                project_id: current.project_id(),
                stage_application_id: Some(current.stage_application_id()),
                task_id: Some(id),
                action: "task_verified",
                title: format!("{}：告知承诺核查属实（{findings}）", current.item_name),
                blzt: Some(current.status()),
            },
            actor,
            now,
        )
        .await?;
        (current.row.clone(), "verified")
    } else {
        let row = decide::revoke(
            &txn,
            current.row.clone(),
            &format!("告知承诺核查不实：{findings}"),
            actor,
            now,
        )
        .await?;
        (row, "revoked")
    };
    let updated = Task { row, detail };
    announce(&txn, &updated, action, actor, now).await?;
    // A revoked item stops a stage still in review; a stage already
    // complete keeps its record and the revocation stands beside it.
    let app = stage_of(&txn, &updated).await?;
    if app.status() == StageStatus::InReview {
        super::evaluate_project(&txn, calendar, updated.project_id(), now).await?;
    }
    let answer = find(&txn, id).await?.ok_or(Error::NotFound(NOT_FOUND))?;
    txn.commit().await?;
    Ok(answer)
}
