//! `/api/v1/webhooks/deliveries`: the delivery log of a partner's
//! subscriptions (推送记录), and replaying a delivery.
//!
//! Who may call: partners (`partner` role) holding the `webhooks:manage`
//! scope, for deliveries of their own subscriptions only; another partner's
//! delivery answers 404.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::Principal;
use yizhan_kit::Problem;
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::pagination::{Page, PageQuery};

use super::webhooks::require_webhook_partner;
use crate::AppState;
use crate::error::Error;
use crate::store::webhooks::{self as store, NewDelivery, delivery, status};

/// One delivery cycle of one event to one subscription.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937a4e-9d10-7b3a-8c51-3e2f1a0b9c8d",
    "subscription_id": "01937a4e-8e2b-7c11-b0a4-5d2f7c9e1a3b",
    "event_id": "01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5a",
    "event_source": "/yizhan/document",
    "event_type": "cn.yizhan.document.material_uploaded.v1",
    "subject": "01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d59",
    "status": "pending",
    "attempts": 2,
    "next_attempt_at": "2026-11-23T08:00:16Z",
    "last_attempt_at": "2026-11-23T08:00:06Z",
    "last_status_code": 503,
    "last_error": "接收方答复 HTTP 503 Service Unavailable",
    "created_at": "2026-11-23T08:00:01Z",
    "delivered_at": null,
    "replay_of": null
}))]
pub struct Delivery {
    /// Delivery id (the `X-Yizhan-Delivery` header).
    pub id: String,
    /// Subscription.
    pub subscription_id: String,
    /// `ce_id` of the event.
    pub event_id: String,
    /// `ce_source` of the event.
    pub event_source: String,
    /// `ce_type` of the event.
    pub event_type: String,
    /// `ce_subject` (aggregate id).
    pub subject: String,
    /// `pending`, `delivered`, `dead` (every attempt failed) or `cancelled`.
    pub status: String,
    /// Attempts made in this cycle.
    pub attempts: i32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// HTTP status of the last answer.
    pub last_status_code: Option<i32>,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The delivery this one replays.
    pub replay_of: Option<String>,
}

impl From<delivery::Model> for Delivery {
    fn from(m: delivery::Model) -> Self {
        let pending = m.status == status::PENDING;
        Self {
            id: m.id,
            subscription_id: m.subscription_id,
            event_id: m.event_id,
            event_source: m.event_source,
            event_type: m.event_type,
            subject: m.subject,
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: pending.then_some(m.next_attempt_at),
            last_attempt_at: m.last_attempt_at,
            last_status_code: m.last_status_code,
            last_error: m.last_error,
            created_at: m.created_at,
            delivered_at: m.delivered_at,
            replay_of: m.replay_of,
        }
    }
}

/// Filters of the delivery list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Only this subscription's deliveries.
    pub subscription_id: Option<String>,
    /// Only deliveries in this state: `pending`, `delivered`, `dead`, `cancelled`.
    pub status: Option<String>,
}

