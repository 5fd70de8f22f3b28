//! `/api/v1/webhooks/subscriptions`: partners register where and which
//! events are pushed to them (事件推送订阅), and rotate signing secrets.
//!
//! Who may call: partners (`partner` role) holding the `webhooks:manage`
//! scope, for their own subscriptions only (by token `sub`); another
//! partner's subscription answers 404.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::problem::FieldError;
use yizhan_types::{DepartmentCode, Uscc};

use crate::AppState;
use crate::error::Error;
use crate::store::webhooks::{self as store, subscription};
use crate::webhooks::SCOPE;
use crate::webhooks::matching::{ANY_TYPE, Filters};
use crate::webhooks::target::check_url;

/// Most event types one subscription may list.
const MAX_EVENT_TYPES: usize = 50;
/// Longest description.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// Refuses anyone but a partner with the webhook scope.
pub(crate) fn require_webhook_partner(principal: &Principal) -> Result<(), Problem> {
    principal.require_any(&[Role::Partner])?;
    if !principal.has_scope(SCOPE) {
        return Err(Problem::forbidden(format!(
            "管理事件推送需要 {SCOPE} 权限范围"
        )));
    }
    Ok(())
}

/// A subscription to create.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://partner.example.com/yizhan/events",
    "event_types": ["cn.yizhan.document.material_uploaded.v1"],
    "filters": {"enterprise_uscc": "91350100M000100Y43"},
    "description": "市监局业务系统"
}))]
pub struct NewSubscription {
    /// Where deliveries are POSTed: http(s), public address (see docs/WEBHOOKS.md).
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    /// `ce_type`s to receive, or `["*"]` for every event.
    #[schema(min_items = 1, max_items = 50)]
    pub event_types: Vec<String>,
    /// Optional restrictions, matched against the event payload.
    #[serde(default)]
    pub filters: Filters,
    /// The partner's own label.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

/// A subscription as shown to its owner (never with its secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = subscription_example)]
pub struct Subscription {
    /// Subscription id.
    pub id: String,
    /// Target URL.
    pub url: String,
    /// `ce_type`s, or `["*"]`.
    pub event_types: Vec<String>,
    /// Restrictions.
    pub filters: Filters,
    /// Label.
    pub description: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last secret rotation.
    pub secret_rotated_at: DateTime<Utc>,
}

impl From<subscription::Model> for Subscription {
    fn from(m: subscription::Model) -> Self {
        Self {
            event_types: serde_json::from_str(&m.event_types).unwrap_or_default(),
            filters: Filters {
                department_code: m.filter_department,
                enterprise_uscc: m.filter_enterprise,
            },
            id: m.id,
            url: m.url,
            description: m.description,
            created_at: m.created_at,
            secret_rotated_at: m.secret_rotated_at,
        }
    }
}

/// The answer to a create: the subscription and, this once, its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = created_subscription_example)]
pub struct CreatedSubscription {
    /// The subscription.
    #[serde(flatten)]
    pub subscription: Subscription,
    /// The signing secret. Shown only in this answer; a replay of the same
    /// `Idempotency-Key` answers `null` (rotate to get a new one).
    pub secret: Option<String>,
}

/// The documented example of a subscription.
fn subscription_example() -> serde_json::Value {
    serde_json::json!({
        "id": "01937a4e-8e2b-7c11-b0a4-5d2f7c9e1a3b",
        "url": "https://partner.example.com/yizhan/events",
        "event_types": ["cn.yizhan.document.material_uploaded.v1"],
        "filters": {"enterprise_uscc": "91350100M000100Y43"},
        "description": "市监局业务系统",
        "created_at": "2026-11-23T08:00:00Z",
        "secret_rotated_at": "2026-11-23T08:00:00Z"
    })
}

/// The documented example of a create's answer: the subscription and its secret.
fn created_subscription_example() -> serde_json::Value {
    let mut created = subscription_example();
    created["secret"] = "whsec_q3Jx0V9c2bq6Qm1lYxq9mB0m3kq4d1GmVf3c1w2xYzE0A=".into();
    created
}

/// A new secret after rotation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937a4e-8e2b-7c11-b0a4-5d2f7c9e1a3b",
    "secret": "whsec_Jm4q9yX2c0b1V7nT3kR8pL5sW6eZ2hD4fG7jK9mN0qA=",
    "secret_rotated_at": "2026-12-01T09:30:00Z"
}))]
pub struct RotatedSecret {
    /// Subscription id.
    pub id: String,
    /// The new signing secret, shown only in this answer.
    pub secret: String,
    /// Rotation time.
    pub secret_rotated_at: DateTime<Utc>,
}

