//! `/api/v1/statistics` and `/api/v1/jobs/daily`: the supervision figures
//! (tasks by category, stage, item or department and 办理状态) and the
//! daily jobs run by hand for a given day.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_approval::Status;
use yizhan_approval::calendar::china_local;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;

use super::views::State;
use crate::domain::catalog::{Category, Stage};
use crate::jobs::JobReport;
use crate::store::stats::GroupBy;

/// What to group the statistics by.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// Project category.
    Category,
    /// Stage.
    Stage,
    /// Item.
    Item,
    /// Department.
    Department,
}

/// `?by=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// `category`, `stage`, `item` or `department`.
    #[param(inline)]
    pub by: By,
}

/// One row of the statistics.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::statistics_row)]
pub struct StatisticsRow {
    /// Group key (category, stage, item or department code).
    pub key: String,
    /// zh-CN name.
    pub name: String,
    /// Tasks in total.
    pub total: i64,
    /// Still with the department (BLZT 3, 6–10).
    pub in_progress: i64,
    /// Approved (11, 12).
    pub approved: i64,
    /// Of which on commitment or tolerance (12).
    pub approved_with_tolerance: i64,
    /// Rejected (13).
    pub rejected: i64,
    /// Revoked (15).
    pub revoked: i64,
    /// Count per BLZT code.
    pub by_blzt: BTreeMap<String, i64>,
}

/// Task statistics by category, stage, item or department, with counts per
/// 办理状态.
///
/// 调用方：综合窗口人员、管理员；其他角色答复 403。
#[utoipa::path(
    tag = "statistics",
    params(StatisticsQuery),
    responses(
        (status = 200, description = "统计", body = Vec<StatisticsRow>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看统计", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "分组参数有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/statistics")]
pub async fn statistics(
    principal: Principal,
    state: State,
    query: web::Query<StatisticsQuery>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::WindowClerk, Role::Admin])?;
    let by = match query.by {
        By::Category => GroupBy::Category,
        By::Stage => GroupBy::Stage,
        By::Item => GroupBy::Item,
        By::Department => GroupBy::Department,
    };
    let counts = crate::store::stats::task_counts(&state.db, by).await?;
    let mut rows: BTreeMap<String, StatisticsRow> = BTreeMap::new();
    for (key, blzt, n) in counts {
        let name = match by {
            GroupBy::Category => Category::from_wire(&key).map(|c| c.zh_name().to_owned()),
            GroupBy::Stage => Stage::from_wire(&key).map(|s| s.zh_name().to_owned()),
            GroupBy::Item => state.catalog.item(&key).map(|i| i.name.clone()),
            GroupBy::Department => state.catalog.department(&key).map(|d| d.name.clone()),
        }
        .unwrap_or_else(|| key.clone());
        let row = rows.entry(key.clone()).or_insert_with(|| StatisticsRow {
            key,
            name,
            total: 0,
            in_progress: 0,
            approved: 0,
            approved_with_tolerance: 0,
            rejected: 0,
            revoked: 0,
            by_blzt: BTreeMap::new(),
        });
        let status = u8::try_from(blzt).ok().and_then(Status::from_code);
        row.total += n;
        *row.by_blzt.entry(blzt.to_string()).or_default() += n;
        match status {
            Some(Status::Approved) => row.approved += n,
            Some(Status::ApprovedWithTolerance) => {
                row.approved += n;
                row.approved_with_tolerance += n;
            }
            Some(Status::Rejected) => row.rejected += n,
            Some(Status::Revoked) => row.revoked += n,
            Some(s) if !s.is_terminal() => row.in_progress += n,
            _ => {}
        }
    }
    Ok(HttpResponse::Ok().json(rows.into_values().collect::<Vec<_>>()))
}

/// Run the daily jobs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"today": "2026-12-31"}))]
pub struct DailyRequest {
    /// The day to run for (default: today, China time); never later than
    /// today, which would stop stages before their due date.
    #[serde(default)]
    pub today: Option<NaiveDate>,
}

/// Run the daily jobs now for a given day: stop 容缺 stages whose owed
/// materials passed their due date (open items 13, tolerance approvals 15),
/// and send whole-process budget warnings and overdue alerts. The service
/// also runs them by itself every `job_interval_secs`.
///
/// 调用方：管理员；其他角色答复 403。
#[utoipa::path(
    tag = "statistics",
    request_body = DailyRequest,
    responses(
        (status = 200, description = "执行结果", body = JobReport),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非管理员", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "日期晚于今天", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/jobs/daily")]
pub async fn run_daily(
    principal: Principal,
    state: State,
    body: web::Json<DailyRequest>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Admin])?;
    let actual = china_local(Utc::now()).date();
    let today = body.today.unwrap_or(actual);
    if today > actual {
        return Err(Problem::field(
            "today",
            "out_of_range",
            format!("不得晚于今天（{actual}）：提前运行会在补交期限届满前终止申请"),
        ));
    }
    let report = crate::jobs::run_daily(&state, today).await?;
    Ok(HttpResponse::Ok().json(report))
}
