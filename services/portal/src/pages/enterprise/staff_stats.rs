//! Supervision statistics: 诉求 per department, category and channel
//! (resolution, on-time and satisfaction rates, p90 handling time) and
//! 好差评 per department, item and channel, as tables with Chinese names.
//!
//! Who may see it: 管理员 (both tables, every department) and 部门审批人员
//! (their department's 好差评; the enterprise service gives request
//! statistics to admins only).

use actix_web::{HttpResponse, get, web};
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::staff::{CATEGORIES, CHANNELS, name_of};
use super::staff_names::Names;
use crate::AppState;
use crate::pages::{PageError, render_status};
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

const SUPERVISORS: [Role; 2] = [Role::Admin, Role::DeptReviewer];

/// The period asked for, as typed (`YYYY-MM-DD`, both optional).
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

/// A per-mille rate as a percentage, `—` for a group with nothing to rate.
fn percent(v: &Value) -> String {
    v.as_u64()
        .map_or_else(|| "—".to_owned(), |pm| format!("{}.{}%", pm / 10, pm % 10))
}

/// Rows of a figures map (`code → figures`), each named by `name`.
fn rows(map: &Value, name: impl Fn(&str) -> String, row: impl Fn(&Value) -> Value) -> Vec<Value> {
    map.as_object()
        .into_iter()
        .flatten()
        .map(|(code, f)| {
            let mut r = row(f);
            r["name"] = json!(name(code));
            r
        })
        .collect()
}

fn request_row(f: &Value) -> Value {
    json!({
        "total": f["total"], "resolved": f["resolved"], "on_time": f["on_time"],
        "rated": f["rated"], "satisfied": f["satisfied"],
        "resolution": percent(&f["resolution_per_mille"]),
        "on_time_rate": percent(&f["on_time_per_mille"]),
        "satisfaction": percent(&f["satisfaction_per_mille"]),
        "p90": f["p90_handling_half_days"].as_i64().map(|h| h as f64 / 2.0),
    })
}

fn rating_row(f: &Value) -> Value {
    let total = f["total"].as_u64().unwrap_or_default();
    let sum = f["score_sum"].as_u64().unwrap_or_default();
    json!({
        "total": total, "bad": f["bad"], "bad_on_time": f["bad_concluded_on_time"],
        "average": if total > 0 { format!("{:.1}", sum as f64 / total as f64) } else { "—".to_owned() },
        "rectified": percent(&f["rectified_on_time_per_mille"]),
    })
}

/// A day typed as `YYYY-MM-DD` as the start of that day in China, for the
/// service's query (`+` escaped).
fn instant(day: NaiveDate) -> String {
    format!("{day}T00:00:00%2B08:00")
}

/// Page: the statistics tables.
#[get("/enterprise/staff/statistics")]
pub async fn statistics(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&SUPERVISORS)?;
    let names = Names::load(&state, &viewer).await;
    let department = |code: &str| names.department(code);
    let mut errors = serde_json::Map::new();
    let parse = |raw: &Option<String>, key: &str, errors: &mut serde_json::Map<String, Value>| {
        let raw = raw.as_deref().map(str::trim).filter(|r| !r.is_empty())?;
        let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok();
        if day.is_none() {
            errors.insert(key.to_owned(), json!("请选择日期"));
        }
        day
    };
    let from = parse(&query.from, "from", &mut errors);
    let to = parse(&query.to, "to", &mut errors);
    let mut requests = Value::Null;
    let mut status = actix_web::http::StatusCode::OK;
    if viewer.principal.has_role(Role::Admin) && errors.is_empty() {
        let mut params = Vec::new();
        if let Some(d) = from {
            params.push(format!("from={}", instant(d)));
        }
        if let Some(d) = to.and_then(|d| d.checked_add_days(Days::new(1))) {
            params.push(format!("to={}", instant(d)));
        }
        let path = format!("/api/v1/request-statistics?{}", params.join("&"));
        match state
            .upstream
            .get(Upstream::Enterprise, &path, Some(&viewer.token))
            .await
        {
            Ok(stats) => {
                requests = json!({
                    "departments": rows(&stats["departments"], department, request_row),
                    "categories": rows(&stats["categories"], |c| name_of(&CATEGORIES, c, "其他类别"), request_row),
                    "channels": rows(&stats["channels"], |c| name_of(&CHANNELS, c, "其他渠道"), request_row),
                });
            }
            Err(e @ UpstreamError::Refused { status: 422, .. }) => {
                for (field, message) in crate::pages::field_errors(&e).0 {
                    errors.insert(field, json!(message));
                }
                status = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        status = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    let ratings = state
        .upstream
        .get(
            Upstream::Enterprise,
            "/api/v1/rating-statistics",
            Some(&viewer.token),
        )
        .await?;
    render_status(
        Some(&viewer),
        "ent_staff_stats.html",
        json!({
            "title": "诉求与好差评统计",
            "admin": viewer.principal.has_role(Role::Admin),
            "requests": requests,
            "ratings": {
                "departments": rows(&ratings["departments"], department, rating_row),
                "items": rows(&ratings["items"], str::to_owned, rating_row),
                "channels": rows(&ratings["channels"], |c| name_of(&CHANNELS, c, "其他渠道"), rating_row),
            },
            "posted": {"from": query.from, "to": query.to},
            "errors": errors,
        }),
        status,
    )
}

/// Registers this page.
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(statistics);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_percentages_and_groups_by_name() {
        assert_eq!(percent(&json!(875)), "87.5%");
        assert_eq!(percent(&json!(1000)), "100.0%");
        assert_eq!(percent(&Value::Null), "—");
        let r = rows(
            &json!({"hotline_12345": {"total": 4, "score_sum": 14, "bad": 1, "bad_concluded_on_time": 1, "rectified_on_time_per_mille": 1000}}),
            |c| name_of(&CHANNELS, c, "其他渠道"),
            rating_row,
        );
        assert_eq!(r[0]["name"], "12345热线");
        assert_eq!(r[0]["average"], "3.5");
        assert_eq!(r[0]["rectified"], "100.0%");
    }
}
