//! Public verification (公众核验): anyone, without logging in, asks whether
//! a certificate is genuine and what its status is now, by identifier (what
//! the QR code and the paper carry) or by the signed JWS itself; and anyone
//! fetches the public keys to verify offline.
//!
//! Who may call: everyone. No token is read.
//!
//! An answer of "not genuine" is still an answer (200): only input that is
//! not an identifier or not a JWS at all is a 4xx.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_events::contracts::CertificateStatus;
use yizhan_kit::{FieldError, Problem};
use yizhan_types::{CertificateId, IdentifierError, IdentifierKind};

use crate::AppState;
use crate::certificates::Certificates;
use crate::domain::certificate::{Party, Validity, validity_on};
use crate::domain::jws::{Jwk, Parsed, SignatureFailure};
use crate::error::Error;
use crate::routes::certificates::{Status, ValidityView, today};
use crate::routes::pages;
use crate::store::certificates::{self as store, certificate};

/// Longest JWS accepted (a certificate with 100 long items stays far below).
pub const MAX_JWS_LEN: usize = 64 * 1024;

/// `?id=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// 电子证照标识, e.g. `1.2.156.3005.2.HYZHXKZ.11350100MB01729372.00000001.001.D`.
    pub id: String,
}

/// `POST /api/v1/verify` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"jws": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJpZCI6Ii4uLiJ9.c2lnbmF0dXJl"}))]
pub struct VerifyRequest {
    /// The signed certificate (compact JWS) as presented.
    #[schema(min_length = 1, max_length = 65536)]
    pub jws: String,
}

/// Why the signature check failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Finding {
    /// `unsupported_algorithm`, `unknown_key`, `signature_mismatch` or `not_found`.
    pub code: String,
    /// zh-CN explanation.
    pub message: String,
}

impl From<SignatureFailure> for Finding {
    fn from(f: SignatureFailure) -> Self {
        Self {
            code: f.code().into(),
            message: f.message().into(),
        }
    }
}

/// What the registry holds about a certificate: enough to compare with the
/// paper or file in hand, nothing beyond what a licence shows publicly.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicCertificate {
    /// 证照名称.
    pub type_name: String,
    /// 持证主体.
    pub holder: Party,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day; `null` for 长期有效.
    pub valid_until: Option<NaiveDate>,
    /// 发证机构.
    pub issuer: Party,
    /// Signing time.
    pub issued_at: DateTime<Utc>,
}

impl From<&certificate::Model> for PublicCertificate {
    fn from(r: &certificate::Model) -> Self {
        Self {
            type_name: r.type_name.clone(),
            holder: Party {
                uscc: r.holder_uscc.clone(),
                name: r.holder_name.clone(),
            },
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            issuer: Party {
                uscc: r.issuer_uscc.clone(),
                name: r.issuer_name.clone(),
            },
            issued_at: r.issued_at,
        }
    }
}

/// The verification answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "valid": false,
    "verdict": "证照当前状态为「撤销」，已不具备效力",
    "identifier": "1.2.156.3005.2.HYZHXKZ.11350100MB01729372.00000001.001.D",
    "identifier_valid": true,
    "signature_valid": true,
    "signature_problem": null,
    "key_id": "Vv1B3hX1i1Y2rFQ3O3mMSuN0w8mW1C3iN2y4p0ZKf5Q",
    "found": true,
    "status": {"code": "03", "name": "撤销"},
    "signed_status": {"code": "01", "name": "有效"},
    "status_changed_at": "2026-12-01T02:00:00Z",
    "validity": "within",
    "certificate": {
        "type_name": "行业综合许可证",
        "holder": {"uscc": "91350100M000100Y43", "name": "福州一站酒店有限公司"},
        "valid_from": "2026-12-01", "valid_until": "2031-11-30",
        "issuer": {"uscc": "11350100MB01729372", "name": "一站政务服务中心"},
        "issued_at": "2026-11-23T08:00:00Z"
    },
    "checked_at": "2026-12-02T08:00:00Z"
}))]
pub struct Verification {
    /// True only when all hold: identifier valid, signature valid, on
    /// record, current status 01 有效, and within the validity period.
    pub valid: bool,
    /// zh-CN one-sentence verdict.
    pub verdict: String,
    /// The identifier checked (from the query, or read from the JWS payload).
    pub identifier: Option<String>,
    /// Whether the identifier is well-formed with a correct ISO 7064 MOD 37,36 check character.
    pub identifier_valid: bool,
    /// Whether the Ed25519 signature verifies with a published key.
    pub signature_valid: bool,
    /// Why it does not, when it does not.
    pub signature_problem: Option<Finding>,
    /// The key the JWS names.
    pub key_id: Option<String>,
    /// Whether this centre has the certificate on record.
    pub found: bool,
    /// Current status, from the registry (status changes are not re-signed).
    pub status: Option<Status>,
    /// Status inside the signed data (the status at issue).
    pub signed_status: Option<Status>,
    /// When the status last changed.
    pub status_changed_at: Option<DateTime<Utc>>,
    /// Against the validity period today.
    pub validity: Option<ValidityView>,
    /// The registry's public record.
    pub certificate: Option<PublicCertificate>,
    /// When this answer was made.
    pub checked_at: DateTime<Utc>,
}

