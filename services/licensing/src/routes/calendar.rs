//! `/api/v1/calendar`: the working-day calendar every deadline here is
//! computed with, read-only, so partners compute the same deadlines.
//! Anyone may call, without logging in.

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_approval::Coverage;
use yizhan_kit::Problem;

use crate::AppState;

/// Longest span counted, in calendar days (a century): more is a typo.
const MAX_SPAN_DAYS: i64 = 36_600;
/// Most working days added or subtracted at once.
const MAX_DAYS: i32 = 3_650;

/// `?from=&to=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SpanQuery {
    /// First day (not counted), `YYYY-MM-DD`.
    pub from: NaiveDate,
    /// Last day (counted), `YYYY-MM-DD`; at most 36,600 days from `from`
    /// (100 years).
    pub to: NaiveDate,
}

/// Working days in a span.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from": "2025-09-30", "to": "2025-10-10", "working_days": 2, "coverage": "published", "note": ""}))]
pub struct WorkingDaysAnswer {
    /// First day (not counted).
    pub from: NaiveDate,
    /// Last day (counted).
    pub to: NaiveDate,
    /// Working days in `(from, to]`; negative when `to` is before `from`.
    pub working_days: i64,
    /// `published` when every year involved has a published schedule,
    /// `provisional` when some year was reckoned with weekends only.
    pub coverage: String,
    /// zh-CN note for provisional answers; empty otherwise.
    pub note: String,
}

fn coverage_name(c: Coverage) -> String {
    match c {
        Coverage::Published => "published",
        Coverage::Provisional => "provisional",
    }
    .into()
}

/// Working days after `from` up to and including `to` — the working days a
/// limit has used on `to` when `from` was the day of acceptance. Weekends,
/// statutory holidays and make-up workdays (调休) follow the published
/// schedules.
///
/// 调用方：任何人，无需登录。
#[utoipa::path(
    tag = "calendar",
    params(SpanQuery),
    responses(
        (status = 200, description = "工作日数", body = WorkingDaysAnswer),
        (status = 422, description = "日期格式错误或跨度过大", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/calendar/working-days")]
pub async fn working_days(
    state: web::Data<AppState>,
    q: web::Query<SpanQuery>,
) -> Result<HttpResponse, Problem> {
    if (q.to - q.from).num_days().abs() > MAX_SPAN_DAYS {
        return Err(Problem::field(
            "to",
            "out_of_range",
            "起止日期相距不能超过 100 年",
        ));
    }
    let r = state.calendar.working_days_between(q.from, q.to);
    Ok(HttpResponse::Ok().json(WorkingDaysAnswer {
        from: q.from,
        to: q.to,
        working_days: r.value,
        coverage: coverage_name(r.coverage),
        note: r.coverage.note().into(),
    }))
}

/// `?date=&days=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddQuery {
    /// Start day (not counted), `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// Working days to add (negative: subtract), -3650 to 3650.
    #[param(minimum = -3650, maximum = 3650)]
    pub days: i32,
}

/// The day a number of working days lands on.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"date": "2025-09-30", "days": 1, "result": "2025-10-09", "coverage": "published", "note": ""}))]
pub struct AddAnswer {
    /// Start day.
    pub date: NaiveDate,
    /// Working days added.
    pub days: i32,
    /// The `days`-th working day after (or before) `date`.
    pub result: NaiveDate,
    /// `published` or `provisional`.
    pub coverage: String,
    /// zh-CN note for provisional answers.
    pub note: String,
}

/// The `days`-th working day after `date` (before it, for negative days),
/// `date` itself not counted: the day a limit of `days` runs out when `date`
/// is the day of acceptance.
///
/// 调用方：任何人，无需登录。
#[utoipa::path(
    tag = "calendar",
    params(AddQuery),
    responses(
        (status = 200, description = "推算结果", body = AddAnswer),
        (status = 422, description = "日期格式错误或天数超出范围", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/calendar/add")]
pub async fn add(
    state: web::Data<AppState>,
    q: web::Query<AddQuery>,
) -> Result<HttpResponse, Problem> {
    // `abs()` would overflow on i32::MIN; a range check cannot.
    if !(-MAX_DAYS..=MAX_DAYS).contains(&q.days) {
        return Err(Problem::field(
            "days",
            "out_of_range",
            format!("days 须在 -{MAX_DAYS} 到 {MAX_DAYS} 之间"),
        ));
    }
    let n = q.days.unsigned_abs();
    let r = if q.days >= 0 {
        state.calendar.add_working_days(q.date, n)
    } else {
        state.calendar.subtract_working_days(q.date, n)
    }
    .map_err(|e| Problem::field("date", e.code(), e.message()))?;
    Ok(HttpResponse::Ok().json(AddAnswer {
        date: q.date,
        days: q.days,
        result: r.value,
        coverage: coverage_name(r.coverage),
        note: r.coverage.note().into(),
    }))
}