/// The caller's deliveries, newest first.
///
/// 调用方：持有 `webhooks:manage` 权限范围的合作系统，仅列出本系统订阅的推送记录。
#[utoipa::path(
    operation_id = "list_deliveries",
    tag = "webhooks",
    params(PageQuery, DeliveryFilter),
    responses(
        (status = 200, description = "推送记录", body = Page<Delivery>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非合作系统或缺少 webhooks:manage 权限范围", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "分页参数或状态取值错误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/deliveries")]
pub async fn list(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<DeliveryFilter>,
) -> Result<HttpResponse, Error> {
    require_webhook_partner(&principal)?;
    let limit = page.limit()?;
    let after = page.position::<i64>()?;
    if let Some(s) = &filter.status
        && !status::ALL.contains(&s.as_str())
    {
        return Err(Problem::field(
            "status",
            "invalid_status",
            "status 只能是 pending、delivered、dead 或 cancelled",
        )
        .into());
    }
    let rows = store::list_deliveries(
        &state.db,
        &principal.sub,
        filter.subscription_id.as_deref(),
        filter.status.as_deref(),
        after,
        limit,
    )
    .await?;
    let page = Page::from_rows(rows, limit, |d| d.seq, Delivery::from);
    Ok(HttpResponse::Ok().json(page))
}

/// One of the caller's deliveries.
///
/// 调用方：持有 `webhooks:manage` 权限范围的合作系统，仅限本系统订阅的推送记录；他人的答复 404。
#[utoipa::path(
    operation_id = "show_delivery",
    tag = "webhooks",
    params(("id" = String, Path, description = "推送编号")),
    responses(
        (status = 200, description = "推送记录", body = Delivery),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非合作系统或缺少 webhooks:manage 权限范围", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "推送记录不存在或不属于当前合作系统", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/deliveries/{id}")]
pub async fn show(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    require_webhook_partner(&principal)?;
    match store::find_delivery(&state.db, &principal.sub, &id).await? {
        Some(row) => Ok(HttpResponse::Ok().json(Delivery::from(row))),
        None => Err(not_found().into()),
    }
}

/// Replays a finished delivery: a new delivery (new id, `replay_of` the
/// old one) of the same event body, with a fresh attempt cycle. The old
/// record is kept as it was.
///
/// 调用方：持有 `webhooks:manage` 权限范围的合作系统，仅限本系统订阅的推送记录；他人的答复 404。
/// 仍在投递中的记录不能重放（409）；支持 `Idempotency-Key`。
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "推送编号"),
        ("Idempotency-Key" = Option<String>, Header, description = "幂等键"),
    ),
    responses(
        (status = 202, description = "已安排重新推送", body = Delivery),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非合作系统或缺少 webhooks:manage 权限范围", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "推送记录不存在或不属于当前合作系统", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "仍在投递中，或订阅已删除", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/deliveries/{id}/replay")]
pub async fn replay(
    principal: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    require_webhook_partner(&principal)?;
    let scope = format!("{} POST /api/v1/webhooks/deliveries/replay", principal.sub);
    let fingerprint = idempotency::fingerprint(&[id.as_bytes()]);
    if let Some(k) = &key.0
        && let Some(stored) = idempotency::lookup(&state.db, &scope, k, &fingerprint).await?
    {
        return Ok(stored.into_response());
    }
    let txn = yizhan_kit::db::begin_write(&state.db).await?;
    let Some(original) = store::find_delivery(&txn, &principal.sub, &id).await? else {
        return Err(not_found().into());
    };
    if original.status == status::PENDING {
        return Err(Problem::conflict(
            "delivery_in_progress",
            "该推送仍在投递中，结束（成功或失败）后才能重放",
        )
        .into());
    }
    if store::live_subscription(&txn, &original.subscription_id)
        .await?
        .is_none()
    {
        return Err(
            Problem::conflict("subscription_deleted", "该推送所属的订阅已删除，无法重放").into(),
        );
    }
    let replay_seq = store::next_replay_seq(&txn, &original).await?;
    let row = store::insert_delivery(
        &txn,
        NewDelivery {
            subscription_id: original.subscription_id.clone(),
            owner_sub: original.owner_sub.clone(),
            event_source: original.event_source.clone(),
            event_id: original.event_id.clone(),
            event_type: original.event_type.clone(),
            subject: original.subject.clone(),
            body: original.body.clone(),
            replay_seq,
            replay_of: Some(original.id.clone()),
        },
    )
    .await?;
    let answer = Delivery::from(row);
    if let Some(k) = &key.0 {
        idempotency::record(&txn, &scope, k, &fingerprint, StatusCode::ACCEPTED, &answer).await?;
    }
    txn.commit().await?;
    state.webhook_wake.notify_one();
    Ok(HttpResponse::Accepted().json(answer))
}

fn not_found() -> Problem {
    Problem::not_found("推送记录不存在或不属于当前合作系统")
}
