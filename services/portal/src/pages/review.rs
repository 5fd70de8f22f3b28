//! 部门审批 pages: the department's merged task queue with SLA colours, and
//! one task with the decision (approve with permit number, reject with
//! reasons), a 补正 request and the 特别程序 (hearing, testing, expert
//! review: started with a reason, ended when done), for both services.
//!
//! Who may see them: department reviewers; the services limit them to
//! their own department's tasks (another department's task is a 404).

use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::forms::Marked;
use super::licensing::id_path;
use super::window::{QueuePageQuery, queue_page};
use super::{
    Flash, PageError, entries, errors_at_marks, marked_list, notice_of, refused_with,
    render_status, see_other, try_act, value, with_refused,
};
use crate::AppState;
use crate::queues::Queue;
use crate::session::Viewer;
use crate::upstream::Upstream;

const REVIEWERS: [Role; 1] = [Role::DeptReviewer];

/// Page: the department's merged queue.
#[get("/review")]
pub async fn task_queue(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<QueuePageQuery>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    queue_page(
        &state,
        &viewer,
        Queue::Tasks,
        &query,
        "部门审批 · 审批队列",
        "/review",
    )
    .await
}

/// `?application=` of a licensing task page.
#[derive(Debug, serde::Deserialize)]
pub struct TaskQuery {
    application: Option<String>,
    msg: Option<String>,
}

/// Page: one 一业一证 task, read through its application (the reviewer may
/// see applications their department has a task in).
#[get("/review/licensing/tasks/{id}")]
pub async fn licensing_task(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    query: web::Query<TaskQuery>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    let application = query.application.as_deref().unwrap_or_default();
    let flash = super::flash_text(query.msg.as_deref());
    licensing_task_page(&state, &viewer, &id, application, flash, None).await
}

/// The 一业一证 task page, with a refused form shown again when given.
async fn licensing_task_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    application: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let app = state
        .upstream
        .get(
            Upstream::Licensing,
            &format!("/api/v1/applications/{}", id_path(application, "申请")?),
            Some(&viewer.token),
        )
        .await?;
    let task = app["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["id"].as_str() == Some(id)).cloned())
        .filter(|t| t["department_code"].as_str() == viewer.principal.dept.as_deref())
        .ok_or_else(|| PageError::NotFound("任务不存在或不属于本部门".into()))?;
    let answers = app["answers"].as_object().cloned().unwrap_or_default();
    let notice = notice_of(state, &app["scenario_code"], &answers)
        .await
        .unwrap_or(Value::Null);
    // The fields and materials this task's item uses, for the reviewer to
    // read and to name in a 补正 request.
    let materials = used_by(&notice["materials"], &task["item_code"]);
    let back = format!(
        "/review/licensing/tasks/{id}?application={}",
        crate::queues::urlencode(application)
    );
    let attached =
        super::materials::attached_list(state, viewer, &json!(materials), &app["materials"], &back)
            .await;
    let (context, status) = with_refused(
        json!({
            "title": format!("审批 · {}", task["item_name"].as_str().unwrap_or_default()),
            "source": "licensing",
            "task": task,
            "app": app,
            "fields": used_by(&notice["form"], &task["item_code"]),
            "materials": materials,
            "values": app["form"],
            "attached": attached,
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "review_task.html", context, status)
}

/// Page: one construction task with its stage and project.
#[get("/review/construction/tasks/{id}")]
pub async fn construction_task(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    construction_task_page(&state, &viewer, &id, flash.text(), None).await
}

/// The construction task page, with a refused form shown again when given.
async fn construction_task_page(
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
    // The stage application and its form, for the fields and materials
    // this task's item uses (reviewers may read the stages their
    // department has tasks in).
    let (stage, form) = super::construction::stage_with_form(
        state,
        &viewer.token,
        task["stage_application_id"].as_str().unwrap_or_default(),
    )
    .await?;
    let materials = used_by(&form["materials"], &task["item_code"]);
    let attached = super::materials::attached_list(
        state,
        viewer,
        &json!(materials),
        &stage["materials"],
        &format!("/review/construction/tasks/{id}"),
    )
    .await;
    let (context, status) = with_refused(
        json!({
            "title": format!("审批 · {}", task["item_name"].as_str().unwrap_or_default()),
            "source": "construction",
            "task": task,
            "fields": used_by(&form["fields"], &task["item_code"]),
            "materials": materials,
            "values": stage["form"],
            "attached": attached,
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "review_task.html", context, status)
}

/// The entries of a merged form's `fields` or `materials` that `item` uses.
fn used_by(list: &Value, item: &Value) -> Vec<Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            f["items"]
                .as_array()
                .is_some_and(|items| items.contains(item))
        })
        .cloned()
        .collect()
}

/// The decision of the task form (`decision` = approve or reject).
fn decision_body(form: &[(String, String)]) -> Result<Value, PageError> {
    match value(form, "decision") {
        Some("approve") => Ok(json!({
            "decision": "approve",
            "permit_number": value(form, "permit_number").unwrap_or_default(),
        })),
        Some("reject") => Ok(json!({
            "decision": "reject",
            "reasons": value(form, "reasons").unwrap_or_default(),
        })),
        _ => Err(PageError::BadRequest("请选择准予许可或不予许可".into())),
    }
}

/// Who may post a reviewer's form: a department reviewer, with the
/// session's CSRF token (checked before anything in the form is read).
fn reviewer_form(viewer: &Viewer, form: &[(String, String)]) -> Result<(), PageError> {
    viewer.require(&REVIEWERS)?;
    viewer.check_csrf(value(form, "_csrf"))
}

/// Which step [`task_step`] takes.
struct Step<'a> {
    /// `/api/v1/tasks/{id}/{name}`.
    name: &'a str,
    /// Back to the task page after it (the queue otherwise).
    to_task: bool,
    /// The items a 补正 list marks, so the service's messages about
    /// `items[i]` show at item i's box (empty for other steps).
    marks: &'a [Marked],
}

