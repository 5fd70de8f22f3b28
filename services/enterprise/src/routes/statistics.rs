//! `/api/v1/request-statistics` and `/api/v1/rating-statistics`:
//! supervision figures of 诉求 and 好差评.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;

use crate::AppState;
use crate::domain::stats::{Figures, figures_by};
use crate::store::ratings::{RatingStatistics, Scope};
use crate::store::requests::queries;

/// Period of filing, `[from, to)`; default the last 30 days.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Start (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive); not before `from`.
    pub to: Option<DateTime<Utc>>,
}

/// Figures of one group, counts exact, rates in per-mille.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupFigures {
    /// Requests filed.
    pub total: u64,
    /// Answered.
    pub resolved: u64,
    /// Answered within the limit every round.
    pub on_time: u64,
    /// Rated.
    pub rated: u64,
    /// 满意 or 基本满意.
    pub satisfied: u64,
    /// resolved / total.
    pub resolution_per_mille: Option<u64>,
    /// on_time / resolved.
    pub on_time_per_mille: Option<u64>,
    /// satisfied / rated.
    pub satisfaction_per_mille: Option<u64>,
    /// p90 handling time, half working days (pauses excluded).
    pub p90_handling_half_days: Option<i64>,
}

impl From<Figures> for GroupFigures {
    fn from(f: Figures) -> Self {
        Self {
            resolution_per_mille: Figures::per_mille(f.resolved, f.total),
            on_time_per_mille: Figures::per_mille(f.on_time, f.resolved),
            satisfaction_per_mille: Figures::per_mille(f.satisfied, f.rated),
            p90_handling_half_days: f.p90_half_days,
            total: f.total,
            resolved: f.resolved,
            on_time: f.on_time,
            rated: f.rated,
            satisfied: f.satisfied,
        }
    }
}

/// 诉求 figures per department, category and channel.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-11-03T00:00:00Z", "to": "2026-12-03T00:00:00Z",
    "departments": {"finance_bureau": {"total": 2, "resolved": 1, "on_time": 0, "rated": 1, "satisfied": 1, "resolution_per_mille": 500, "on_time_per_mille": 0, "satisfaction_per_mille": 1000, "p90_handling_half_days": 9}},
    "categories": {}, "channels": {}
}))]
pub struct RequestStatistics {
    /// Start.
    pub from: DateTime<Utc>,
    /// End.
    pub to: DateTime<Utc>,
    /// By department code (the department handling it last).
    pub departments: BTreeMap<String, GroupFigures>,
    /// By category code.
    pub categories: BTreeMap<String, GroupFigures>,
    /// By channel code.
    pub channels: BTreeMap<String, GroupFigures>,
}

fn period(p: &Period) -> Result<(DateTime<Utc>, DateTime<Utc>), Problem> {
    let to = p.to.unwrap_or_else(Utc::now);
    let from = p.from.unwrap_or(to - chrono::Duration::days(30));
    if from > to {
        return Err(Problem::field(
            "from",
            "out_of_range",
            "起始时间不得晚于结束时间",
        ));
    }
    Ok((from, to))
}

/// 诉求 supervision figures: resolution rate, on-time rate, satisfaction and
/// p90 handling time, per department, category and channel.
///
/// 调用方：管理员；其他角色答复 403。
#[utoipa::path(
    tag = "statistics",
    params(Period),
    responses(
        (status = 200, description = "诉求统计", body = RequestStatistics),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "仅管理员", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "区间有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/request-statistics")]
pub async fn request_figures(
    principal: Principal,
    state: web::Data<AppState>,
    p: web::Query<Period>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Admin])?;
    let (from, to) = period(&p)?;
    let rows = queries::handled(&state.db, from, to).await?;
    let convert = |m: BTreeMap<String, Figures>| {
        m.into_iter()
            .map(|(k, f)| (k, GroupFigures::from(f)))
            .collect::<BTreeMap<_, _>>()
    };
    Ok(HttpResponse::Ok().json(RequestStatistics {
        from,
        to,
        departments: convert(figures_by(&rows, |r| r.department.clone())),
        categories: convert(figures_by(&rows, |r| r.category.code().to_owned())),
        channels: convert(figures_by(&rows, |r| r.channel.code().to_owned())),
    }))
}

/// 好差评 figures per department, item and channel: count, score sum, 差评
/// and the share of 差评 concluded on time.
///
/// 调用方：管理员（全部）、部门审批人员（本部门）；其他角色答复 403。
#[utoipa::path(
    tag = "statistics",
    responses(
        (status = 200, description = "好差评统计", body = RatingStatistics),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/rating-statistics")]
pub async fn rating_figures(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Admin, Role::DeptReviewer])?;
    let scope = if principal.has_role(Role::Admin) {
        Scope::All
    } else {
        Scope::Department(principal.reviewer_department()?)
    };
    let stats: RatingStatistics = crate::store::ratings::statistics(&state.db, &scope).await?;
    Ok(HttpResponse::Ok().json(stats))
}
