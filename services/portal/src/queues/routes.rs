//! The merged queues' HTTP handlers (`/api/v1/queues/...`).

use super::*;

/// A source's 4xx as this service's problem (status, code and fields kept).
pub(crate) fn refusal_problem(error: &UpstreamError) -> Problem {
    match error {
        UpstreamError::Refused { status, problem } => {
            serde_json::from_value::<Problem>(problem.clone()).unwrap_or_else(|_| {
                Problem::new(
                    actix_web::http::StatusCode::from_u16(*status)
                        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
                    "upstream_refused",
                    "请求被拒绝",
                )
                .with_detail(error.message())
            })
        }
        UpstreamError::Unavailable { detail, .. } => Problem::unavailable(detail.clone()),
    }
}

fn bearer(req: &actix_web::HttpRequest) -> String {
    yizhan_auth::bearer_token(req.headers())
        .ok()
        .flatten()
        .unwrap_or_default()
}

async fn respond(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    queue: Queue,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let token = bearer(&req);
    let merged = merged_page(&state, &principal, &token, queue, &query, &page).await?;
    Ok(HttpResponse::Ok().json(merged))
}

/// 综合窗口受理队列: every submitted application waiting for intake, from
/// 一业一证 (applications) and 工程建设项目 (stage applications), oldest
/// first, cursor-paginated. Built by fan-out with a timeout per source:
/// when one does not answer the page says `partial: true` and names it in
/// `unavailable`, and its items follow on later pages.
///
/// 调用方：综合窗口人员、管理员、持有 `queues:read` 的合作系统；其他角色答复 403。
#[utoipa::path(
    tag = "queues",
    params(PageQuery, QueueQuery),
    responses(
        (status = 200, description = "合并受理队列（可能为部分结果）", body = MergedPage),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "所有来源均不可用", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/queues/intake")]
pub async fn intake_queue(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    respond(state, req, principal, Queue::Intake, query, page).await
}

/// 部门审批队列: the department's tasks from both services, most urgent
/// first (least committed working time left, i.e. the earliest committed
/// deadline; no deadline last), cursor-paginated, filtered by `type`,
/// `status` and `sla`. Partial results as for the intake queue.
///
/// 调用方：部门审批人员（本部门，令牌 dept）、持有 `queues:read` 的合作系统（须给出 dept）；其他角色答复 403。
#[utoipa::path(
    tag = "queues",
    params(PageQuery, QueueQuery),
    responses(
        (status = 200, description = "合并审批队列（可能为部分结果）", body = MergedPage),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看或非本部门", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "所有来源均不可用", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/queues/tasks")]
pub async fn task_queue(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    respond(state, req, principal, Queue::Tasks, query, page).await
}

/// 统一出件队列: issued results waiting to be handed out at the window —
/// comprehensive licences (一业一证) and stage certificates (工程建设) —
/// oldest first, cursor-paginated. Partial results as for the intake queue.
///
/// 调用方：综合窗口人员、管理员、持有 `queues:read` 的合作系统；其他角色答复 403。
#[utoipa::path(
    tag = "queues",
    params(PageQuery, QueueQuery),
    responses(
        (status = 200, description = "合并出件队列（可能为部分结果）", body = MergedPage),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "所有来源均不可用", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/queues/hand-out")]
pub async fn hand_out_queue(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    respond(state, req, principal, Queue::HandOut, query, page).await
}

/// Mounts the merged queues under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope("/api/v1")
            .service(intake_queue)
            .service(task_queue)
            .service(hand_out_queue),
    );
}
