//! `/api/v1/tasks`: the department queues of parallel review (并联审批) and
//! the reviewers' decisions.
//!
//! Who may call: department reviewers, for their own department's tasks
//! only (the token's `dept`); another department's task answers 404. The
//! applicant (own enterprise) or an authorised agent supplies what a 补正
//! request asked for; another enterprise's task answers 404.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use yizhan_approval::{Calendar, Status};
use yizhan_auth::{Principal, Role, authorization};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_kit::Problem;
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::text::is_plausible_id;
use yizhan_workflow::api::{
    ClockView, DecisionRequest, QueueFilter, SpecialProcedureBody, SupplementRequestBody,
    SupplyBody, TaskStatus,
};

use crate::AppState;
use crate::routes::intake::check_deficiencies;
use crate::store::{self, Actor, TaskWork, task};

/// One item task (事项实例).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::task)]
pub struct TaskView {
    /// Task id.
    pub id: String,
    /// Its application.
    pub application_id: String,
    /// The application's 申请编号 (on queue pages and in the application's
    /// view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_number: Option<String>,
    /// Applicant enterprise.
    pub enterprise_uscc: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// Status (`in_review`, `approved`, `rejected` …).
    #[schema(value_type = TaskStatus)]
    pub status: String,
    /// 办理状态 (BLZT) code, 1-15.
    pub blzt: u8,
    /// National status name, e.g. `部门开始办理`.
    pub status_name: String,
    /// The clock: limits left, due date, state.
    #[serde(flatten)]
    pub clock: ClockView,
    /// Permit number once approved.
    pub permit_number: Option<String>,
    /// Reasons once rejected.
    pub reasons: Option<String>,
    /// Deciding reviewer.
    pub decided_by: Option<String>,
    /// Decision time.
    pub decided_at: Option<DateTime<Utc>>,
    /// While a 补正 is open (status `supplement_requested`): every field
    /// and material to supply, with the reviewer's reason (the one-time
    /// list the applicant answers).
    #[schema(value_type = Option<Vec<Object>>)]
    pub supplement_request: Option<Vec<IntakeDeficiency>>,
    /// Opaque position right after this item: pass it as `cursor` to
    /// continue the list from the next item (merged queues use it). Only on
    /// list pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl TaskView {
    /// The view of `t`, its clock read at `now`.
    pub fn new(calendar: &Calendar, t: &task::Model, now: DateTime<Utc>) -> Self {
        let status = t.status();
        Self {
            id: t.id.clone(),
            application_id: t.case_id.clone(),
            application_number: None,
            enterprise_uscc: t.enterprise_uscc.clone(),
            item_code: t.item_code.clone(),
            item_name: t.item_name.clone(),
            department_code: t.department_code.clone(),
            department_name: t.department_name.clone(),
            status: t.status.clone(),
            blzt: status.code(),
            status_name: status.name().into(),
            clock: ClockView::of(calendar, t, now),
            permit_number: t.permit_number.clone(),
            reasons: t.reasons.clone(),
            decided_by: t.decided_by.clone(),
            decided_at: t.decided_at,
            supplement_request: t.open_supplement(),
            cursor: None,
        }
    }
}

/// A department queue, most urgent first (least committed working time
/// left; ties by task id), cursor-paginated. Every item carries its own
/// `cursor`, so a merged queue can continue after any item.
///
/// 调用方：部门审批人员，仅本部门（令牌 dept；dept 参数可省略，指定其他部门答复 403）；合作系统（queues:read 权限，只读，须以 dept 参数指明部门，缺少答复 422）；其他角色答复 403。
#[utoipa::path(
    tag = "tasks",
    params(PageQuery, QueueFilter),
    responses(
        (status = 200, description = "部门审批队列", body = Page<TaskView>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员或 queues:read 合作系统、未载明部门，或查看其他部门", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误（合作系统缺少或写错 dept）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/tasks")]
