//! `/api/v1/inbox`: the caller's in-app messages (站内消息).
//!
//! Who may call: any authenticated user, for their own inbox only (their
//! personal messages plus those addressed to their enterprise, or to their
//! department for department reviewers).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::Principal;
use yizhan_kit::Problem;
use yizhan_kit::pagination::{Page, PageQuery};

use crate::AppState;
use crate::error::Error;
use crate::store::{self, message};

/// One message.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937a4e-8e2b-7c11-b0a4-5d2f7c9e1a3b",
    "category": "material",
    "title": "材料已上传",
    "body": "《营业执照.pdf》（第 1 版，182044 字节）已存入企业档案，后续办事可直接引用，无需重复提交。",
    "link": "/api/v1/materials/01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5a",
    "created_at": "2026-11-23T08:00:01Z",
    "read": false
}))]
pub struct Message {
    /// Message id.
    pub id: String,
    /// Category.
    pub category: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Related resource.
    pub link: Option<String>,
    /// When it arrived.
    pub created_at: DateTime<Utc>,
    /// Whether it was read.
    pub read: bool,
}

impl From<message::Model> for Message {
    fn from(m: message::Model) -> Self {
        Self {
            id: m.id,
            category: m.category,
            title: m.title,
            body: m.body,
            link: m.link,
            created_at: m.created_at,
            read: m.is_read,
        }
    }
}

/// Filters of the message list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// Only unread messages.
    #[serde(default)]
    pub unread_only: bool,
}

/// Unread count.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"unread": 3}))]
pub struct UnreadCount {
    /// Unread messages.
    pub unread: u64,
}

/// The caller's messages, unread first, newest first.
///
/// 调用方：任何已登录用户，仅能查看本人消息及本企业（申请人）、授权企业（帮办代办员）或本部门（部门审批人员）的消息。
#[utoipa::path(
    operation_id = "list_messages",
    tag = "inbox",
    params(PageQuery, ListFilter),
    responses(
        (status = 200, description = "消息列表", body = Page<Message>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "分页参数错误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/inbox/messages")]
pub async fn list(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<ListFilter>,
) -> Result<HttpResponse, Error> {
    let limit = page.limit()?;
    let after = page.position::<(bool, i64)>()?;
    let rows =
        store::list_messages(&state.db, &principal, filter.unread_only, after, limit).await?;
    let page = Page::from_rows(rows, limit, |m| (m.is_read, m.seq), Message::from);
    Ok(HttpResponse::Ok().json(page))
}

/// How many unread messages the caller has.
///
/// 调用方：任何已登录用户，仅统计本人可见的消息。
#[utoipa::path(
    tag = "inbox",
    responses(
        (status = 200, description = "未读数", body = UnreadCount),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/inbox/unread-count")]
pub async fn unread(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let unread = store::unread_count(&state.db, &principal).await?;
    Ok(HttpResponse::Ok().json(UnreadCount { unread }))
}

/// Marks one of the caller's messages read (idempotent).
///
/// 调用方：任何已登录用户，仅限本人可见的消息；他人消息答复 404。
#[utoipa::path(
    tag = "inbox",
    params(("id" = String, Path, description = "消息编号")),
    responses(
        (status = 204, description = "已标记为已读"),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "消息不存在或不属于当前用户", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/inbox/messages/{id}/read")]
pub async fn mark_read(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    if store::mark_read(&state.db, &principal, &id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(Problem::not_found("消息不存在或不属于当前用户").into())
    }
}
