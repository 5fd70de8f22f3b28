//! 好差评 for the enterprise: what it may rate (concluded applications,
//! construction stages and closed 诉求 not yet rated), the form to rate
//! one 1-5 with a comment (once), and its ratings with the follow-up of a
//! 差评 (核实, 整改 and their result).
//!
//! Who may see them: the enterprise (applicant, authorised agent); the
//! enterprise service lists only the viewer's enterprises' cases and
//! ratings, and refuses a case not theirs.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::own::{ENTERPRISE, ent_get};
use super::paging::{Cursor, api_page, next_link};
use crate::AppState;
use crate::pages::{
    Flash, PageError, refused_with, render, render_status, see_other, try_act, value, with_refused,
};
use crate::session::Viewer;
use crate::upstream::Upstream;

/// The scores (value, name) as the service names them.
pub const SCORES: [(u8, &str); 5] = [
    (5, "非常满意"),
    (4, "满意"),
    (3, "基本满意"),
    (2, "不满意"),
    (1, "非常不满意"),
];

/// Page: 好差评 — cases to rate and the ratings given (newest first, a
/// page at a time: `?cursor=`).
#[get("/enterprise/ratings")]
pub async fn ratings(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
    cursor: web::Query<Cursor>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ENTERPRISE)?;
    let rateables = ent_get(&state, &viewer, "/api/v1/rateables").await?;
    let given = ent_get(&state, &viewer, &api_page("/api/v1/ratings", &cursor)).await?;
    render(
        Some(&viewer),
        "ent_own_ratings.html",
        json!({
            "title": "好差评",
            "rateables": rateables["rateables"],
            "ratings": given["items"],
            "next": next_link("/enterprise/ratings", &given),
            "flash": flash.text(),
        }),
    )
}

/// `?rateable=`: the case to rate.
#[derive(Debug, Deserialize)]
pub struct RateQuery {
    rateable: Option<String>,
}

/// The rating form's address for a concluded case of the viewer's
/// enterprise not yet rated (`subject`: `request`, `licensing_application`,
/// `construction_stage`), or `None`: not concluded, already rated, not an
/// enterprise's viewer, or the enterprise service did not answer (the page
/// then just shows no link).
pub(crate) async fn rate_link(
    state: &AppState,
    viewer: &Viewer,
    subject: &str,
    case_id: &str,
) -> Option<String> {
    rateable_cases(state, viewer, subject)
        .await
        .contains(&case_id.to_owned())
        .then(|| rate_path(subject, case_id))
}

/// The cases of `subject` the viewer may rate now (none when the
/// enterprise service does not answer, or the viewer is not the
/// enterprise's).
pub(crate) async fn rateable_cases(
    state: &AppState,
    viewer: &Viewer,
    subject: &str,
) -> Vec<String> {
    if !ENTERPRISE.iter().any(|r| viewer.principal.has_role(*r)) {
        return Vec::new();
    }
    let Ok(list) = ent_get(state, viewer, "/api/v1/rateables").await else {
        return Vec::new();
    };
    let prefix = format!("{subject}:");
    list["rateables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str()?.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// The rating form of a case.
pub(crate) fn rate_path(subject: &str, case_id: &str) -> String {
    format!(
        "/enterprise/ratings/new?rateable={}",
        crate::queues::urlencode(&format!("{subject}:{case_id}"))
    )
}

/// A rateable id (`request:<id>`, `licensing_application:<id>` …) fit for a
/// form, or a 404 page.
fn rateable_id(id: &str) -> Result<&str, PageError> {
    let plausible = id.split_once(':').is_some_and(|(subject, case)| {
        crate::pages::is_code(subject) && yizhan_kit::text::is_plausible_id(case)
    });
    if plausible {
        Ok(id)
    } else {
        Err(PageError::NotFound("没有这项待评价的办件".into()))
    }
}

/// The case to rate among the viewer's rateables; a case already rated
/// (or not theirs) is a 404 page saying so.
async fn rateable_of(state: &AppState, viewer: &Viewer, id: &str) -> Result<Value, PageError> {
    let id = rateable_id(id)?;
    let list = ent_get(state, viewer, "/api/v1/rateables").await?;
    list["rateables"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["id"] == id).cloned())
        .ok_or_else(|| PageError::NotFound("该办件已评价，或尚未办结，暂不能评价".into()))
}

fn rate_page(
    viewer: &Viewer,
    rateable: &Value,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let (context, status) = with_refused(
        json!({
            "title": "评价服务",
            "rateable": rateable,
            "scores": SCORES,
        }),
        refused,
    );
    render_status(Some(viewer), "ent_own_rate.html", context, status)
}

/// Page: the rating form of one case.
#[get("/enterprise/ratings/new")]
pub async fn rate_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<RateQuery>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ENTERPRISE)?;
    let id = query.rateable.as_deref().unwrap_or_default();
    let rateable = rateable_of(&state, &viewer, id).await?;
    rate_page(&viewer, &rateable, None)
}

/// Rates a case; problems come back at their fields, what was typed kept.
#[post("/enterprise/ratings/new")]
pub async fn rate(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ENTERPRISE)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let id = rateable_id(value(&form, "rateable_id").unwrap_or_default())?;
    let rateable = rateable_of(&state, &viewer, id).await?;
    let Some(score) = value(&form, "score").and_then(|s| s.trim().parse::<i64>().ok()) else {
        let errors = BTreeMap::from([("score".to_owned(), "请选择评分".to_owned())]);
        return rate_page(
            &viewer,
            &rateable,
            Some(refused_with(&form, errors, Vec::new())),
        );
    };
    let body = json!({
        "rateable_id": id,
        "score": score,
        "comment": value(&form, "comment").unwrap_or_default().trim(),
    });
    match try_act(
        &state,
        &viewer,
        Upstream::Enterprise,
        "/api/v1/ratings",
        &body,
        &form,
    )
    .await?
    {
        Ok(_) => Ok(see_other("/enterprise/ratings", "评价已提交，感谢您的反馈")),
        Err(refused) => rate_page(&viewer, &rateable, Some(refused)),
    }
}

/// Mounts these pages.
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(ratings).service(rate_form).service(rate);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plausible_rateable_ids_are_used() {
        assert!(rateable_id("request:0193aa00-0000-7000-8000-000000000001").is_ok());
        assert!(rateable_id("licensing_application:abc-1").is_ok());
        assert!(rateable_id("request").is_err());
        assert!(rateable_id("request:../x").is_err());
        assert!(rateable_id("a b:c").is_err());
    }
}
