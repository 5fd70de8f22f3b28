//! The parts of every service's OpenAPI document that are not per-route:
//! info, the bearer security scheme, and the Swagger UI mount.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

/// Path of the served OpenAPI JSON.
pub const OPENAPI_PATH: &str = "/api-docs/openapi.json";
/// Swagger UI location.
pub const SWAGGER_PATH: &str = "/swagger-ui/";

/// A base document for `service` with the `bearer` scheme routes refer to.
pub fn base(service: &str, description: &str) -> OpenApi {
    let mut api = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(format!("yizhan {service}"))
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(description))
                .build(),
        )
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "`yizhan token --role <角色>` 签发的开发令牌，或生产环境 OIDC 提供方签发的令牌",
                ))
                .build(),
        ),
    );
    api
}

/// Swagger UI serving `api` (assets are vendored into the binary).
pub fn swagger_ui(api: OpenApi) -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new(format!("{SWAGGER_PATH}{{_:.*}}")).url(OPENAPI_PATH, api)
}

/// Pretty JSON for the committed `openapi/<service>.json`.
pub fn to_json(api: &OpenApi) -> String {
    let mut json = api.to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
