//! `/api/v1/projects`: registration (项目登记), tracking with the budget
//! and timeline, the stage form of a project, and the land-grant record
//! (拿地即开工).
//!
//! Who may call: builders (applicants of the enterprise) and agents
//! authorised by it register and read their projects; window clerks,
//! admins and partners with `construction:read` read all; reviewers read
//! projects with a task in their department. Others get 404, never data.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::{FieldError, Problem};
use yizhan_types::{ProjectCode, Uscc};

use super::views::{
    ProjectSummary, ProjectView, SCOPE_LAND, SCOPE_READ, State, actor, plausible, project_summary,
    project_view, readable_project,
};
use crate::domain::catalog::{Category, Stage};
use crate::domain::form::{StageForm, stage_form};
use crate::store::projects::{LandGrant, ListScope, NewProject};
use crate::store::{self, Idempotent, Recorded};
use yizhan_kit::text::has_control_chars;

/// Project scale (建设规模).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// 总建筑面积, m².
    #[schema(exclusive_minimum = 0.0, maximum = 10_000_000.0)]
    pub floor_area_m2: f64,
    /// 总投资, 万元.
    #[schema(exclusive_minimum = 0.0, maximum = 100_000_000.0)]
    pub total_investment_wan: f64,
}

/// 项目登记.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "project_code": "2026-350121-54-01-000123",
    "name": "福州一站科创园配套仓储用房",
    "builder_uscc": "91350100M000100Y43",
    "builder_name": "福州一站科技有限公司",
    "location": "福州市闽侯县上街镇科技东路 8 号",
    "category": "small_low_risk",
    "scale": {"floor_area_m2": 2400, "total_investment_wan": 1800},
    "land_granted": false
}))]
pub struct RegisterRequest {
    /// 投资项目代码 `YYYY-AAAAAA-II-TT-NNNNNN`.
    #[schema(pattern = r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")]
    pub project_code: String,
    /// Project name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// 建设单位 统一社会信用代码.
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
    pub builder_uscc: String,
    /// 建设单位 name.
    #[schema(min_length = 1, max_length = 200)]
    pub builder_name: String,
    /// 建设地点.
    #[schema(min_length = 1, max_length = 200)]
    pub location: String,
    /// `government_investment`, `social_investment` or `small_low_risk`.
    #[schema(value_type = Category)]
    pub category: String,
    /// Scale.
    pub scale: Scale,
    /// Land already granted (划拨, or a contract signed before registration).
    #[serde(default)]
    pub land_granted: bool,
}

/// Largest floor area of a 小型低风险 project, m².
const SMALL_LOW_RISK_MAX_AREA: f64 = 5000.0;

fn text(errors: &mut Vec<FieldError>, field: &str, label: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, "required", format!("请填写{label}")));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("{label}最多 {max} 个字"),
        ));
    } else if has_control_chars(v) {
        errors.push(FieldError::new(
            field,
            "invalid_character",
            format!("{label}含有不可见的控制字符"),
        ));
    }
    v.to_owned()
}

/// Every problem of a registration at once, each naming its field.
fn check(body: &RegisterRequest, budgets: &crate::Budgets) -> Result<NewProject, Problem> {
    let mut errors = Vec::new();
    let code = ProjectCode::parse(body.project_code.trim())
        .map_err(|e| errors.push(FieldError::new("project_code", e.code(), e.message())))
        .ok();
    let uscc = Uscc::parse(body.builder_uscc.trim())
        .map_err(|e| errors.push(FieldError::new("builder_uscc", e.code(), e.message())))
        .ok();
    let name = text(&mut errors, "name", "项目名称", &body.name, 200);
    let builder_name = text(
        &mut errors,
        "builder_name",
        "建设单位名称",
        &body.builder_name,
        200,
    );
    let location = text(&mut errors, "location", "建设地点", &body.location, 200);
    let category = Category::from_wire(&body.category);
    if category.is_none() {
        errors.push(FieldError::new(
            "category",
            "unknown_category",
            "项目分类须为 government_investment（政府投资）、social_investment（社会投资）或 small_low_risk（社会投资小型低风险）",
        ));
    }
    let area = body.scale.floor_area_m2;
    if !(area.is_finite() && area > 0.0 && area <= 10_000_000.0) {
        errors.push(FieldError::new(
            "scale.floor_area_m2",
            "out_of_range",
            "总建筑面积须大于 0 且不超过 10,000,000 平方米",
        ));
    } else if category == Some(Category::SmallLowRisk) && area > SMALL_LOW_RISK_MAX_AREA {
        errors.push(FieldError::new(
            "scale.floor_area_m2",
            "category_mismatch",
            format!("小型低风险项目的总建筑面积不超过 {SMALL_LOW_RISK_MAX_AREA} 平方米"),
        ));
    }
    let investment = body.scale.total_investment_wan;
    if !(investment.is_finite() && investment > 0.0 && investment <= 100_000_000.0) {
        errors.push(FieldError::new(
            "scale.total_investment_wan",
            "out_of_range",
            "总投资须大于 0 且不超过 100,000,000 万元",
        ));
    }
    match (code, uscc, category) {
        (Some(code), Some(uscc), Some(category)) if errors.is_empty() => Ok(NewProject {
            project_code: code.as_str().to_owned(),
            name,
            builder_uscc: uscc.as_str().to_owned(),
            builder_name,
            location,
            category,
            floor_area_m2: area,
            total_investment_wan: investment,
            budget_days: i32::from(budgets.of(category)),
            land_granted: body.land_granted,
        }),
        _ => Err(Problem::validation(errors)),
    }
}

