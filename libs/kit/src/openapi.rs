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

/// Documents the error answers every operation can give because of shared
/// plumbing, not its own logic, so each handler need not repeat them (and
/// none is forgotten): operations with a body can answer 400 (unreadable),
/// 413 (too large) and 415 (wrong content type); an `Idempotency-Key`
/// header can be malformed (400); a bearer-secured operation can answer 401.
/// Existing entries are kept.
pub fn add_shared_error_responses(api: &mut OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::problem::PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    };
    for item in api.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let has_body = operation.request_body.is_some();
            let has_key = operation.parameters.iter().flatten().any(|p| match p {
                RefOr::T(p) => {
                    p.parameter_in == ParameterIn::Header
                        && p.name.eq_ignore_ascii_case("Idempotency-Key")
                }
                RefOr::Ref(_) => false,
            });
            let bearer = operation.security.iter().flatten().any(|requirement| {
                serde_json::to_value(requirement)
                    .ok()
                    .and_then(|v| v.as_object().map(|o| o.contains_key("bearer")))
                    .unwrap_or(false)
            });
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description));
            };
            if has_body {
                add("400", "请求体格式错误（不是合法的 JSON 或表单）");
                add("413", "请求体过大");
                add("415", "内容类型不受支持");
            }
            if has_key {
                add("400", "请求头 Idempotency-Key 格式错误");
            }
            if bearer {
                add("401", "未登录或登录凭证无效");
            }
        }
    }
}