/// A validated subscription, ready to store.
struct Checked {
    url: String,
    event_types: Vec<String>,
    filters: Filters,
    description: Option<String>,
}

fn check(new: &NewSubscription, state: &AppState) -> Result<Checked, Problem> {
    let mut errors = Vec::new();
    let url = match check_url(new.url.trim(), &state.targets) {
        Ok(url) => Some(url.to_string()),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let mut event_types: Vec<String> = Vec::new();
    if new.event_types.is_empty() {
        errors.push(FieldError::new(
            "event_types",
            "required",
            "请至少选择一种事件类型，或填写 \"*\" 接收全部事件",
        ));
    } else if new.event_types.len() > MAX_EVENT_TYPES {
        errors.push(FieldError::new(
            "event_types",
            "too_many",
            format!("事件类型最多 {MAX_EVENT_TYPES} 种"),
        ));
    }
    for (i, t) in new.event_types.iter().enumerate() {
        let valid = t == ANY_TYPE
            || (!t.is_empty()
                && t.len() <= 200
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)));
        if !valid {
            errors.push(FieldError::new(
                format!("event_types.{i}"),
                "invalid_event_type",
                "事件类型应为 ce_type（如 cn.yizhan.document.material_uploaded.v1）或 \"*\"",
            ));
        } else if !event_types.contains(t) {
            event_types.push(t.clone());
        }
    }
    if event_types.iter().any(|t| t == ANY_TYPE) {
        event_types = vec![ANY_TYPE.to_owned()];
    }
    if let Some(dept) = &new.filters.department_code
        && let Err(e) = DepartmentCode::parse(dept)
    {
        errors.push(FieldError::new(
            "filters.department_code",
            e.code(),
            e.message(),
        ));
    }
    if let Some(uscc) = &new.filters.enterprise_uscc
        && let Err(e) = Uscc::parse(uscc)
    {
        errors.push(FieldError::new(
            "filters.enterprise_uscc",
            e.code(),
            e.message(),
        ));
    }
    let description = new
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        errors.push(FieldError::new(
            "description",
            "too_long",
            format!("说明不得超过 {MAX_DESCRIPTION_CHARS} 个字"),
        ));
    }
    match url {
        Some(url) if errors.is_empty() => Ok(Checked {
            url,
            event_types,
            filters: new.filters.clone(),
            description: description.map(str::to_owned),
        }),
        _ => Err(Problem::validation(errors)),
    }
}

/// Registers a webhook subscription; the answer carries its signing secret,
/// shown this once.
///
/// 调用方：持有 `webhooks:manage` 权限范围的合作系统（partner）。推送地址须为 http(s)
/// 公网地址（部署方可在可信网络中放开，见 docs/WEBHOOKS.md）；支持 `Idempotency-Key`，
/// 但重放的应答不再包含密钥。
#[utoipa::path(
    tag = "webhooks",
    request_body = NewSubscription,
    params(("Idempotency-Key" = Option<String>, Header, description = "幂等键")),
    responses(
        (status = 201, description = "已创建；secret 仅此一次返回", body = CreatedSubscription),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非合作系统或缺少 webhooks:manage 权限范围", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "地址、事件类型或过滤条件不合规（逐项指明字段）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/subscriptions")]
pub async fn create(
    principal: Principal,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: web::Json<NewSubscription>,
) -> Result<HttpResponse, Error> {
    require_webhook_partner(&principal)?;
    let checked = check(&body, &state)?;
    let scope = format!("{} POST /api/v1/webhooks/subscriptions", principal.sub);
    let fingerprint =
        idempotency::fingerprint(&[serde_json::to_vec(&*body).unwrap_or_default().as_slice()]);
    if let Some(k) = &key.0
        && let Some(stored) = idempotency::lookup(&state.db, &scope, k, &fingerprint).await?
    {
        return Ok(stored.into_response());
    }
    let id = uuid::Uuid::now_v7().to_string();
    let secret = state.secrets.generate().map_err(anyhow::Error::from)?;
    let sealed = state
        .secrets
        .seal(&id, &secret)
        .map_err(anyhow::Error::from)?;
    let now = Utc::now();
    let txn = yizhan_kit::db::begin_write(&state.db).await?;
    let row = store::insert_subscription(
        &txn,
        subscription::ActiveModel {
            seq: sea_orm::NotSet,
            id: Set(id),
            owner_sub: Set(principal.sub.clone()),
            url: Set(checked.url),
            event_types: Set(serde_json::to_string(&checked.event_types).unwrap_or_default()),
            filter_department: Set(checked.filters.department_code),
            filter_enterprise: Set(checked.filters.enterprise_uscc),
            description: Set(checked.description),
            secret_sealed: Set(sealed),
            created_at: Set(now),
            secret_rotated_at: Set(now),
            deleted_at: Set(None),
        },
    )
    .await?;
    let subscription = Subscription::from(row);
    let location = format!("/api/v1/webhooks/subscriptions/{}", subscription.id);
    let mut answer = CreatedSubscription {
        subscription,
        secret: None,
    };
    if let Some(k) = &key.0 {
        // The replay record never holds the secret: it is shown once.
        idempotency::record(&txn, &scope, k, &fingerprint, StatusCode::CREATED, &answer).await?;
    }
    txn.commit().await?;
    answer.secret = Some(secret);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(answer))
}

