//! `/api/v1/tasks/{id}/supplement-requests`, `/supplements` and
//! `/special-procedure`: 补正 and 特别程序 on construction tasks, the same
//! bodies and rules as licensing (the engine's), the clock pausing and
//! resuming where it stopped.
//!
//! Who may call: department reviewers for their own department's tasks
//! (补正 requests, 特别程序); the builder (applicant of the enterprise, or an
//! authorised agent) for what a 补正 asked. Anyone else's task answers 404.

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use serde_json::{Map, Value};
use yizhan_auth::{Principal, Role, authorization};
use yizhan_events::one_time;
use yizhan_kit::{FieldError, Problem};
use yizhan_workflow::api::{SpecialProcedureBody, SupplementRequestBody, SupplyBody};
use yizhan_workflow::task_row;

use super::views::{State, TaskView, actor, plausible, task_view};
use crate::domain::form::{StageForm, stage_form, validate};
use crate::store::task_steps::TaskWork;
use crate::store::{self, stage_application};

const SUPPLIERS: [Role; 2] = [Role::Applicant, Role::Agent];

/// The stage form a task's stage application was filed on.
fn form_of(state: &State, app: &stage_application::Model) -> StageForm {
    let category = crate::domain::catalog::Category::from_wire(&app.category)
        .unwrap_or(crate::domain::catalog::Category::SocialInvestment);
    stage_form(&state.catalog, app.stage(), category)
}

/// Request a supplement (要求补正) on a construction task: the task goes to
/// 补正（开始）(BLZT 6) with the one-time list of every field or material
/// of its stage form to supply, and its clock pauses. Only from review;
/// otherwise 409 `illegal_transition`; a stopped or concluded stage 409
/// `stage_not_in_review`.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = SupplementRequestBody,
    responses(
        (status = 200, description = "已要求补正，暂停计时", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能要求补正", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "补正清单有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/supplement-requests")]
pub async fn request_supplement(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<SupplementRequestBody>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    let t = store::tasks::find(&state.db, plausible(&id, "任务")?)
        .await?
        .filter(|t| t.department_code == dept)
        .ok_or_else(|| Problem::not_found("任务不存在"))?;
    let app = store::stages::find(&state.db, t.stage_application_id())
        .await?
        .ok_or_else(|| Problem::not_found("任务不存在"))?;
    let form = form_of(&state, &app);
    let items = one_time::check_list(
        &body.items,
        "items",
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
    )?;
    let t = store::task_steps::step_task(
        &state.db,
        &state.calendar,
        &id,
        |t| t.department_code == dept,
        TaskWork::RequestSupplement { items },
        |_, _, _| Vec::new(),
        &actor(&principal, &[Role::DeptReviewer]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(task_view(&state.calendar, &t, &[], Utc::now())))
}

/// The problems with supplied values, against the stage form, as they
/// would read in the filing (only the supplied keys).
fn check_values(
    form: &StageForm,
    app: &stage_application::Model,
    values: &Map<String, Value>,
    materials: &Map<String, Value>,
) -> Vec<FieldError> {
    let mut merged_form: Map<String, Value> = serde_json::from_str(&app.form).unwrap_or_default();
    let mut merged_materials: Map<String, Value> =
        serde_json::from_str(&app.materials).unwrap_or_default();
    merged_form.extend(values.clone());
    merged_materials.extend(materials.clone());
    let committed: BTreeSet<String> = store::parse_list(&app.commitments).into_iter().collect();
    validate(form, &merged_form, &merged_materials, &committed)
        .into_iter()
        .filter(|e| {
            values.keys().any(|k| e.field == format!("form.{k}"))
                || materials
                    .keys()
                    .any(|k| e.field == format!("materials.{k}"))
        })
        .collect()
}

/// Supply what a 补正 request asked for: every field and material on the
/// list, nothing else, each checked against the stage form (materials at
/// the document service: the builder's own, of the type asked for). The
/// values replace the stage application's; the task goes to 补正（结束）
/// (BLZT 7) and back to review (8), its clock resumed where it stopped.
/// Without an open request: 409 `illegal_transition`.
///
/// 调用方：申请人（本企业项目）、帮办代办员（已授权企业）；他人的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = SupplyBody,
    responses(
        (status = 200, description = "补正已提交，恢复计时", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非申请人或代办员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本企业", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "未要求补正", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "补正内容与清单不符或校验未通过", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/supplements")]
pub async fn supply(
    principal: Principal,
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    body: web::Json<SupplyBody>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&SUPPLIERS)?;
    let mine = |t: &task_row::Model| principal.may_act_for(&t.enterprise_uscc);
    let found = store::tasks::find(&state.db, plausible(&id, "任务")?)
        .await?
        .filter(|t| mine(t))
        .ok_or_else(|| Problem::not_found("任务不存在"))?;
    state
        .materials
        .verify(authorization(&req), found.builder_uscc(), &body.materials)
        .await?;
    let app = store::stages::find(&state.db, found.stage_application_id())
        .await?
        .ok_or_else(|| Problem::not_found("任务不存在"))?;
    let form = form_of(&state, &app);
    let t = store::task_steps::step_task(
        &state.db,
        &state.calendar,
        &id,
        mine,
        TaskWork::ProvideSupplement {
            form: body.form.clone(),
            materials: body.materials.clone(),
        },
        |app, values, materials| check_values(&form, app, values, materials),
        &actor(&principal, &SUPPLIERS),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(task_view(&state.calendar, &t, &[], Utc::now())))
}

/// Start (BLZT 9, clock paused) or end (BLZT 10, clock resumed where it
/// stopped, then back to 8 in the department's queue) a special procedure:
/// hearing, testing or expert review (行政许可法第四十五条：不计入审批时限).
/// Only from review to start, only from 9 to end; otherwise 409
/// `illegal_transition`.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = SpecialProcedureBody,
    responses(
        (status = 200, description = "特别程序已启动或结束", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能启动或结束特别程序", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少程序类型或理由", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/special-procedure")]
pub async fn special_procedure(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<SpecialProcedureBody>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    plausible(&id, "任务")?;
    let step = body.step()?;
    let t = store::task_steps::step_task(
        &state.db,
        &state.calendar,
        &id,
        |t| t.department_code == dept,
        TaskWork::Special(step),
        |_, _, _| Vec::new(),
        &actor(&principal, &[Role::DeptReviewer]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(task_view(&state.calendar, &t, &[], Utc::now())))
}
