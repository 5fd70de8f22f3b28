//! `/api/v1/scenarios` and `/api/v1/notices`: the public catalog and the
//! notice list (一单告知). Anyone may read them, without logging in: an
//! entrepreneur looks before deciding to apply.
//!
//! Catalog management by admins is not here yet: the catalog is seeded
//! (version 1) and read-only.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_kit::Problem;

use crate::AppState;
use crate::domain::catalog::{Condition, Question};
use crate::domain::notice::{self, Notice};
use crate::error::Error;

/// One scenario in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioSummary {
    /// 情形编码.
    pub code: String,
    /// Name.
    pub name: String,
    /// Licence issued.
    pub licence_name: String,
    /// Description.
    pub description: String,
    /// How many items it may involve.
    pub item_count: usize,
}

/// Every scenario of the current catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioList {
    /// Catalog version.
    pub catalog_version: i32,
    /// Scenarios.
    pub items: Vec<ScenarioSummary>,
}

/// An item a scenario may involve, and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioItemView {
    /// 事项编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// 法定时限, working days.
    pub statutory_limit: f64,
    /// 承诺时限, working days.
    pub committed_limit: f64,
    /// When it is needed.
    pub condition: Condition,
}

/// A scenario with its questionnaire.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioDetail {
    /// Catalog version.
    pub catalog_version: i32,
    /// 情形编码.
    pub code: String,
    /// Name.
    pub name: String,
    /// Licence issued.
    pub licence_name: String,
    /// Description.
    pub description: String,
    /// 问卷: answer every question in `POST /api/v1/notices`.
    pub questions: Vec<Question>,
    /// Items and when each applies.
    pub items: Vec<ScenarioItemView>,
}

/// Industry scenarios (情形) of the current catalog.
///
/// 调用方：任何人，无需登录。
#[utoipa::path(
    tag = "catalog",
    responses((status = 200, description = "情形列表", body = ScenarioList)),
    security(())
)]
#[get("/scenarios")]
pub async fn list_scenarios(state: web::Data<AppState>) -> HttpResponse {
    let c = &state.catalog;
    HttpResponse::Ok().json(ScenarioList {
        catalog_version: c.version,
        items: c
            .scenarios
            .iter()
            .map(|s| ScenarioSummary {
                code: s.code.clone(),
                name: s.name.clone(),
                licence_name: s.licence_name.clone(),
                description: s.description.clone(),
                item_count: s.items.len(),
            })
            .collect(),
    })
}

/// One scenario: its questionnaire and the items its answers may select.
///
/// 调用方：任何人，无需登录。
#[utoipa::path(
    tag = "catalog",
    params(("code" = String, Path, description = "情形编码", example = "hotel")),
    responses(
        (status = 200, description = "情形详情", body = ScenarioDetail),
        (status = 404, description = "情形不存在", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/scenarios/{code}")]
pub async fn get_scenario(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = &state.catalog;
    let s = c
        .scenario(&code)
        .ok_or_else(|| Problem::not_found(format!("情形 {code} 不存在")))?;
    let items = s
        .items
        .iter()
        .filter_map(|si| {
            let item = c.item(&si.item)?;
            let dept = c.department(&item.department)?;
            Some(ScenarioItemView {
                code: item.code.clone(),
                name: item.name.clone(),
                department_code: dept.code.clone(),
                department_name: dept.name.clone(),
                statutory_limit: item.statutory_limit.as_days_f64(),
                committed_limit: item.committed_limit.as_days_f64(),
                condition: si.condition.clone(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(ScenarioDetail {
        catalog_version: c.version,
        code: s.code.clone(),
        name: s.name.clone(),
        licence_name: s.licence_name.clone(),
        description: s.description.clone(),
        questions: s.questions.clone(),
        items,
    }))
}

/// A notice request: a scenario and the answers to its questionnaire.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "scenario": "hotel",
    "answers": {"serves_food": true, "floor_area_m2": 1200, "hosts_performances": true}
}))]
pub struct NoticeRequest {
    /// 情形编码.
    pub scenario: String,
    /// Answers, question key → value.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
}

/// 一单告知: the items, departments, materials (each once), merged form and
/// time limits a scenario with these answers needs. Printable as is.
///
/// 调用方：任何人，无需登录。
#[utoipa::path(
    tag = "catalog",
    request_body = NoticeRequest,
    responses(
        (status = 200, description = "告知单", body = Notice),
        (status = 422, description = "情形不存在或回答有误（逐项列出，字段 answers.<问题>）", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/notices")]
pub async fn compute_notice(
    state: web::Data<AppState>,
    body: web::Json<NoticeRequest>,
) -> Result<HttpResponse, Error> {
    let c = &state.catalog;
    let scenario = c
        .scenario(&body.scenario)
        .ok_or_else(|| unknown_scenario(&body.scenario))?;
    let notice = notice::compute(c, scenario, &body.answers).map_err(Problem::validation)?;
    Ok(HttpResponse::Ok().json(notice))
}

/// The 422 for a scenario code the catalog does not have.
pub fn unknown_scenario(code: &str) -> Problem {
    Problem::field(
        "scenario",
        "unknown_scenario",
        format!("情形 {code} 不存在，请从 GET /api/v1/scenarios 中选择"),
    )
}
