//! `/api/v1/projects/{id}/stages` and `/api/v1/stages/{id}`: 分阶段一表申请
//! (with 告知承诺 and 拿地即开工 pre-review), the window's stage list and
//! hand-out. Intake and 容缺 materials are in `routes::stage_intake`.
//!
//! Who may call: builders and authorised agents submit and supply;
//! window clerks take intake and hand-out and (with admins and partners
//! holding `queues:read`) list stages across projects; readers as for the
//! project. A stage the caller may not see answers 404.

use std::collections::BTreeSet;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::{Principal, Role, SCOPE_QUEUES_READ, authorization};
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::problem::merge_checks;
use yizhan_kit::{FieldError, Problem};

use super::views::{
    StageSummary, StageView, State, actor, plausible, readable_project, stage_summary, stage_view,
};
use crate::domain::catalog::{Catalog, Stage};
use crate::domain::form::{StageForm, stage_form, validate};
use crate::domain::project::StageStatus;
use crate::store::stages::{ListFilter, NewStage, StageParts};
use crate::store::{self, Idempotent, Recorded, stage_application};
use yizhan_kit::text::has_control_chars;

/// One stage's merged application.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "stage": "land_planning",
    "form": {"project_name": "福州一站科创园配套仓储用房", "construction_site": "福州市闽侯县上街镇科技东路 8 号", "total_investment_wan": 1800, "contact_person": "李四", "contact_phone": "13800138000"},
    "materials": {"filing_form": "0193aa00-0000-7000-8000-000000000001", "site_plan": "0193aa00-0000-7000-8000-000000000002"},
    "commitments": [],
    "pre_review": false
}))]
pub struct StageRequest {
    /// `land_planning`, `engineering_permit`, `construction_permit` or `completion`.
    pub stage: Stage,
    /// The merged form: field key → value (see the stage form).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Material code → material id at the document service.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
    /// Items applied for under 告知承诺制 (each must allow it); their
    /// materials are not required.
    #[serde(default)]
    pub commitments: Vec<String>,
    /// The signed commitment, required with `commitments`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub commitment_statement: Option<String>,
    /// 拿地即开工: file this later stage for pre-review before the land grant.
    #[serde(default)]
    pub pre_review: bool,
}

const MAX_STATEMENT: usize = 2000;

fn check(
    catalog: &Catalog,
    form: &StageForm,
    body: &StageRequest,
) -> Result<BTreeSet<String>, Problem> {
    let mut errors = Vec::new();
    let mut committed = BTreeSet::new();
    for (i, code) in body.commitments.iter().enumerate() {
        match form.items.iter().find(|x| &x.code == code) {
            Some(item) if item.commitment_allowed => {
                committed.insert(code.clone());
            }
            Some(item) => errors.push(FieldError::new(
                format!("commitments[{i}]"),
                "commitment_not_allowed",
                format!("{}不实行告知承诺制", item.name),
            )),
            None => errors.push(FieldError::new(
                format!("commitments[{i}]"),
                "unknown_item",
                format!("本阶段没有事项 {code}"),
            )),
        }
    }
    let statement = body
        .commitment_statement
        .as_deref()
        .map(str::trim)
        .unwrap_or("");
    if !body.commitments.is_empty() && statement.is_empty() {
        errors.push(FieldError::new(
            "commitment_statement",
            "required",
            "选择告知承诺制须提交签署的承诺书内容",
        ));
    }
    if statement.chars().count() > MAX_STATEMENT || has_control_chars(statement) {
        errors.push(FieldError::new(
            "commitment_statement",
            "invalid_statement",
            format!("承诺书最多 {MAX_STATEMENT} 字，且不含控制字符"),
        ));
    }
    if body.pre_review && !body.stage.allows_pre_review() {
        errors.push(FieldError::new(
            "pre_review",
            "pre_review_not_allowed",
            "拿地即开工预审仅适用于工程建设许可和施工许可阶段",
        ));
    }
    let _ = catalog;
    errors.extend(validate(form, &body.form, &body.materials, &committed));
    if errors.is_empty() {
        Ok(committed)
    } else {
        Err(Problem::validation(errors))
    }
}

pub(crate) const SUBMITTERS: [Role; 2] = [Role::Applicant, Role::Agent];

