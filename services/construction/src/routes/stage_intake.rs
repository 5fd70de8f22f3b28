//! `/api/v1/stages/{id}/intake` and `/owed-materials`: 综合受理 (accept,
//! 容缺受理, or return with the one-time list) and the owed 容缺 materials.
//!
//! Who may call: window clerks take intake; builders and authorised agents
//! supply owed materials. A stage the caller may not see answers 404.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;
use yizhan_auth::{Principal, Role, authorization};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_events::one_time::{self, DeficiencyInput};
use yizhan_kit::{FieldError, Problem};

use super::stages::SUBMITTERS;
use super::views::{StageView, State, actor, plausible, stage_view};
use crate::domain::form::{StageForm, stage_form};
use crate::store::{self, Intake, stage_application};
use yizhan_workflow::form::is_material_id;

/// The window's decision.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntakeDecision {
    /// 受理.
    Accept,
    /// 容缺受理: accept with non-key materials owed by a due date.
    AcceptWithTolerance,
    /// 不受理, with the one-time list.
    Reject,
}

/// 综合受理.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "accept_with_tolerance", "owed_materials": ["legal_rep_id_card"], "tolerance_days": 5}))]
pub struct IntakeRequest {
    /// `accept`, `accept_with_tolerance` or `reject`.
    pub decision: IntakeDecision,
    /// With `reject`: every deficiency at once (non-empty).
    #[serde(default)]
    pub deficiencies: Vec<DeficiencyInput>,
    /// With `accept_with_tolerance`: the non-key materials owed (each
    /// missing from the application).
    #[serde(default)]
    pub owed_materials: Vec<String>,
    /// With `accept_with_tolerance`: working days to supply them, from 1 to
    /// the configured longest period (20 unless configured otherwise).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub tolerance_days: Option<u32>,
}

/// The one-time list against the stage's form
/// (`yizhan_events::one_time::check_list`).
fn check_deficiencies(
    form: &StageForm,
    list: &[DeficiencyInput],
) -> Result<Vec<IntakeDeficiency>, Problem> {
    one_time::check_list(
        list,
        "deficiencies",
        |f| {
            form.fields
                .iter()
                .find(|x| x.key == f)
                .map(|x| x.label.clone())
        },
        |m| {
            form.materials
                .iter()
                .find(|x| x.code == m)
                .map(|x| x.name.clone())
        },
    )
}