/// A reviewer's step on a task of either service (after [`reviewer_form`]):
/// the body sent to `/api/v1/tasks/{id}/{step}`, a refusal shown on the task
/// page again, success answered with a redirect (to the task page or the
/// queue, see [`Step`]) and `message`.
#[allow(clippy::too_many_arguments)]
async fn task_step(
    state: &AppState,
    viewer: &Viewer,
    source: &str,
    id: &str,
    form: &[(String, String)],
    step: Step<'_>,
    body: &Value,
    message: &'static str,
) -> Result<HttpResponse, PageError> {
    let service = super::source_service(source)?;
    let api = format!("/api/v1/tasks/{}/{}", id_path(id, "任务")?, step.name);
    if let Err(refused) = try_act(state, viewer, service, &api, body, form).await? {
        let refused = errors_at_marks(refused, "items", step.marks);
        return task_page_again(state, viewer, source, id, form, refused).await;
    }
    let back = match value(form, "application") {
        _ if !step.to_task => "/review".to_owned(),
        Some(app) if source == "licensing" => format!(
            "/review/licensing/tasks/{id}?application={}",
            crate::queues::urlencode(app)
        ),
        _ => format!("/review/{source}/tasks/{id}"),
    };
    Ok(see_other(&back, message))
}

/// Decides a task of either service.
#[post("/review/{source}/tasks/{id}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    reviewer_form(&viewer, &form)?;
    let (source, id) = path.into_inner();
    let body = decision_body(&form)?;
    let message = if body["decision"] == "approve" {
        "已准予许可"
    } else {
        "已作出不予许可决定"
    };
    let step = Step {
        name: "decision",
        to_task: false,
        marks: &[],
    };
    task_step(&state, &viewer, &source, &id, &form, step, &body, message).await
}