const REGISTRANTS: [Role; 2] = [Role::Applicant, Role::Agent];

/// Register a project (项目登记) with its investment project code, builder,
/// location, category and scale. Every problem is reported at once, each
/// naming its field. The category sets the whole-process budget (working
/// days, configurable) and which items each stage holds. A code already
/// registered answers 409 `project_code_taken`.
///
/// 调用方：申请人（为本企业）、帮办代办员（为已授权的企业）；其他角色答复 403。
#[utoipa::path(
    tag = "projects",
    request_body = RegisterRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "重试同一请求时携带同一键，返回首次结果")),
    responses(
        (status = 201, description = "已登记", body = ProjectView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权为该企业登记", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "项目代码已登记", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过（一次性逐项列出）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/projects")]
pub async fn register(
    principal: Principal,
    key: IdempotencyKey,
    state: State,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&REGISTRANTS)?;
    let new = check(&body, &state.settings.budgets)?;
    if !principal.may_act_for(&new.builder_uscc) {
        return Err(Problem::forbidden("只能为本企业或已授权代办的企业登记项目"));
    }
    let bytes = serde_json::to_vec(&*body).unwrap_or_default();
    let fingerprint = idempotency::fingerprint(&[&bytes]);
    let scope = format!("{} POST /api/v1/projects", principal.sub);
    let idempotent = key.0.as_deref().map(|k| Idempotent {
        scope: &scope,
        key: k,
        fingerprint: &fingerprint,
    });
    let now = Utc::now();
    let respond = |parts: &store::projects::ProjectParts| project_view(&state, parts, now);
    let who = actor(&principal, &REGISTRANTS);
    match store::projects::register(&state.db, new, &who, idempotent, respond).await? {
        Recorded::Created(parts) => {
            state.signal.wake();
            Ok(HttpResponse::Created()
                .insert_header((
                    header::LOCATION,
                    format!("/api/v1/projects/{}", parts.project.id),
                ))
                .json(project_view(&state, &parts, now)))
        }
        Recorded::Replayed(stored) => Ok(stored.into_response()),
    }
}

/// Projects newest first: a builder's own, an agent's authorising
/// enterprises', or (clerks, admins, partners with `construction:read`)
/// everyone's.
///
/// 调用方：申请人、帮办代办员（仅本企业/授权企业）、综合窗口人员、管理员、持 construction:read 的合作系统；其他角色答复 403。
#[utoipa::path(
    tag = "projects",
    params(PageQuery),
    responses(
        (status = 200, description = "项目列表", body = Page<ProjectSummary>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看项目列表", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/projects")]
pub async fn list(
    principal: Principal,
    state: State,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let all = principal.has_role(Role::WindowClerk)
        || principal.has_role(Role::Admin)
        || (principal.has_role(Role::Partner) && principal.has_scope(SCOPE_READ));
    let scope = if all {
        ListScope::All
    } else {
        principal.require_any(&REGISTRANTS)?;
        let mut own: Vec<String> = Vec::new();
        if principal.has_role(Role::Applicant)
            && let Some(u) = &principal.uscc
        {
            own.push(u.clone());
        }
        if principal.has_role(Role::Agent) {
            own.extend(principal.enterprises.iter().cloned());
        }
        ListScope::Builders(own)
    };
    let limit = page.limit()?;
    let before = page.position::<String>()?;
    let rows = store::projects::list(&state.db, &scope, before.as_deref(), limit).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |p| p.id.clone(),
        project_summary,
    )))
}

