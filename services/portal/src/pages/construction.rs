//! 工程建设项目 pages for builders and agents: register a project, file
//! each stage's merged application (分阶段一表申请, optionally for
//! pre-review before the land grant), and follow stages, items and the
//! whole-process working-day budget.
//!
//! Who may see them: applicants (as builders) and agents; the
//! construction service limits them to their own enterprises' projects.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use reqwest::Method;
use serde_json::{Value, json};

use super::licensing::{FILERS, id_path, upload_materials};
use super::multipart::read_multipart;
use super::{
    Flash, PageError, code_path, field_errors, prefixed, render, render_status, see_other,
    typed_map, value,
};
use crate::AppState;
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

/// The project categories a builder picks from (the service checks them).
const CATEGORIES: [(&str, &str); 3] = [
    ("government_investment", "政府投资项目"),
    ("social_investment", "社会投资项目"),
    ("small_low_risk", "社会投资小型低风险项目"),
];

/// Page: the viewer's projects.
#[get("/construction/projects")]
pub async fn projects(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let list = state
        .upstream
        .get(
            Upstream::Construction,
            "/api/v1/projects?limit=50",
            Some(&viewer.token),
        )
        .await?;
    render(
        Some(&viewer),
        "con_projects.html",
        json!({"title": "我的工程建设项目", "projects": list["items"], "flash": flash.text()}),
    )
}

fn new_project_page(
    viewer: &Viewer,
    values: &BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    general: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    render_status(
        Some(viewer),
        "con_project_new.html",
        json!({
            "title": "项目登记",
            "values": values,
            "errors": errors,
            "general": general,
            "categories": CATEGORIES,
            "enterprise": viewer.enterprise(),
        }),
        status,
    )
}

/// Page: project registration (项目登记).
#[get("/construction/projects/new")]
pub async fn new_project(viewer: Viewer) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    new_project_page(
        &viewer,
        &BTreeMap::new(),
        BTreeMap::new(),
        Vec::new(),
        StatusCode::OK,
    )
}

