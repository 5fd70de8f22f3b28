//! 统计: task counts grouped by category, stage, item or department and by
//! 办理状态, computed by the database (GROUP BY), so the figure stays cheap
//! with millions of tasks.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QuerySelect};

use super::task;

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
    let column = match by {
        GroupBy::Category => task::Column::Category,
        GroupBy::Stage => task::Column::Stage,
        GroupBy::Item => task::Column::ItemCode,
        GroupBy::Department => task::Column::DepartmentCode,
    };
    task::Entity::find()
        .select_only()
        .column_as(column, "k")
        .column_as(task::Column::Blzt, "b")
        .column_as(task::Column::Id.count(), "n")
        .group_by(column)
        .group_by(task::Column::Blzt)
        .into_tuple::<(String, i32, i64)>()
        .all(db)
        .await
}
