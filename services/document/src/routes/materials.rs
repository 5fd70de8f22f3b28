//! `/api/v1/materials`: upload (streaming multipart), metadata, download, and
//! an enterprise's archive (一企一档).
//!
//! Who may call: uploads by applicants (for their own enterprise) and agents
//! (for an enterprise that authorised them); reads by the same, and admins;
//! a material's metadata and file also by window clerks and department
//! reviewers handling an application that references it.

use actix_multipart::Multipart;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, post, web};
use chrono::{NaiveDate, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::openapi::Binary;
use yizhan_kit::{FieldError, Problem};
use yizhan_types::Uscc;

use crate::AppState;
use crate::domain::{self, FileKind};
use crate::error::Error;
use crate::routes::certificates::CertificateSummary;
use crate::routes::upload_parts::{ReceivedFile, multipart_problem, read_text, receive_file};
use crate::store::{self, Idempotent, NewMaterial, Recorded, grants, material};

/// A stored material, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = material_example)]
pub struct Material {
    /// Material id.
    pub id: String,
    /// Owner enterprise (统一社会信用代码).
    pub enterprise_uscc: String,
    /// Material type code.
    pub material_type: String,
    /// Material type name.
    pub material_type_name: String,
    /// Version within this enterprise and type.
    pub version: i32,
    /// Sanitised file name.
    pub filename: String,
    /// Content type judged from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Last valid day, if the material expires.
    pub valid_until: Option<NaiveDate>,
    /// Whether `valid_until` has passed.
    pub expired: bool,
    /// Uploader.
    pub uploaded_by: String,
    /// Upload time.
    pub uploaded_at: chrono::DateTime<Utc>,
}

impl From<&material::Model> for Material {
    fn from(m: &material::Model) -> Self {
        Self {
            id: m.id.clone(),
            enterprise_uscc: m.enterprise_uscc.clone(),
            material_type: m.material_type.clone(),
            material_type_name: domain::material_type(&m.material_type)
                .map(|t| t.name.to_owned())
                .unwrap_or_else(|| m.material_type.clone()),
            version: m.version,
            filename: m.filename.clone(),
            content_type: m.content_type.clone(),
            size_bytes: m.size_bytes,
            sha256: m.sha256.clone(),
            valid_until: m.valid_until,
            expired: m.valid_until.is_some_and(|d| d < Utc::now().date_naive()),
            uploaded_by: m.uploaded_by.clone(),
            uploaded_at: m.uploaded_at,
        }
    }
}

/// The multipart form of an upload (for the OpenAPI document).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// Material type code, e.g. `business_licence_copy`.
    #[schema(max_length = 256)]
    material_type: String,
    /// Owner enterprise; applicants may omit it (their own), agents must give it.
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
    enterprise_uscc: Option<String>,
    /// Last valid day (`YYYY-MM-DD`), if the material expires.
    #[schema(format = Date)]
    valid_until: Option<String>,
    /// The file: PDF, OFD, PNG or JPEG, as the material type allows.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// An enterprise's archive: the current version of each material type, and
/// the certificates issued to it here.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = archive_example)]
pub struct Archive {
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Current materials, one per type.
    pub current: Vec<Material>,
    /// How many of them have expired.
    pub expired_count: usize,
    /// E-certificates (电子证照) it holds, newest first, whatever their status.
    pub certificates: Vec<CertificateSummary>,
}

/// The documented example of a material.
pub(super) fn material_example() -> serde_json::Value {
    serde_json::json!({
        "id": "01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5a",
        "enterprise_uscc": "91350100M000100Y43",
        "material_type": "business_licence_copy",
        "material_type_name": "营业执照副本",
        "version": 1,
        "filename": "营业执照.pdf",
        "content_type": "application/pdf",
        "size_bytes": 182044,
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "valid_until": "2030-12-31",
        "expired": false,
        "uploaded_by": "applicant-1",
        "uploaded_at": "2026-11-23T08:00:00Z"
    })
}

/// The documented example of an archive: that material and one certificate.
fn archive_example() -> serde_json::Value {
    serde_json::json!({
        "enterprise_uscc": "91350100M000100Y43",
        "current": [material_example()],
        "expired_count": 0,
        "certificates": [{
            "id": "1.2.156.3005.2.HYZHXKZ.11350100MB01729372.00000001.001.D",
            "certificate_type": "industry_comprehensive_licence",
            "type_name": "行业综合许可证",
            "status": {"code": "01", "name": "有效"},
            "valid_from": "2026-12-01",
            "valid_until": "2031-11-30",
            "validity": "within",
            "issued_at": "2026-11-23T08:00:00Z",
            "href": "/api/v1/certificates/1.2.156.3005.2.HYZHXKZ.11350100MB01729372.00000001.001.D"
        }]
    })
}

/// Upload a material (streamed; the size cap is enforced while reading).
///
/// 调用方：申请人（为本企业）、帮办代办员（为已授权的企业）；其他角色答复 403。
#[utoipa::path(
    tag = "materials",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "重试同一上传时携带同一键，返回首次结果")),
    responses(
        (status = 201, description = "材料已保存", body = Material),
        (status = 400, description = "请求不是合法的 multipart 表单", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权为该企业上传", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "文件超过大小上限", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "请求不是 multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段校验未通过（逐项列出）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/materials")]
pub async fn upload(
    principal: Principal,
    key: IdempotencyKey,
    state: web::Data<AppState>,
    mut form: Multipart,
) -> Result<HttpResponse, Error> {
    principal.require_any(&[Role::Applicant, Role::Agent])?;
    let mut material_type: Option<String> = None;
    let mut enterprise: Option<String> = None;
    let mut valid_until: Option<String> = None;
    let mut file: Option<ReceivedFile> = None;

    while let Some(field) = form.try_next().await.map_err(multipart_problem)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                if file.is_some() {
                    return Err(
                        Problem::field("file", "duplicate_part", "每次只能上传一个文件").into(),
                    );
                }
                file = Some(receive_file(field, &state).await?);
            }
            "material_type" => material_type = Some(read_text(field, &name).await?),
            "enterprise_uscc" => enterprise = Some(read_text(field, &name).await?),
            "valid_until" => valid_until = Some(read_text(field, &name).await?),
            other => {
                return Err(Problem::field(
                    other,
                    "unknown_field",
                    format!("不认识的表单字段 {other}"),
                )
                .into());
            }
        }
    }

    let mut errors = Vec::new();
    let kind = match material_type.as_deref() {
        None | Some("") => {
            errors.push(FieldError::new(
                "material_type",
                "required",
                "请选择材料类型",
            ));
            None
        }
        Some(code) => match domain::material_type(code) {
            None => {
                errors.push(FieldError::new(
                    "material_type",
                    "unknown_material_type",
                    format!("不存在的材料类型 {code}"),
                ));
                None
            }
            Some(t) => Some(t),
        },
    };
    let owner = match (enterprise.as_deref(), principal.uscc.as_deref()) {
        (Some(given), _) => match given.parse::<Uscc>() {
            Ok(u) => Some(u.as_str().to_owned()),
            Err(e) => {
                errors.push(FieldError::new("enterprise_uscc", e.code(), e.message()));
                None
            }
        },
        (None, Some(own)) if principal.has_role(Role::Applicant) => Some(own.to_owned()),
        (None, _) => {
            errors.push(FieldError::new(
                "enterprise_uscc",
                "required",
                "请填写材料所属企业的统一社会信用代码",
            ));
            None
        }
    };
    let valid_until = match valid_until.as_deref() {
        None | Some("") => None,
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new(
                    "valid_until",
                    "invalid_date",
                    "有效期须为 YYYY-MM-DD 格式的日期",
                ));
                None
            }
        },
    };
    let sniffed = match &file {
        None => {
            errors.push(FieldError::new("file", "required", "请选择要上传的文件"));
            None
        }
        Some(f) if f.size == 0 => {
            errors.push(FieldError::new("file", "empty_file", "文件内容为空"));
            None
        }
        Some(f) => match FileKind::sniff(&f.head) {
            None => {
                errors.push(FieldError::new(
                    "file",
                    "unsupported_file_type",
                    "文件内容不是 PDF、OFD、PNG 或 JPEG（以文件内容判断，与扩展名无关）",
                ));
                None
            }
            Some(k) => Some(k),
        },
    };
    if let (Some(t), Some(k)) = (kind, sniffed)
        && !t.accepts.contains(&k)
    {
        let allowed: Vec<&str> = t.accepts.iter().map(|k| k.label()).collect();
        errors.push(FieldError::new(
            "file",
            "file_type_not_allowed",
            format!(
                "{}只接受 {} 文件，收到的是 {}",
                t.name,
                allowed.join("、"),
                k.label()
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors).into());
    }
    let (Some(kind), Some(owner), Some(sniffed), Some(file)) = (kind, owner, sniffed, file) else {
        return Err(Problem::internal().into());
    };
    if !principal.may_act_for(&owner) {
        return Err(Problem::forbidden("只能为本企业或已授权代办的企业上传材料").into());
    }

    let fingerprint = idempotency::fingerprint(&[
        owner.as_bytes(),
        kind.code.as_bytes(),
        file.sha256.as_bytes(),
        file.filename.as_bytes(),
        valid_until
            .map(|d| d.to_string())
            .unwrap_or_default()
            .as_bytes(),
    ]);
    state.store.put(&file.sha256, &file.temp).await?;
    // The temp file was moved or removed by `put`; don't let TempPath delete again.
    let _ = file.temp.keep();
    let scope = format!("{} POST /api/v1/materials", principal.sub);
    let idempotent = key.0.as_deref().map(|k| Idempotent {
        scope: &scope,
        key: k,
        fingerprint: &fingerprint,
    });
    let new = NewMaterial {
        enterprise_uscc: owner,
        material_type: kind.code.to_owned(),
        filename: file.filename,
        content_type: sniffed.content_type().to_owned(),
        size_bytes: file.size as i64,
        sha256: file.sha256,
        valid_until,
        uploaded_by: principal.sub.clone(),
        uploaded_by_name: principal.name.clone(),
    };
    match store::record_material(&state.db, new, idempotent, to_material).await? {
        Recorded::Created(row) => {
            state.signal.wake();
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/api/v1/materials/{}", row.id)))
                .json(Material::from(&row)))
        }
        Recorded::Replayed(stored) => Ok(stored.into_response()),
    }
}

