//! `/api/v1/drafts`: 草稿 of a combined application, kept on the server so
//! a long form with many materials survives leaving the page, signing out
//! and a restart. One draft per enterprise and scenario; filing the
//! application deletes it.
//!
//! Who may call: applicants (their own enterprise) and agents (enterprises
//! that authorised them); a draft of another enterprise answers 403, other
//! roles 403.

use actix_web::{HttpResponse, delete, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::Principal;
use yizhan_kit::{FieldError, Problem};
use yizhan_types::Uscc;

use crate::AppState;
use crate::domain::{draft, form, notice};
use crate::routes::applications::SUBMITTERS;
use crate::routes::catalog::unknown_scenario;
use crate::store::drafts::{self, Draft};

/// A draft as saved: everything optional, nothing checked against the
/// catalog yet (that happens on submit).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "enterprise_uscc": "91350100M000100Y43",
    "answers": {"serves_food": true, "floor_area_m2": 1200},
    "form": {"enterprise_name": "福州一站酒店有限公司", "room_count": 80},
    "materials": {"floor_plan": "0193aa00-0000-7000-8000-000000000001"}
}))]
pub struct DraftRequest {
    /// The enterprise's 统一社会信用代码.
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
    pub enterprise_uscc: String,
    /// Questionnaire answers so far.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// Form values so far (field key → value; texts at most 2000
    /// characters).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Material code → material id picked or uploaded so far.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
}

/// A saved draft.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = draft_example)]
pub struct DraftView {
    /// 情形编码.
    pub scenario: String,
    /// 情形名称 (in the current catalog).
    pub scenario_name: String,
    /// The enterprise it is for.
    pub enterprise_uscc: String,
    /// Questionnaire answers.
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// Form values.
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Material code → material id.
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
    /// Who saved it last.
    pub saved_by: String,
    /// Last saved.
    pub updated_at: DateTime<Utc>,
    /// What submitting it now would still be refused for, field by field
    /// (`answers.<key>`, `form.<key>`, `materials.<code>`), against the
    /// current catalog; the materials themselves are checked at the
    /// archive only on submit. Empty when it is complete.
    pub problems: Vec<FieldError>,
}

/// The caller's drafts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = draft_list_example)]
pub struct DraftList {
    /// Last saved first.
    pub items: Vec<DraftView>,
}

/// The documented example of a half-done hotel draft.
fn draft_example() -> Value {
    serde_json::json!({
        "scenario": "hotel",
        "scenario_name": "开办酒店（旅馆）",
        "enterprise_uscc": "91350100M000100Y43",
        "answers": {"serves_food": true, "floor_area_m2": 1200},
        "form": {"enterprise_name": "福州一站酒店有限公司", "room_count": 80},
        "materials": {"floor_plan": "0193aa00-0000-7000-8000-000000000001"},
        "saved_by": "applicant-1",
        "updated_at": "2026-12-03T08:00:00Z",
        "problems": [
            {"field": "form.legal_rep_name", "code": "required", "message": "请填写法定代表人姓名"}
        ]
    })
}

/// The documented example of a draft list.
fn draft_list_example() -> Value {
    serde_json::json!({"items": [draft_example()]})
}

/// Which enterprise's draft (applicants may leave it out: their own).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DraftOf {
    /// The enterprise's 统一社会信用代码; required for agents.
    pub enterprise_uscc: Option<String>,
}

fn view(state: &AppState, d: Draft) -> DraftView {
    let catalog = state.catalog();
    let scenario = catalog.scenario(&d.scenario_code);
    let scenario_name = scenario
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "一业一证申请".into());
    let problems = match scenario {
        None => vec![unknown_scenario(&d.scenario_code).errors]
            .into_iter()
            .flatten()
            .collect(),
        Some(scenario) => match notice::compute(&catalog, scenario, &d.answers) {
            Ok(notice) => form::validate(&notice, &d.form, &d.materials),
            Err(errors) => errors,
        },
    };
    DraftView {
        problems,
        scenario: d.scenario_code,
        scenario_name,
        enterprise_uscc: d.enterprise_uscc,
        answers: d.answers,
        form: d.form,
        materials: d.materials,
        saved_by: d.saved_by,
        updated_at: d.updated_at,
    }
}

/// The scenario of the path, if the current catalog has it.
fn known(state: &AppState, scenario: &str) -> Result<(), Problem> {
    match state.catalog().scenario(scenario) {
        Some(_) => Ok(()),
        None => Err(unknown_scenario(scenario)),
    }
}