/// One project: stages with their tasks (BLZT codes, committed deadlines),
/// inspections, consultations, the whole-process budget (working days used
/// against the category budget, state, due date) and the timeline of every
/// step with who acted (帮办代办 agents shown as `agent`).
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）、综合窗口人员、管理员、持 construction:read 的合作系统；部门审批人员（本部门有任务的项目）。他人答复 404。
#[utoipa::path(
    tag = "projects",
    params(("id" = String, Path, description = "项目编号")),
    responses(
        (status = 200, description = "项目详情、全流程时限与办理进度", body = ProjectView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/projects/{id}")]
pub async fn get_project(
    principal: Principal,
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    readable_project(&state, &principal, &id).await?;
    let parts = store::projects::load(&state.db, &id)
        .await?
        .ok_or_else(|| Problem::not_found("项目不存在"))?;
    Ok(HttpResponse::Ok().json(project_view(&state, &parts, Utc::now())))
}

/// The merged form of one stage for this project's category (分阶段一表):
/// the items reviewed in parallel with their departments and limits, each
/// field once, the materials (key materials cannot be owed under 容缺受理)
/// and which items allow 告知承诺制.
///
/// 调用方：可查看该项目者（见项目详情）；他人答复 404。
#[utoipa::path(
    tag = "projects",
    params(
        ("id" = String, Path, description = "项目编号"),
        ("stage" = Stage, Path, description = "阶段：land_planning、engineering_permit、construction_permit、completion"),
    ),
    responses(
        (status = 200, description = "阶段一表", body = StageForm, example = super::examples::stage_form),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "项目或阶段不存在", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/projects/{id}/stages/{stage}/form")]
pub async fn stage_form_of(
    principal: Principal,
    state: State,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (id, stage) = path.into_inner();
    let p = readable_project(&state, &principal, &id).await?;
    let stage = Stage::from_wire(&stage).ok_or_else(|| Problem::not_found("阶段不存在"))?;
    Ok(HttpResponse::Ok().json(stage_form(&state.catalog, stage, p.category())))
}

/// 土地出让登记.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contract_number": "闽侯出让〔2026〕18号", "granted_on": "2026-11-23"}))]
pub struct LandGrantRequest {
    /// 土地出让合同编号.
    #[schema(min_length = 1, max_length = 64)]
    pub contract_number: String,
    /// Day of the grant, `YYYY-MM-DD`.
    pub granted_on: NaiveDate,
}

/// Record the land grant (拿地即开工): every item pre-reviewed before it
/// (pre-approved, BLZT 8) becomes approved at once (BLZT 11), and stages
/// whose items are then all approved complete in the same step — so the
/// construction permit is requested the same day. A second record answers
/// 409 `land_already_granted`.
///
/// 调用方：综合窗口人员、管理员、持 construction:land_grant 的合作系统（如自然资源部门系统）；其他角色答复 403。
#[utoipa::path(
    tag = "projects",
    params(("id" = String, Path, description = "项目编号")),
    request_body = LandGrantRequest,
    responses(
        (status = 200, description = "已登记，预审事项即时转为正式批准", body = ProjectView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权登记土地出让", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "项目不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "已登记", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "合同编号有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/projects/{id}/land-grant")]
pub async fn land_grant(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<LandGrantRequest>,
) -> Result<HttpResponse, Problem> {
    let allowed = principal.has_role(Role::WindowClerk)
        || principal.has_role(Role::Admin)
        || (principal.has_role(Role::Partner) && principal.has_scope(SCOPE_LAND));
    if !allowed {
        return Err(Problem::forbidden(
            "仅综合窗口人员、管理员或持 construction:land_grant 权限的合作系统可登记土地出让",
        ));
    }
    let mut errors = Vec::new();
    let contract_number = text(
        &mut errors,
        "contract_number",
        "土地出让合同编号",
        &body.contract_number,
        64,
    );
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let who = actor(&principal, &[Role::WindowClerk, Role::Admin, Role::Partner]);
    let parts = store::projects::record_land_grant(
        &state.db,
        &state.calendar,
        plausible(&id, "项目")?,
        LandGrant {
            contract_number,
            granted_on: body.granted_on,
        },
        &who,
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(project_view(&state, &parts, Utc::now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_lists_every_problem_at_once() {
        let body = RegisterRequest {
            project_code: "2026-35010-54-01-000123".into(),
            name: " ".into(),
            builder_uscc: "91350100M000100Y44".into(),
            builder_name: "某公司".into(),
            location: "福州".into(),
            category: "small_low_risk".into(),
            scale: Scale {
                floor_area_m2: 9000.0,
                total_investment_wan: -1.0,
            },
            land_granted: false,
        };
        let p = check(&body, &crate::Budgets::default()).unwrap_err();
        let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "project_code",
            "builder_uscc",
            "name",
            "scale.floor_area_m2",
            "scale.total_investment_wan",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
    }
}
