//! The licence as people hold it: the print page (the portal's own layout,
//! fitting a desktop frame and a phone, with a print button) and the
//! public verification page a printed link or scanned QR code opens.
//!
//! Both read the document service; the print page with the viewer's token
//! (only those it lets see the certificate do), verification without one.
//! Links on them use the public base URL, never a service's own port.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use serde_json::json;

use super::{PageError, render};
use crate::AppState;
use crate::queues::urlencode;
use crate::session::{MaybeViewer, Viewer};
use crate::upstream::Upstream;

/// 电子证照标识 (`1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>`,
/// the check character possibly `*`) as a path segment, or a 404 page.
pub fn certificate_path(id: &str) -> Result<String, PageError> {
    let plausible = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '-'));
    if plausible {
        Ok(urlencode(id))
    } else {
        Err(PageError::NotFound("证照不存在".into()))
    }
}

/// Where people verify a certificate: `<public base>/verify?id=…`, or this
/// portal's own address as the browser reached it when no public base is
/// configured.
fn verify_url(state: &AppState, req: &HttpRequest, id: &str) -> String {
    let base = state.public_base_url.clone().unwrap_or_else(|| {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    });
    format!("{base}/verify?id={}", urlencode(id))
}

/// Page: the printable licence — holder, items with their departments and
/// permit numbers, validity, status, the QR code and the verification
/// link — with a print button.
#[get("/certificates/{id}/print")]
pub async fn print_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let path = certificate_path(&id)?;
    let cert = state
        .upstream
        .get(
            Upstream::Document,
            &format!("/api/v1/certificates/{path}"),
            Some(&viewer.token),
        )
        .await?;
    let verify = verify_url(&state, &req, &id);
    let number = application_number(&state, &viewer, &cert).await;
    render(
        Some(&viewer),
        "licence_print.html",
        json!({
            "title": cert["type_name"],
            "cert": cert,
            "path": path,
            "verify_url": verify,
            "number": number,
        }),
    )
}

/// The 申请编号 of the application (or stage application) a certificate
/// was issued for, as the viewer may read it; `None` when it cannot be
/// read (the licence prints without it).
async fn application_number(
    state: &AppState,
    viewer: &Viewer,
    cert: &serde_json::Value,
) -> Option<String> {
    let request = cert["request_id"].as_str()?;
    if !yizhan_kit::text::is_plausible_id(request) {
        return None;
    }
    let (service, path) = match cert["requested_by_service"].as_str()? {
        "licensing" => (
            Upstream::Licensing,
            format!("/api/v1/applications/{request}"),
        ),
        "construction" => (Upstream::Construction, format!("/api/v1/stages/{request}")),
        _ => return None,
    };
    let answer = state
        .upstream
        .get(service, &path, Some(&viewer.token))
        .await
        .ok()?;
    answer["number"].as_str().map(str::to_owned)
}

/// `?id=` of the verification page.
#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    id: Option<String>,
}

/// Page: the public verification of a certificate (what its QR code and
/// printed link open): the document service's verification page, passed
/// through. Anyone may open it.
#[get("/verify")]
pub async fn verify_page(
    state: web::Data<AppState>,
    _viewer: MaybeViewer,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, PageError> {
    let id = query.id.as_deref().unwrap_or_default();
    let path = certificate_path(id)?;
    let (content_type, body) = state
        .upstream
        .fetch(Upstream::Document, &format!("/verify?id={path}"), None)
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