fn to_material(m: &material::Model) -> Material {
    Material::from(m)
}

/// Loads a material the caller may see, or 404 (never revealing that it exists).
///
/// The owner enterprise's applicants and agents and admins see it; window
/// clerks when some case (a licensing application, a construction stage
/// application) references it; department reviewers when a case
/// referencing it has a task in their department (both from the approval
/// services' events, see `store::grants`).
async fn visible_material(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<material::Model, Error> {
    let hidden = || Error::from(Problem::not_found("材料不存在或无权查看"));
    let m = store::find_material(&state.db, id)
        .await?
        .ok_or_else(hidden)?;
    if may_see(state, principal, &m).await? {
        Ok(m)
    } else {
        Err(hidden())
    }
}

/// Whether `principal` may see material `m` (the rules of
/// [`visible_material`]); the owner's people and admins without a query.
pub(crate) async fn may_see(
    state: &AppState,
    principal: &Principal,
    m: &material::Model,
) -> Result<bool, Error> {
    if principal.may_act_for(&m.enterprise_uscc) || principal.has_role(Role::Admin) {
        return Ok(true);
    }
    if principal.has_role(Role::WindowClerk) && grants::is_referenced(&state.db, &m.id).await? {
        return Ok(true);
    }
    if principal.has_role(Role::DeptReviewer)
        && let Some(dept) = principal.dept.as_deref()
        && grants::is_handled_by(&state.db, &m.id, dept).await?
    {
        return Ok(true);
    }
    Ok(false)
}

/// A material's metadata.
///
/// 调用方：材料所属企业的申请人或其授权的帮办代办员、管理员；综合窗口人员（材料被某一申请引用时）、部门审批人员（引用该材料的申请在本部门有审批任务时）；其他调用者答复 404。
#[utoipa::path(
    tag = "materials",
    params(("id" = String, Path, description = "材料编号")),
    responses(
        (status = 200, description = "材料信息", body = Material),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/materials/{id}")]
pub async fn get_material(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let m = visible_material(&state, &principal, &id).await?;
    Ok(HttpResponse::Ok().json(Material::from(&m)))
}

/// Download a material's file, streamed.
///
/// 调用方：材料所属企业的申请人或其授权的帮办代办员、管理员；综合窗口人员（材料被某一申请引用时）、部门审批人员（引用该材料的申请在本部门有审批任务时）；其他调用者答复 404。
#[utoipa::path(
    tag = "materials",
    params(("id" = String, Path, description = "材料编号")),
    responses(
        (status = 200, description = "文件内容，内容类型为上传时识别的类型", content(
            (Binary = "application/pdf"),
            (Binary = "image/png"),
            (Binary = "image/jpeg"),
            (Binary = "application/ofd"),
        )),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/materials/{id}/content")]
pub async fn download(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let m = visible_material(&state, &principal, &id).await?;
    let stream = state.store.open(&m.sha256).await?;
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::FilenameExt(header::ExtendedValue {
            charset: header::Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: m.filename.clone().into_bytes(),
        })],
    };
    Ok(HttpResponse::Ok()
        .content_type(m.content_type.clone())
        .insert_header(disposition)
        .insert_header((header::CONTENT_LENGTH, m.size_bytes.to_string()))
        .streaming(stream))
}

/// An enterprise's archive (一企一档): the current version of each material,
/// and the e-certificates issued to it.
///
/// 调用方：该企业的申请人或其授权的帮办代办员、管理员；其他调用者答复 404。
#[utoipa::path(
    tag = "materials",
    params(("uscc" = String, Path, description = "企业统一社会信用代码")),
    responses(
        (status = 200, description = "企业档案", body = Archive),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "无权查看该企业", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/enterprises/{uscc}/materials")]
pub async fn archive(
    principal: Principal,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, Error> {
    if !(principal.may_act_for(&uscc) || principal.has_role(Role::Admin)) {
        return Err(Problem::not_found("企业不存在或无权查看").into());
    }
    let rows = store::enterprise_materials(&state.db, &uscc).await?;
    let mut current: Vec<Material> = Vec::new();
    for row in &rows {
        // Rows come newest version first within each type.
        if current
            .last()
            .is_none_or(|m| m.material_type != row.material_type)
        {
            current.push(Material::from(row));
        }
    }
    let expired_count = current.iter().filter(|m| m.expired).count();
    let certificates = store::certificates::of_holder(&state.db, &uscc)
        .await?
        .iter()
        .map(CertificateSummary::from)
        .collect();
    Ok(HttpResponse::Ok().json(Archive {
        enterprise_uscc: uscc.into_inner(),
        current,
        expired_count,
        certificates,
    }))
}
