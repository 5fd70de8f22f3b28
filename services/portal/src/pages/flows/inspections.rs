//! 联合验收 page of a completion stage (`/construction/stages/{id}/inspections`):
//! every round with its slot, place, invited departments, their results
//! and the rectification list; the window schedules a round, an invited
//! department records its result, the builder reports the rectification.
//!
//! Who may see it: whoever the construction service lets read the stage
//! (the builder and its agents, window clerks, admins, reviewers of a
//! department with a task in the project); others get its 404 page. Each
//! form is offered only to the role the API accepts it from: scheduling to
//! window clerks, results to reviewers of an invited department, the
//! rectification to applicants and agents.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::DateTime;
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::department_names;
use crate::AppState;
use crate::pages::construction::project_of;
use crate::pages::licensing::id_path;
use crate::pages::{
    Flash, PageError, refused_with, render_status, see_other, try_act, value, with_refused,
};
use crate::session::Viewer;
use crate::upstream::Upstream;

/// What the viewer may do on the page now, from the stage and its rounds.
#[derive(Debug, Default, PartialEq, Eq)]
struct Steps {
    schedule: bool,
    /// The round the viewer's department is to record a result in.
    record: Option<String>,
    /// The failed round the builder is to report rectified.
    rectify: Option<String>,
}

fn steps(viewer: &Viewer, stage: &Value) -> Steps {
    let p = &viewer.principal;
    let rounds = stage["inspections"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let last = rounds.iter().max_by_key(|r| r["round"].as_i64());
    let last_status = last.and_then(|r| r["status"].as_str());
    let schedule = p.has_role(Role::WindowClerk)
        && stage["stage"] == "completion"
        && stage["status"] == "in_review"
        && matches!(last_status, None | Some("rectified"));
    let record = last
        .filter(|r| r["status"] == "scheduled" && p.has_role(Role::DeptReviewer))
        .filter(|r| {
            let dept = p.dept.as_deref().unwrap_or_default();
            let invited = r["departments"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d == dept));
            let recorded = r["results"]
                .as_array()
                .is_some_and(|rs| rs.iter().any(|x| x["department_code"] == dept));
            invited && !recorded
        })
        .and_then(|r| r["id"].as_str().map(str::to_owned));
    let rectify = last
        .filter(|r| r["status"] == "failed" && r["rectification_statement"].is_null())
        .filter(|_| p.has_role(Role::Applicant) || p.has_role(Role::Agent))
        .and_then(|r| r["id"].as_str().map(str::to_owned));
    Steps {
        schedule,
        record,
        rectify,
    }
}

/// Page: the stage's 联合验收.
#[get("/construction/stages/{id}/inspections")]
pub async fn inspections_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    page(&state, &viewer, &id, flash.text(), None).await
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let stage = state
        .upstream
        .get(
            Upstream::Construction,
            &format!("/api/v1/stages/{}", id_path(id, "阶段申请")?),
            Some(&viewer.token),
        )
        .await?;
    let project = project_of(
        state,
        &viewer.token,
        stage["project_id"].as_str().unwrap_or_default(),
    )
    .await
    .unwrap_or(Value::Null);
    // Departments by name: the stage's tasks name theirs; the catalog the rest.
    let mut names = department_names(state, Upstream::Construction).await;
    for t in stage["tasks"].as_array().into_iter().flatten() {
        if let (Some(c), Some(n)) = (t["department_code"].as_str(), t["department_name"].as_str()) {
            names.insert(c.to_owned(), n.to_owned());
        }
    }
    let mut rounds = stage["inspections"].as_array().cloned().unwrap_or_default();
    rounds.sort_by_key(|r| std::cmp::Reverse(r["round"].as_i64()));
    let steps = steps(viewer, &stage);
    let (context, status) = with_refused(
        json!({
            "title": format!("联合验收 · {}", project["name"].as_str().unwrap_or("竣工验收")),
            "stage": stage,
            "project": project,
            "rounds": rounds,
            "names": names,
            "schedule": steps.schedule,
            "record": steps.record,
            "rectify": steps.rectify,
            "my_dept": viewer.principal.dept,
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "flow_inspections.html", context, status)
}

/// The page again with the portal's own message at `field`.
async fn refused_here(
    state: &AppState,
    viewer: &Viewer,
    stage: &str,
    form: &[(String, String)],
    field: &str,
    message: &str,
) -> Result<HttpResponse, PageError> {
    let errors = BTreeMap::from([(field.to_owned(), message.to_owned())]);
    page(
        state,
        viewer,
        stage,
        None,
        Some(refused_with(form, errors, Vec::new())),
    )
    .await
}

/// Posts `body` to `api` as the viewer: a refusal draws the page again
/// with the input kept (`points[2]` shown at the points box), success
/// redirects to the page with `message`.
async fn step(
    state: &AppState,
    viewer: &Viewer,
    stage: &str,
    form: &[(String, String)],
    api: &str,
    body: &Value,
    message: &'static str,
) -> Result<HttpResponse, PageError> {
    if let Err(mut refused) =
        try_act(state, viewer, Upstream::Construction, api, body, form).await?
    {
        if let Some(errors) = refused["errors"].as_object_mut() {
            let listed: Vec<String> = errors
                .keys()
                .filter(|k| k.starts_with("points["))
                .cloned()
                .collect();
            for k in listed {
                if let Some(m) = errors.remove(&k) {
                    errors.entry("points").or_insert(m);
                }
            }
        }
        return page(state, viewer, stage, None, Some(refused)).await;
    }
    Ok(see_other(
        &format!(
            "/construction/stages/{}/inspections",
            id_path(stage, "阶段申请")?
        ),
        message,
    ))
}

/// The slot of the schedule form (a day and a time, China time), as RFC 3339.
fn slot(form: &[(String, String)]) -> Option<String> {
    let date = value(form, "date")?.trim();
    let time = value(form, "time")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("09:00");
    let slot = format!("{date}T{time}:00+08:00");
    DateTime::parse_from_rfc3339(&slot).ok().map(|_| slot)
}

/// Schedules a round (window clerks).
#[post("/construction/stages/{id}/inspections")]
pub async fn schedule_round(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&[Role::WindowClerk])?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let Some(slot) = slot(&form) else {
        return refused_here(&state, &viewer, &id, &form, "slot", "请选择验收日期和时间").await;
    };
    let body = json!({"slot": slot, "location": value(&form, "location").unwrap_or_default()});
    let api = format!("/api/v1/stages/{}/inspections", id_path(&id, "阶段申请")?);
    let message = "联合验收已排期，已通知受邀部门";
    step(&state, &viewer, &id, &form, &api, &body, message).await
}

