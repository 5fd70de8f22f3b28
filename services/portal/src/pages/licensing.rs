//! 一业一证 pages for applicants and agents: pick a scenario, answer the
//! questionnaire, read the one-time notice, fill the merged form with
//! materials (upload or pick from the enterprise archive), submit, follow
//! the application, answer 补正 requests, get the licence.
//!
//! Who may see them: the scenario, questionnaire and notice pages are
//! public (like the API they call); everything else needs an applicant or
//! agent session, and the licensing service limits them to their own
//! enterprises' applications.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde_json::{Map, Value, json};
use yizhan_auth::Role;

use super::drafts;
use super::multipart::PostedFile;
use super::{
    PageError, code_path, field_errors, notice_of, prefixed, render, render_status, typed_map,
    value,
};
use crate::AppState;
use crate::session::{MaybeViewer, Viewer};
use crate::upstream::{Upload, Upstream, UpstreamError};

pub use super::applications::{application, id_path};

/// The flash after 保存草稿.
pub const DRAFT_SAVED: &str = "草稿已保存，可随时在“我的申请”中继续填写";

/// Applicants and agents file applications.
pub const FILERS: [Role; 2] = [Role::Applicant, Role::Agent];

/// Page: the industry scenarios.
#[get("/licensing")]
pub async fn scenarios(
    state: web::Data<AppState>,
    viewer: MaybeViewer,
) -> Result<HttpResponse, PageError> {
    let list = state
        .upstream
        .get(Upstream::Licensing, "/api/v1/scenarios", None)
        .await?;
    render(
        viewer.0.as_ref(),
        "lic_scenarios.html",
        json!({"title": "一业一证 · 选择行业", "scenarios": list["items"]}),
    )
}

fn scenario_path(code: &str) -> Result<String, PageError> {
    Ok(format!(
        "/api/v1/scenarios/{}",
        code_path(code, "行业情形")?
    ))
}

/// Page: a scenario's questionnaire.
#[get("/licensing/scenarios/{code}")]
pub async fn questionnaire(
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    code: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let scenario = state
        .upstream
        .get(Upstream::Licensing, &scenario_path(&code)?, None)
        .await?;
    render(
        viewer.0.as_ref(),
        "lic_questionnaire.html",
        json!({
            "title": format!("{} · 情形问答", scenario["name"].as_str().unwrap_or_default()),
            "scenario": scenario,
            "answers": {},
            "errors": {},
            "general": [],
        }),
    )
}

/// The scenario and typed answers of a questionnaire query (`scenario=`,
/// `q.<key>=`).
pub(super) async fn answers_of(
    state: &AppState,
    query: &[(String, String)],
) -> Result<(Value, Map<String, Value>, BTreeMap<String, String>), PageError> {
    let code = value(query, "scenario").unwrap_or_default();
    let scenario = state
        .upstream
        .get(Upstream::Licensing, &scenario_path(code)?, None)
        .await?;
    let raw = prefixed(query, "q.");
    let answers = typed_map(&scenario["questions"], &raw);
    Ok((scenario, answers, raw))
}

/// Service field names as the page's input names.
pub(super) fn page_field(field: &str) -> String {
    if let Some(key) = field.strip_prefix("answers.") {
        format!("q.{key}")
    } else if let Some(code) = field.strip_prefix("materials.") {
        format!("m.{code}")
    } else {
        field.to_owned()
    }
}

pub(super) fn page_errors(error: &UpstreamError) -> (BTreeMap<String, String>, Vec<String>) {
    let (by_field, general) = field_errors(error);
    (
        by_field
            .into_iter()
            .map(|(k, v)| (page_field(&k), v))
            .collect(),
        general,
    )
}

/// The query string carrying a scenario and its answers on to the next page.
pub(super) fn carry(scenario: &Value, raw: &BTreeMap<String, String>) -> String {
    let mut parts = vec![format!(
        "scenario={}",
        crate::queues::urlencode(scenario["code"].as_str().unwrap_or_default())
    )];
    parts.extend(raw.iter().map(|(k, v)| {
        format!(
            "q.{}={}",
            crate::queues::urlencode(k),
            crate::queues::urlencode(v)
        )
    }));
    parts.join("&")
}

