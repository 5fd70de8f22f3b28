//! `/api/v1/enterprises/{uscc}/profile` (一企一档) and
//! `/api/v1/enterprises/{uscc}/facts/{key}` (an officer sets a fact).
//!
//! Who may call: the enterprise itself (its applicants, and agents it
//! authorised) reads its own profile; officers (部门审批人员, 综合窗口人员,
//! 管理员) read any; 部门审批人员 and 管理员 set facts. Others get 403.

use actix_web::{HttpResponse, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_events::contracts::Actor;
use yizhan_kit::Problem;
use yizhan_types::Uscc;

use crate::AppState;
use crate::domain::facts::{FACTS, FactIndex};
use crate::domain::profile::{CertificateState, EnterpriseRecord, LicenceEntry};
use crate::store::profile;

/// A fact's value as JSON, by the fact's kind (`GET /facts`): a whole
/// number (`integer`), a string (`text`, `code`, and `date` as
/// `YYYY-MM-DD`) or a boolean (`flag`). Only describes the wire form for
/// OpenAPI; the value itself is checked against its fact's kind.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum FactValueJson {
    /// `integer` facts.
    Integer(i64),
    /// `text`, `code` and `date` facts.
    Text(String),
    /// `flag` facts.
    Flag(bool),
}

/// Officers who read any enterprise's profile and benefits.
pub const OFFICERS: [Role; 3] = [Role::DeptReviewer, Role::WindowClerk, Role::Admin];
/// Officers who set facts.
pub const FACT_SETTERS: [Role; 2] = [Role::DeptReviewer, Role::Admin];

/// The USCC of the path, checked (422 naming `uscc`), and the caller's
/// right to read it: the enterprise itself or an officer; 403 otherwise.
#[allow(clippy::result_large_err)]
pub fn readable(principal: &Principal, uscc: &str) -> Result<String, Problem> {
    let uscc = Uscc::parse(uscc)
        .map_err(|e| Problem::field("uscc", "invalid_uscc", e.to_string()))?
        .as_str()
        .to_owned();
    if principal.may_act_for(&uscc) || OFFICERS.iter().any(|r| principal.has_role(*r)) {
        Ok(uscc)
    } else {
        Err(Problem::forbidden(
            "只能查看本企业或已授权代办企业的档案；工作人员可查看任一企业",
        ))
    }
}

/// The caller as events record them.
pub fn actor(principal: &Principal, roles: &[Role]) -> Actor {
    Actor {
        sub: principal.sub.clone(),
        role: principal.acting_role(roles).into(),
    }
}

/// One fact on file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactView {
    /// Key (`employee_count`).
    pub key: String,
    /// Chinese name (`从业人数`).
    pub name: String,
    /// The value as stored (number, text, code, date, flag).
    #[schema(value_type = FactValueJson)]
    pub value: serde_json::Value,
    /// The value as people read it (`12人`, `小型`).
    pub display: String,
    /// Where the officer took it from.
    pub source: String,
    /// Who set it.
    pub set_by: String,
    /// When.
    pub set_at: chrono::DateTime<chrono::Utc>,
}

/// One item a licence carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    /// Item code.
    pub code: String,
    /// Chinese name.
    pub name: String,
}

/// One licence or permit.
#[derive(Debug, Serialize, ToSchema)]
pub struct LicenceView {
    /// The application it was issued for.
    pub request_id: String,
    /// 电子证照标识, once issued.
    pub certificate_id: Option<String>,
    /// Certificate type code.
    pub certificate_type: String,
    /// Items it carries.
    pub items: Vec<ItemView>,
    /// Day issued.
    pub issued_on: Option<chrono::NaiveDate>,
    /// Last valid day; none for 长期有效.
    pub valid_until: Option<chrono::NaiveDate>,
    /// 申请中, 有效, 暂扣 or 已失效.
    pub status: String,
}

/// One material type on file.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialView {
    /// Material type code.
    pub material_type: String,
    /// Its Chinese name.
    pub name: String,
    /// Latest version.
    pub version: i32,
    /// Material id at the document service.
    pub material_id: String,
}

/// 一企一档.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "uscc": "91350100M000100Y43",
    "name": "榕城酒店有限公司",
    "facts": [{"key": "employee_count", "name": "从业人数", "value": 12, "display": "12人",
               "source": "统计年报 2025", "set_by": "reviewer-1", "set_at": "2026-12-03T02:00:00Z"}],
    "licences": [{"request_id": "0193aa00-0000-7000-8000-000000000001",
                  "certificate_id": "35010020261203000001", "certificate_type": "industry_comprehensive_licence",
                  "items": [{"code": "special_trade_permit_hotel", "name": "特种行业许可（旅馆业）"}],
                  "issued_on": "2026-12-03", "valid_until": "2031-12-02", "status": "有效"}],
    "materials": [{"material_type": "floor_plan", "name": "经营场所平面图", "version": 1,
                   "material_id": "0193aa00-0000-7000-8000-000000000002"}]
}))]
pub struct ProfileView {
    /// 统一社会信用代码.
    pub uscc: String,
    /// Registered name, once known.
    pub name: Option<String>,
    /// Facts on file, in catalog order.
    pub facts: Vec<FactView>,
    /// Licences and permits.
    pub licences: Vec<LicenceView>,
    /// Materials on file.
    pub materials: Vec<MaterialView>,
}