/// The verdict for an identifier this centre has no record of, and for one
/// whose check character is wrong (the two are not told apart).
pub const NOT_FOUND: &str = "未查询到该电子证照，请核对标识是否抄录有误";

/// Raw facts, before the verdict is worded.
struct Facts {
    identifier: Option<String>,
    identifier_error: Option<IdentifierError>,
    signature: Result<(), SignatureFailure>,
    signature_checked: bool,
    key_id: Option<String>,
    signed_status: Option<CertificateStatus>,
    row: Option<certificate::Model>,
}

impl Facts {
    fn answer(self) -> Verification {
        let status = self.row.as_ref().map(|r| r.current_status());
        let validity = self
            .row
            .as_ref()
            .map(|r| validity_on(today(), r.valid_from, r.valid_until));
        let identifier_valid = self.identifier.is_some() && self.identifier_error.is_none();
        let signature_valid = self.signature_checked && self.signature.is_ok();
        // A wrong check character reads like an unknown identifier: naming
        // the right one would hand an enumerator the next valid identifier.
        let malformed = self
            .identifier_error
            .as_ref()
            .filter(|e| !matches!(e, IdentifierError::InvalidCheckDigit { .. }));
        let verdict = match (malformed, &self.row, status, validity) {
            (Some(e), _, _, _) => format!("签名数据中的电子证照标识无效：{}", e.message()),
            (None, None, _, _) if self.identifier.is_none() => {
                "签名验证未通过，且无法读出电子证照标识：数据可能已被篡改".to_owned()
            }
            (None, None, _, _) if signature_valid => {
                "签名有效，但本中心没有该电子证照的登记记录".to_owned()
            }
            (None, None, _, _) => NOT_FOUND.to_owned(),
            _ if !signature_valid => {
                "签名验证未通过：证照数据可能已被篡改，或并非本中心签发".to_owned()
            }
            (_, _, Some(CertificateStatus::Suspended), _) => {
                "证照当前状态为「暂扣」，暂停使用".to_owned()
            }
            (_, _, Some(s), _) if s != CertificateStatus::Valid => {
                format!("证照当前状态为「{}」，已不具备效力", s.zh_name())
            }
            (_, _, _, Some(Validity::Expired)) => "证照已超过有效期".to_owned(),
            (_, _, _, Some(Validity::NotYet)) => "证照尚未到生效日期".to_owned(),
            _ => "电子证照真实有效".to_owned(),
        };
        let valid = identifier_valid
            && signature_valid
            && status == Some(CertificateStatus::Valid)
            && validity == Some(Validity::Within);
        Verification {
            valid,
            verdict,
            identifier: self.identifier,
            identifier_valid,
            signature_valid,
            signature_problem: match (self.signature_checked, self.signature) {
                (true, Err(f)) => Some(f.into()),
                (true, Ok(())) => None,
                (false, _) => Some(Finding {
                    code: "not_found".into(),
                    message: "没有可供核验的签名数据".into(),
                }),
            },
            key_id: self.key_id,
            found: self.row.is_some(),
            status: status.map(Status::from),
            signed_status: self.signed_status.map(Status::from),
            status_changed_at: self.row.as_ref().and_then(|r| r.status_changed_at),
            validity: validity.map(ValidityView::from),
            certificate: self.row.as_ref().map(PublicCertificate::from),
            checked_at: Utc::now(),
        }
    }
}

/// Checks by identifier. A wrong final check character is an answer
/// (`identifier_valid: false`, worded like an unknown identifier, the
/// registry not consulted); any other malformation is a 422 naming `id`.
async fn by_identifier(
    state: &AppState,
    certs: &Certificates,
    raw: &str,
) -> Result<Verification, Error> {
    let id = match CertificateId::parse(raw) {
        Ok(id) => id,
        Err(
            e @ IdentifierError::InvalidCheckDigit {
                kind: IdentifierKind::CertificateId,
                ..
            },
        ) => {
            return Ok(Facts {
                identifier: Some(raw.to_owned()),
                identifier_error: Some(e),
                signature: Err(SignatureFailure::Mismatch),
                signature_checked: false,
                key_id: None,
                signed_status: None,
                row: None,
            }
            .answer());
        }
        Err(e) => return Err(Problem::field("id", e.code(), e.message()).into()),
    };
    let row = store::find(&state.db, id.as_str()).await?;
    let (signature, key_id, signed_status) = match &row {
        Some(r) => match certs.verified_content(r) {
            Ok(content) => (Ok(()), Some(r.key_id.clone()), Some(content.status)),
            Err(f) => (Err(f), Some(r.key_id.clone()), None),
        },
        None => (Err(SignatureFailure::Mismatch), None, None),
    };
    Ok(Facts {
        identifier: Some(id.into_string()),
        identifier_error: None,
        signature_checked: row.is_some(),
        signature,
        key_id,
        signed_status,
        row,
    }
    .answer())
}