/// The result form's body, or the field the page itself finds missing.
fn result_body(form: &[(String, String)]) -> Result<Value, (&'static str, &'static str)> {
    match value(form, "passed") {
        Some("true") => Ok(json!({
            "passed": true,
            "record_number": value(form, "record_number").map(str::trim).filter(|n| !n.is_empty()),
        })),
        Some("false") => {
            let points: Vec<&str> = value(form, "points")
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            Ok(json!({"passed": false, "points": points}))
        }
        _ => Err(("passed", "请选择验收结论：合格或不合格")),
    }
}

/// Records the viewer's department's result (reviewers of an invited
/// department).
#[post("/construction/stages/{stage}/inspections/{id}/results")]
pub async fn record_result(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&[Role::DeptReviewer])?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let (stage, id) = path.into_inner();
    let body = match result_body(&form) {
        Ok(body) => body,
        Err((field, message)) => {
            return refused_here(&state, &viewer, &stage, &form, field, message).await;
        }
    };
    let api = format!("/api/v1/inspections/{}/results", id_path(&id, "联合验收")?);
    step(
        &state,
        &viewer,
        &stage,
        &form,
        &api,
        &body,
        "验收结果已录入",
    )
    .await
}

/// Reports the rectification of a failed round (applicants, agents).
#[post("/construction/stages/{stage}/inspections/{id}/rectification")]
pub async fn report_rectification(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&crate::pages::licensing::FILERS)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let (stage, id) = path.into_inner();
    let body = json!({"statement": value(&form, "statement").unwrap_or_default()});
    let api = format!(
        "/api/v1/inspections/{}/rectification",
        id_path(&id, "联合验收")?
    );
    let message = "整改情况已报告，等待综合窗口安排复验";
    step(&state, &viewer, &stage, &form, &api, &body, message).await
}

/// Mounts the 联合验收 page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(inspections_page)
        .service(schedule_round)
        .service(record_result)
        .service(report_rectification);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_slot_is_a_day_and_a_time_in_china() {
        assert_eq!(
            slot(&form(&[("date", "2027-10-26"), ("time", "09:30")])).as_deref(),
            Some("2027-10-26T09:30:00+08:00")
        );
        assert!(slot(&form(&[("date", ""), ("time", "09:30")])).is_none());
        assert!(slot(&form(&[("date", "明天")])).is_none());
    }

    #[test]
    fn a_result_is_a_pass_with_its_record_or_a_failure_with_every_point() {
        let pass = result_body(&form(&[("passed", "true"), ("record_number", " YS-01 ")])).unwrap();
        assert_eq!(pass, json!({"passed": true, "record_number": "YS-01"}));
        let fail = result_body(&form(&[
            ("passed", "false"),
            ("points", "缺标志\n\n 未设说明 "),
        ]))
        .unwrap();
        assert_eq!(
            fail,
            json!({"passed": false, "points": ["缺标志", "未设说明"]})
        );
        assert_eq!(result_body(&form(&[])).unwrap_err().0, "passed");
    }
}
