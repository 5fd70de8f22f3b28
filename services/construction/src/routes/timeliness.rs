//! `/api/v1/statistics/timeliness`: how fast the departments decide
//! construction items (营商云眼), per item and per department, from the
//! engine's own clocks — the same figures the licensing service gives for
//! its items, computed by the same code.
//!
//! Who may call: administrators and window clerks see every department; a
//! department reviewer sees only their own department.

use actix_web::{HttpResponse, get};
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;
use yizhan_workflow::stats::{self, DepartmentStats, ItemStats, Period};

use super::views::State;

/// Timeliness figures of a period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::timeliness)]
pub struct Timeliness {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Per item (tasks decided in the period): count, average and p90
    /// working days, on-time rate against the committed limit, average
    /// days saved against the statutory limit.
    pub items: Vec<ItemStats>,
    /// The same per department.
    pub departments: Vec<DepartmentStats>,
}

/// Timeliness statistics (营商云眼) of construction items decided in a
/// period: per item and department, how many were decided, average and
/// 90th-percentile working days used (补正 and 特别程序 excluded, as the
/// deadlines exclude them), on-time rate and time saved against the
/// statutory limits.
///
/// 调用方：管理员、综合窗口人员（全部）；部门审批人员（仅本部门）；其他角色答复 403。
#[utoipa::path(
    tag = "statistics",
    params(Period),
    responses(
        (status = 200, description = "统计结果", body = Timeliness),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看统计", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "统计区间有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/statistics/timeliness")]
pub async fn timeliness(
    principal: Principal,
    state: State,
    period: actix_web::web::Query<Period>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Admin, Role::WindowClerk, Role::DeptReviewer])?;
    let (from, to) = period
        .days(china_local(Utc::now()).date())
        .map_err(|e| Problem::validation(vec![e]))?;
    let dept = principal.statistics_scope()?;
    let (items, departments) = stats::tasks(&state.db, from, to, dept.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Timeliness {
        from,
        to,
        items,
        departments,
    }))
}