/// The caller's subscriptions, newest first.
///
/// 调用方：持有 `webhooks:manage` 权限范围的合作系统，仅列出本系统（令牌 `sub`）的订阅。
#[utoipa::path(
    operation_id = "list_subscriptions",
    tag = "webhooks",
    params(PageQuery),
    responses(
        (status = 200, description = "订阅列表", body = Page<Subscription>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非合作系统或缺少 webhooks:manage 权限范围", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "分页参数错误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/subscriptions")]
pub async fn list(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    require_webhook_partner(&principal)?;
    let limit = page.limit()?;
    let after = page.position::<i64>()?;
    let rows = store::list_subscriptions(&state.db, &principal.sub, after, limit).await?;
    let page = Page::from_rows(rows, limit, |s| s.seq, Subscription::from);
    Ok(HttpResponse::Ok().json(page))
}

/// One of the caller's subscriptions.
///
/// 调用方：持有 `webhooks:manage` 权限范围的合作系统，仅限本系统的订阅；他人的订阅答复 404。
#[utoipa::path(
    operation_id = "show_subscription",
    tag = "webhooks",
    params(("id" = String, Path, description = "订阅编号")),
    responses(
        (status = 200, description = "订阅", body = Subscription),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非合作系统或缺少 webhooks:manage 权限范围", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "订阅不存在或不属于当前合作系统", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/subscriptions/{id}")]
pub async fn show(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    require_webhook_partner(&principal)?;
    match store::find_subscription(&state.db, &principal.sub, &id).await? {
        Some(row) => Ok(HttpResponse::Ok().json(Subscription::from(row))),
        None => Err(not_found().into()),
    }
}

/// Deletes a subscription; its pending deliveries are cancelled.
///
/// 调用方：持有 `webhooks:manage` 权限范围的合作系统，仅限本系统的订阅；他人的订阅答复 404。
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "订阅编号")),
    responses(
        (status = 204, description = "已删除"),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非合作系统或缺少 webhooks:manage 权限范围", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "订阅不存在或不属于当前合作系统", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/webhooks/subscriptions/{id}")]
pub async fn remove(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    require_webhook_partner(&principal)?;
    let txn = yizhan_kit::db::begin_write(&state.db).await?;
    if !store::delete_subscription(&txn, &principal.sub, &id).await? {
        return Err(not_found().into());
    }
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replaces the subscription's signing secret; the new one is shown this
/// once and signs every attempt from now on, retries of older deliveries included.
///
/// 调用方：持有 `webhooks:manage` 权限范围的合作系统，仅限本系统的订阅；他人的订阅答复 404。
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "订阅编号")),
    responses(
        (status = 200, description = "新密钥（仅此一次返回）", body = RotatedSecret),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非合作系统或缺少 webhooks:manage 权限范围", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "订阅不存在或不属于当前合作系统", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/subscriptions/{id}/rotate-secret")]
pub async fn rotate_secret(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    require_webhook_partner(&principal)?;
    if store::find_subscription(&state.db, &principal.sub, &id)
        .await?
        .is_none()
    {
        return Err(not_found().into());
    }
    let secret = state.secrets.generate().map_err(anyhow::Error::from)?;
    let sealed = state
        .secrets
        .seal(&id, &secret)
        .map_err(anyhow::Error::from)?;
    match store::replace_secret(&state.db, &principal.sub, &id, sealed).await? {
        Some(row) => Ok(HttpResponse::Ok().json(RotatedSecret {
            id: row.id,
            secret,
            secret_rotated_at: row.secret_rotated_at,
        })),
        None => Err(not_found().into()),
    }
}

fn not_found() -> Problem {
    Problem::not_found("订阅不存在或不属于当前合作系统")
}