/// Verify a certificate by its identifier (公众核验).
///
/// Whether the registered certificate's signature verifies, whether the
/// identifier's check character is right, and the current status. A
/// negative verdict is still a 200; only a malformed identifier is a 422.
///
/// 调用方：任何人（无需登录）。
#[utoipa::path(
    tag = "verification",
    params(VerifyQuery),
    responses(
        (status = 200, description = "核验结果（包括“不通过”的结果）", body = Verification),
        (status = 422, description = "电子证照标识格式错误或缺失（字段 id）", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/verify")]
pub async fn verify_by_id(
    state: web::Data<AppState>,
    certs: web::Data<Certificates>,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, Error> {
    let answer = by_identifier(&state, &certs, &query.id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}

/// Verify a presented signed certificate (JWS).
///
/// Whether its signature verifies with a published key (a tampered JWS is
/// `signature_valid: false`, still a 200), whether the identifier in it is
/// valid, and the certificate's current status.
///
/// 调用方：任何人（无需登录）。
#[utoipa::path(
    tag = "verification",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "核验结果；签名被篡改时 signature_valid 为 false", body = Verification),
        (status = 400, description = "请求体不是合法 JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "请求体过大", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "请求体须为 JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "jws 缺失、过长或不是 JWS 紧凑格式（字段 jws）", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/verify")]
pub async fn verify_jws(
    state: web::Data<AppState>,
    certs: web::Data<Certificates>,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse, Error> {
    let jws = body.jws.trim();
    if jws.is_empty() {
        return Err(Problem::field("jws", "required", "请提供签名数据（JWS）").into());
    }
    if jws.len() > MAX_JWS_LEN {
        return Err(Problem::field(
            "jws",
            "too_long",
            format!("签名数据不能超过 {MAX_JWS_LEN} 字节"),
        )
        .into());
    }
    let parsed = Parsed::parse(jws)
        .map_err(|e| Problem::validation(vec![FieldError::new("jws", e.code(), e.to_string())]))?;
    let signature = certs.check_signature(&parsed);
    // Read what the payload claims even when the signature fails, so the
    // answer can name the certificate and its real status beside "forged".
    let payload: Option<serde_json::Value> = serde_json::from_slice(&parsed.payload).ok();
    let identifier = payload
        .as_ref()
        .and_then(|p| p.get("id"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let signed_status = payload
        .as_ref()
        .and_then(|p| p.get("status"))
        .and_then(|v| v.as_str())
        .and_then(CertificateStatus::from_code);
    let (identifier_error, row) = match identifier.as_deref().map(CertificateId::parse) {
        Some(Ok(id)) => (None, store::find(&state.db, id.as_str()).await?),
        Some(Err(e)) => (Some(e), None),
        None => (None, None),
    };
    let answer = Facts {
        identifier,
        identifier_error,
        signature,
        signature_checked: true,
        key_id: Some(parsed.header.kid.clone()),
        signed_status,
        row,
    }
    .answer();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(answer))
}

/// The public verification page a scanned QR code opens (zh-CN HTML).
///
/// 调用方：任何人（无需登录）。
#[utoipa::path(
    tag = "verification",
    params(VerifyQuery),
    responses(
        (status = 200, description = "核验结果页面", content_type = "text/html", body = String),
        (status = 422, description = "电子证照标识格式错误或缺失（字段 id）", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[get("/verify")]
pub async fn verify_page(
    state: web::Data<AppState>,
    certs: web::Data<Certificates>,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, Error> {
    let answer = by_identifier(&state, &certs, &query.id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(pages::verification(&answer)))
}

/// A JSON Web Key Set.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"keys": [{
    "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
    "kid": "Vv1B3hX1i1Y2rFQ3O3mMSuN0w8mW1C3iN2y4p0ZKf5Q",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
}]}))]
pub struct Jwks {
    /// Every key that ever signed a certificate here (OKP / Ed25519).
    pub keys: Vec<Jwk>,
}

/// The certificate signing keys (JWKS).
///
/// Every Ed25519 public key that ever signed a certificate here, rotated-out
/// ones included, so old certificates keep verifying. With it anyone
/// verifies a certificate's JWS offline (see docs/CERTIFICATES.md).
///
/// 调用方：任何人（无需登录）。
#[utoipa::path(
    tag = "verification",
    responses(
        (status = 200, description = "JWKS", body = Jwks),
    ),
    security(())
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(certs: web::Data<Certificates>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(Jwks {
            keys: certs.keys.jwks(),
        })
}
