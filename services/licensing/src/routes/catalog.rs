//! `/api/v1/scenarios`, `/api/v1/notices` and `/api/v1/catalog`: the public
//! catalog and the notice list (一单告知), which anyone may read without
//! logging in (an entrepreneur looks before deciding to apply), and catalog
//! management, which only administrators may do: publishing a new version.
//! Applications keep the version they were made on.

use actix_web::{HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;

use crate::AppState;
use crate::domain::catalog::{Catalog, Condition, Question};
use crate::domain::notice::{self, Notice};

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
#[schema(example = crate::routes::examples::scenario_list)]
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
#[schema(example = crate::routes::examples::scenario)]
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
    let c = state.catalog();
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
) -> Result<HttpResponse, Problem> {
    let c = state.catalog();
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
        (status = 200, description = "告知单", body = Notice, example = super::examples::notice),
        (status = 422, description = "情形不存在或回答有误（逐项列出，字段 answers.<问题>）", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/notices")]
pub async fn compute_notice(
    state: web::Data<AppState>,
    body: web::Json<NoticeRequest>,
) -> Result<HttpResponse, Problem> {
    let c = state.catalog();
    let scenario = c
        .scenario(&body.scenario)
        .ok_or_else(|| unknown_scenario(&body.scenario))?;
    let notice = notice::compute(&c, scenario, &body.answers).map_err(Problem::validation)?;
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

/// The whole current catalog: departments, fields, materials, items and
/// scenarios, with its version. An administrator edits this document and
/// publishes it with `PUT /catalog` as the next version.
///
/// 调用方：任何人（无需登录）。
#[utoipa::path(
    tag = "catalog",
    responses((status = 200, description = "当前事项目录", body = Catalog, example = super::examples::catalog)),
)]
#[get("/catalog")]
pub async fn get_catalog(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.catalog().as_ref())
}

/// One stored catalog version, whole: versions run from 1 to the current
/// one and are never changed, so an administrator can read what an older
/// application was made on, or compare before publishing.
///
/// 调用方：任何人（无需登录）。
#[utoipa::path(
    tag = "catalog",
    params(("version" = i32, Path, description = "目录版本", example = 1)),
    responses(
        (status = 200, description = "该版本的事项目录", body = Catalog, example = super::examples::catalog),
        (status = 404, description = "版本不存在", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/catalog/versions/{version}")]
pub async fn get_catalog_version(
    state: web::Data<AppState>,
    version: web::Path<i32>,
) -> Result<HttpResponse, Problem> {
    let catalog = crate::store::catalog::version(&state.db, *version)
        .await?
        .ok_or_else(|| Problem::not_found(format!("目录版本 {} 不存在", *version)))?;
    Ok(HttpResponse::Ok().json(catalog))
}

/// Publish a new catalog version (事项目录管理). The body is the whole
/// catalog, with `version` set to the current version + 1 (a stale version
/// is a 409, so two administrators never overwrite each other). Every
/// inconsistency is reported at once as a field error (`items[3].department`,
/// `scenarios[0].items[2].item` …). New notices and applications use the
/// new version at once (other replicas within a job interval); applications
/// already made keep theirs.
///
/// 调用方：管理员；其他角色答复 403。
#[utoipa::path(
    tag = "catalog",
    request_body(content = Catalog, example = super::examples::catalog),
    responses(
        (status = 200, description = "已发布的新版本", body = Catalog, example = super::examples::catalog),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非管理员", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "版本号不是当前版本 + 1（catalog_version_conflict）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "目录内容不一致（逐项列出）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/catalog")]
pub async fn publish_catalog(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Json<Catalog>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Admin])?;
    let actor = crate::store::Actor {
        sub: principal.sub.clone(),
        role: Role::Admin.as_str().into(),
    };
    let published = crate::store::catalog::publish(&state.db, body.into_inner(), &actor).await?;
    state.adopt_catalog(published.clone());
    state.signal.wake();
    Ok(HttpResponse::Ok().json(published))
}
