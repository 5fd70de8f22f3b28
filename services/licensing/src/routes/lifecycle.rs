//! `/api/v1/applications/{id}/tolerance-materials` (补交容缺材料) and
//! `/api/v1/applications/{id}/lifecycle` (变更、延续、注销 of an issued
//! licence). The rules are in `domain::application`.
//!
//! Who may call: applicants (their own enterprise) and agents (enterprises
//! that authorised them); an application the caller may not act for
//! answers 404, never data.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_auth::{Principal, authorization};
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::problem::merge_checks;
use yizhan_kit::{FieldError, Problem};

use crate::AppState;
use crate::domain::application::ApplicationKind;
use crate::domain::form;
use crate::domain::notice::Notice;
use crate::routes::applications::SUBMITTERS;
use crate::routes::views::{ApplicationView, actor, plausible, view};
use crate::store::{self, Idempotent, Parts, Recorded, application};

/// Owed 容缺 materials supplied.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"materials": {"floor_plan": "0193aa00-0000-7000-8000-000000000002"}}))]
pub struct ToleranceMaterials {
    /// Material code → material id at the document service; each must be
    /// owed. Some now and the rest later is fine.
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
}

async fn own_application(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<application::Model, Problem> {
    principal.require_any(&SUBMITTERS)?;
    store::find_application(&state.db, plausible(id)?)
        .await?
        .filter(|a| principal.may_act_for(&a.enterprise_uscc))
        .ok_or_else(|| Problem::not_found("申请不存在"))
}

/// Supply materials owed under 容缺受理. Once nothing is owed, approvals
/// given meanwhile (容缺通过) count in full and the licence is requested if
/// every item is approved.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；他人答复 404，其他角色 403。
#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "申请编号")),
    request_body = ToleranceMaterials,
    responses(
        (status = 200, description = "已补交", body = ApplicationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权补交", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "没有待补交的容缺材料（no_tolerance_open）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "材料不在补交清单中或无效", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/tolerance-materials")]
pub async fn provide_tolerance_materials(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ToleranceMaterials>,
) -> Result<HttpResponse, Problem> {
    let app = own_application(&state, &principal, &id).await?;
    let shape = material_shape(&body.materials);
    let checked = state
        .materials
        .verify(authorization(&req), &app.enterprise_uscc, &body.materials)
        .await
        .map_err(Problem::from);
    merge_checks(shape, checked)?;
    let parts = store::tolerance::provide(
        &state.db,
        &state.calendar,
        &id,
        |a| principal.may_act_for(&a.enterprise_uscc),
        body.into_inner().materials,
        &actor(&principal, &SUBMITTERS),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(view(&state, &parts, Utc::now())?))
}

/// Every value a material id.
fn material_shape(materials: &Map<String, Value>) -> Result<(), Problem> {
    let errors: Vec<FieldError> = materials
        .iter()
        .filter(|(_, v)| !v.as_str().is_some_and(yizhan_kit::text::is_plausible_id))
        .map(|(k, _)| {
            FieldError::new(
                format!("materials.{k}"),
                "invalid_material_id",
                "须为材料库中的材料编号",
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

/// Change, renewal or cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleKind {
    /// 变更: the changed form fields (and replaced materials) are reviewed
    /// by the items they concern; the new licence keeps the old term.
    Change,
    /// 延续: every item reviewed again; a new five-year term.
    Renewal,
    /// 注销: cancelled when the window accepts it; no review.
    Cancellation,
}

impl From<LifecycleKind> for ApplicationKind {
    fn from(k: LifecycleKind) -> Self {
        match k {
            LifecycleKind::Change => Self::Change,
            LifecycleKind::Renewal => Self::Renewal,
            LifecycleKind::Cancellation => Self::Cancellation,
        }
    }
}

/// A lifecycle application against the licence of an application.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "change", "form": {"business_address": "福州市鼓楼区五四路 8 号"}, "materials": {}}))]
pub struct LifecycleRequest {
    /// `change`, `renewal` or `cancellation`.
    pub kind: LifecycleKind,
    /// Form fields that change (change, renewal); the rest is carried over
    /// from the licence's application. Empty for a cancellation.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Materials new or replaced (material code → id). Empty for a
    /// cancellation.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
}

/// What a lifecycle application is made of.
struct Prepared {
    notice: Notice,
    form: Map<String, Value>,
    materials: Map<String, Value>,
}

/// Works out the notice, form and materials of a lifecycle application
/// from what the licence was granted on (`store::lifecycle::licence_basis`),
/// or every problem at once.
fn prepare(
    (notice, old_form, old_materials): (Notice, Map<String, Value>, Map<String, Value>),
    body: &LifecycleRequest,
) -> Result<Prepared, Problem> {
    if body.kind == LifecycleKind::Cancellation {
        let mut errors = Vec::new();
        if !body.form.is_empty() {
            errors.push(FieldError::new(
                "form",
                "not_allowed",
                "注销申请无需填写表单",
            ));
        }
        if !body.materials.is_empty() {
            errors.push(FieldError::new(
                "materials",
                "not_allowed",
                "注销申请无需提交材料",
            ));
        }
        return if errors.is_empty() {
            Ok(Prepared {
                notice,
                form: old_form,
                materials: old_materials,
            })
        } else {
            Err(Problem::validation(errors))
        };
    }
    let mut errors = Vec::new();
    for k in body.form.keys() {
        if !notice.form.iter().any(|f| &f.key == k) {
            errors.push(FieldError::new(
                format!("form.{k}"),
                "unknown_field",
                format!("原许可的表单没有字段 {k}"),
            ));
        }
    }
    for k in body.materials.keys() {
        if !notice.materials.iter().any(|m| &m.code == k) {
            errors.push(FieldError::new(
                format!("materials.{k}"),
                "unknown_material",
                format!("原许可不涉及材料 {k}"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let scoped = match body.kind {
        LifecycleKind::Renewal => notice.clone(),
        _ => {
            // The items a change concerns: those asking for a field whose
            // value changes, or for a material replaced.
            let mut codes: Vec<String> = Vec::new();
            let mut touch = |items: &[String]| {
                for c in items {
                    if !codes.contains(c) {
                        codes.push(c.clone());
                    }
                }
            };
            for f in &notice.form {
                if body
                    .form
                    .get(&f.key)
                    .is_some_and(|v| old_form.get(&f.key) != Some(v))
                {
                    touch(&f.items);
                }
            }
            for m in &notice.materials {
                if body
                    .materials
                    .get(&m.code)
                    .is_some_and(|v| old_materials.get(&m.code) != Some(v))
                {
                    touch(&m.items);
                }
            }
            if codes.is_empty() {
                return Err(Problem::field(
                    "form",
                    "no_change",
                    "变更内容与原许可相同，未涉及任何许可事项",
                ));
            }
            notice.restricted_to(&codes)
        }
    };
    let mut form = old_form;
    form.extend(body.form.clone());
    form.retain(|k, _| scoped.form.iter().any(|f| &f.key == k));
    let mut materials = old_materials;
    materials.extend(body.materials.clone());
    materials.retain(|k, _| scoped.materials.iter().any(|m| &m.code == k));
    let errors = form::validate(&scoped, &form, &materials);
    if errors.is_empty() {
        Ok(Prepared {
            notice: scoped,
            form,
            materials,
        })
    } else {
        Err(Problem::validation(errors))
    }
}

/// Apply to change (变更), renew (延续) or cancel (注销) the comprehensive
/// licence issued on application `id`. The new application goes through the
/// window like any other (已接件 → intake). A change is reviewed by the items
/// whose fields or materials it changes, a renewal by every item; when the
/// new licence is issued the old one becomes 失效. A cancellation needs no
/// review: accepting it cancels the licence (注销). One lifecycle
/// application at a time per licence; a superseded licence cannot be
/// changed again (apply against the newest).
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；他人答复 404，其他角色 403。
#[utoipa::path(
    tag = "applications",
    params(
        ("id" = String, Path, description = "已发证的申请编号"),
        ("Idempotency-Key" = Option<String>, Header, description = "重试同一申请时携带同一键，返回首次结果"),
    ),
    request_body = LifecycleRequest,
    responses(
        (status = 201, description = "已接件", body = ApplicationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权申请", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "尚未发证、已失效或已有办理中的申请", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过（一次性逐项列出）", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/lifecycle")]
pub async fn apply(
    principal: Principal,
    key: IdempotencyKey,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<LifecycleRequest>,
) -> Result<HttpResponse, Problem> {
    let pred = own_application(&state, &principal, &id).await?;
    let basis = store::lifecycle::licence_basis(&state.db, &pred).await?;
    let prepared = prepare(basis, &body);
    let checked = state
        .materials
        .verify(authorization(&req), &pred.enterprise_uscc, &body.materials)
        .await
        .map_err(Problem::from);
    let prepared = merge_checks(prepared, checked)?;
    let body_bytes = serde_json::to_vec(&*body).unwrap_or_default();
    let fingerprint = idempotency::fingerprint(&[id.as_bytes(), &body_bytes]);
    let scope = format!(
        "{} POST /api/v1/applications/{{id}}/lifecycle",
        principal.sub
    );
    let idempotent = key.0.as_deref().map(|k| Idempotent {
        scope: &scope,
        key: k,
        fingerprint: &fingerprint,
    });
    let enterprise_name = prepared
        .form
        .get("enterprise_name")
        .and_then(Value::as_str)
        .map_or_else(|| pred.enterprise_name.clone(), |n| n.trim().to_owned());
    let new = store::NewApplication {
        enterprise_uscc: pred.enterprise_uscc.clone(),
        enterprise_name,
        notice: prepared.notice,
        form: prepared.form,
        materials: prepared.materials,
        actor: actor(&principal, &SUBMITTERS),
        kind: body.kind.into(),
        predecessor_id: Some(pred.id.clone()),
    };
    let now = Utc::now();
    let respond = |parts: &Parts| view(&state, parts, now).ok();
    match store::submit(&state.db, new, idempotent, respond).await? {
        Recorded::Created(parts) => {
            state.signal.wake();
            Ok(HttpResponse::Created()
                .insert_header((
                    header::LOCATION,
                    format!("/api/v1/applications/{}", parts.app.id),
                ))
                .json(view(&state, &parts, now)?))
        }
        Recorded::Replayed(stored) => Ok(stored.into_response()),
    }
}
