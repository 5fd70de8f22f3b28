//! 统计: task counts grouped by category, stage, item or department and by
//! 办理状态, computed by the database (GROUP BY), so the figure stays cheap
//! with millions of tasks.

use sea_orm::sea_query::{Expr, IntoColumnRef, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QuerySelect};

use super::task_detail;
use yizhan_workflow::task_row as task;

/// What to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Project category.
    Category,
    /// Stage.
    Stage,
    /// Item.
    Item,
    /// Department.
    Department,
}

/// `(group key, BLZT code, count)` rows.
pub async fn task_counts(
    db: &impl ConnectionTrait,
    by: GroupBy,
) -> Result<Vec<(String, i32, i64)>, DbErr> {
    // Category and stage are construction's details of a task; item and
    // department are the engine's row.
    let column: SimpleExpr = match by {
        GroupBy::Category => {
            Expr::col((task_detail::Entity, task_detail::Column::Category).into_column_ref())
        }
        GroupBy::Stage => {
            Expr::col((task_detail::Entity, task_detail::Column::Stage).into_column_ref())
        }
        GroupBy::Item => Expr::col((task::Entity, task::Column::ItemCode).into_column_ref()),
        GroupBy::Department => {
            Expr::col((task::Entity, task::Column::DepartmentCode).into_column_ref())
        }
    };
    task::Entity::find()
        .join(
            JoinType::InnerJoin,
            task::Entity::belongs_to(task_detail::Entity)
                .from(task::Column::Id)
                .to(task_detail::Column::TaskId)
                .into(),
        )
        .select_only()
        .column_as(column.clone(), "k")
        .column_as(task::Column::Blzt, "b")
        .column_as(task::Column::Id.count(), "n")
        .group_by(column)
        .group_by(task::Column::Blzt)
        .into_tuple::<(String, i32, i64)>()
        .all(db)
        .await
}
