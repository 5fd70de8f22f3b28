//! `/api/v1/certificates/{id}`: an issued certificate as JSON, its QR code
//! (SVG, PNG), a printable page and a PDF file.
//!
//! Who may call: the holder (an applicant of the holder's enterprise, or an
//! agent it authorised), window clerks, department reviewers and admins.
//! Anyone else gets 404, never learning whether the certificate exists;
//! the public checks a certificate through `/api/v1/verify` instead.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_events::contracts::{CertificateItem, CertificateStatus};
use yizhan_kit::Problem;
use yizhan_kit::openapi::Binary;
use yizhan_types::CertificateId;

use crate::AppState;
use crate::certificates::Certificates;
use crate::domain::certificate::{Party, Validity, validity_on};
use crate::error::Error;
use crate::routes::pages;
use crate::store::certificates::{self as store, certificate};

/// A status with its code and zh-CN name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"code": "01", "name": "有效"}))]
pub struct Status {
    /// Code: 01 有效, 02 暂扣, 03 撤销, 04 注销, 05 失效, 07 吊销.
    pub code: String,
    /// zh-CN name.
    pub name: String,
}

impl From<CertificateStatus> for Status {
    fn from(s: CertificateStatus) -> Self {
        Self {
            code: s.code().to_owned(),
            name: s.zh_name().to_owned(),
        }
    }
}

/// Where a certificate stands against its validity period today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValidityView {
    /// Before the first valid day.
    NotYet,
    /// Within the period.
    Within,
    /// Past the last valid day.
    Expired,
}

impl From<Validity> for ValidityView {
    fn from(v: Validity) -> Self {
        match v {
            Validity::NotYet => Self::NotYet,
            Validity::Within => Self::Within,
            Validity::Expired => Self::Expired,
        }
    }
}

/// One permit carried by a certificate.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Item {
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// 审批部门.
    pub department: String,
    /// 许可证号.
    pub permit_number: String,
}

impl From<CertificateItem> for Item {
    fn from(i: CertificateItem) -> Self {
        Self {
            item_code: i.item_code,
            item_name: i.item_name,
            department: i.department,
            permit_number: i.permit_number,
        }
    }
}

/// One status change on record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusChangeView {
    /// Before.
    pub from: Status,
    /// After.
    pub to: Status,
    /// Why.
    pub reason: String,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// An issued certificate, as its holder and staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "1.2.156.3005.2.HYZHXKZ.11350100MB01729372.00000001.001.D",
    "certificate_type": "industry_comprehensive_licence",
    "type_code": "HYZHXKZ",
    "type_name": "行业综合许可证",
    "holder": {"uscc": "91350100M000100Y43", "name": "福州一站酒店有限公司"},
    "scope": "住宿服务；餐饮服务",
    "items": [{"item_code": "SP-001", "item_name": "食品经营许可", "department": "市场监督管理局", "permit_number": "JY13501000000001"}],
    "valid_from": "2026-12-01",
    "valid_until": "2031-11-30",
    "validity": "within",
    "issuer": {"uscc": "11350100MB01729372", "name": "一站政务服务中心"},
    "issued_at": "2026-11-23T08:00:00Z",
    "status": {"code": "01", "name": "有效"},
    "status_reason": null,
    "status_changed_at": null,
    "history": [],
    "key_id": "Vv1B3hX1i1Y2rFQ3O3mMSuN0w8mW1C3iN2y4p0ZKf5Q",
    "jws": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJpZCI6Ii4uLiJ9.c2lnbmF0dXJl",
    "verify_url": "http://127.0.0.1:8083/verify?id=1.2.156.3005.2.HYZHXKZ.11350100MB01729372.00000001.001.D",
    "request_id": "01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5a",
    "requested_by_service": "licensing"
}))]
pub struct Certificate {
    /// 电子证照标识.
    pub id: String,
    /// Type API name.
    pub certificate_type: String,
    /// 证照类型代码.
    pub type_code: String,
    /// 证照名称.
    pub type_name: String,
    /// 持证主体.
    pub holder: Party,
    /// 许可范围.
    pub scope: String,
    /// 许可事项.
    pub items: Vec<Item>,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day; `null` for 长期有效.
    pub valid_until: Option<NaiveDate>,
    /// Against the validity period today.
    pub validity: ValidityView,
    /// 发证机构.
    pub issuer: Party,
    /// Signing time.
    pub issued_at: DateTime<Utc>,
    /// Current status (the signed data keeps the status at issue).
    pub status: Status,
    /// Why the status last changed.
    pub status_reason: Option<String>,
    /// When it last changed.
    pub status_changed_at: Option<DateTime<Utc>>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChangeView>,
    /// Signing key id (see `/.well-known/jwks.json`).
    pub key_id: String,
    /// The signed certificate: compact JWS, EdDSA.
    pub jws: String,
    /// Public verification URL (what the QR code encodes).
    pub verify_url: String,
    /// The issue request it answers.
    pub request_id: String,
    /// The service that asked for it.
    pub requested_by_service: String,
}