/// Registers a project; errors come back next to their fields.
#[post("/construction/projects/new")]
pub async fn register_project(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let values: BTreeMap<String, String> = form
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let get = |k: &str| {
        values
            .get(k)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let number = |k: &str| super::typed_value("number", &get(k));
    let body = json!({
        "project_code": get("project_code"),
        "name": get("name"),
        "builder_uscc": get("builder_uscc"),
        "builder_name": get("builder_name"),
        "location": get("location"),
        "category": get("category"),
        "scale": {
            "floor_area_m2": number("scale.floor_area_m2"),
            "total_investment_wan": number("scale.total_investment_wan"),
        },
        "land_granted": get("land_granted") == "true",
    });
    match state
        .upstream
        .send(
            Upstream::Construction,
            Method::POST,
            "/api/v1/projects",
            Some(&viewer.token),
            &body,
        )
        .await
    {
        Ok(project) => Ok(see_other(
            &format!(
                "/construction/projects/{}",
                project["id"].as_str().unwrap_or_default()
            ),
            "项目已登记",
        )),
        Err(
            e @ UpstreamError::Refused {
                status: 422 | 409, ..
            },
        ) => {
            let (errors, general) = field_errors(&e);
            new_project_page(
                &viewer,
                &values,
                errors,
                general,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Page: one project — budget, stages, items, timeline.
#[get("/construction/projects/{id}")]
pub async fn project_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let project = project_of(&state, &viewer.token, &id).await?;
    let material_names = owed_material_names(&state, &viewer.token, &project).await?;
    // Concluded stages not yet rated (好差评), by stage application id.
    let rateable =
        super::enterprise::own_ratings::rateable_cases(&state, &viewer, "construction_stage").await;
    // The map is an extra: without the categories the page still answers.
    let stage_map = match state
        .upstream
        .get(Upstream::Construction, "/api/v1/categories", None)
        .await
    {
        Ok(categories) => super::stage_map::stage_map(&categories, &project),
        Err(_) => Vec::new(),
    };
    render(
        Some(&viewer),
        "con_project.html",
        json!({
            "title": project["name"],
            "project": project,
            "material_names": material_names,
            "rateable_stages": rateable,
            "stage_map": stage_map,
            "flash": flash.text(),
        }),
    )
}

/// The Chinese names of the materials stages still owe (容缺), read from
/// those stages' forms: a stage lists owed materials by code only.
async fn owed_material_names(
    state: &AppState,
    token: &str,
    project: &Value,
) -> Result<BTreeMap<String, String>, PageError> {
    let mut names = BTreeMap::new();
    let project_id = project["id"].as_str().unwrap_or_default();
    let stages = project["stages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for stage in stages {
        let owes = stage["owed_materials"]
            .as_array()
            .is_some_and(|owed| !owed.is_empty());
        let Some(code) = stage["stage"].as_str().filter(|_| owes) else {
            continue;
        };
        let form = stage_form_of(state, token, project_id, code).await?;
        for m in form["materials"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            if let (Some(c), Some(n)) = (m["code"].as_str(), m["name"].as_str()) {
                names.insert(c.to_owned(), n.to_owned());
            }
        }
    }
    Ok(names)
}

/// The merged form of `stage` (wire name) for project `project_id`.
async fn stage_form_of(
    state: &AppState,
    token: &str,
    project_id: &str,
    stage: &str,
) -> Result<Value, PageError> {
    Ok(state
        .upstream
        .get(
            Upstream::Construction,
            &format!(
                "/api/v1/projects/{}/stages/{}/form",
                id_path(project_id, "项目")?,
                code_path(stage, "阶段")?
            ),
            Some(token),
        )
        .await?)
}

/// A stage application and its stage's merged form (`null` when the form
/// cannot be read: the page still shows the application).
pub(crate) async fn stage_with_form(
    state: &AppState,
    token: &str,
    stage_id: &str,
) -> Result<(Value, Value), PageError> {
    let stage = state
        .upstream
        .get(
            Upstream::Construction,
            &format!("/api/v1/stages/{}", id_path(stage_id, "阶段申请")?),
            Some(token),
        )
        .await?;
    let form = stage_form_of(
        state,
        token,
        stage["project_id"].as_str().unwrap_or_default(),
        stage["stage"].as_str().unwrap_or_default(),
    )
    .await
    .unwrap_or(Value::Null);
    Ok((stage, form))
}

/// A project of the viewer's.
pub(crate) async fn project_of(
    state: &AppState,
    token: &str,
    project_id: &str,
) -> Result<Value, PageError> {
    Ok(state
        .upstream
        .get(
            Upstream::Construction,
            &format!("/api/v1/projects/{}", id_path(project_id, "项目")?),
            Some(token),
        )
        .await?)
}

async fn stage_form(
    state: &AppState,
    viewer: &Viewer,
    project_id: &str,
    stage: &str,
) -> Result<(Value, Value), PageError> {
    let project = project_of(state, &viewer.token, project_id).await?;
    let form = stage_form_of(state, &viewer.token, project_id, stage).await?;
    Ok((project, form))
}

#[allow(clippy::too_many_arguments)]
fn stage_page(
    viewer: &Viewer,
    project: &Value,
    form: &Value,
    values: &BTreeMap<String, String>,
    picked: &BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    general: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    render_status(
        Some(viewer),
        "con_stage_form.html",
        json!({
            "title": format!("{} · {}", project["name"].as_str().unwrap_or_default(), form["stage_name"].as_str().unwrap_or_default()),
            "project": project,
            "form": form,
            "values": values,
            "picked": picked,
            "errors": errors,
            "general": general,
        }),
        status,
    )
}

/// Page: one stage's merged form (分阶段一表).
#[get("/construction/projects/{id}/stages/{stage}")]
pub async fn stage_form_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let (id, stage) = path.into_inner();
    let (project, form) = stage_form(&state, &viewer, &id, &stage).await?;
    stage_page(
        &viewer,
        &project,
        &form,
        &BTreeMap::new(),
        &BTreeMap::new(),
        BTreeMap::new(),
        Vec::new(),
        StatusCode::OK,
    )
}

/// Files a stage application: uploads, then the merged form.
#[post("/construction/projects/{id}/stages/{stage}")]
pub async fn file_stage(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let (id, stage) = path.into_inner();
    let posted = read_multipart(&viewer, multipart).await?;
    let (project, form) = stage_form(&state, &viewer, &id, &stage).await?;
    let builder = project["builder_uscc"].as_str().unwrap_or_default();
    let values = prefixed(&posted.fields, "form.");
    let mut picked = prefixed(&posted.fields, "m.");
    let (uploaded, mut errors) = upload_materials(&state, &viewer, builder, &posted.files).await;
    picked.extend(uploaded);
    if !errors.is_empty() {
        return stage_page(
            &viewer,
            &project,
            &form,
            &values,
            &picked,
            errors,
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let commitments: Vec<&str> = posted
        .fields
        .iter()
        .filter(|(k, _)| k == "commitment")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut body = json!({
        "stage": stage,
        "form": typed_map(&form["fields"], &values),
        "materials": picked,
        "commitments": commitments,
        "pre_review": value(&posted.fields, "pre_review") == Some("true"),
    });
    if !commitments.is_empty() {
        body["commitment_statement"] = json!(value(&posted.fields, "commitment_statement"));
    }
    match state
        .upstream
        .send(
            Upstream::Construction,
            Method::POST,
            &format!("/api/v1/projects/{}/stages", id_path(&id, "项目")?),
            Some(&viewer.token),
            &body,
        )
        .await
    {
        Ok(_) => Ok(see_other(
            &format!("/construction/projects/{}", id_path(&id, "项目")?),
            "阶段申请已提交（已接件），请等待综合窗口受理",
        )),
        Err(
            e @ UpstreamError::Refused {
                status: 422 | 409, ..
            },
        ) => {
            let (by_field, general) = field_errors(&e);
            errors.extend(by_field.into_iter().map(|(k, v)| {
                let k = k
                    .strip_prefix("materials.")
                    .map(|c| format!("m.{c}"))
                    .unwrap_or(k);
                (k, v)
            }));
            stage_page(
                &viewer,
                &project,
                &form,
                &values,
                &picked,
                errors,
                general,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Mounts the construction pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // `new` before `{id}`, or "new" would be taken for an id.
    cfg.service(new_project)
        .service(register_project)
        .service(projects)
        .service(project_page)
        .service(stage_form_page)
        .service(file_stage);
}
