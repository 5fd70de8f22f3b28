//! Reading requests: one with its timeline, a department's queue in
//! urgency order, an enterprise's or a specialist's list, and the rows the
//! statistics count.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{request, timeline};
use crate::domain::requests::Status;
use crate::domain::stats::Handled;

/// A request and its timeline.
pub async fn load(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<(request::Model, Vec<timeline::Model>)>, DbErr> {
    let Some(row) = request::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let steps = yizhan_workflow::timeline::of_subject(db, id).await?;
    Ok(Some((row, steps)))
}

/// Where a page of a department's queue ends: the queue's order key
/// `(paused, due_key, filed_at, id)` of its last row.
pub type QueuePosition = (bool, String, DateTime<Utc>, String);

/// The queue position of `r`.
pub fn queue_position(r: &request::Model) -> QueuePosition {
    (r.paused, r.due_key.clone(), r.filed_at, r.id.clone())
}

/// The query behind [`queue`]: `dept`'s requests it has to act on, running
/// clocks first by earliest due, then those waiting on the enterprise,
/// oldest filing first within a due half-day, after `after` (exclusive).
/// Served whole by the `enterprise_requests_queue` index, so its cost does
/// not grow with the table nor with the depth of the page
/// (docs/BENCHMARKS.md).
pub fn queue_select(
    dept: &str,
    after: Option<QueuePosition>,
    limit: u64,
) -> sea_orm::Select<request::Entity> {
    let mut q = request::Entity::find()
        .filter(request::Column::DepartmentCode.eq(dept))
        .filter(request::Column::InQueue.eq(true));
    if let Some((paused, due_key, filed_at, id)) = after {
        // One row comparison over the index's order columns, so
        // PostgreSQL seeks the index to the cursor instead of filtering
        // everything before it (as `yizhan_kit::pagination::after_pair`).
        // SQLite compares `filed_at` as the text the service wrote, which
        // the bound value matches: both go through the same encoder.
        q = q.filter(
            Expr::tuple([
                Expr::col(request::Column::Paused.as_column_ref()),
                Expr::col(request::Column::DueKey.as_column_ref()),
                Expr::col(request::Column::FiledAt.as_column_ref()),
                Expr::col(request::Column::Id.as_column_ref()),
            ])
            .gt(Expr::tuple([
                Expr::val(paused),
                Expr::val(due_key),
                Expr::val(filed_at),
                Expr::val(id),
            ])),
        );
    }
    q.order_by_asc(request::Column::Paused)
        .order_by_asc(request::Column::DueKey)
        .order_by_asc(request::Column::FiledAt)
        .order_by_asc(request::Column::Id)
        .limit(limit)
}

/// Up to `limit` requests of `dept`'s queue after `after`. The order by
/// due half-day is the domain's urgency order
/// (`domain::dispatch::by_urgency`): overdue clocks have the earliest due,
/// warnings next, then on time; paused last.
pub async fn queue(
    db: &impl ConnectionTrait,
    dept: &str,
    after: Option<QueuePosition>,
    limit: u64,
) -> Result<Vec<request::Model>, DbErr> {
    queue_select(dept, after, limit).all(db).await
}

/// Up to `limit` requests of the enterprises `usccs` older than the id
/// `before` (exclusive), newest first; only open ones when `open_only` (a
/// specialist's view).
pub async fn of_enterprises(
    db: &impl ConnectionTrait,
    usccs: &[String],
    open_only: bool,
    before: Option<String>,
    limit: u64,
) -> Result<Vec<request::Model>, DbErr> {
    let mut q = request::Entity::find()
        .filter(request::Column::EnterpriseUscc.is_in(usccs.iter().cloned()));
    if open_only {
        q = q.filter(
            request::Column::Status.is_not_in([Status::Closed.code(), Status::Withdrawn.code()]),
        );
    }
    if let Some(id) = before {
        q = q.filter(request::Column::Id.lt(id));
    }
    q.order_by_desc(request::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Every request filed in `[from, to)`, as the statistics see it.
pub async fn handled(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Handled>, DbErr> {
    let rows = request::Entity::find()
        .filter(request::Column::FiledAt.gte(from))
        .filter(request::Column::FiledAt.lt(to))
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let status = r.status();
            // Answered at least once and not withdrawn; a reopened request
            // in its second round is unresolved until answered again.
            let resolved = matches!(status, Status::Answered | Status::Closed);
            Handled {
                department: r.department_code.clone(),
                category: r.category(),
                channel: r.channel(),
                resolved,
                on_time: !r.answered_late,
                satisfaction: r.satisfaction(),
                handling_half_days: r.handling_half_days,
            }
        })
        .collect())
}