fn status_name(state: CertificateState) -> &'static str {
    match state {
        CertificateState::Requested => "申请中",
        CertificateState::Valid => "有效",
        CertificateState::Suspended => "暂扣",
        CertificateState::Ended => "已失效",
    }
}

/// The view of a record and its licence entries.
pub fn view(record: &EnterpriseRecord, licences: &[LicenceEntry]) -> ProfileView {
    let profile = record.profile();
    let facts = FACTS
        .iter()
        .enumerate()
        .filter_map(|(i, def): (FactIndex, _)| {
            let latest = record.facts.get(def.key)?.last()?;
            Some(FactView {
                key: def.key.to_owned(),
                name: def.name.to_owned(),
                value: serde_json::to_value(&latest.value).unwrap_or_default(),
                display: profile.get(i).map(|v| v.display(def)).unwrap_or_default(),
                source: latest.source.clone(),
                set_by: latest.set_by.clone(),
                set_at: latest.set_at,
            })
        })
        .collect();
    ProfileView {
        uscc: record.uscc.clone(),
        name: record.name.clone(),
        facts,
        licences: licences
            .iter()
            .map(|l| LicenceView {
                request_id: l.request_id.clone(),
                certificate_id: l.certificate_id.clone(),
                certificate_type: l.certificate_type.clone(),
                items: l
                    .items
                    .iter()
                    .map(|(code, name)| ItemView {
                        code: code.clone(),
                        name: name.clone(),
                    })
                    .collect(),
                issued_on: l.issued_on,
                valid_until: l.valid_until,
                status: status_name(l.state).to_owned(),
            })
            .collect(),
        materials: record
            .materials
            .iter()
            .map(|(code, m)| MaterialView {
                material_type: code.clone(),
                name: yizhan_types::material_type::name_of(code)
                    .unwrap_or("其他材料")
                    .to_owned(),
                version: m.version,
                material_id: m.material_id.clone(),
            })
            .collect(),
    }
}

/// The enterprise's 一企一档: facts with source and date, licences with
/// items and validity, materials on file. An enterprise nothing is known
/// about yet has an empty profile (never a 404 that would reveal less to
/// one caller than to another).
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）、部门审批人员、综合窗口人员、管理员；其他 403。
#[utoipa::path(
    tag = "profile",
    params(("uscc" = String, Path, description = "统一社会信用代码")),
    responses(
        (status = 200, description = "企业档案", body = ProfileView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权查看该企业", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "统一社会信用代码无效", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/enterprises/{uscc}/profile")]
pub async fn get_profile(
    principal: Principal,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let uscc = readable(&principal, &uscc)?;
    let (record, licences) = profile::load_with_licences(&state.db, &uscc).await?;
    Ok(HttpResponse::Ok().json(view(&record, &licences)))
}

/// A fact an officer sets.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"value": 12, "source": "统计年报 2025"}))]
pub struct SetFact {
    /// The value, of the fact's kind (see `GET /facts`).
    #[schema(value_type = FactValueJson)]
    pub value: serde_json::Value,
    /// Where it comes from (1-100 characters).
    pub source: String,
}

/// Sets one fact of the enterprise's profile, with its source; the change
/// is published and the policies in force are matched again. The value is
/// checked by the fact's kind (422 naming `value`, `source` or `fact`).
///
/// 调用方：部门审批人员、管理员；其他 403。
#[utoipa::path(
    tag = "profile",
    params(
        ("uscc" = String, Path, description = "统一社会信用代码"),
        ("key" = String, Path, description = "事实键，如 employee_count"),
    ),
    request_body = SetFact,
    responses(
        (status = 200, description = "已登记，返回企业档案", body = ProfileView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权登记", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "事实、取值或来源无效", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/enterprises/{uscc}/facts/{key}")]
pub async fn set_fact(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<SetFact>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&FACT_SETTERS)?;
    let (uscc, key) = path.into_inner();
    let uscc = readable(&principal, &uscc)?;
    let (record, licences) = profile::set_fact(
        &state.db,
        &uscc,
        &key,
        &body.value,
        &body.source,
        &actor(&principal, &FACT_SETTERS),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(view(&record, &licences)))
}
