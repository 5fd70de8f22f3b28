//! The merged form's post (一表申请), one handler for its three buttons:
//! 保存草稿 (the draft kept by the licensing service, the form again),
//! 下一步 to the review page (确认: the draft saved, then every field by
//! its name and every material by type and file, with the declaration),
//! and the submit from that page, which files the application only with
//! the declaration ticked. Files attached on any step are uploaded to the
//! enterprise's archive at once and stay picked, so nothing is uploaded
//! twice.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use serde_json::{Map, Value, json};

use super::drafts::{self, DraftContent};
use super::licensing::{
    DRAFT_SAVED, FILERS, FormPage, answers_of, archive, form_page, fresh_key, id_path, page_errors,
    upload_materials,
};
use super::multipart::read_multipart;
use super::{PageError, notice_of, prefixed, render_status, see_other, typed_map, value};
use crate::AppState;
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

/// Which button sent the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// 保存草稿.
    Draft,
    /// 下一步：确认.
    Review,
    /// 返回修改 (from the review page).
    Edit,
    /// 提交申请 (from the review page).
    Submit,
}

impl Step {
    fn of(fields: &[(String, String)]) -> Self {
        match value(fields, "action") {
            Some("draft") => Self::Draft,
            Some("review") => Self::Review,
            Some("edit") => Self::Edit,
            _ => Self::Submit,
        }
    }
}

/// The declaration the review page asks for.
const DECLARATION: &str = "declaration";

/// Everything one post of the form carries, files already uploaded.
struct Filing {
    scenario: Value,
    notice: Value,
    answers: Map<String, Value>,
    raw_answers: BTreeMap<String, String>,
    enterprise: String,
    values: BTreeMap<String, String>,
    picked: BTreeMap<String, String>,
    idempotency_key: String,
    resubmit: Option<String>,
}

impl Filing {
    fn code(&self) -> &str {
        self.scenario["code"].as_str().unwrap_or_default()
    }

    /// The form page again with `errors` (or none).
    async fn form(
        &self,
        state: &AppState,
        viewer: &Viewer,
        errors: BTreeMap<String, String>,
        general: Vec<String>,
        status: StatusCode,
    ) -> Result<HttpResponse, PageError> {
        let page = FormPage {
            scenario: &self.scenario,
            notice: &self.notice,
            raw_answers: &self.raw_answers,
            values: self.values.clone(),
            picked: self.picked.clone(),
            errors,
            general,
            idempotency_key: self.idempotency_key.clone(),
            resubmit: self.resubmit.clone(),
            enterprise: self.enterprise.clone(),
            flash: None,
            prefilled: BTreeMap::new(),
            flagged: BTreeMap::new(),
        };
        form_page(state, viewer, page, status).await
    }

    /// The review page (确认), with `errors` at the declaration.
    async fn review(
        &self,
        state: &AppState,
        viewer: &Viewer,
        errors: BTreeMap<String, String>,
        status: StatusCode,
    ) -> Result<HttpResponse, PageError> {
        let archive = archive(state, viewer, &self.enterprise).await;
        render_status(
            Some(viewer),
            "lic_confirm.html",
            json!({
                "title": format!("{} · 确认申请", self.notice["scenario_name"].as_str().unwrap_or_default()),
                "scenario": self.scenario,
                "notice": self.notice,
                "answers": self.raw_answers,
                "enterprise_uscc": self.enterprise,
                "values": self.values,
                "picked": self.picked,
                "archive": archive,
                "errors": errors,
                "idempotency_key": self.idempotency_key,
                "resubmit": self.resubmit,
            }),
            status,
        )
    }

    fn draft(&self) -> DraftContent<'_> {
        DraftContent {
            scenario: self.code(),
            enterprise: &self.enterprise,
            answers: &self.answers,
            form: typed_map(&self.notice["form"], &self.values),
            picked: &self.picked,
        }
    }

    /// The body of the application.
    fn body(&self) -> Value {
        json!({
            "scenario": self.scenario["code"],
            "answers": self.answers,
            "enterprise_uscc": self.enterprise,
            "form": typed_map(&self.notice["form"], &self.values),
            "materials": self.picked,
        })
    }
}

/// The page fields of a saved draft's `problems`.
fn problem_fields(draft: &Value) -> BTreeMap<String, String> {
    draft["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let field = p["field"].as_str()?;
            let message = p["message"].as_str()?;
            Some((super::licensing::page_field(field), message.to_owned()))
        })
        .collect()
}

