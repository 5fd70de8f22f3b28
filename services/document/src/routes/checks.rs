//! `POST /api/v1/materials/check`: do these materials exist and belong to
//! this enterprise? Licensing and construction ask it before intake. Every
//! answered check is recorded as a `MaterialsChecked` event (auditable).
//!
//! Who may call: window clerks, department reviewers, admins, and partner
//! systems holding the `materials:check` scope. Applicants and agents use
//! their archive instead.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_events::contracts::{MaterialCheckOutcome, MaterialsChecked};
use yizhan_kit::{FieldError, Problem};
use yizhan_types::Uscc;

use crate::AppState;
use crate::error::Error;
use crate::store;

/// Most ids one check may carry.
pub const MAX_IDS: usize = 200;

/// Partner scope allowing checks.
pub const CHECK_SCOPE: &str = "materials:check";

/// A check request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "enterprise_uscc": "91350100M000100Y43",
    "material_ids": ["01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5a"]
}))]
pub struct CheckRequest {
    /// The enterprise the materials must belong to.
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
    pub enterprise_uscc: String,
    /// Material ids, 1 to 200, each 1 to 64 characters.
    #[schema(min_items = 1, max_items = 200)]
    pub material_ids: Vec<String>,
}

/// Outcome for one id.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Exists, belongs to the enterprise, not expired.
    Ok,
    /// Exists and belongs, but its validity period has passed.
    Expired,
    /// No such material for this enterprise (absent, or another enterprise's:
    /// the two are not told apart, so ids cannot be probed).
    NotFound,
}

/// One id's result.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckItem {
    /// The id asked about.
    pub material_id: String,
    /// Its status.
    pub status: CheckStatus,
    /// Its material type, when found.
    pub material_type: Option<String>,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "enterprise_uscc": "91350100M000100Y43",
    "all_ok": false,
    "items": [
        {"material_id": "01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5a", "status": "ok", "material_type": "business_licence_copy"},
        {"material_id": "01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5b", "status": "not_found", "material_type": null}
    ]
}))]
pub struct CheckResult {
    /// The enterprise.
    pub enterprise_uscc: String,
    /// True when every id is `ok`.
    pub all_ok: bool,
    /// Per id, in request order.
    pub items: Vec<CheckItem>,
}

/// Check that materials exist and belong to an enterprise.
///
/// Each answered check is recorded as a `MaterialsChecked` event on
/// `yizhan.document.v1`.
///
/// 调用方：综合窗口人员、部门审批人员、管理员，或持有 `materials:check` 权限的合作系统；其他角色答复 403。
#[utoipa::path(
    tag = "materials",
    request_body = CheckRequest,
    responses(
        (status = 200, description = "核验结果", body = CheckResult),
        (status = 400, description = "请求体不是合法 JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权核验", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "请求体过大", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "请求体须为 JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "字段校验未通过", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/materials/check")]
pub async fn check(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Json<CheckRequest>,
) -> Result<HttpResponse, Error> {
    let staff = principal.has_role(Role::WindowClerk)
        || principal.has_role(Role::DeptReviewer)
        || principal.has_role(Role::Admin);
    let partner = principal.has_role(Role::Partner) && principal.has_scope(CHECK_SCOPE);
    if !(staff || partner) {
        return Err(Problem::forbidden(
            "仅综合窗口、部门审批人员、管理员或持有 materials:check 权限的合作系统可核验材料",
        )
        .into());
    }
    let mut errors = Vec::new();
    if let Err(e) = body.enterprise_uscc.parse::<Uscc>() {
        errors.push(FieldError::new("enterprise_uscc", e.code(), e.message()));
    }
    if body.material_ids.is_empty() {
        errors.push(FieldError::new(
            "material_ids",
            "required",
            "请至少提供一个材料编号",
        ));
    } else if body.material_ids.len() > MAX_IDS {
        errors.push(FieldError::new(
            "material_ids",
            "too_many",
            format!("一次最多核验 {MAX_IDS} 个材料"),
        ));
    }
    for (i, id) in body.material_ids.iter().enumerate() {
        if id.is_empty() || id.len() > 64 {
            errors.push(FieldError::new(
                format!("material_ids[{i}]"),
                "invalid_format",
                "材料编号格式不正确",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors).into());
    }
    let today = chrono::Utc::now().date_naive();
    let found = store::find_materials(&state.db, &body.material_ids).await?;
    let items: Vec<CheckItem> = body
        .material_ids
        .iter()
        .map(|id| {
            match found
                .iter()
                .find(|m| &m.id == id && m.enterprise_uscc == body.enterprise_uscc)
            {
                None => CheckItem {
                    material_id: id.clone(),
                    status: CheckStatus::NotFound,
                    material_type: None,
                },
                Some(m) => CheckItem {
                    material_id: id.clone(),
                    status: if m.valid_until.is_some_and(|d| d < today) {
                        CheckStatus::Expired
                    } else {
                        CheckStatus::Ok
                    },
                    material_type: Some(m.material_type.clone()),
                },
            }
        })
        .collect();
    let result = CheckResult {
        enterprise_uscc: body.enterprise_uscc.clone(),
        all_ok: items.iter().all(|i| i.status == CheckStatus::Ok),
        items,
    };
    store::record_check(&state.db, &checked_event(&principal, &result)).await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(result))
}

impl CheckStatus {
    /// The wire code, as in the JSON answer.
    fn code(&self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Expired => "expired",
            Self::NotFound => "not_found",
        }
    }
}

/// The audit event of a check: who asked, about what, and the answer.
fn checked_event(principal: &Principal, result: &CheckResult) -> MaterialsChecked {
    MaterialsChecked {
        checked_by: principal.sub.clone(),
        enterprise_uscc: result.enterprise_uscc.clone(),
        items: result
            .items
            .iter()
            .map(|i| MaterialCheckOutcome {
                material_id: i.material_id.clone(),
                status: i.status.code().to_owned(),
            })
            .collect(),
        all_ok: result.all_ok,
        at: chrono::Utc::now(),
    }
}