/// Submit one stage's merged application (分阶段一件事，一表申请). The form
/// is checked against the stage form of the project's category; every
/// problem is reported at once. Stages go in order (409 `stage_locked`);
/// later stages need the land grant (409 `land_not_granted`) unless filed
/// with `pre_review` (拿地即开工). Answers 201, 已接件 (BLZT 1).
///
/// 调用方：申请人（本企业项目）、帮办代办员（已授权企业的项目，时间线记为帮办代办）；他人答复 404，其他角色 403。
#[utoipa::path(
    tag = "stages",
    params(
        ("id" = String, Path, description = "项目编号"),
        ("Idempotency-Key" = Option<String>, Header, description = "重试同一申请时携带同一键，返回首次结果"),
    ),
    request_body = StageRequest,
    responses(
        (status = 201, description = "已接件", body = StageView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权申报", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "项目不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "阶段未解锁、已申报或土地未出让", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过（一次性逐项列出；材料须为本企业、类型相符、未过期）", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/projects/{id}/stages")]
pub async fn submit(
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    state: State,
    id: web::Path<String>,
    body: web::Json<StageRequest>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&SUBMITTERS)?;
    let project = store::projects::find(&state.db, plausible(&id, "项目")?)
        .await?
        .filter(|p| principal.may_act_for(&p.builder_uscc))
        .ok_or_else(|| Problem::not_found("项目不存在"))?;
    let form = stage_form(&state.catalog, body.stage, project.category());
    let materials = state
        .materials
        .verify(authorization(&req), &project.builder_uscc, &body.materials)
        .await
        .map_err(Problem::from);
    let committed = merge_checks(check(&state.catalog, &form, &body), materials)?;
    let bytes = serde_json::to_vec(&*body).unwrap_or_default();
    let fingerprint = idempotency::fingerprint(&[id.as_bytes(), &bytes]);
    let scope = format!("{} POST /api/v1/projects/{{id}}/stages", principal.sub);
    let idempotent = key.0.as_deref().map(|k| Idempotent {
        scope: &scope,
        key: k,
        fingerprint: &fingerprint,
    });
    let new = NewStage {
        project_id: project.id.clone(),
        stage: body.stage,
        catalog_version: state.catalog.version,
        item_codes: form.items.iter().map(|i| i.code.clone()).collect(),
        pre_review: body.pre_review,
        form: body.form.clone(),
        materials: body.materials.clone(),
        commitments: committed,
        commitment_statement: body
            .commitment_statement
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    };
    let now = Utc::now();
    let respond = |parts: &StageParts| stage_view(&state, parts, now);
    let who = actor(&principal, &SUBMITTERS);
    match store::stages::submit(&state.db, new, &who, idempotent, respond).await? {
        Recorded::Created(parts) => {
            state.signal.wake();
            Ok(HttpResponse::Created()
                .insert_header((
                    header::LOCATION,
                    format!("/api/v1/stages/{}", parts.stage.id),
                ))
                .json(stage_view(&state, &parts, now)))
        }
        Recorded::Replayed(stored) => Ok(stored.into_response()),
    }
}

/// The stage application if the caller may read its project; 404 otherwise.
pub(crate) async fn readable_stage(
    state: &State,
    principal: &Principal,
    id: &str,
) -> Result<stage_application::Model, Problem> {
    let app = store::stages::find(&state.db, plausible(id, "阶段申请")?)
        .await?
        .ok_or_else(|| Problem::not_found("阶段申请不存在"))?;
    readable_project(state, principal, &app.project_id)
        .await
        .map_err(|_| Problem::not_found("阶段申请不存在"))?;
    Ok(app)
}

/// One stage application with its tasks (BLZT codes, deadlines), 容缺
/// materials owed, commitments, inspections and certificate.
///
/// 调用方：可查看该项目者（见项目详情）；他人答复 404。
#[utoipa::path(
    tag = "stages",
    params(("id" = String, Path, description = "阶段申请编号")),
    responses(
        (status = 200, description = "阶段申请详情", body = StageView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/stages/{id}")]
pub async fn get_stage(
    principal: Principal,
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    readable_stage(&state, &principal, &id).await?;
    let parts = store::stages::load(&state.db, &id)
        .await?
        .ok_or_else(|| Problem::not_found("阶段申请不存在"))?;
    Ok(HttpResponse::Ok().json(stage_view(&state, &parts, Utc::now())))
}

/// Filter of the window's stage list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StageListQuery {
    /// Only stage applications in this status (`submitted`, `returned`,
    /// `in_review`, `completed`, `stopped`).
    // Strings checked by hand, so a bad value is a 422 naming its
    // parameter (serde's unknown-variant error does not name it).
    #[param(value_type = Option<StageStatus>, inline)]
    pub status: Option<String>,
    /// `hand_out`: only completed stages whose certificate is issued and
    /// not yet handed out (the window's hand-out queue).
    #[param(value_type = Option<Awaiting>, inline)]
    pub awaiting: Option<String>,
    /// Search: 申请编号 (exact), the builder's 统一社会信用代码 (exact), or
    /// the project's or builder's name (substring); at most 100
    /// characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
}

/// What the window still has to do with a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Awaiting {
    /// 统一窗口出件 of the issued certificate.
    HandOut,
}

