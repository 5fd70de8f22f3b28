//! 一业一证 pages after filing: the viewer's applications, one application
//! with its tasks, timeline and licence, and the answer to a 补正 request.
//! Same callers as the filing pages ([`FILERS`]); the licensing service
//! limits them to their own enterprises' applications.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use super::licensing::{FILERS, as_texts, carry, upload_materials};
use super::multipart::read_multipart;
use super::{
    Flash, PageError, notice_of, prefixed, render, render_status, see_other, try_act, typed_map,
    value, with_refused,
};
use crate::AppState;
use crate::session::Viewer;
use crate::upstream::Upstream;

/// Page: the viewer's applications.
#[get("/licensing/applications")]
pub async fn applications(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let list = state
        .upstream
        .get(
            Upstream::Licensing,
            "/api/v1/applications?limit=50",
            Some(&viewer.token),
        )
        .await?;
    render(
        Some(&viewer),
        "lic_applications.html",
        json!({
            "title": "我的申请",
            "applications": list["items"],
            "drafts": super::drafts::listed(&state, &viewer).await,
            "flash": flash.text(),
        }),
    )
}

/// A plausible id or a 404 page.
pub fn id_path(id: &str, what: &str) -> Result<String, PageError> {
    if yizhan_kit::text::is_plausible_id(id) {
        Ok(crate::queues::urlencode(id))
    } else {
        Err(PageError::NotFound(format!("{what}不存在")))
    }
}

/// One application, as the viewer may see it.
pub async fn application(state: &AppState, token: &str, id: &str) -> Result<Value, PageError> {
    let mut app = state
        .upstream
        .get(
            Upstream::Licensing,
            &format!("/api/v1/applications/{}", id_path(id, "申请")?),
            Some(token),
        )
        .await?;
    name_the_wait(&mut app);
    Ok(app)
}

/// While a department's 补正 waits on the applicant the application is, for
/// people, 待补正 rather than 并联审批中: the next step is theirs.
fn name_the_wait(app: &mut Value) {
    let waiting = app["status"] == "in_review"
        && app["tasks"]
            .as_array()
            .is_some_and(|tasks| tasks.iter().any(|t| t["status"] == "supplement_requested"));
    if waiting {
        app["status_name"] = json!("待补正");
    }
}

/// The public verification of the application's licence, once issued
/// (`null` before, or when the document service does not answer).
async fn licence_of(state: &AppState, app: &Value) -> Value {
    let Some(cert) = app["certificate_id"].as_str() else {
        return Value::Null;
    };
    state
        .upstream
        .get(
            Upstream::Document,
            &format!("/api/v1/verify?id={}", crate::queues::urlencode(cert)),
            None,
        )
        .await
        .unwrap_or(Value::Null)
}

/// Page: one application — status, tasks with their time limits, the
/// timeline, 补正 requests to answer, and the licence once issued.
#[get("/licensing/applications/{id}")]
pub async fn application_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    application_view(&state, &viewer, &id, flash.text(), None).await
}

/// The application page, with a refused 补正 answer shown again (what was
/// typed, the messages at their fields) when given.
async fn application_view(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let app = application(state, &viewer.token, id).await?;
    let licence = licence_of(state, &app).await;
    // 好差评 once concluded (approved or refused), asked only then.
    let concluded = ["approved", "refused", "licence_issued", "handed_out"]
        .contains(&app["status"].as_str().unwrap_or_default());
    let rate_link = if concluded {
        super::enterprise::own_ratings::rate_link(state, viewer, "licensing_application", id).await
    } else {
        None
    };
    let (context, status) = with_refused(
        json!({
            "title": format!("申请 {}", app["scenario_name"].as_str().unwrap_or_default()),
            "licence": licence,
            "rate_link": rate_link,
            "flash": flash,
            "errors": {},
            "correct": format!(
                "{}&resubmit={}",
                carry(
                    &json!({"code": app["scenario_code"]}),
                    &as_texts(&app["answers"])
                ),
                crate::queues::urlencode(app["id"].as_str().unwrap_or_default())
            ),
            "app": app,
        }),
        refused,
    );
    render_status(Some(viewer), "lic_application.html", context, status)
}

/// Answers a 补正 request: the fields and materials it lists.
#[post("/licensing/tasks/{id}/supplements")]
pub async fn supply(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let posted = read_multipart(&viewer, form).await?;
    let application_id = value(&posted.fields, "application_id").unwrap_or_default();
    let back = format!(
        "/licensing/applications/{}",
        id_path(application_id, "申请")?
    );
    let app = application(&state, &viewer.token, application_id).await?;
    let enterprise = app["enterprise_uscc"].as_str().unwrap_or_default();
    let (mut materials, upload_errors) =
        upload_materials(&state, &viewer, enterprise, &posted.files).await;
    materials.extend(prefixed(&posted.fields, "m."));
    let mut fields = posted.fields.clone();
    fields.push(("task".into(), id.to_string()));
    if !upload_errors.is_empty() {
        let errors = upload_errors
            .into_iter()
            .map(|(code, message)| (format!("materials.{code}"), message))
            .collect();
        let refused = super::refused_with(&fields, errors, Vec::new());
        return application_view(&state, &viewer, application_id, None, Some(refused)).await;
    }
    let values = prefixed(&posted.fields, "form.");
    // Typed by the merged form's field definitions (the notice of the
    // application's own scenario and answers).
    let answers = app["answers"].as_object().cloned().unwrap_or_default();
    let defs = notice_of(&state, &app["scenario_code"], &answers)
        .await
        .map(|n| n["form"].clone())
        .unwrap_or(Value::Null);
    let form_values = typed_map(&defs, &values);
    let path = format!("/api/v1/tasks/{}/supplements", id_path(&id, "任务")?);
    let body = json!({"form": form_values, "materials": materials});
    if let Err(refused) =
        try_act(&state, &viewer, Upstream::Licensing, &path, &body, &fields).await?
    {
        return application_view(&state, &viewer, application_id, None, Some(refused)).await;
    }
    Ok(see_other(&back, "补正材料已提交，审批恢复计时"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_waiting_on_a_supplement_reads_so() {
        let mut app = json!({"status": "in_review", "status_name": "并联审批中",
            "tasks": [{"status": "in_review"}, {"status": "supplement_requested"}]});
        name_the_wait(&mut app);
        assert_eq!(app["status_name"], "待补正");
        let mut app = json!({"status": "in_review", "status_name": "并联审批中",
            "tasks": [{"status": "approved"}]});
        name_the_wait(&mut app);
        assert_eq!(app["status_name"], "并联审批中");
    }
}
