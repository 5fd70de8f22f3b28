//! `/api/v1/tasks` and `/api/v1/consultations`: the department queues of
//! parallel review, reviewers' decisions, 告知承诺 verification, and
//! 征求意见 between departments.
//!
//! Who may call: department reviewers, for their own department's tasks
//! (the token's `dept`); another department's task or consultation answers
//! 404, never data.

use actix_web::{HttpResponse, get, post, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use yizhan_approval::Status;
use yizhan_auth::{Principal, Role};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::{FieldError, Problem};

use super::views::{
    ConsultationView, State, TaskView, actor, consultation_view, plausible, reviewer_dept,
    task_view,
};
use crate::error::Error;
use crate::store::tasks::{Consult, Decision};
use crate::store::{self};
use yizhan_kit::text::has_control_chars;

/// Filter of the queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueFilter {
    /// Task status (`in_review` by default: the work still to do; also
    /// `approved_with_tolerance` for 告知承诺 approvals awaiting
    /// verification, `approved`, `rejected`, `revoked` …).
    #[param(value_type = Option<String>)]
    pub status: Option<Status>,
    /// Department code. Partners (`queues:read`) must name the department
    /// whose queue they read; reviewers read their token's department and
    /// may leave it out (naming another is a 403).
    pub dept: Option<String>,
}

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
) -> Result<HttpResponse, Error> {
    let dept = principal.queue_department(filter.dept.as_deref(), |d| {
        state.catalog.department(d).is_some()
    })?;
    let limit = page.limit()?;
    let after = page.position::<(String, String)>()?;
    let status = filter.status.unwrap_or(Status::InReview);
    let rows = store::tasks::queue(&state.db, &dept, status, after, limit).await?;
    let now = Utc::now();
    Ok(HttpResponse::Ok().json(Page::from_rows_with_cursors(
        rows,
        limit,
        |t| (t.due_key.clone(), t.id.clone()),
        |t, cursor| TaskView {
            cursor: Some(cursor),
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
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
    let t = store::tasks::find(&state.db, plausible(&id, "任务")?)
        .await?
        .filter(|t| t.department_code == dept)
        .ok_or_else(|| Problem::not_found("任务不存在"))?;
    let asked = store::tasks::consultations_of(&state.db, &t.id).await?;
    Ok(HttpResponse::Ok().json(task_view(&state.calendar, &t, &asked, Utc::now())))
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// 审批通过.
    Approve,
    /// 审批不通过.
    Reject,
}

/// Decision body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "approve", "permit_number": "建字第350121202600018号"}))]
pub struct DecisionRequest {
    /// `approve` or `reject`.
    pub decision: DecisionKind,
    /// Permit / document number, required to approve.
    pub permit_number: Option<String>,
    /// Reasons, required to reject.
    pub reasons: Option<String>,
}

fn required_text(
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
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
    plausible(&id, "任务")?;
    let decision = match body.decision {
        DecisionKind::Approve => Decision::Approve {
            permit_number: required_text(
                "permit_number",
                body.permit_number.as_deref(),
                64,
                "审批通过须填写文号",
            )?,
        },
        DecisionKind::Reject => Decision::Reject {
            reasons: required_text(
                "reasons",
                body.reasons.as_deref(),
                1000,
                "审批不通过须说明理由",
            )?,
        },
    };
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
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
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

/// 征求意见.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"department": "fire_review", "question": "请就该项目地下车库防火分区设置提出意见", "due_days": 3}))]
pub struct ConsultRequest {
    /// The department asked (a catalog department other than the caller's).
    pub department: String,
    /// The question.
    pub question: String,
    /// Working days to answer, 1-10.
    pub due_days: u32,
}

/// Ask another department for an opinion on a task (征求意见) with a
/// deadline in working days; the reply becomes part of the task's record.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "consultations",
    params(("id" = String, Path, description = "任务编号")),
    request_body = ConsultRequest,
    responses(
        (status = 201, description = "已发出征求意见", body = ConsultationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "任务已办结", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "部门、问题或期限有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/consultations")]
pub async fn consult(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<ConsultRequest>,
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
    plausible(&id, "任务")?;
    let mut errors = Vec::new();
    if state.catalog.department(&body.department).is_none() {
        errors.push(FieldError::new(
            "department",
            "unknown_department",
            "部门不存在",
        ));
    } else if body.department == dept {
        errors.push(FieldError::new(
            "department",
            "same_department",
            "不能向本部门征求意见",
        ));
    }
    let question = required_text(
        "question",
        Some(&body.question),
        1000,
        "请填写征求意见的问题",
    );
    if let Err(p) = &question {
        errors.extend(p.errors.clone());
    }
    if !(1..=10).contains(&body.due_days) {
        errors.push(FieldError::new(
            "due_days",
            "out_of_range",
            "答复期限须为 1 至 10 个工作日",
        ));
    }
    let question = match question {
        Ok(q) if errors.is_empty() => q,
        _ => return Err(Problem::validation(errors).into()),
    };
    let c = store::tasks::consult(
        &state.db,
        &state.calendar,
        &id,
        &dept,
        Consult {
            to_department: body.department.clone(),
            question,
            due_days: body.due_days,
        },
        &actor(&principal, &[Role::DeptReviewer]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Created().json(consultation_view(&c)))
}

/// Filter of the consultation inbox.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsultationFilter {
    /// Include answered ones (default: only those awaiting an answer).
    #[serde(default)]
    pub all: bool,
}

/// Consultations addressed to the caller's department, oldest first.
///
/// 调用方：部门审批人员（本部门收到的征求意见）；其他角色答复 403。
#[utoipa::path(
    tag = "consultations",
    params(PageQuery, ConsultationFilter),
    responses(
        (status = 200, description = "本部门待答复的征求意见", body = Page<ConsultationView>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/consultations")]
pub async fn consultations(
    principal: Principal,
    state: State,
    page: web::Query<PageQuery>,
    filter: web::Query<ConsultationFilter>,
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
    let limit = page.limit()?;
    let after = page.position::<String>()?;
    let rows =
        store::tasks::consultations_for(&state.db, &dept, filter.all, after.as_deref(), limit)
            .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |c| c.id.clone(),
        |c| consultation_view(&c),
    )))
}

/// 意见答复.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"opinion": "同意，地下车库防火分区符合 GB 50067 要求"}))]
pub struct ReplyRequest {
    /// The opinion.
    pub opinion: String,
}

/// Answer a consultation addressed to the caller's department (once).
///
/// 调用方：部门审批人员，仅本部门收到的征求意见；其他部门的答复 404，其他角色 403。
#[utoipa::path(
    tag = "consultations",
    params(("id" = String, Path, description = "征求意见编号")),
    request_body = ReplyRequest,
    responses(
        (status = 200, description = "已答复", body = ConsultationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或非本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "已答复", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少意见", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/consultations/{id}/reply")]
pub async fn reply(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<ReplyRequest>,
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
    plausible(&id, "征求意见")?;
    let opinion = required_text("opinion", Some(&body.opinion), 2000, "请填写意见")?;
    let c = store::tasks::answer(
        &state.db,
        &id,
        &dept,
        opinion,
        &actor(&principal, &[Role::DeptReviewer]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(consultation_view(&c)))
}
