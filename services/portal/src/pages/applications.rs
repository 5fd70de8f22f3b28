//! 一业一证 pages after filing: the viewer's applications, one application
//! with its tasks, timeline and licence, and the answer to a 补正 request.
//! Same callers as the filing pages ([`FILERS`]); the licensing service
//! limits them to their own enterprises' applications.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use super::licensing::{FILERS, as_texts, carry, upload_materials};
use super::multipart::{Posted, read_multipart};
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
/// people, 待补正 rather than 并联审批中: the next step is theirs. The
/// departments waiting are listed (`waiting_on`) for the banner that leads
/// to their forms.
fn name_the_wait(app: &mut Value) {
    let waiting_on: Vec<Value> = app["tasks"]
        .as_array()
        .map(|tasks| {
            tasks
                .iter()
                .filter(|t| t["status"] == "supplement_requested")
                .map(|t| json!({"task": t["id"], "department_name": t["department_name"]}))
                .collect()
        })
        .unwrap_or_default();
    if app["status"] == "in_review" && !waiting_on.is_empty() {
        app["status_name"] = json!("待补正");
    }
    app["waiting_on"] = json!(waiting_on);
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
    // What was handed in, each openable in the viewer.
    let back = format!("/licensing/applications/{}", id_path(id, "申请")?);
    let (_, materials) = super::materials::of_application(state, viewer, &app, &back).await;
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
            "materials": materials,
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
    let mut fields = posted.fields.clone();
    fields.push(("task".into(), id.to_string()));
    let materials = match uploaded(&state, &viewer, &app, &posted, &fields).await {
        Ok(materials) => materials,
        Err(refused) => {
            return application_view(&state, &viewer, application_id, None, Some(refused)).await;
        }
    };
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

/// The materials a form on the application page hands in: files uploaded
/// to the enterprise's archive as the type of their slot (`file.<code>`),
/// plus archive materials picked (`m.<code>`); or the page's refusal, with
/// each failed upload's message at its slot (`materials.<code>`).
pub(crate) async fn uploaded(
    state: &AppState,
    viewer: &Viewer,
    app: &Value,
    posted: &Posted,
    fields: &[(String, String)],
) -> Result<BTreeMap<String, String>, Value> {
    let enterprise = app["enterprise_uscc"].as_str().unwrap_or_default();
    let (mut materials, upload_errors) =
        upload_materials(state, viewer, enterprise, &posted.files).await;
    if !upload_errors.is_empty() {
        let errors = upload_errors
            .into_iter()
            .map(|(key, message)| {
                let code = key.strip_prefix("m.").unwrap_or(&key);
                (format!("materials.{code}"), message)
            })
            .collect();
        return Err(super::refused_with(fields, errors, Vec::new()));
    }
    materials.extend(prefixed(&posted.fields, "m."));
    Ok(materials)
}

/// Hands in materials owed under 容缺受理, from the form in the 容缺
/// card of the application page; the page again, with the messages at
/// their slots, when nothing was chosen or the service refuses.
#[post("/licensing/applications/{id}/tolerance-materials")]
pub async fn supply_owed(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let path_id = id_path(&id, "申请")?;
    let posted = read_multipart(&viewer, form).await?;
    let app = application(&state, &viewer.token, &id).await?;
    let mut fields = posted.fields.clone();
    fields.push(("owed".into(), "1".into()));
    let materials = match uploaded(&state, &viewer, &app, &posted, &fields).await {
        Ok(materials) => materials,
        Err(refused) => return application_view(&state, &viewer, &id, None, Some(refused)).await,
    };
    if materials.is_empty() {
        let errors = app["tolerance_missing"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["material"].as_str())
            .map(|code| (format!("materials.{code}"), "请选择要补交的文件".to_owned()))
            .collect();
        let refused = super::refused_with(&fields, errors, vec!["没有选择任何文件".into()]);
        return application_view(&state, &viewer, &id, None, Some(refused)).await;
    }
    let api = format!("/api/v1/applications/{path_id}/tolerance-materials");
    let body = json!({"materials": materials});
    if let Err(refused) =
        try_act(&state, &viewer, Upstream::Licensing, &api, &body, &fields).await?
    {
        return application_view(&state, &viewer, &id, None, Some(refused)).await;
    }
    Ok(see_other(
        &format!("/licensing/applications/{path_id}"),
        "容缺材料已补交",
    ))
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
        assert_eq!(app["waiting_on"].as_array().unwrap().len(), 1);
        let mut app = json!({"status": "in_review", "status_name": "并联审批中",
            "tasks": [{"status": "approved"}]});
        name_the_wait(&mut app);
        assert_eq!(app["status_name"], "并联审批中");
    }
}
