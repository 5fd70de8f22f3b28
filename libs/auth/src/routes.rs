//! `GET /api/v1/me`: who the service thinks the caller is. Every service
//! mounts it, so a partner can check a token against any one of them.
//!
//! Who may call: any authenticated caller, about themselves.

use actix_web::{HttpResponse, get};
use yizhan_kit::Problem;

use crate::Principal;

/// The caller's identity as this service verified it.
///
/// 调用方：任何持有有效令牌的调用者，仅返回自身身份。
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "当前调用者身份", body = Principal),
        (status = 401, description = "未登录或令牌无效", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/me")]
pub async fn me(principal: Principal) -> HttpResponse {
    HttpResponse::Ok().json(principal)
}
