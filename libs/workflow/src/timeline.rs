//! The timeline: every step of a subject, append-only, numbered in order
//! under the subject's lock.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
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
pub async fn append(
    txn: &impl ConnectionTrait,
    entry: Entry<'_>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let last: Option<i32> = timeline::Entity::find()
        .select_only()
        .column_as(timeline::Column::Seq.max(), "s")
        .filter(timeline::Column::SubjectId.eq(entry.subject_id))
        .into_tuple::<Option<i32>>()
        .one(txn)
        .await?
        .flatten();
    timeline::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        subject_id: Set(entry.subject_id.to_owned()),
        seq: Set(last.unwrap_or(0) + 1),
        case_id: Set(entry.case_id.map(str::to_owned)),
        task_id: Set(entry.task_id.map(str::to_owned)),
        action: Set(entry.action.to_owned()),
        title: Set(entry.title),
        actor_sub: Set(actor.sub.clone()),
        actor_role: Set(actor.role.clone()),
        blzt: Set(entry.blzt.map(|s| i32::from(s.code()))),
        at: Set(at),
    }
    .insert(txn)
    .await
    .map(|_| ())
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
