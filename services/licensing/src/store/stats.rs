//! 营商云眼 for combined applications: the bundle figures. The per-item
//! and per-department figures are the engine's ([`yizhan_workflow::stats`]).

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::application;
use crate::domain::application::ApplicationStatus;

pub use yizhan_workflow::stats::{DepartmentStats, Figures, ItemStats, Sample, figures, tasks};

/// Bundle statistics: combined applications concluded (approved or
/// refused) between two China-local dates, inclusive.
pub async fn bundles(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Figures, DbErr> {
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default();
    let end = to
        .succ_opt()
        .unwrap_or(to)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let rows: Vec<(String, Option<i64>, i64, String)> = application::Entity::find()
        .select_only()
        .columns([
            application::Column::Status,
            application::Column::UsedHalfDays,
            application::Column::CommittedHalfDays,
            application::Column::Notice,
        ])
        .filter(application::Column::ConcludedAt.gte(start))
        .filter(application::Column::ConcludedAt.lt(end))
        .filter(application::Column::UsedHalfDays.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    let samples: Vec<Sample> = rows
        .into_iter()
        .map(|(status, used, committed, notice)| Sample {
            approved: status != ApplicationStatus::Refused.as_str(),
            used: used.unwrap_or_default(),
            committed,
            statutory: serde_json::from_str::<crate::domain::notice::Notice>(&notice)
                .map_or(0, |n| n.statutory_total.half_days()),
        })
        .collect();
    Ok(figures(&samples))
}
