//! 营商云眼: the supervision dashboard. Per department and per item of
//! both services, how many were decided, average and 90th-percentile
//! working days, the on-time rate and the days saved against the
//! statutory limits, with a warning beside every lagging figure; for
//! 一业一证 also the combined applications. The figures are the services'
//! (`/api/v1/statistics` of licensing, `/api/v1/statistics/timeliness` of
//! construction); this page only arranges them and says which lag.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::{PageError, field_errors, render, render_status};
use crate::AppState;
use crate::queues::urlencode;
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

/// Below this on-time rate a row is flagged: the centres commit to
/// deciding every item within its committed limit, so anything under 95 %
/// is a department falling behind its promise.
const ON_TIME_TARGET: f64 = 0.95;

/// The period asked for, as typed (dates are checked by the services).
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

impl PeriodQuery {
    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [("from", &self.from), ("to", &self.to)] {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                parts.push(format!("{key}={}", urlencode(v)));
            }
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// What lags in one row of figures, in words (empty when nothing does).
fn warnings(figures: &Value) -> Vec<&'static str> {
    let mut out = Vec::new();
    if figures["decided"].as_u64().unwrap_or(0) == 0 {
        return out;
    }
    if figures["on_time_rate"].as_f64().unwrap_or(1.0) < ON_TIME_TARGET {
        out.push("按时办结率低于 95%");
    }
    if figures["avg_days_saved"].as_f64().unwrap_or(0.0) < 0.0 {
        out.push("平均用时超过法定时限");
    }
    out
}

/// One row as the page shows it: names, figures as people write them.
fn row(name: String, department: Option<String>, figures: &Value) -> Value {
    let number = |key: &str| {
        let v = figures[key].as_f64().unwrap_or(0.0);
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    let rate = figures["on_time_rate"].as_f64().unwrap_or(0.0);
    let lagging = warnings(figures);
    json!({
        "name": name,
        "department": department,
        "decided": figures["decided"].as_u64().unwrap_or(0),
        "approved": figures["approved"].as_u64().unwrap_or(0),
        "avg_days": number("avg_working_days"),
        "p90_days": number("p90_working_days"),
        "on_time": format!("{:.0}%", rate * 100.0),
        "saved_days": number("avg_days_saved"),
        "lagging": !lagging.is_empty(),
        "warnings": lagging,
    })
}

/// A service's figures as the page's sections, or why they are missing.
fn section(title: &str, answer: &Value) -> Value {
    let departments: Vec<Value> = answer["departments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| row(text(&d["department_name"]), None, d))
        .collect();
    let items: Vec<Value> = answer["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| row(text(&i["item_name"]), Some(text(&i["department_name"])), i))
        .collect();
    let lagging = departments
        .iter()
        .chain(&items)
        .filter(|r| r["lagging"] == true)
        .count();
    json!({
        "title": title,
        "departments": departments,
        "items": items,
        "bundles": answer.get("bundles").filter(|b| !b.is_null())
            .map(|b| row("一业一证联办件".into(), None, b)),
        "lagging": lagging,
    })
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Page: 营商云眼 for a period (default: the last 30 days).
/// Who may call: administrators and window clerks (every department),
/// department reviewers (their own department, as the services limit it);
/// others get the 403 page.
#[get("/statistics")]
pub async fn dashboard(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, PageError> {
    let p = &viewer.principal;
    if ![Role::Admin, Role::WindowClerk, Role::DeptReviewer]
        .iter()
        .any(|r| p.has_role(*r))
    {
        return Err(PageError::Forbidden(
            "营商云眼仅供管理员、综合窗口和部门审批人员查看".into(),
        ));
    }
    let qs = query.query_string();
    let (licensing_path, construction_path) = (
        format!("/api/v1/statistics{qs}"),
        format!("/api/v1/statistics/timeliness{qs}"),
    );
    let (licensing, construction) = futures_util::join!(
        state
            .upstream
            .get(Upstream::Licensing, &licensing_path, Some(&viewer.token)),
        state.upstream.get(
            Upstream::Construction,
            &construction_path,
            Some(&viewer.token)
        ),
    );
    let posted = json!({
        "from": query.from.clone().unwrap_or_default(),
        "to": query.to.clone().unwrap_or_default(),
    });
    // A period a service refuses (422) is the same mistake for both: shown
    // at its field, with what was typed.
    for answer in [&licensing, &construction] {
        if let Err(error @ UpstreamError::Refused { status: 422, .. }) = answer {
            let (errors, general) = field_errors(error);
            return render_status(
                Some(&viewer),
                "statistics.html",
                json!({"title": "营商云眼", "posted": posted, "errors": errors,
                       "general": general, "sections": []}),
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    }
    let mut sections = Vec::new();
    let mut missing = Vec::new();
    let mut period = None;
    for (title, service, answer) in [
        ("一业一证", Upstream::Licensing, licensing),
        ("工程建设项目审批", Upstream::Construction, construction),
    ] {
        match answer {
            Ok(answer) => {
                period.get_or_insert_with(|| (text(&answer["from"]), text(&answer["to"])));
                sections.push(section(title, &answer));
            }
            Err(UpstreamError::Refused { status: 401, .. }) => {
                return Err(PageError::SignIn("/statistics".into()));
            }
            Err(_) => missing.push(format!("{}暂不可用，其统计未列出", service.zh_name())),
        }
    }
    let (from, to) = period.unwrap_or_default();
    render(
        Some(&viewer),
        "statistics.html",
        json!({"title": "营商云眼", "posted": posted, "sections": sections,
               "missing": missing, "from": from, "to": to,
               "target": format!("{:.0}%", ON_TIME_TARGET * 100.0)}),
    )
}

/// Registers the page.
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(dashboard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lagging_rows_say_why_and_empty_rows_do_not() {
        let slow = json!({"decided": 10, "approved": 9, "avg_working_days": 6.5,
            "p90_working_days": 12.0, "on_time_rate": 0.8, "avg_days_saved": -1.5});
        let r = row("消防救援支队".into(), None, &slow);
        assert_eq!(r["on_time"], "80%");
        assert_eq!(r["avg_days"], "6.5");
        assert_eq!(r["p90_days"], "12");
        assert_eq!(
            r["warnings"],
            json!(["按时办结率低于 95%", "平均用时超过法定时限"])
        );
        let none = json!({"decided": 0, "approved": 0, "avg_working_days": 0.0,
            "p90_working_days": 0.0, "on_time_rate": 0.0, "avg_days_saved": 0.0});
        assert_eq!(row("x".into(), None, &none)["lagging"], false);
        let fine = json!({"decided": 3, "approved": 3, "avg_working_days": 1.0,
            "p90_working_days": 2.0, "on_time_rate": 1.0, "avg_days_saved": 4.0});
        assert_eq!(row("x".into(), None, &fine)["lagging"], false);
    }

    #[test]
    fn the_period_is_passed_on_encoded_and_blank_is_the_default() {
        let q = PeriodQuery {
            from: Some("2026-11-01".into()),
            to: Some(" ".into()),
        };
        assert_eq!(q.query_string(), "?from=2026-11-01");
        assert_eq!(PeriodQuery::default().query_string(), "");
    }
}
