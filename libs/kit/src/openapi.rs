//! The parts of every service's OpenAPI document that are not per-route:
//! info (with licence and contact), the bearer security scheme, the error
//! answers shared plumbing gives, the shape of flattened tagged enums, the
//! methods each path serves (for 405), and the Swagger UI mount.

use std::sync::Arc;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContactBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder};

mod pages;
mod unions;

pub use pages::{add_array_examples, add_page_examples};
pub use unions::inline_flattened_unions;

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
                .license(Some(
                    LicenseBuilder::new()
                        .name(env!("CARGO_PKG_LICENSE"))
                        .identifier(Some(env!("CARGO_PKG_LICENSE")))
                        .build(),
                ))
                .contact(Some(
                    ContactBuilder::new()
                        .name(Some("一站平台接口支持"))
                        .email(Some("api-support@yizhan.example"))
                        .build(),
                ))
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

/// What every document gets once its routes are in: the shared error
/// answers, flattened tagged enums in a shape generators keep, and
/// examples for pages of lists and array bodies.
pub fn finish(api: &mut OpenApi) {
    add_shared_error_responses(api);
    inline_flattened_unions(api);
    add_page_examples(api);
    add_array_examples(api);
}

/// An example for the document from a JSON file compiled in
/// (`include_str!`): services keep answers recorded from a real run as
/// files rather than as long `json!` literals. Unreadable JSON gives
/// `null`, which the example check in the root crate refuses.
pub fn example(json: &str) -> serde_json::Value {
    serde_json::from_str(json).unwrap_or(serde_json::Value::Null)
}

/// Runs `edit` over the document's component schemas as JSON, and rebuilds
/// the document from it when `edit` says it changed something. The
/// document-wide rewrites (`unions`, `pages`) are far simpler on JSON than
/// on utoipa's typed schema tree.
fn edit_schemas(
    api: &mut OpenApi,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>) -> bool,
) {
    let Ok(mut doc) = serde_json::to_value(&*api) else {
        return;
    };
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    if edit(schemas)
        && let Ok(rewritten) = serde_json::from_value(doc)
    {
        *api = rewritten;
    }
}

/// Adds `servers`: the service at `default_url` (its address in the
/// one-process development stack) as the default of a `base_url` variable,
/// so a partner's generated client states where a deployment lives.
pub fn set_server(api: &mut OpenApi, default_url: &str) {
    use utoipa::openapi::server::{ServerBuilder, ServerVariableBuilder};
    api.servers = Some(vec![
        ServerBuilder::new()
            .url("{base_url}")
            .description(Some(
                "部署地址，例如 https://yizhan.example.gov.cn；默认值为本机开发环境（yizhan 单进程模式）",
            ))
            .parameter(
                "base_url",
                ServerVariableBuilder::new().default_value(default_url),
            )
            .build(),
    ]);
}

/// The methods each documented path answers, so a request for a path the
/// API serves with a method it does not can answer 405 with `Allow`
/// rather than 404 (see `crate::http::fallback`).
#[derive(Debug, Clone, Default)]
pub struct ServedPaths(Arc<Vec<(ResourceDef, Vec<Method>)>>);

impl ServedPaths {
    /// The paths and methods of `api`.
    pub fn of(api: &OpenApi) -> Self {
        let paths = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, served)| served.then_some(m))
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self(Arc::new(paths))
    }

    /// The methods `path` is served with, if it is a documented path.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The bytes of a file in a response (`type: string, format: binary`), for
/// `content((Binary = "application/pdf"), …)` with each media type the
/// operation really serves; `Vec<u8>` would read as an array of integers.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("文件内容（二进制）"))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_paths_match_templates_and_list_their_methods() {
        let api: OpenApi = serde_json::from_value(serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/api/v1/items": {"get": {"responses": {}}, "post": {"responses": {}}},
                "/api/v1/items/{id}": {"delete": {"responses": {}}}
            }
        }))
        .unwrap();
        let served = ServedPaths::of(&api);
        assert_eq!(
            served.allowed("/api/v1/items"),
            Some([Method::GET, Method::POST].as_slice())
        );
        assert_eq!(
            served.allowed("/api/v1/items/abc"),
            Some([Method::DELETE].as_slice())
        );
        assert_eq!(served.allowed("/api/v1/items/abc/more"), None);
        assert_eq!(served.allowed("/nowhere"), None);
    }
}