/// A certificate in an enterprise archive (一企一档).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateSummary {
    /// 电子证照标识.
    pub id: String,
    /// Type API name.
    pub certificate_type: String,
    /// 证照名称.
    pub type_name: String,
    /// Current status.
    pub status: Status,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day.
    pub valid_until: Option<NaiveDate>,
    /// Against the validity period today.
    pub validity: ValidityView,
    /// Signing time.
    pub issued_at: DateTime<Utc>,
    /// Where the full certificate is.
    pub href: String,
}

/// Today's date in Beijing: validity dates are Beijing calendar days.
pub fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

impl From<&certificate::Model> for CertificateSummary {
    fn from(r: &certificate::Model) -> Self {
        Self {
            id: r.id.clone(),
            certificate_type: r.certificate_type.clone(),
            type_name: r.type_name.clone(),
            status: r.current_status().into(),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            validity: validity_on(today(), r.valid_from, r.valid_until).into(),
            issued_at: r.issued_at,
            href: format!("/api/v1/certificates/{}", r.id),
        }
    }
}

/// The view of a row (and its history) for readers allowed to see it all.
pub fn view(
    certs: &Certificates,
    r: &certificate::Model,
    history: Vec<store::status_change::Model>,
) -> Certificate {
    let status = |code: &str| {
        Status::from(CertificateStatus::from_code(code).unwrap_or(CertificateStatus::Valid))
    };
    Certificate {
        id: r.id.clone(),
        certificate_type: r.certificate_type.clone(),
        type_code: r.type_code.clone(),
        type_name: r.type_name.clone(),
        holder: Party {
            uscc: r.holder_uscc.clone(),
            name: r.holder_name.clone(),
        },
        scope: r.scope.clone(),
        items: r.item_list().into_iter().map(Item::from).collect(),
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        validity: validity_on(today(), r.valid_from, r.valid_until).into(),
        issuer: Party {
            uscc: r.issuer_uscc.clone(),
            name: r.issuer_name.clone(),
        },
        issued_at: r.issued_at,
        status: r.current_status().into(),
        status_reason: r.status_reason.clone(),
        status_changed_at: r.status_changed_at,
        history: history
            .iter()
            .map(|h| StatusChangeView {
                from: status(&h.old_status),
                to: status(&h.new_status),
                reason: h.reason.clone(),
                changed_at: h.changed_at,
            })
            .collect(),
        key_id: r.key_id.clone(),
        jws: r.jws.clone(),
        verify_url: certs.verify_url(&r.id),
        request_id: r.request_id.clone(),
        requested_by_service: r.requested_by_service.clone(),
    }
}

/// Whether the caller may read certificates held by `holder_uscc`.
pub fn may_read(principal: &Principal, holder_uscc: &str) -> bool {
    principal.may_act_for(holder_uscc)
        || principal.has_role(Role::WindowClerk)
        || principal.has_role(Role::DeptReviewer)
        || principal.has_role(Role::Admin)
}

/// Parses a path identifier: a malformed one is a 422 naming `id`.
pub fn parse_id(raw: &str) -> Result<CertificateId, Problem> {
    CertificateId::parse(raw).map_err(|e| Problem::field("id", e.code(), e.message()))
}

/// Loads a certificate the caller may read, or 404.
async fn visible(
    state: &AppState,
    principal: &Principal,
    raw_id: &str,
) -> Result<certificate::Model, Error> {
    let id = parse_id(raw_id)?;
    match store::find(&state.db, id.as_str()).await? {
        Some(row) if may_read(principal, &row.holder_uscc) => Ok(row),
        _ => Err(Problem::not_found("电子证照不存在或无权查看").into()),
    }
}

/// An issued certificate (电子证照) with every field.
///
/// Current status and its history, and the signed JWS. The public checks
/// certificates through `/api/v1/verify` instead.
///
/// 调用方：持证企业的申请人或其授权的帮办代办员、综合窗口人员、部门审批人员、管理员；其他调用者答复 404。
#[utoipa::path(
    tag = "certificates",
    params(("id" = String, Path, description = "电子证照标识",
        example = "1.2.156.3005.2.HYZHXKZ.11350100MB01729372.00000001.001.D")),
    responses(
        (status = 200, description = "电子证照", body = Certificate),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "电子证照标识格式错误（字段 id）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/certificates/{id}")]
pub async fn get_certificate(
    principal: Principal,
    state: web::Data<AppState>,
    certs: web::Data<Certificates>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let row = visible(&state, &principal, &id).await?;
    let history = store::history(&state.db, &row.id).await?;
    Ok(HttpResponse::Ok().json(view(&certs, &row, history)))
}

