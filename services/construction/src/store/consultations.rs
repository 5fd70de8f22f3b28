//! 征求意见 — one department asks another for an opinion on a task, with a
//! deadline in working days; the opinion becomes part of the task's record.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use yizhan_approval::Calendar;
use yizhan_events::contracts::{ConsultationAnswered, ConsultationRequested};
use yizhan_workflow::idempotent::{self, Idempotent, Recorded};

use super::{Actor, Error, SOURCE, Step, add_timeline, conflict, consultation, read_locked};

/// Consultations about one task, oldest first.
pub async fn of_task(
    db: &impl ConnectionTrait,
    task_id: &str,
) -> Result<Vec<consultation::Model>, DbErr> {
    consultation::Entity::find()
        .filter(consultation::Column::TaskId.eq(task_id))
        .order_by_asc(consultation::Column::Id)
        .all(db)
        .await
}

/// A consultation request.
#[derive(Debug, Clone)]
pub struct Consult {
    /// The asking reviewer's department (its task only).
    pub from_department: String,
    /// Asked department.
    pub to_department: String,
    /// Its name.
    pub to_department_name: String,
    /// The question.
    pub question: String,
    /// Working days to answer.
    pub due_days: u32,
}

/// 征求意见: the task's reviewer asks another department, with a deadline
/// in working days.
pub async fn consult<R: serde::Serialize>(
    db: &DatabaseConnection,
    calendar: &Calendar,
    task_id: &str,
    ask: Consult,
    actor: &Actor,
    key: Option<Idempotent<'_>>,
    respond: impl Fn(&consultation::Model) -> R,
) -> Result<Recorded<consultation::Model>, Error> {
    idempotent::create(
        db,
        key,
        async |txn| record(txn, calendar, task_id, &ask, actor).await,
        respond,
    )
    .await
}

async fn record(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    task_id: &str,
    ask: &Consult,
    actor: &Actor,
) -> Result<consultation::Model, Error> {
    let t =
        super::tasks::locked(txn, task_id, |t| t.department_code == ask.from_department).await?;
    if t.status().is_concluded() || t.status().is_terminal() {
        return Err(conflict(
            "task_concluded",
            format!("{}已办结，不能再征求意见", t.item_name),
        ));
    }
    let now = Utc::now();
    let due = calendar
        .add_working_days(
            yizhan_approval::calendar::china_local(now).date(),
            ask.due_days,
        )
        .map_err(|e| DbErr::Custom(e.message().into()))?
        .value;
    let row = consultation::Model {
        id: uuid::Uuid::now_v7().to_string(),
        task_id: t.id.clone(),
        project_id: t.project_id().to_owned(),
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
    .insert(txn)
    .await?;
    add_timeline(
        txn,
        Step {
            project_id: t.project_id(),
            stage_application_id: Some(t.stage_application_id()),
            task_id: Some(&t.id),
            action: "consultation_requested",
            title: format!(
                "{}：{}向{}征求意见，{due} 前答复",
                t.item_name, t.department_name, ask.to_department_name
            ),
            blzt: None,
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &ConsultationRequested {
            consultation_id: row.id.clone(),
            task_id: t.id.clone(),
            project_id: t.project_id().to_owned(),
            from_department: t.department_code.clone(),
            to_department: ask.to_department.clone(),
            from_department_name: Some(t.department_name.clone()),
            to_department_name: Some(ask.to_department_name.clone()),
            item_name: Some(t.item_name.clone()),
            question: ask.question.clone(),
            due_date: due,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(row)
}

/// The asked department answers; the opinion becomes part of the task's
/// record. Another department's consultation is `NotFound`.
pub async fn answer(
    db: &DatabaseConnection,
    id: &str,
    dept: &str,
    dept_name: &str,
    opinion: String,
    actor: &Actor,
) -> Result<consultation::Model, Error> {
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
    let late = yizhan_approval::calendar::china_local(now).date() > c.due_date;
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
                "{dept_name}答复征求意见{}：{opinion}",
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
            from_department: Some(c.from_department.clone()),
            to_department_name: Some(dept_name.to_owned()),
            opinion,
            late,
            actor: actor.clone(),
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
