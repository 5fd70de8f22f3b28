//! 征求意见 pages (工程建设): a reviewer asks other departments about a
//! task of theirs (`/review/construction/tasks/{id}/consultations`), and a
//! department answers what it was asked (`/consultations`, its inbox).
//!
//! Who may see them: department reviewers, as the construction service
//! allows (`POST /tasks/{id}/consultations`, `GET /consultations`,
//! `POST /consultations/{id}/reply`); another department's task or
//! consultation is the service's 404, every other role the 403 page.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::department_names;
use crate::AppState;
use crate::pages::licensing::id_path;
use crate::pages::{
    PageError, flash_text, refused_with, render_status, see_other, try_act, value, with_refused,
};
use crate::session::Viewer;
use crate::upstream::Upstream;

const REVIEWERS: [Role; 1] = [Role::DeptReviewer];

/// Task statuses in which another department may still be asked.
const OPEN: [&str; 5] = [
    "in_review",
    "supplement_requested",
    "supplement_received",
    "special_procedure",
    "special_procedure_ended",
];

/// A reviewer's form: the role, then the CSRF token before anything else
/// of the form is read.
fn reviewer_form(viewer: &Viewer, form: &[(String, String)]) -> Result<(), PageError> {
    viewer.require(&REVIEWERS)?;
    viewer.check_csrf(value(form, "_csrf"))
}

/// `?msg=` of these pages.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    msg: Option<String>,
    /// Include answered consultations in the inbox.
    #[serde(default)]
    all: bool,
    /// The inbox's next page.
    cursor: Option<String>,
}

/// Page: a task's 征求意见 — those asked so far with their answers, and
/// the form to ask another department.
#[get("/review/construction/tasks/{id}/consultations")]
pub async fn task_consultations(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    let flash = flash_text(query.msg.as_deref());
    consult_page(&state, &viewer, &id, flash, None).await
}

async fn consult_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let task = state
        .upstream
        .get(
            Upstream::Construction,
            &format!("/api/v1/tasks/{}", id_path(id, "任务")?),
            Some(&viewer.token),
        )
        .await?;
    let names = department_names(state, Upstream::Construction).await;
    // Every department but the viewer's own may be asked.
    let own = viewer.principal.dept.as_deref().unwrap_or_default();
    let others: Vec<(&String, &String)> = names.iter().filter(|(c, _)| *c != own).collect();
    // 征求意见 while the task is being handled (the service refuses it
    // once the task is concluded).
    let open = OPEN.contains(&task["status"].as_str().unwrap_or_default());
    let (context, status) = with_refused(
        json!({
            "title": format!("征求意见 · {}", task["item_name"].as_str().unwrap_or_default()),
            "task": task,
            "departments": others,
            "names": names,
            "flash": flash,
            "open": open,
        }),
        refused,
    );
    render_status(Some(viewer), "flow_consult.html", context, status)
}

/// `due_days` as the service wants it, or the page's own message.
fn due_days(form: &[(String, String)]) -> Result<u32, String> {
    value(form, "due_days")
        .map(str::trim)
        .and_then(|d| d.parse::<u32>().ok())
        .ok_or_else(|| "请填写答复期限（1 至 10 个工作日）".to_owned())
}

/// Asks another department (征求意见).
#[post("/review/construction/tasks/{id}/consultations")]
pub async fn consult(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    reviewer_form(&viewer, &form)?;
    let days = match due_days(&form) {
        Ok(d) => d,
        Err(message) => {
            let errors = BTreeMap::from([("due_days".to_owned(), message)]);
            let refused = refused_with(&form, errors, Vec::new());
            return consult_page(&state, &viewer, &id, None, Some(refused)).await;
        }
    };
    let body = json!({
        "department": value(&form, "department").unwrap_or_default(),
        "question": value(&form, "question").unwrap_or_default(),
        "due_days": days,
    });
    let api = format!("/api/v1/tasks/{}/consultations", id_path(&id, "任务")?);
    if let Err(refused) =
        try_act(&state, &viewer, Upstream::Construction, &api, &body, &form).await?
    {
        return consult_page(&state, &viewer, &id, None, Some(refused)).await;
    }
    Ok(see_other(
        &format!(
            "/review/construction/tasks/{}/consultations",
            id_path(&id, "任务")?
        ),
        "已发出征求意见，等待对方部门答复",
    ))
}

/// Page: the department's 征求意见 inbox, waiting ones each with a reply
/// form (`?all=true` also lists those answered).
#[get("/consultations")]
pub async fn inbox(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    let flash = flash_text(query.msg.as_deref());
    inbox_page(&state, &viewer, &query, flash, None).await
}

async fn inbox_page(
    state: &AppState,
    viewer: &Viewer,
    query: &PageQuery,
    flash: Option<String>,
    refused: Option<(String, Value)>,
) -> Result<HttpResponse, PageError> {
    let mut api = format!("/api/v1/consultations?limit=50&all={}", query.all);
    if let Some(cursor) = &query.cursor {
        api.push_str(&format!("&cursor={}", crate::queues::urlencode(cursor)));
    }
    let page = state
        .upstream
        .get(Upstream::Construction, &api, Some(&viewer.token))
        .await?;
    let names = department_names(state, Upstream::Construction).await;
    let (refused_id, refused) = match refused {
        Some((id, r)) => (Some(id), Some(r)),
        None => (None, None),
    };
    let next = page["next_cursor"].as_str().map(|c| {
        format!(
            "/consultations?all={}&cursor={}",
            query.all,
            crate::queues::urlencode(c)
        )
    });
    let (context, status) = with_refused(
        json!({
            "title": "征求意见",
            "items": page["items"],
            "names": names,
            "all": query.all,
            "next": next,
            "flash": flash,
            "refused_id": refused_id,
        }),
        refused,
    );
    render_status(Some(viewer), "flow_consultations.html", context, status)
}

/// Answers a consultation addressed to the viewer's department.
#[post("/consultations/{id}/reply")]
pub async fn reply(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    reviewer_form(&viewer, &form)?;
    let body = json!({"opinion": value(&form, "opinion").unwrap_or_default()});
    let api = format!("/api/v1/consultations/{}/reply", id_path(&id, "征求意见")?);
    let all = value(&form, "all") == Some("true");
    if let Err(refused) =
        try_act(&state, &viewer, Upstream::Construction, &api, &body, &form).await?
    {
        let query = PageQuery {
            all,
            ..PageQuery::default()
        };
        return inbox_page(
            &state,
            &viewer,
            &query,
            None,
            Some((id.into_inner(), refused)),
        )
        .await;
    }
    Ok(see_other(
        if all {
            "/consultations?all=true"
        } else {
            "/consultations"
        },
        "意见已答复",
    ))
}

/// Mounts the 征求意见 pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(task_consultations)
        .service(consult)
        .service(inbox)
        .service(reply);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_period_is_a_whole_number_of_days_or_the_pages_message() {
        let form = |d: &str| vec![("due_days".to_owned(), d.to_owned())];
        assert_eq!(due_days(&form(" 3 ")), Ok(3));
        assert!(due_days(&form("三天")).is_err());
        assert!(due_days(&[]).is_err());
    }
}
