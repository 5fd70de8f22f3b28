//! Lists of 诉求, cursor-paginated (`?cursor=&limit=`, `Page`): the
//! enterprise's, the specialist's open ones and the department's queue.
//! Positions are keysets, never offsets, so a request filed or moved
//! between two pages is neither skipped nor shown twice by the order's
//! earlier rows.

use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;
use yizhan_kit::pagination::{Page, PageQuery};

use super::requests::{ENTERPRISE, RequestView, serves, view};
use crate::AppState;
use crate::store::requests::queries::{self, QueuePosition};
use crate::store::requests::request;

/// Which enterprise's requests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// The enterprise (an agent or specialist serving several names one;
    /// default: all of theirs).
    pub uscc: Option<String>,
}

fn enterprises_of(p: &Principal, requested: Option<&str>) -> Result<Vec<String>, Problem> {
    let mut own: Vec<String> = p.enterprises.clone();
    if let Some(u) = &p.uscc {
        own.push(u.clone());
    }
    match requested {
        Some(u) if serves(p, u) => Ok(vec![u.to_owned()]),
        Some(_) => Err(Problem::forbidden(
            "只能查看本企业、已授权或所服务企业的诉求",
        )),
        None => Ok(own),
    }
}

/// A page of an enterprise list (newest first, the cursor is the last id).
async fn newest_first(
    state: &AppState,
    usccs: &[String],
    open_only: bool,
    page: &PageQuery,
) -> Result<Page<RequestView>, Problem> {
    let limit = page.limit()?;
    let before = page.position::<String>()?;
    let rows = queries::of_enterprises(&state.db, usccs, open_only, before, limit + 1).await?;
    let now = Utc::now();
    Ok(Page::from_rows(
        rows,
        limit,
        |r: &request::Model| r.id.clone(),
        |r| view(state, &r, &[], now),
    ))
}

/// The enterprise's requests, newest first, a page at a time.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；其他角色答复 403。
#[utoipa::path(
    tag = "requests",
    params(PageQuery, ListFilter),
    responses(
        (status = 200, description = "诉求列表", body = Page<RequestView>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "cursor 或 limit 无效", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/requests")]
pub async fn list_requests(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<ListFilter>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&ENTERPRISE)?;
    let usccs = enterprises_of(&principal, filter.uscc.as_deref())?;
    let page = newest_first(&state, &usccs, false, &page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The open requests of the specialist's enterprises, newest first, a
/// page at a time.
///
/// 调用方：营商专员（所服务企业）；其他角色答复 403。
#[utoipa::path(
    tag = "requests",
    params(PageQuery, ListFilter),
    responses(
        (status = 200, description = "所服务企业的未办结诉求", body = Page<RequestView>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "cursor 或 limit 无效", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/requests-assigned")]
pub async fn assigned_requests(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<ListFilter>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Specialist])?;
    let usccs = enterprises_of(&principal, filter.uscc.as_deref())?;
    let page = newest_first(&state, &usccs, true, &page).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The department's queue: requests to accept, answer or waiting on the
/// enterprise, most urgent first (overdue, warning, on time, then waiting
/// on the enterprise), a page at a time; the cursor continues in that
/// order.
///
/// 调用方：部门审批人员（本部门）；其他角色答复 403。
#[utoipa::path(
    tag = "requests",
    params(PageQuery),
    responses(
        (status = 200, description = "本部门待办诉求", body = Page<RequestView>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "cursor 或 limit 无效", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/request-queue")]
pub async fn request_queue(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    let limit = page.limit()?;
    let after = page.position::<QueuePosition>()?;
    let rows = queries::queue(&state.db, &dept, after, limit + 1).await?;
    let now = Utc::now();
    Ok(
        HttpResponse::Ok().json(Page::from_rows(rows, limit, queries::queue_position, |r| {
            view(&state, &r, &[], now)
        })),
    )
}