fn list_filter(query: &StageListQuery) -> Result<ListFilter, Problem> {
    let mut errors = Vec::new();
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => match StageStatus::from_wire(s) {
            Some(status) => Some(status),
            None => {
                errors.push(FieldError::new(
                    "status",
                    "invalid_status",
                    "status 须为 submitted、returned、in_review、completed 或 stopped",
                ));
                None
            }
        },
    };
    let awaiting_hand_out = match query.awaiting.as_deref() {
        None => false,
        Some("hand_out") => true,
        Some(_) => {
            errors.push(FieldError::new(
                "awaiting",
                "invalid_awaiting",
                "awaiting 只能为 hand_out",
            ));
            false
        }
    };
    let search = match store::stages::Search::parse(query.q.as_deref()) {
        Ok(search) => search,
        Err(problem) => {
            errors.extend(problem.errors);
            None
        }
    };
    if errors.is_empty() {
        Ok(ListFilter {
            status,
            awaiting_hand_out,
            search,
        })
    } else {
        Err(Problem::validation(errors))
    }
}

/// The window's list of stage applications across projects, oldest first
/// (submission order), cursor-paginated: `?status=submitted` is the intake
/// queue, `?awaiting=hand_out` the hand-out queue (completed, certificate
/// issued, not yet handed out). Every item carries its own `cursor`, so a
/// merged queue can continue after any item.
///
/// 调用方：综合窗口人员、管理员、合作系统（queues:read 权限，只读）；其他角色答复 403。
#[utoipa::path(
    tag = "stages",
    params(PageQuery, StageListQuery),
    responses(
        (status = 200, description = "阶段申请列表", body = Page<StageSummary>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非综合窗口人员、管理员或 queues:read 合作系统", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误（status、awaiting、q、cursor 或 limit）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/stages")]
pub async fn list_stages(
    principal: Principal,
    state: State,
    page: web::Query<PageQuery>,
    query: web::Query<StageListQuery>,
) -> Result<HttpResponse, Problem> {
    if !principal.reads_queues() {
        principal
            .require_any(&[Role::WindowClerk, Role::Admin])
            .map_err(|p| {
                if principal.has_role(Role::Partner) {
                    Problem::forbidden(format!(
                        "合作系统须具备 {SCOPE_QUEUES_READ} 权限才能查看阶段申请列表"
                    ))
                } else {
                    p
                }
            })?;
    }
    let filter = list_filter(&query)?;
    let limit = page.limit()?;
    let after = page.position::<String>()?;
    let rows = store::stages::list(&state.db, &filter, after.as_deref(), limit).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows_with_cursors(
        rows,
        limit,
        |(s, _)| s.id.clone(),
        |(s, p), cursor| stage_summary(s, p, Some(cursor)),
    )))
}

/// Hand-out at the window (统一窗口出件) of a completed stage's result:
/// its issued certificate (e.g. the 建筑工程施工许可证) is delivered to the
/// builder. Recorded with who and when, on the project's timeline and as
/// `StageResultHandedOut`. A stage that is not completed, whose
/// certificate is not issued yet, or that was handed out already answers
/// 409 `illegal_transition`.
///
/// 调用方：综合窗口人员；其他角色答复 403。
#[utoipa::path(
    tag = "stages",
    params(("id" = String, Path, description = "阶段申请编号")),
    responses(
        (status = 200, description = "已出件", body = StageView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非综合窗口人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "阶段申请不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "未办结、证照尚未签发或已出件（illegal_transition）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/stages/{id}/hand-out")]
pub async fn hand_out(
    principal: Principal,
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::WindowClerk])?;
    let parts = store::stages::hand_out(
        &state.db,
        plausible(&id, "阶段申请")?,
        &actor(&principal, &[Role::WindowClerk]),
    )
    .await
    .map_err(|e| match e {
        store::Error::NotFound(_) => Problem::not_found("阶段申请不存在"),
        other => other.problem(),
    })?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(stage_view(&state, &parts, Utc::now())))
}
