//! `/api/v1/tasks/{id}/consultations` and `/api/v1/consultations`: 征求意见
//! between departments.
//!
//! Who may call: department reviewers: the asking department for its own
//! task, the asked department for what it was asked; another department
//! answers 404, never data.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::{Principal, Role};
use yizhan_kit::idempotency::{IdempotencyKey, fingerprint};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::{FieldError, Problem};
use yizhan_workflow::idempotent::{Idempotent, Recorded};

use super::tasks::required_text;
use super::views::{ConsultationView, State, actor, consultation_view, plausible};
use crate::store;
use crate::store::consultations::Consult;

/// 征求意见.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"department": "fire_review", "question": "请就该项目地下车库防火分区设置提出意见", "due_days": 3}))]
pub struct ConsultRequest {
    /// The department asked (a catalog department other than the caller's).
    pub department: String,
    /// The question.
    #[schema(min_length = 1, max_length = 1000)]
    pub question: String,
    /// Working days to answer, 1-10.
    #[schema(minimum = 1, maximum = 10)]
    pub due_days: u32,
}

/// Ask another department for an opinion on a task (征求意见) with a
/// deadline in working days; the reply becomes part of the task's record.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "consultations",
    params(
        ("id" = String, Path, description = "任务编号"),
        ("Idempotency-Key" = Option<String>, Header, description = "重试同一征求意见时携带同一键，返回首次结果"),
    ),
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
    req: HttpRequest,
    state: State,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: web::Json<ConsultRequest>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
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
        _ => return Err(Problem::validation(errors)),
    };
    let scope = format!("{} POST {}", principal.sub, req.path());
    let print = fingerprint(&[
        body.department.as_bytes(),
        question.as_bytes(),
        body.due_days.to_string().as_bytes(),
    ]);
    let recorded = store::consultations::consult(
        &state.db,
        &state.calendar,
        &id,
        Consult {
            from_department: dept.clone(),
            to_department: body.department.clone(),
            to_department_name: state.catalog.department_name(&body.department),
            question,
            due_days: body.due_days,
        },
        &actor(&principal, &[Role::DeptReviewer]),
        key.0.as_deref().map(|k| Idempotent {
            scope: &scope,
            key: k,
            fingerprint: &print,
        }),
        consultation_view,
    )
    .await?;
    match recorded {
        Recorded::Created(c) => {
            state.signal.wake();
            Ok(HttpResponse::Created().json(consultation_view(&c)))
        }
        Recorded::Replayed(stored) => Ok(stored.into_response()),
    }
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
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    let limit = page.limit()?;
    let after = page.position::<String>()?;
    let rows = store::consultations::consultations_for(
        &state.db,
        &dept,
        filter.all,
        after.as_deref(),
        limit,
    )
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
    #[schema(min_length = 1, max_length = 2000)]
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
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    plausible(&id, "征求意见")?;
    let opinion = required_text("opinion", Some(&body.opinion), 2000, "请填写意见")?;
    let c = store::consultations::answer(
        &state.db,
        &id,
        &dept,
        &state.catalog.department_name(&dept),
        opinion,
        &actor(&principal, &[Role::DeptReviewer]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(consultation_view(&c)))
}