/// The certificate's QR code as SVG.
///
/// Encodes the public verification URL (`<base>/verify?id=<identifier>`).
///
/// 调用方：持证企业的申请人或其授权的帮办代办员、综合窗口人员、部门审批人员、管理员；其他调用者答复 404。
#[utoipa::path(
    tag = "certificates",
    params(("id" = String, Path, description = "电子证照标识")),
    responses(
        (status = 200, description = "二维码 SVG", content_type = "image/svg+xml", body = String),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "电子证照标识格式错误（字段 id）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/certificates/{id}/qr.svg")]
pub async fn qr_svg(
    principal: Principal,
    state: web::Data<AppState>,
    certs: web::Data<Certificates>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let row = visible(&state, &principal, &id).await?;
    let svg = crate::qr::svg(&certs.verify_url(&row.id)).map_err(qr_failed)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .body(svg))
}

/// The certificate's QR code as PNG.
///
/// Encodes the public verification URL (`<base>/verify?id=<identifier>`).
///
/// 调用方：持证企业的申请人或其授权的帮办代办员、综合窗口人员、部门审批人员、管理员；其他调用者答复 404。
#[utoipa::path(
    tag = "certificates",
    params(("id" = String, Path, description = "电子证照标识")),
    responses(
        (status = 200, description = "二维码 PNG", content_type = "image/png", body = Binary),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "电子证照标识格式错误（字段 id）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/certificates/{id}/qr.png")]
pub async fn qr_png(
    principal: Principal,
    state: web::Data<AppState>,
    certs: web::Data<Certificates>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let row = visible(&state, &principal, &id).await?;
    let png = crate::qr::png(&certs.verify_url(&row.id)).map_err(qr_failed)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .body(png))
}

/// The printable certificate (zh-CN HTML).
///
/// Self-contained (no external assets), laid out for A4: every field, the
/// QR code and the signed JWS.
///
/// 调用方：持证企业的申请人或其授权的帮办代办员、综合窗口人员、部门审批人员、管理员；其他调用者答复 404。
#[utoipa::path(
    tag = "certificates",
    params(("id" = String, Path, description = "电子证照标识")),
    responses(
        (status = 200, description = "可打印的 HTML 页面", content_type = "text/html", body = String),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "电子证照标识格式错误（字段 id）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/certificates/{id}/print")]
pub async fn print(
    principal: Principal,
    state: web::Data<AppState>,
    certs: web::Data<Certificates>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let row = visible(&state, &principal, &id).await?;
    let history = store::history(&state.db, &row.id).await?;
    let cert = view(&certs, &row, history);
    let qr = crate::qr::inline_svg(&cert.verify_url).map_err(qr_failed)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(pages::certificate(&cert, &qr)))
}

/// The certificate as a PDF file (A4).
///
/// The same sheet as the printable page: every field and permit, the QR
/// code and link to the public verification, the seal, the signed JWS.
/// Text is real text in a Chinese font subset embedded in the file, so it
/// can be searched and copied. The font comes from the server
/// (`document.certificates.pdf_font`, default: Debian's `fonts-noto-cjk`);
/// without one the answer is 503 saying how to install it.
///
/// 调用方：持证企业的申请人或其授权的帮办代办员、综合窗口人员、部门审批人员、管理员；其他调用者答复 404。
#[utoipa::path(
    tag = "certificates",
    params(("id" = String, Path, description = "电子证照标识")),
    responses(
        (status = 200, description = "PDF 版电子证照（A4，内嵌中文字体子集）", content_type = "application/pdf", body = Binary,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"<电子证照标识>.pdf\""))),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "电子证照标识格式错误（字段 id）", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "服务器未安装中文字体（代码 pdf_font_unavailable，说明安装方法与设置 document.certificates.pdf_font）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/certificates/{id}/pdf")]
pub async fn pdf(
    principal: Principal,
    state: web::Data<AppState>,
    certs: web::Data<Certificates>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let row = visible(&state, &principal, &id).await?;
    let history = store::history(&state.db, &row.id).await?;
    let cert = view(&certs, &row, history);
    let font = certs.pdf_font.get().await.map_err(|e| {
        tracing::warn!(error = %e, "licence PDF asked for without a usable font");
        Problem::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "pdf_font_unavailable",
            "PDF 版证照暂不可用",
        )
        .with_detail(e.message())
        .with_retry_after(300)
    })?;
    let qr = crate::qr::modules(&cert.verify_url).map_err(qr_failed)?;
    let sheet = pages::licence_sheet(&cert, qr);
    let bytes = web::block(move || crate::licence_pdf::pdf(&sheet, &font))
        .await
        .map_err(|e| pdf_failed(&e))?
        .map_err(|e| pdf_failed(&e))?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.pdf\"", cert.id),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(bytes))
}

fn pdf_failed(e: &dyn std::fmt::Display) -> Error {
    tracing::error!(error = %e, "cannot write a licence PDF");
    Problem::internal().into()
}

fn qr_failed(e: crate::qr::QrError) -> Error {
    tracing::error!(error = %e, "cannot render a QR code");
    Problem::internal().into()
}
