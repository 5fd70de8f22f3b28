//! Error pages people can use: every page error (403, 404, 500, a service
//! down …) is an HTML page that keeps the signed-in header, and an unknown
//! address is the HTML 404 page rather than a JSON problem. Addresses of
//! the API (`/api/…`) and the operator endpoints keep their JSON answers.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::guard::GuardContext;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde_json::json;

use super::render_status;
use crate::session::MaybeViewer;

/// Paths that are not pages: the API and the operator endpoints answer
/// machines, in JSON.
const NOT_PAGES: &[&str] = &[
    "/api/",
    "/api-docs/",
    "/swagger-ui",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// Whether `path` is (or would be) one of the portal's pages.
pub fn is_page_path(path: &str) -> bool {
    !NOT_PAGES.iter().any(|p| path.starts_with(p))
}

/// Route guard of the pages' scope: page paths only, so the API's and the
/// operator endpoints' own routes and JSON 404 stay theirs.
pub fn page_guard(ctx: &GuardContext<'_>) -> bool {
    is_page_path(ctx.head().uri.path())
}

/// What an error page shows; a page error's response carries it so that
/// [`signed_in_errors`] can draw the page again with the viewer's header.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// Heading.
    pub title: &'static str,
    /// What happened, in words.
    pub message: String,
}

/// The error page of `status` for `viewer` (or nobody).
pub fn error_page(
    viewer: Option<&crate::session::Viewer>,
    status: StatusCode,
    page: &ErrorPage,
) -> HttpResponse {
    render_status(
        viewer,
        "error.html",
        json!({"title": page.title, "message": page.message, "status": status.as_u16()}),
        status,
    )
    .unwrap_or_else(|_| {
        HttpResponse::build(status)
            .content_type(ContentType::plaintext())
            .body(format!("{}：{}", page.title, page.message))
    })
}

/// Middleware of the pages: an error page is drawn again with the
/// signed-in header, and a bare 500 (a failure no handler described)
/// becomes the HTML 500 page.
pub async fn signed_in_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The request is read back from the answer: holding it across the
    // call would keep the router from matching the scope's routes.
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if !status.is_client_error() && !status.is_server_error() {
        return Ok(res);
    }
    let described = res.response().extensions().get::<ErrorPage>().cloned();
    let page = match described {
        Some(page) => page,
        None if status == StatusCode::INTERNAL_SERVER_ERROR => ErrorPage {
            title: "系统出错",
            message: "办理时出了错，已记录，请稍后重试；如仍不成，请拨打 12345".into(),
        },
        None => return Ok(res),
    };
    let viewer = MaybeViewer::extract(res.request())
        .await
        .ok()
        .and_then(|v| v.0);
    let mut page_res = error_page(viewer.as_ref(), status, &page);
    // Keep what the first answer set besides its body (cookies, caching).
    for (name, value) in res.response().headers() {
        if ![
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CACHE_CONTROL,
        ]
        .contains(name)
        {
            page_res.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(res.into_response(page_res))
}

/// Default page: the address is not one of the portal's pages.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let viewer = MaybeViewer::extract(&req).await.ok().and_then(|v| v.0);
    error_page(
        viewer.as_ref(),
        StatusCode::NOT_FOUND,
        &ErrorPage {
            title: "未找到",
            message: "没有这个页面，请检查地址，或从首页进入".into(),
        },
    )
}