/// The enterprise a draft call is about, checked: a valid USCC the caller
/// acts for (403 otherwise).
fn enterprise_of(principal: &Principal, given: Option<&str>) -> Result<String, Problem> {
    principal.require_any(&SUBMITTERS)?;
    let given = given
        .or(principal.uscc.as_deref())
        .ok_or_else(|| Problem::field("enterprise_uscc", "required", "请指明草稿所属企业"))?;
    let uscc =
        Uscc::parse(given).map_err(|e| Problem::field("enterprise_uscc", e.code(), e.message()))?;
    if !principal.may_act_for(uscc.as_str()) {
        return Err(Problem::forbidden(
            "只能查看和保存本企业或已授权代办企业的草稿",
        ));
    }
    Ok(uscc.as_str().to_owned())
}

/// Save the draft of a scenario for an enterprise (replacing any earlier
/// one). Only shape and size are checked (a draft may be half done):
/// every problem is a 422 naming its field (`answers.<key>`,
/// `form.<key>`, `materials.<code>`, `form` when too large). The saved
/// draft's `problems` say what a submit would still be refused for.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；其他企业或其他角色答复 403。
#[utoipa::path(
    tag = "drafts",
    params(("scenario" = String, Path, description = "情形编码")),
    request_body = DraftRequest,
    responses(
        (status = 200, description = "已保存", body = DraftView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权为该企业保存草稿", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "情形不存在，或内容超出限制（逐项列出）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/drafts/{scenario}")]
pub async fn save_draft(
    principal: Principal,
    state: web::Data<AppState>,
    scenario: web::Path<String>,
    body: web::Json<DraftRequest>,
) -> Result<HttpResponse, Problem> {
    let uscc = enterprise_of(&principal, Some(&body.enterprise_uscc))?;
    known(&state, &scenario)?;
    let errors = draft::check(&body.answers, &body.form, &body.materials);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let body = body.into_inner();
    let saved = Draft {
        enterprise_uscc: uscc,
        scenario_code: scenario.into_inner(),
        answers: body.answers,
        form: body.form,
        materials: body.materials,
        saved_by: principal.sub.clone(),
        updated_at: Utc::now(),
    };
    drafts::save(&state.db, &saved).await?;
    Ok(HttpResponse::Ok().json(view(&state, saved)))
}

/// The caller's drafts: an applicant's own enterprise's, an agent's
/// authorising enterprises', last saved first.
///
/// 调用方：申请人、帮办代办员；其他角色答复 403。
#[utoipa::path(
    tag = "drafts",
    responses(
        (status = 200, description = "草稿列表", body = DraftList),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无草稿", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/drafts")]
pub async fn list_drafts(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&SUBMITTERS)?;
    let own: Vec<String> = principal
        .uscc
        .iter()
        .filter(|u| principal.may_act_for(u))
        .chain(
            principal
                .enterprises
                .iter()
                .filter(|e| principal.may_act_for(e)),
        )
        .cloned()
        .collect();
    let items = drafts::list(&state.db, &own)
        .await?
        .into_iter()
        .map(|d| view(&state, d))
        .collect();
    Ok(HttpResponse::Ok().json(DraftList { items }))
}

/// One draft.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；其他企业或其他角色答复 403。
#[utoipa::path(
    tag = "drafts",
    params(("scenario" = String, Path, description = "情形编码"), DraftOf),
    responses(
        (status = 200, description = "草稿", body = DraftView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权查看该企业的草稿", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "没有草稿", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "企业代码有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/drafts/{scenario}")]
pub async fn get_draft(
    principal: Principal,
    state: web::Data<AppState>,
    scenario: web::Path<String>,
    of: web::Query<DraftOf>,
) -> Result<HttpResponse, Problem> {
    let uscc = enterprise_of(&principal, of.enterprise_uscc.as_deref())?;
    let found = drafts::find(&state.db, &uscc, &scenario)
        .await?
        .ok_or_else(|| Problem::not_found("没有该情形的草稿"))?;
    Ok(HttpResponse::Ok().json(view(&state, found)))
}

/// Discard a draft (204 also when there was none).
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；其他企业或其他角色答复 403。
#[utoipa::path(
    tag = "drafts",
    params(("scenario" = String, Path, description = "情形编码"), DraftOf),
    responses(
        (status = 204, description = "已删除"),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权删除该企业的草稿", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "企业代码有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/drafts/{scenario}")]
pub async fn delete_draft(
    principal: Principal,
    state: web::Data<AppState>,
    scenario: web::Path<String>,
    of: web::Query<DraftOf>,
) -> Result<HttpResponse, Problem> {
    let uscc = enterprise_of(&principal, of.enterprise_uscc.as_deref())?;
    drafts::delete(&state.db, &uscc, &scenario).await?;
    Ok(HttpResponse::NoContent().finish())
}
