//! A department's queue: its tasks in one status, most urgent first
//! (earliest committed deadline), continued by the cursor `(due_key, id)`.
//! Served by the `workflow_tasks_queue` index.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use yizhan_approval::Status;

use crate::task::status_name;
use crate::task_row as task;

/// The statuses a department's queue lists on request. A task comes back
/// to 8 (in review) after a 补正 is answered or a 特别程序 ends, so the
/// default queue holds every task the department has to act on.
pub const QUEUE_STATUSES: [Status; 6] = [
    Status::InReview,
    Status::SupplementRequested,
    Status::SpecialProcedure,
    Status::Approved,
    Status::ApprovedWithTolerance,
    Status::Rejected,
];

/// Tasks of `dept` in `status` after the cursor, `limit` rows plus one (as
/// `Page::from_rows` wants).
pub async fn department(
    db: &impl ConnectionTrait,
    dept: &str,
    status: Status,
    after: Option<(String, String)>,
    limit: u64,
) -> Result<Vec<task::Model>, DbErr> {
    select(dept, status, after, limit + 1).all(db).await
}

/// [`department`], only tasks whose case is one of `cases` (a query
/// selecting case ids, e.g. the applications a staff search matched; see
/// `search::tasks_of_cases`).
pub async fn department_matching(
    db: &impl ConnectionTrait,
    dept: &str,
    status: Status,
    cases: Option<sea_orm::sea_query::SelectStatement>,
    after: Option<(String, String)>,
    limit: u64,
) -> Result<Vec<task::Model>, DbErr> {
    let mut q = select(dept, status, after, limit + 1);
    if let Some(cases) = cases {
        q = q.filter(crate::search::tasks_of_cases(cases));
    }
    q.all(db).await
}

/// The query behind [`department`] (`limit` rows), for callers that want
/// to see its plan (the benchmarks print it).
pub fn select(
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