/// Page: 一单告知 — the items, departments, materials and time limits for
/// these answers. Printable.
#[get("/licensing/notice")]
pub async fn notice_page(
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (scenario, answers, raw) = answers_of(&state, &query).await?;
    match notice_of(&state, &scenario["code"], &answers).await {
        Ok(notice) => render(
            viewer.0.as_ref(),
            "lic_notice.html",
            json!({
                "title": format!("{} · 一次性告知", scenario["name"].as_str().unwrap_or_default()),
                "scenario": scenario,
                "notice": notice,
                "carry": carry(&scenario, &raw),
            }),
        ),
        Err(e @ UpstreamError::Refused { status: 422, .. }) => {
            let (errors, general) = page_errors(&e);
            render_status(
                viewer.0.as_ref(),
                "lic_questionnaire.html",
                json!({
                    "title": format!("{} · 情形问答", scenario["name"].as_str().unwrap_or_default()),
                    "scenario": scenario,
                    "answers": raw,
                    "errors": errors,
                    "general": general,
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// The enterprise archive's current materials (for "pick from archive");
/// empty when the document service does not answer — uploading still works.
pub(super) async fn archive(state: &AppState, viewer: &Viewer, uscc: &str) -> Value {
    state
        .upstream
        .get(
            Upstream::Document,
            &format!(
                "/api/v1/enterprises/{}/materials",
                crate::queues::urlencode(uscc)
            ),
            Some(&viewer.token),
        )
        .await
        .map(|a| a["current"].clone())
        .unwrap_or_else(|_| json!([]))
}

/// What the merged form page shows.
pub(super) struct FormPage<'a> {
    pub(super) scenario: &'a Value,
    pub(super) notice: &'a Value,
    pub(super) raw_answers: &'a BTreeMap<String, String>,
    pub(super) values: BTreeMap<String, String>,
    pub(super) picked: BTreeMap<String, String>,
    pub(super) errors: BTreeMap<String, String>,
    pub(super) general: Vec<String>,
    pub(super) idempotency_key: String,
    /// The returned application being corrected, if any.
    pub(super) resubmit: Option<String>,
    /// The enterprise filing.
    pub(super) enterprise: String,
    /// A message from the last step (草稿已保存).
    pub(super) flash: Option<String>,
    /// Prefilled fields: where each value came from.
    pub(super) prefilled: BTreeMap<String, String>,
    /// Resubmitting: what the window flagged, by page field
    /// (`form.<key>`, `m.<code>`).
    pub(super) flagged: BTreeMap<String, String>,
}

pub(super) async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    page: FormPage<'_>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let uscc = page.enterprise;
    let archive = archive(state, viewer, &uscc).await;
    render_status(
        Some(viewer),
        "lic_form.html",
        json!({
            "title": format!("{} · 一表申请", page.scenario["name"].as_str().unwrap_or_default()),
            "scenario": page.scenario,
            "notice": page.notice,
            "answers": page.raw_answers,
            "enterprise_uscc": uscc,
            "enterprises": if viewer.principal.has_role(Role::Agent) { viewer.principal.enterprises.clone() } else { vec![uscc.clone()] },
            "values": page.values,
            "picked": page.picked,
            "archive": archive,
            "errors": page.errors,
            "general": page.general,
            "idempotency_key": page.idempotency_key,
            "resubmit": page.resubmit,
            "flash": page.flash,
            "prefilled": page.prefilled,
            "flagged": page.flagged,
        }),
        status,
    )
}

/// The one-time list of a returned application by page field, so each
/// flagged field and material is marked where it is corrected.
fn flagged_of(deficiencies: &Value) -> BTreeMap<String, String> {
    deficiencies
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let key = match (d["field"].as_str(), d["material"].as_str()) {
                (Some(f), _) => format!("form.{f}"),
                (None, Some(m)) => format!("m.{m}"),
                (None, None) => return None,
            };
            Some((key, d["reason"].as_str().unwrap_or_default().to_owned()))
        })
        .collect()
}

/// The enterprise the viewer files for: the one asked for when the viewer
/// may act for it (an agent's pick), otherwise the viewer's own or first.
fn filing_for(viewer: &Viewer, asked: Option<&str>) -> String {
    asked
        .filter(|u| viewer.principal.may_act_for(u))
        .map(str::to_owned)
        .or_else(|| viewer.enterprise())
        .unwrap_or_default()
}

pub(super) fn fresh_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Page: the merged form (一表申请) for a scenario and answers.
#[get("/licensing/apply")]
pub async fn apply_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let (scenario, answers, raw) = answers_of(&state, &query).await?;
    let notice = notice_of(&state, &scenario["code"], &answers).await?;
    let enterprise = filing_for(&viewer, value(&query, "enterprise_uscc"));
    // `?resubmit=<id>`: correct a returned application, its values and
    // materials filled in; otherwise the saved draft's, if any.
    let (mut values, mut picked, mut flagged) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let resubmit = value(&query, "resubmit").map(str::to_owned);
    if let Some(id) = &resubmit {
        let app = application(&state, &viewer.token, id).await?;
        values = as_texts(&app["form"]);
        picked = as_texts(&app["materials"]);
        flagged = flagged_of(&app["deficiencies"]);
    } else if let Some(draft) = drafts::load(
        &state,
        &viewer,
        scenario["code"].as_str().unwrap_or_default(),
        &enterprise,
    )
    .await
    {
        values = as_texts(&draft["form"]);
        picked = as_texts(&draft["materials"]);
    }
    let prefilled = if resubmit.is_none() {
        super::prefill::prefill(
            &state,
            &viewer,
            &enterprise,
            &notice["form"],
            &raw,
            &mut values,
        )
        .await
    } else {
        BTreeMap::new()
    };
    form_page(
        &state,
        &viewer,
        FormPage {
            scenario: &scenario,
            notice: &notice,
            raw_answers: &raw,
            values,
            picked,
            errors: BTreeMap::new(),
            general: Vec::new(),
            idempotency_key: fresh_key(),
            resubmit,
            enterprise,
            flash: super::flash_text(value(&query, "msg")),
            prefilled,
            flagged,
        },
        StatusCode::OK,
    )
    .await
}

/// A JSON object's values as the text a form input holds.
pub(super) fn as_texts(object: &Value) -> BTreeMap<String, String> {
    object
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                // A whole number stored as a float (a draft's `500.0`) is
                // typed back as people wrote it.
                Value::Number(n) => match n.as_f64() {
                    Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{f:.0}")
                    }
                    _ => n.to_string(),
                },
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// Uploads every attached file of `m.<code>` for `enterprise`; answers the
/// material ids by code, or the upload errors by page field.
pub async fn upload_materials(
    state: &AppState,
    viewer: &Viewer,
    enterprise: &str,
    files: &[PostedFile],
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut ids = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for posted in files {
        let Some(code) = posted.name.strip_prefix("file.") else {
            continue;
        };
        let filename = &posted.filename;
        let content = match posted.reader() {
            Ok(content) => content,
            Err(e) => {
                tracing::error!(error = %e, "could not reopen a spooled upload");
                errors.insert(
                    format!("m.{code}"),
                    format!("{filename}：上传暂存失败，请重新上传"),
                );
                continue;
            }
        };
        // Every catalog material code is a material type (one vocabulary),
        // so the file is stored as exactly what the slot asks for.
        let upload = Upload {
            material_type: code.to_owned(),
            filename: filename.clone(),
            content,
            len: posted.len,
        };
        let result = state
            .upstream
            .upload(&viewer.token, enterprise, upload)
            .await;
        match result {
            Ok(material) => {
                ids.insert(
                    code.to_owned(),
                    material["id"].as_str().unwrap_or_default().to_owned(),
                );
            }
            Err(e) => {
                let message = e
                    .field_errors()
                    .into_iter()
                    .map(|(_, m)| m)
                    .next()
                    .unwrap_or_else(|| e.message());
                errors.insert(format!("m.{code}"), format!("{filename}：{message}"));
            }
        }
    }
    (ids, errors)
}

/// Mounts the 一业一证 applicant pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(scenarios)
        .service(questionnaire)
        .service(notice_page)
        .service(apply_form)
        .service(super::filing::apply_submit)
        .service(super::applications::applications)
        .service(super::applications::application_page)
        .service(super::applications::supply)
        .service(super::applications::supply_owed);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn values_are_typed_back_as_people_wrote_them() {
        let texts =
            super::as_texts(&json!({"area": 500.0, "rooms": 80, "rate": 2.5, "name": "一站"}));
        assert_eq!(texts["area"], "500");
        assert_eq!(texts["rooms"], "80");
        assert_eq!(texts["rate"], "2.5");
        assert_eq!(texts["name"], "一站");
    }
}