/// Posts the merged form: see the module doc for its steps.
#[post("/licensing/apply")]
pub async fn apply_submit(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let posted = read_multipart(&viewer, form).await?;
    let (scenario, answers, raw_answers) = answers_of(&state, &posted.fields).await?;
    let notice = notice_of(&state, &scenario["code"], &answers).await?;
    let enterprise = value(&posted.fields, "enterprise_uscc")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let mut picked = prefixed(&posted.fields, "m.");
    let (uploaded, upload_errors) =
        upload_materials(&state, &viewer, &enterprise, &posted.files).await;
    picked.extend(uploaded);
    let filing = Filing {
        scenario,
        notice,
        answers,
        raw_answers,
        enterprise,
        values: prefixed(&posted.fields, "form."),
        picked,
        idempotency_key: value(&posted.fields, "idempotency_key")
            .filter(|k| !k.is_empty() && k.len() <= 64)
            .map(str::to_owned)
            .unwrap_or_else(fresh_key),
        resubmit: value(&posted.fields, "resubmit")
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
    };
    let step = Step::of(&posted.fields);
    // A new application keeps its draft on every step; a returned one is
    // corrected from the application itself.
    let saved = match filing.resubmit {
        None => Some(drafts::save(&state, &viewer, filing.draft()).await),
        Some(_) => None,
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if !upload_errors.is_empty() {
        return filing
            .form(&state, &viewer, upload_errors, Vec::new(), unprocessable)
            .await;
    }
    // What the draft could not keep (too long, malformed) is said at once.
    let saved = match saved {
        Some(Err(e @ UpstreamError::Refused { status: 422, .. })) => {
            let (errors, general) = page_errors(&e);
            return filing
                .form(&state, &viewer, errors, general, unprocessable)
                .await;
        }
        Some(Err(e)) if step == Step::Draft => return Err(e.into()),
        Some(Err(e)) => {
            tracing::warn!(error = %e.message(), "draft not saved");
            None
        }
        Some(Ok(draft)) => Some(draft),
        None => None,
    };
    match step {
        Step::Draft => Ok(see_other(
            &drafts::form_link(filing.code(), &filing.raw_answers, &filing.enterprise),
            DRAFT_SAVED,
        )),
        Step::Edit => {
            filing
                .form(&state, &viewer, BTreeMap::new(), Vec::new(), StatusCode::OK)
                .await
        }
        Step::Review => {
            let problems = saved.as_ref().map(problem_fields).unwrap_or_default();
            if problems.is_empty() {
                filing
                    .review(&state, &viewer, BTreeMap::new(), StatusCode::OK)
                    .await
            } else {
                filing
                    .form(&state, &viewer, problems, Vec::new(), unprocessable)
                    .await
            }
        }
        Step::Submit if value(&posted.fields, DECLARATION) != Some("yes") => {
            let errors = BTreeMap::from([(
                DECLARATION.to_owned(),
                "请阅读并勾选承诺声明后再提交".to_owned(),
            )]);
            filing.review(&state, &viewer, errors, unprocessable).await
        }
        Step::Submit => submit(&state, &viewer, filing).await,
    }
}

/// Files the application (or the corrected returned one). Refusals go
/// back to the form, each at its field.
async fn submit(
    state: &AppState,
    viewer: &Viewer,
    mut filing: Filing,
) -> Result<HttpResponse, PageError> {
    let body = filing.body();
    let submitted = match &filing.resubmit {
        // Correcting a returned application: the whole application again.
        Some(id) => {
            state
                .upstream
                .send(
                    Upstream::Licensing,
                    reqwest::Method::PUT,
                    &format!("/api/v1/applications/{}", id_path(id, "申请")?),
                    Some(&viewer.token),
                    &body,
                )
                .await
        }
        None => {
            state
                .upstream
                .send_idempotent(
                    Upstream::Licensing,
                    "/api/v1/applications",
                    &viewer.token,
                    &filing.idempotency_key,
                    &body,
                )
                .await
        }
    };
    match submitted {
        Ok(app) => Ok(see_other(
            &format!(
                "/licensing/applications/{}",
                app["id"].as_str().unwrap_or_default()
            ),
            "申请已提交（已接件），请等待综合窗口受理",
        )),
        Err(e @ UpstreamError::Refused { status: 422, .. }) => {
            let (errors, general) = page_errors(&e);
            // The key was spent on a refused request: a corrected form is a
            // new request.
            filing.idempotency_key = fresh_key();
            filing
                .form(
                    state,
                    viewer,
                    errors,
                    general,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_review_page_names_every_field_and_material() {
        let html = super::super::ENV
            .get_template("lic_confirm.html")
            .unwrap()
            .render(json!({
                "title": "t", "csrf": "c", "general": [], "posted": {},
                "errors": {"declaration": "请阅读并勾选承诺声明后再提交"},
                "scenario": {"code": "hotel"},
                "notice": {"scenario_name": "开办酒店", "form": [
                    {"key": "room_count", "label": "客房数（间）", "type": "integer"},
                    {"key": "serves", "label": "提供餐饮", "type": "boolean"},
                    {"key": "bed_count", "label": "床位数（张）", "type": "integer"}],
                    "materials": [{"code": "floor_plan", "name": "平面布局图"},
                        {"code": "fire_plan", "name": "消防预案"}]},
                "answers": {"serves_food": "true"},
                "enterprise_uscc": "91350100M000100Y43",
                "values": {"room_count": "80", "serves": "true"},
                "picked": {"floor_plan": "m1"},
                "archive": [{"id": "m1", "material_type_name": "平面布局图", "filename": "plan.pdf", "version": 2}],
                "idempotency_key": "k", "resubmit": null,
            }))
            .unwrap();
        assert!(
            html.contains("客房数（间）") && html.contains(">80<"),
            "{html}"
        );
        assert!(html.contains("plan.pdf（第 2 版）"), "{html}");
        assert!(
            html.contains("（未填写）") && html.contains("（未提交）"),
            "{html}"
        );
        assert!(html.contains("id=\"err-declaration\""), "{html}");
        assert!(html.contains("aria-current=\"step\""), "{html}");
    }
}
