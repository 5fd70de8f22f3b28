//! The bearer security scheme for each service's OpenAPI document.

use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Name under which the scheme is registered; use it in
/// `#[utoipa::path(security(("bearer" = [])))]`.
pub const BEARER_SCHEME: &str = "bearer";

/// Adds the JWT bearer scheme: `#[openapi(modifiers(&BearerSecurity))]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "访问令牌：开发环境用 `yizhan token` 命令签发，生产环境由统一身份认证服务签发",
                    ))
                    .build(),
            ),
        );
    }
}