/// 容缺: only non-key materials the application lacks may be owed.
fn check_tolerance(
    state: &State,
    form: &StageForm,
    app: &stage_application::Model,
    body: &IntakeRequest,
) -> Result<(Vec<String>, NaiveDate), Problem> {
    let mut errors = Vec::new();
    let given: Map<String, Value> = serde_json::from_str(&app.materials).unwrap_or_default();
    if body.owed_materials.is_empty() {
        errors.push(FieldError::new(
            "owed_materials",
            "required",
            "容缺受理须列出容缺的非关键材料",
        ));
    }
    for (i, code) in body.owed_materials.iter().enumerate() {
        let name = format!("owed_materials[{i}]");
        match form.materials.iter().find(|m| &m.code == code) {
            None => errors.push(FieldError::new(
                name,
                "unknown_material",
                format!("本阶段不需要材料 {code}"),
            )),
            Some(m) if m.key => errors.push(FieldError::new(
                name,
                "key_material",
                format!("{}是关键材料，不能容缺", m.name),
            )),
            Some(m) if given.get(code).is_some_and(is_material_id) => errors.push(FieldError::new(
                name,
                "already_provided",
                format!("{}已提交，无须容缺", m.name),
            )),
            Some(_) => {}
        }
    }
    let max = state.settings.tolerance_max_days;
    let days = match body.tolerance_days {
        Some(d) if (1..=max).contains(&d) => d,
        _ => {
            errors.push(FieldError::new(
                "tolerance_days",
                "out_of_range",
                format!("容缺补齐期限须为 1 至 {max} 个工作日"),
            ));
            0
        }
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let today = china_local(Utc::now()).date();
    let due = state
        .calendar
        .add_working_days(today, days)
        .map_err(|e| Problem::field("tolerance_days", e.code(), e.message()))?
        .value;
    let mut owed = body.owed_materials.clone();
    owed.sort();
    owed.dedup();
    Ok((owed, due))
}

/// Intake (前台综合受理): accept — every item of the stage becomes a task
/// in its department's queue at once (BLZT 3 then 8; items under 告知承诺制
/// 12 at once with a verification deadline); accept with tolerance (容缺受理:
/// only non-key materials missing from the application, due in
/// `tolerance_days` working days; approvals meanwhile are 12, and the stage
/// completes only once they are supplied); or reject with the one-time list
/// of every deficiency (BLZT 4; the builder files the stage again).
///
/// 调用方：综合窗口人员；其他角色答复 403。
#[utoipa::path(
    tag = "stages",
    params(("id" = String, Path, description = "阶段申请编号")),
    request_body = IntakeRequest,
    responses(
        (status = 200, description = "受理结果", body = StageView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非综合窗口人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "阶段申请不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能受理（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "补齐清单或容缺内容有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/stages/{id}/intake")]
pub async fn intake(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<IntakeRequest>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::WindowClerk])?;
    let app = store::stages::find(&state.db, plausible(&id, "阶段申请")?)
        .await?
        .ok_or_else(|| Problem::not_found("阶段申请不存在"))?;
    let catalog = if app.catalog_version == state.catalog.version {
        state.catalog.as_ref().clone()
    } else {
        store::catalog::version(&state.db, app.catalog_version)
            .await?
            .ok_or_else(|| {
                sea_orm::DbErr::Custom(format!("catalog version {} missing", app.catalog_version))
            })?
    };
    let category = crate::domain::catalog::Category::from_wire(&app.category)
        .unwrap_or(crate::domain::catalog::Category::SocialInvestment);
    let form = stage_form(&catalog, app.stage(), category);
    let stray = |field: &str, what: &str| {
        Problem::field(
            field,
            "not_allowed",
            format!("{what}仅在对应受理决定下填写"),
        )
    };
    let decision = match body.decision {
        IntakeDecision::Accept | IntakeDecision::AcceptWithTolerance
            if !body.deficiencies.is_empty() =>
        {
            return Err(stray("deficiencies", "补齐清单"));
        }
        IntakeDecision::Accept
            if !body.owed_materials.is_empty() || body.tolerance_days.is_some() =>
        {
            return Err(stray("owed_materials", "容缺材料与期限"));
        }
        IntakeDecision::Reject
            if !body.owed_materials.is_empty() || body.tolerance_days.is_some() =>
        {
            return Err(stray("owed_materials", "容缺材料与期限"));
        }
        IntakeDecision::Accept => Intake::Accept {
            owed: Vec::new(),
            due: None,
        },
        IntakeDecision::AcceptWithTolerance => {
            let (owed, due) = check_tolerance(&state, &form, &app, &body)?;
            Intake::Accept {
                owed,
                due: Some(due),
            }
        }
        IntakeDecision::Reject => Intake::Return(check_deficiencies(&form, &body.deficiencies)?),
    };
    let parts = store::intake(
        &state.db,
        &state.calendar,
        &catalog,
        &id,
        decision,
        state.settings.commitment_verification_days,
        &actor(&principal, &[Role::WindowClerk]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(stage_view(&state, &parts, Utc::now())))
}

/// 容缺材料补齐.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"materials": {"legal_rep_id_card": "0193aa00-0000-7000-8000-000000000009"}}))]
pub struct OwedMaterialsRequest {
    /// Owed material code → material id at the document service.
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
}

/// Supply materials owed under 容缺受理, before the due date. Only owed
/// codes are accepted. Once nothing is owed the stage completes if every
/// item is approved.
///
/// 调用方：申请人（本企业项目）、帮办代办员（已授权企业的项目）；他人答复 404，其他角色 403。
#[utoipa::path(
    tag = "stages",
    params(("id" = String, Path, description = "阶段申请编号")),
    request_body = OwedMaterialsRequest,
    responses(
        (status = 200, description = "已补齐", body = StageView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权补交", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "没有待补齐的容缺材料", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "材料编号有误或不在容缺清单内", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/stages/{id}/owed-materials")]
pub async fn supply_owed(
    principal: Principal,
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<OwedMaterialsRequest>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&SUBMITTERS)?;
    let app = store::stages::find(&state.db, plausible(&id, "阶段申请")?)
        .await?
        .filter(|a| principal.may_act_for(&a.builder_uscc))
        .ok_or_else(|| Problem::not_found("阶段申请不存在"))?;
    let mut errors = Vec::new();
    if body.materials.is_empty() {
        errors.push(FieldError::new("materials", "required", "请提交容缺材料"));
    }
    for (k, v) in &body.materials {
        if !is_material_id(v) {
            errors.push(FieldError::new(
                format!("materials.{k}"),
                "invalid_material_id",
                "须为材料服务返回的材料编号",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    state
        .materials
        .verify(authorization(&req), &app.builder_uscc, &body.materials)
        .await?;
    let parts = store::supply_owed(
        &state.db,
        &state.calendar,
        &app.id,
        body.materials.clone(),
        &actor(&principal, &SUBMITTERS),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(stage_view(&state, &parts, Utc::now())))
}
