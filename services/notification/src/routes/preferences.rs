//! `/api/v1/notification-preferences`: how the caller wants to be told
//! beyond the inbox (email, SMS, by message category), and
//! `/api/v1/notification-deliveries`: what was sent to them.
//!
//! Who may call: any authenticated user, for themselves only.

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_auth::Principal;
use yizhan_kit::Problem;
use yizhan_kit::pagination::{Page, PageQuery};

use crate::AppState;
use crate::channels::prefs::{check_categories, check_email, check_phone};
use crate::error::Error;
use crate::store::channels::{self as store, delivery, preference};

/// The caller's preferences.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "zhang.san@example.com.cn",
    "phone": "13800138000",
    "email_categories": ["deadline", "material"],
    "sms_categories": ["deadline"]
}))]
pub struct Preferences {
    /// Email address; required when `email_categories` is not empty.
    #[serde(default)]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// Mainland mobile number; required when `sms_categories` is not empty.
    #[serde(default)]
    #[schema(pattern = r"^(\+86)?1[3-9]\d{9}$")]
    pub phone: Option<String>,
    /// Categories also sent by email: `material`, `application`, `deadline`,
    /// `certificate`, `inspection`.
    #[serde(default)]
    pub email_categories: Vec<String>,
    /// Categories also sent by SMS (same values).
    #[serde(default)]
    pub sms_categories: Vec<String>,
}

impl From<preference::Model> for Preferences {
    fn from(m: preference::Model) -> Self {
        Self {
            email: m.email,
            phone: m.phone,
            email_categories: serde_json::from_str(&m.email_categories).unwrap_or_default(),
            sms_categories: serde_json::from_str(&m.sms_categories).unwrap_or_default(),
        }
    }
}

/// One email or SMS sent (or being sent) to the caller.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01937a4f-1c2d-7e3f-8a4b-5c6d7e8f9a0b",
    "channel": "sms",
    "address": "13800138000",
    "message_id": "01937a4e-8e2b-7c11-b0a4-5d2f7c9e1a3b",
    "category": "licence",
    "status": "sent",
    "attempts": 1,
    "last_error": null,
    "created_at": "2026-11-23T08:00:02Z",
    "sent_at": "2026-11-23T08:00:03Z"
}))]
pub struct ChannelDelivery {
    /// Id.
    pub id: String,
    /// `email` or `sms`.
    pub channel: String,
    /// Address used.
    pub address: String,
    /// The inbox message it carries.
    pub message_id: String,
    /// Message category.
    pub category: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// Last failure.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When it was accepted by the mail server or SMS provider.
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<delivery::Model> for ChannelDelivery {
    fn from(m: delivery::Model) -> Self {
        Self {
            id: m.id,
            channel: m.channel,
            address: m.address,
            message_id: m.message_id,
            category: m.category,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// The caller's notification preferences (empty when never set).
///
/// 调用方：任何已登录用户，仅限本人的设置。
#[utoipa::path(
    operation_id = "show_preferences",
    tag = "preferences",
    responses(
        (status = 200, description = "通知偏好", body = Preferences),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/notification-preferences")]
pub async fn show(principal: Principal, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let prefs = store::preferences(&state.db, &principal.sub)
        .await?
        .map(Preferences::from)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(prefs))
}

/// Replaces the caller's notification preferences. Email and SMS are sent
/// only where the deployment configured them, and only for messages
/// addressed to the caller personally.
///
/// 调用方：任何已登录用户，仅限本人的设置。
#[utoipa::path(
    tag = "preferences",
    request_body = Preferences,
    responses(
        (status = 200, description = "已保存", body = Preferences),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "邮箱、手机号或消息类别不合规（逐项指明字段）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/notification-preferences")]
pub async fn replace(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Json<Preferences>,
) -> Result<HttpResponse, Error> {
    let mut prefs = body.into_inner();
    let mut errors = Vec::new();
    prefs.email = prefs
        .email
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    prefs.phone = prefs
        .phone
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    if let Some(email) = &prefs.email
        && let Err(e) = check_email(email)
    {
        errors.push(e);
    }
    if let Some(phone) = &prefs.phone {
        match check_phone(phone) {
            Ok(normalised) => prefs.phone = Some(normalised),
            Err(e) => errors.push(e),
        }
    }
    errors.extend(check_categories(
        "email_categories",
        &prefs.email_categories,
    ));
    errors.extend(check_categories("sms_categories", &prefs.sms_categories));
    if prefs.email.is_none() && !prefs.email_categories.is_empty() {
        errors.push(yizhan_kit::problem::FieldError::new(
            "email",
            "required",
            "选择了邮件通知的类别时须填写邮箱地址",
        ));
    }
    if prefs.phone.is_none() && !prefs.sms_categories.is_empty() {
        errors.push(yizhan_kit::problem::FieldError::new(
            "phone",
            "required",
            "选择了短信通知的类别时须填写手机号码",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors).into());
    }
    prefs.email_categories.dedup();
    prefs.sms_categories.dedup();
    store::save_preferences(
        &state.db,
        preference::Model {
            sub: principal.sub.clone(),
            email: prefs.email.clone(),
            phone: prefs.phone.clone(),
            email_categories: serde_json::to_string(&prefs.email_categories).unwrap_or_default(),
            sms_categories: serde_json::to_string(&prefs.sms_categories).unwrap_or_default(),
            updated_at: Utc::now(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(prefs))
}

/// Emails and texts sent (or being sent) to the caller, newest first.
///
/// 调用方：任何已登录用户，仅列出发给本人的邮件与短信记录。
#[utoipa::path(
    tag = "preferences",
    params(PageQuery),
    responses(
        (status = 200, description = "发送记录", body = Page<ChannelDelivery>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "分页参数错误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/notification-deliveries")]
pub async fn deliveries(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let limit = page.limit()?;
    let after = page.position::<i64>()?;
    let rows = store::list(&state.db, &principal.sub, after, limit).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |d| d.seq,
        ChannelDelivery::from,
    )))
}
