//! `/api/v1/tasks`: the department queues of parallel review, reviewers'
//! decisions and 告知承诺 verification. 补正 and 特别程序 are in
//! `routes::task_steps`, 征求意见 in `routes::consultations`.
//!
//! Who may call: department reviewers, for their own department's tasks
//! (the token's `dept`); another department's task or consultation answers
//! 404, never data.

use actix_web::{HttpResponse, get, post, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use yizhan_approval::Status;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;
use yizhan_kit::pagination::{Page, PageQuery};

use yizhan_kit::text::has_control_chars;
use yizhan_workflow::api::{DecisionRequest, QueueFilter};

use super::views::{State, TaskView, actor, plausible, task_view};
use crate::store;

/// A department queue, most urgent first (earliest committed deadline;
/// ties by task id), cursor-paginated and served by an index. Every item
/// carries its own `cursor`, so a merged queue can continue after any
/// item.
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
    state: State,
    page: web::Query<PageQuery>,
    filter: web::Query<QueueFilter>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.queue_department(filter.dept.as_deref(), |d| {
        state.catalog.department(d).is_some()
    })?;
    let limit = page.limit()?;
    let after = page.position::<(String, String)>()?;
    let status = filter.status.unwrap_or(Status::InReview);
    let search = filter.search()?;
    let rows = store::tasks::complete(
        &state.db,
        store::stages::queue(&state.db, &dept, status, search.as_ref(), after, limit).await?,
    )
    .await?;
    let numbers =
        store::stages::numbers_of(&state.db, rows.iter().map(|t| t.case_id.clone())).await?;
    let now = Utc::now();
    Ok(HttpResponse::Ok().json(Page::from_rows_with_cursors(
        rows,
        limit,
        |t| (t.due_key.clone(), t.id.clone()),
        |t, cursor| TaskView {
            cursor: Some(cursor),
            application_number: numbers.get(&t.case_id).cloned(),
            ..task_view(&state.calendar, &t, &[], now)
        },
    )))
}

/// One task of the caller's department with its 征求意见 record.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    responses(
        (status = 200, description = "任务详情", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/tasks/{id}")]
pub async fn get_task(
    principal: Principal,
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    let t = store::tasks::find(&state.db, plausible(&id, "任务")?)
        .await?
        .filter(|t| t.department_code == dept)
        .ok_or_else(|| Problem::not_found("任务不存在"))?;
    let asked = store::consultations::of_task(&state.db, &t.id).await?;
    let number = store::stages::numbers_of(&state.db, [t.case_id.clone()]).await?;
    Ok(HttpResponse::Ok().json(TaskView {
        application_number: number.get(&t.case_id).cloned(),
        ..task_view(&state.calendar, &t, &asked, Utc::now())
    }))
}

/// A required text field: trimmed, 1 to `max` characters, no control
/// characters.
pub(crate) fn required_text(
    field: &str,
    value: Option<&str>,
    max: usize,
    missing: &str,
) -> Result<String, Problem> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Err(Problem::field(field, "required", missing)),
        Some(s) if has_control_chars(s) => Err(Problem::field(
            field,
            "invalid_character",
            "含有不可见的控制字符",
        )),
        Some(s) if s.chars().count() > max => Err(Problem::field(
            field,
            "too_long",
            format!("最多 {max} 个字符"),
        )),
        Some(s) => Ok(s.to_owned()),
    }
}

/// Decide a task: approve with the permit number (BLZT 11; 12 while 容缺
/// materials are owed; before the land grant a pre-review task is only
/// pre-approved and stays 8 until the grant finalises it) or reject with
/// reasons (BLZT 13, which stops the stage). The stage completes when all
/// its items are approved, unlocking the next stage and requesting its
/// certificate (the 施工许可证). Joint-inspection items answer 409
/// `joint_inspection_required`; an illegal transition 409
/// `illegal_transition`.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "已办结（或已预审）", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能作此决定", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少文号或理由", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/decision")]
pub async fn decide(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<DecisionRequest>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    plausible(&id, "任务")?;
    let decision = body.decision()?;
    let t = store::tasks::decide(
        &state.db,
        &state.calendar,
        &id,
        &dept,
        decision,
        &actor(&principal, &[Role::DeptReviewer]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(task_view(&state.calendar, &t, &[], Utc::now())))
}

/// 告知承诺核查.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"passed": false, "findings": "现场核查发现人防工程未按承诺设置"}))]
pub struct VerificationRequest {
    /// Whether the commitment proved true.
    pub passed: bool,
    /// What the check found.
    #[schema(min_length = 1, max_length = 1000)]
    pub findings: String,
}

/// Verify a 告知承诺 approval (BLZT 12) by its deadline: true keeps the
/// approval (verification `passed`); false revokes it (BLZT 15), stops the
/// stage if it is still in review, and the project is told (timeline and
/// events). A task without a pending verification answers 409.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = VerificationRequest,
    responses(
        (status = 200, description = "核查已记录", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "没有待核查的承诺", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少核查意见", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/verification")]
pub async fn verify(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<VerificationRequest>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    plausible(&id, "任务")?;
    let findings = required_text("findings", Some(&body.findings), 1000, "请填写核查意见")?;
    let t = store::tasks::verify(
        &state.db,
        &state.calendar,
        &id,
        &dept,
        body.passed,
        findings,
        &actor(&principal, &[Role::DeptReviewer]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(task_view(&state.calendar, &t, &[], Utc::now())))
}
