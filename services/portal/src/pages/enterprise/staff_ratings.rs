//! 差评 follow-ups of a department: the list with each one's last day, and
//! a page to record the verification (核实) and then the rectification
//! (整改).
//!
//! Who may see them: 部门审批人员 with a department; the enterprise service
//! lists only that department's ratings and refuses another's follow-up.

use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use super::paging::{Cursor, api_page, next_link};
use super::staff::REVIEWERS;
use crate::AppState;
use crate::pages::applications::id_path;
use crate::pages::{
    Flash, PageError, render, render_status, see_other, try_act, value, with_refused,
};
use crate::session::Viewer;
use crate::upstream::Upstream;

/// The ratings of one page of the department's (newest first) that
/// opened a follow-up (差评), and the link to the next page.
async fn bad_ratings(
    state: &AppState,
    viewer: &Viewer,
    cursor: &Cursor,
) -> Result<(Vec<Value>, Option<String>), PageError> {
    let list = state
        .upstream
        .get(
            Upstream::Enterprise,
            &api_page("/api/v1/ratings", cursor),
            Some(&viewer.token),
        )
        .await?;
    let bad = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| !r["follow_up"].is_null())
        .cloned()
        .collect();
    Ok((bad, next_link("/enterprise/staff/ratings", &list)))
}

/// Page: the department's 差评 follow-ups, open ones first (within a page
/// of its ratings; `?cursor=` goes on to older ones).
#[get("/enterprise/staff/ratings")]
pub async fn follow_ups(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
    cursor: web::Query<Cursor>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    let (mut ratings, next) = bad_ratings(&state, &viewer, &cursor).await?;
    // Open work first, earliest last day first; concluded ones after.
    ratings.sort_by_key(|r| {
        let closed = matches!(
            r["follow_up"].as_str(),
            Some("rectified" | "not_substantiated")
        );
        (
            closed,
            r["follow_up_due"].as_str().unwrap_or_default().to_owned(),
        )
    });
    render(
        Some(&viewer),
        "ent_staff_ratings.html",
        json!({"title": "差评回访", "ratings": ratings, "next": next, "flash": flash.text()}),
    )
}

async fn follow_up_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    id_path(id, "评价")?;
    let rating = state
        .upstream
        .get(
            Upstream::Enterprise,
            &format!("/api/v1/ratings/{}", id_path(id, "评价")?),
            Some(&viewer.token),
        )
        .await?;
    if rating["follow_up"].is_null() {
        return Err(PageError::NotFound("评价不存在，或不属本部门回访".into()));
    }
    let (context, status) = with_refused(
        json!({"title": "差评回访", "rating": rating, "flash": flash}),
        refused,
    );
    render_status(Some(viewer), "ent_staff_rating.html", context, status)
}

/// Page: one 差评 and its follow-up forms.
#[get("/enterprise/staff/ratings/{id}")]
pub async fn follow_up(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    follow_up_page(&state, &viewer, &id, flash.text(), None).await
}

/// Records `verify` (属实与否, 核实情况) or `rectify` (整改情况).
#[post("/enterprise/staff/ratings/{id}/{step}")]
pub async fn record(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let (id, step) = path.into_inner();
    let note = value(&form, "note").unwrap_or_default();
    let (body, message) = match step.as_str() {
        "verify" => {
            let substantiated = match value(&form, "substantiated") {
                Some("true") => json!(true),
                Some("false") => json!(false),
                _ => Value::Null,
            };
            (
                json!({"substantiated": substantiated, "note": note}),
                "核实情况已登记",
            )
        }
        "rectify" => (json!({"note": note}), "整改情况已登记，回访办结"),
        _ => return Err(PageError::NotFound("没有这个办理环节".into())),
    };
    let api = format!("/api/v1/ratings/{}/{step}", id_path(&id, "评价")?);
    match try_act(&state, &viewer, Upstream::Enterprise, &api, &body, &form).await? {
        Ok(_) => Ok(see_other(
            &format!("/enterprise/staff/ratings/{}", id_path(&id, "评价")?),
            message,
        )),
        Err(refused) => follow_up_page(&state, &viewer, &id, None, Some(refused)).await,
    }
}

/// Registers these pages.
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(follow_ups).service(follow_up).service(record);
}