/// Requests a 补正 on a task of either service: every field and material
/// marked "有问题", each with its reason, as one list. A marked item
/// without a reason is shown at its box before anything is sent; the
/// service's messages about an item move to that item's box.
#[post("/review/{source}/tasks/{id}/supplement-request")]
pub async fn request_supplement(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    reviewer_form(&viewer, &form)?;
    let (source, id) = path.into_inner();
    let list = match marked_list(&form, "s.") {
        Ok(list) => list,
        Err(errors) => {
            let refused = refused_with(&form, errors, Vec::new());
            return task_page_again(&state, &viewer, &source, &id, &form, refused).await;
        }
    };
    let body = json!({"items": entries(&list)});
    let message = "已一次性告知申请人补正，计时暂停";
    let step = Step {
        name: "supplement-requests",
        to_task: false,
        marks: &list,
    };
    task_step(&state, &viewer, &source, &id, &form, step, &body, message).await
}

/// The 特别程序 form's body: `action` start (with its kind and reason) or
/// end. The service checks the kind and the reason.
fn special_body(form: &[(String, String)]) -> Result<Value, PageError> {
    match value(form, "action") {
        Some("start") => Ok(json!({
            "action": "start",
            "kind": value(form, "kind").filter(|k| !k.is_empty()),
            "reason": value(form, "reason").unwrap_or_default(),
        })),
        Some("end") => Ok(json!({"action": "end"})),
        _ => Err(PageError::BadRequest("请选择启动或结束特别程序".into())),
    }
}

/// Starts or ends a 特别程序 on a task of either service (the clock pauses
/// while it runs).
#[post("/review/{source}/tasks/{id}/special-procedure")]
pub async fn special_procedure(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    reviewer_form(&viewer, &form)?;
    let (source, id) = path.into_inner();
    let body = special_body(&form)?;
    let message = if body["action"] == "start" {
        "已启动特别程序，计时暂停"
    } else {
        "特别程序已结束，恢复计时"
    };
    let step = Step {
        name: "special-procedure",
        to_task: true,
        marks: &[],
    };
    task_step(&state, &viewer, &source, &id, &form, step, &body, message).await
}

/// The task page again after a refused decision or 补正 request: what
/// was typed kept, the service's messages at their fields.
async fn task_page_again(
    state: &AppState,
    viewer: &Viewer,
    source: &str,
    id: &str,
    form: &[(String, String)],
    refused: Value,
) -> Result<HttpResponse, PageError> {
    if source == "licensing" {
        let application = value(form, "application").unwrap_or_default();
        licensing_task_page(state, viewer, id, application, None, Some(refused)).await
    } else {
        construction_task_page(state, viewer, id, None, Some(refused)).await
    }
}

/// Mounts the reviewer pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(task_queue)
        .service(licensing_task)
        .service(construction_task)
        .service(request_supplement)
        .service(special_procedure)
        .service(decide);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_needs_its_kind() {
        let form = |d: &str| vec![("decision".to_owned(), d.to_owned())];
        assert_eq!(
            decision_body(&form("approve")).unwrap()["decision"],
            "approve"
        );
        assert_eq!(
            decision_body(&form("reject")).unwrap()["decision"],
            "reject"
        );
        assert!(decision_body(&form("maybe")).is_err());
    }

    #[test]
    fn a_special_procedure_starts_with_its_kind_and_reason_or_ends() {
        let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let start = special_body(&form(&[
            ("action", "start"),
            ("kind", "expert_review"),
            ("reason", "需专家论证"),
        ]))
        .unwrap();
        assert_eq!(start["kind"], "expert_review");
        assert_eq!(start["reason"], "需专家论证");
        // No kind picked: sent as null, for the service to name the field.
        let unpicked = special_body(&form(&[("action", "start"), ("kind", "")])).unwrap();
        assert!(unpicked["kind"].is_null());
        assert_eq!(
            special_body(&form(&[("action", "end")])).unwrap(),
            json!({"action": "end"})
        );
        assert!(special_body(&form(&[("action", "pause")])).is_err());
    }
}
