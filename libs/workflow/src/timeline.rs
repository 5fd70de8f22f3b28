//! The timeline: every step of a subject, append-only, numbered in order
//! under the subject's lock.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use yizhan_approval::Status;

use crate::Actor;
use crate::timeline_row as timeline;

/// One step, as a store writes it.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The subject (application, project).
    pub subject_id: &'a str,
    /// The case concerned, if any.
    pub case_id: Option<&'a str>,
    /// The task concerned, if any.
    pub task_id: Option<&'a str>,
    /// Machine action code.
    pub action: &'a str,
    /// zh-CN description.
    pub title: String,
    /// BLZT status after the step, where one applies.
    pub blzt: Option<Status>,
}

/// Appends `entry` as the subject's next step. The caller holds the
/// subject's lock (the unique `(subject_id, seq)` index refuses a race).
///
/// One `INSERT … SELECT` numbers and writes the step: a step's transaction
/// holds the write lock while it runs, and an intake appends a dozen steps,
/// so reading `MAX(seq)` in a statement of its own doubled the statements.
pub async fn append(
    txn: &impl ConnectionTrait,
    entry: Entry<'_>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    use timeline::Column as C;
    let next_seq = Expr::expr(Func::coalesce([Expr::col(C::Seq).max(), Expr::val(0i32)])).add(1i32);
    let row = Query::select()
        .expr(Expr::val(uuid::Uuid::now_v7().to_string()))
        .expr(Expr::val(entry.subject_id))
        .expr(next_seq)
        .expr(Expr::val(entry.case_id))
        .expr(Expr::val(entry.task_id))
        .expr(Expr::val(entry.action))
        .expr(Expr::val(entry.title))
        .expr(Expr::val(actor.sub.as_str()))
        .expr(Expr::val(actor.role.as_str()))
        .expr(Expr::val(entry.blzt.map(|s| i32::from(s.code()))))
        .expr(Expr::val(at))
        .from(timeline::Entity)
        .and_where(Expr::col(C::SubjectId).eq(entry.subject_id))
        .to_owned();
    let insert = Query::insert()
        .into_table(timeline::Entity)
        .columns([
            C::Id,
            C::SubjectId,
            C::Seq,
            C::CaseId,
            C::TaskId,
            C::Action,
            C::Title,
            C::ActorSub,
            C::ActorRole,
            C::Blzt,
            C::At,
        ])
        .select_from(row)
        .map_err(|e| DbErr::Custom(format!("timeline append: {e}")))?
        .to_owned();
    txn.execute(&insert).await.map(|_| ())
}

/// A subject's timeline, in order.
pub async fn of_subject(
    db: &impl ConnectionTrait,
    subject_id: &str,
) -> Result<Vec<timeline::Model>, DbErr> {
    timeline::Entity::find()
        .filter(timeline::Column::SubjectId.eq(subject_id))
        .order_by_asc(timeline::Column::Seq)
        .all(db)
        .await
}