pub async fn queue(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<QueueFilter>,
) -> Result<HttpResponse, Problem> {
    let catalog = state.catalog();
    let dept =
        principal.queue_department(filter.dept.as_deref(), |d| catalog.department(d).is_some())?;
    let limit = page.limit()?;
    let after = page.position::<(String, String)>()?;
    let status = filter.status.unwrap_or(Status::InReview);
    let search = filter.search()?;
    let rows = store::queue(&state.db, &dept, status, search.as_ref(), after, limit).await?;
    let numbers = store::numbers_of(&state.db, rows.iter().map(|t| t.case_id.clone())).await?;
    let now = Utc::now();
    let page = Page::from_rows_with_cursors(
        rows,
        limit,
        |t| (t.due_key.clone(), t.id.clone()),
        |t, cursor| TaskView {
            cursor: Some(cursor),
            application_number: numbers.get(&t.case_id).cloned(),
            ..TaskView::new(&state.calendar, &t, now)
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Decide a task: approve with the permit number (BLZT 11) or reject with
/// reasons (BLZT 13). The last approval approves the bundle and requests
/// the comprehensive licence from the document service; any rejection
/// refuses the bundle (see `domain::application` for the rule). An illegal
/// transition (e.g. deciding twice) answers 409 `illegal_transition`.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "已办结", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能作此决定（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少许可证号或理由", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/decision")]
pub async fn decide(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<DecisionRequest>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    if !is_plausible_id(&id) {
        return Err(Problem::not_found("任务不存在"));
    }
    let decision = body.decision()?;
    let actor = Actor {
        sub: principal.sub.clone(),
        role: Role::DeptReviewer.as_str().into(),
    };
    let task = store::decide(&state.db, &state.calendar, &id, &dept, decision, &actor).await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(TaskView::new(&state.calendar, &task, Utc::now())))
}

async fn own_task(
    state: &AppState,
    id: &str,
    may_act: impl Fn(&task::Model) -> bool,
) -> Result<(task::Model, crate::domain::notice::Notice), Problem> {
    let not_found = || Problem::not_found("任务不存在");
    if !is_plausible_id(id) {
        return Err(not_found());
    }
    let t = store::find_task(&state.db, id)
        .await?
        .filter(|t| may_act(t))
        .ok_or_else(not_found)?;
    let app = store::find_application(&state.db, &t.case_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((t, app.notice()?))
}

/// Request a supplement (要求补正): the task goes to 补正（开始）(BLZT 6)
/// with the one-time list of every field or material to supply, and its
/// SLA clock pauses (the pause day counts, the resume day does not). Only
/// from review (BLZT 8, 7, 10); otherwise 409 `illegal_transition`.
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
        (status = 409, description = "当前状态不能要求补正（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "补正清单有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/supplement-requests")]
pub async fn request_supplement(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<SupplementRequestBody>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    let (_, notice) = own_task(&state, &id, |t| t.department_code == dept).await?;
    let items = check_deficiencies(&notice, &body.items, "items")?;
    let actor = Actor {
        sub: principal.sub.clone(),
        role: Role::DeptReviewer.as_str().into(),
    };
    let task = store::step_task(
        &state.db,
        &state.calendar,
        &id,
        |t| t.department_code == dept,
        TaskWork::RequestSupplement { items },
        &actor,
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(TaskView::new(&state.calendar, &task, Utc::now())))
}

const SUPPLIERS: [Role; 2] = [Role::Applicant, Role::Agent];

/// Supply what a 补正 request asked for: every field and material on the
/// list, nothing else, each checked against the application's snapshot.
/// The values replace the application's; the task goes to 补正（结束）
/// (BLZT 7) and straight back to review (8), its clock resumed where it
/// stopped. Without an open request: 409 `illegal_transition`.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；他人的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = SupplyBody,
    responses(
        (status = 200, description = "补正已提交，恢复计时", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非申请人或代办员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本企业", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "未要求补正（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "补正内容与清单不符或校验未通过", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/supplements")]
pub async fn supply(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<SupplyBody>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&SUPPLIERS)?;
    let mine = |t: &task::Model| principal.may_act_for(&t.enterprise_uscc);
    if !is_plausible_id(&id) {
        return Err(Problem::not_found("任务不存在"));
    }
    let found = store::find_task(&state.db, &id)
        .await?
        .filter(|t| mine(t))
        .ok_or_else(|| Problem::not_found("任务不存在"))?;
    state
        .materials
        .verify(authorization(&req), &found.enterprise_uscc, &body.materials)
        .await
        .map_err(Problem::from)?;
    let role = if principal.has_role(Role::Applicant) {
        Role::Applicant
    } else {
        Role::Agent
    };
    let actor = Actor {
        sub: principal.sub.clone(),
        role: role.as_str().into(),
    };
    let task = store::step_task(
        &state.db,
        &state.calendar,
        &id,
        mine,
        TaskWork::ProvideSupplement {
            form: body.form.clone(),
            materials: body.materials.clone(),
        },
        &actor,
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(TaskView::new(&state.calendar, &task, Utc::now())))
}

/// Start (BLZT 9, clock paused) or end (BLZT 10, clock resumed where it
/// stopped) a special procedure: hearing, testing or expert review. Only
/// from review to start, only from 9 to end; otherwise 409
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
        (status = 409, description = "当前状态不能启动或结束特别程序（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少程序类型或理由", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/special-procedure")]
pub async fn special_procedure(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<SpecialProcedureBody>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    if !is_plausible_id(&id) {
        return Err(Problem::not_found("任务不存在"));
    }
    let step = TaskWork::Special(body.step()?);
    let actor = Actor {
        sub: principal.sub.clone(),
        role: Role::DeptReviewer.as_str().into(),
    };
    let task = store::step_task(
        &state.db,
        &state.calendar,
        &id,
        |t| t.department_code == dept,
        step,
        &actor,
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(TaskView::new(&state.calendar, &task, Utc::now())))
}
