//! `/api/v1/applications`: 一表申请 (submit, correct and resubmit),
//! 综合受理 (intake), 统一出件 (hand-out) and tracking.
//!
//! Who may call: applicants (their own enterprise) and agents (enterprises
//! that authorised them) submit, resubmit and read their applications;
//! window clerks take intake and hand-out and read all; admins read all;
//! department reviewers read applications with a task in their department.
//! An application the caller may not see answers 404, never data.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Deadline, SlaState};
use yizhan_auth::{Principal, Role, SCOPE_QUEUES_READ};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_events::one_time::{self, DeficiencyInput};
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::{FieldError, Problem};
use yizhan_types::Uscc;

use crate::AppState;
use crate::domain::application::{ApplicationKind, ApplicationStatus};
use crate::domain::catalog::Catalog;
use crate::domain::form;
use crate::domain::notice::{self, Notice, NoticeItem};
use crate::error::Error;
use crate::routes::catalog::unknown_scenario;
use crate::routes::tasks::TaskView;
use crate::store::{self, Actor, Idempotent, ListScope, Parts, Recorded, application};
use yizhan_kit::text::is_plausible_id;

/// A combined application (一表申请).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "scenario": "hotel",
    "answers": {"serves_food": true, "floor_area_m2": 1200, "hosts_performances": true},
    "enterprise_uscc": "91350100M000100Y43",
    "form": {"enterprise_name": "福州一站酒店有限公司", "legal_rep_name": "张三", "legal_rep_id_no": "11010519491231002X", "contact_phone": "13800138000", "business_address": "福州市鼓楼区五四路 1 号", "room_count": 80},
    "materials": {"legal_rep_id_card": "0193aa00-0000-7000-8000-000000000001"}
}))]
pub struct SubmitRequest {
    /// 情形编码.
    pub scenario: String,
    /// Questionnaire answers.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// The enterprise's 统一社会信用代码.
    pub enterprise_uscc: String,
    /// The merged form: field key → value (see the notice's `form`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Material code → material id at the document service.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
}

/// Who did a step.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorView {
    /// `sub`.
    pub sub: String,
    /// Role (`system` for automatic steps).
    pub role: String,
}

/// One step of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// Position, from 1.
    pub seq: i32,
    /// Machine action code.
    pub action: String,
    /// zh-CN description.
    pub title: String,
    /// Who.
    pub actor: ActorView,
    /// The task concerned.
    pub task_id: Option<String>,
    /// 办理状态 code after the step, where one applies.
    pub blzt: Option<i32>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An application as tracked by its applicant and the centre.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    /// Application id.
    pub id: String,
    /// Status.
    pub status: ApplicationStatus,
    /// zh-CN status.
    pub status_name: String,
    /// New licence, or change / renewal / cancellation of one.
    pub kind: ApplicationKind,
    /// For a change, renewal or cancellation: the application whose
    /// licence it concerns.
    pub predecessor_id: Option<String>,
    /// Intake 办理状态: 1 已接件, 4 不受理, 3 已受理 (tasks carry their own).
    pub blzt: u8,
    /// 情形编码.
    pub scenario_code: String,
    /// 情形名称.
    pub scenario_name: String,
    /// Licence to be issued.
    pub licence_name: String,
    /// Catalog version the application keeps.
    pub catalog_version: i32,
    /// Enterprise.
    pub enterprise_uscc: String,
    /// Enterprise name.
    pub enterprise_name: String,
    /// Items applied for.
    pub items: Vec<NoticeItem>,
    /// Tasks once accepted, one per item.
    pub tasks: Vec<TaskView>,
    /// Bundle 承诺时限, working days.
    pub committed_days: f64,
    /// Working days left of the committed limit (after acceptance).
    pub remaining_working_days: Option<f64>,
    /// Last half-day of the committed limit (after acceptance):
    /// `{"date": "2026-12-01", "half": "morning"|"afternoon"}`.
    #[schema(value_type = Option<Object>)]
    pub due: Option<Deadline>,
    /// The bundle clock's state (after acceptance): `on_time`, `warning`,
    /// `overdue`, `paused` or `stopped`.
    #[schema(value_type = Option<String>)]
    pub sla_state: Option<SlaState>,
    /// The one-time notice of deficiencies, when returned.
    #[schema(value_type = Option<Vec<Object>>)]
    pub deficiencies: Option<Vec<IntakeDeficiency>>,
    /// 容缺受理: materials still owed (empty when nothing is).
    #[schema(value_type = Vec<Object>)]
    pub tolerance_missing: Vec<IntakeDeficiency>,
    /// 容缺受理: the last day to supply them, while any are owed.
    pub tolerance_due_date: Option<NaiveDate>,
    /// 电子证照标识 once issued.
    pub certificate_id: Option<String>,
    /// Answers.
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// Form values.
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Materials.
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
    /// Every step so far.
    pub timeline: Vec<TimelineEntry>,
    /// Submitted.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// An application in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationSummary {
    /// Application id.
    pub id: String,
    /// Status.
    pub status: ApplicationStatus,
    /// zh-CN status.
    pub status_name: String,
    /// 情形编码.
    pub scenario_code: String,
    /// Enterprise.
    pub enterprise_uscc: String,
    /// Enterprise name.
    pub enterprise_name: String,
    /// Submitted.
    pub created_at: DateTime<Utc>,
    /// Opaque position right after this item: pass it as `cursor` to
    /// continue the list from the next item (merged queues use it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

fn parse_map(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Builds the tracking view (reads the clocks at `now`).
pub fn view(state: &AppState, parts: &Parts, now: DateTime<Utc>) -> Result<ApplicationView, Error> {
    let app = &parts.app;
    let notice = app.notice()?;
    let local = china_local(now);
    let reading = app
        .clock(&parts.tasks)
        .map(|c| c.reading_at(&state.calendar, local));
    let status = app.status();
    Ok(ApplicationView {
        id: app.id.clone(),
        status,
        status_name: status.zh_name().into(),
        kind: app.kind(),
        predecessor_id: app.predecessor_id.clone(),
        blzt: status.intake_status().code(),
        scenario_code: app.scenario_code.clone(),
        scenario_name: notice.scenario_name.clone(),
        licence_name: notice.licence_name.clone(),
        catalog_version: app.catalog_version,
        enterprise_uscc: app.enterprise_uscc.clone(),
        enterprise_name: app.enterprise_name.clone(),
        items: notice.items.clone(),
        tasks: parts
            .tasks
            .iter()
            .map(|t| TaskView::new(&state.calendar, t, now))
            .collect(),
        committed_days: notice.committed_total.as_days_f64(),
        remaining_working_days: reading.map(|r| r.committed.remaining.as_days_f64()),
        due: reading.and_then(|r| r.committed.due),
        sla_state: reading.map(|r| r.committed.state),
        deficiencies: app
            .deficiencies
            .as_deref()
            .filter(|_| status == ApplicationStatus::Returned)
            .and_then(|d| serde_json::from_str(d).ok()),
        tolerance_missing: app.owed(),
        tolerance_due_date: app.tolerance_due,
        certificate_id: app.certificate_id.clone(),
        answers: notice.answers.clone(),
        form: parse_map(&app.form),
        materials: parse_map(&app.materials),
        timeline: parts
            .timeline
            .iter()
            .map(|e| TimelineEntry {
                seq: e.seq,
                action: e.action.clone(),
                title: e.title.clone(),
                actor: ActorView {
                    sub: e.actor_sub.clone(),
                    role: e.actor_role.clone(),
                },
                task_id: e.task_id.clone(),
                blzt: e.blzt,
                at: e.at,
            })
            .collect(),
        created_at: app.created_at,
        updated_at: app.updated_at,
    })
}

pub(crate) fn actor(principal: &Principal, roles: &[Role]) -> Actor {
    let role = roles
        .iter()
        .find(|r| principal.has_role(**r))
        .map_or("unknown", |r| r.as_str());
    Actor {
        sub: principal.sub.clone(),
        role: role.into(),
    }
}

/// Everything that makes a submission valid, checked at once.
struct Checked {
    uscc: String,
    enterprise_name: String,
    notice: Notice,
}

fn check(catalog: &Catalog, body: &SubmitRequest) -> Result<Checked, Problem> {
    let scenario = catalog
        .scenario(&body.scenario)
        .ok_or_else(|| unknown_scenario(&body.scenario))?;
    let mut errors: Vec<FieldError> = Vec::new();
    let uscc = match Uscc::parse(&body.enterprise_uscc) {
        Ok(u) => Some(u.as_str().to_owned()),
        Err(e) => {
            errors.push(FieldError::new("enterprise_uscc", e.code(), e.message()));
            None
        }
    };
    let notice = match notice::compute(catalog, scenario, &body.answers) {
        Ok(n) => {
            errors.extend(form::validate(&n, &body.form, &body.materials));
            Some(n)
        }
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    match (uscc, notice) {
        (Some(uscc), Some(notice)) if errors.is_empty() => Ok(Checked {
            uscc,
            enterprise_name: body
                .form
                .get("enterprise_name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned(),
            notice,
        }),
        _ => Err(Problem::validation(errors)),
    }
}

pub(crate) const SUBMITTERS: [Role; 2] = [Role::Applicant, Role::Agent];

/// The caller's `Authorization` header, forwarded to the document service
/// so material checks see what the caller may see.
pub(crate) fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// Merges the field errors of two failed checks into one 422, so every
/// problem is reported at once; any other failure (a 503 from the material
/// check) stands on its own unless there are field errors to fix first.
pub(crate) fn merge_checks<T>(
    first: Result<T, Problem>,
    second: Result<(), Problem>,
) -> Result<T, Problem> {
    let unprocessable = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY.as_u16();
    match (first, second) {
        (Ok(t), Ok(())) => Ok(t),
        (Err(a), Err(b)) if a.status == unprocessable && b.status == unprocessable => {
            let mut errors = a.errors;
            errors.extend(b.errors);
            Err(Problem::validation(errors))
        }
        (Err(a), Err(b)) if b.status == unprocessable => Err(a),
        (Err(a), Err(_)) if a.status == unprocessable => Err(a),
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
    }
}

/// `check` plus the material check against the document service, every
/// problem reported together.
async fn check_with_materials(
    state: &AppState,
    req: &HttpRequest,
    catalog: &Catalog,
    body: &SubmitRequest,
) -> Result<Checked, Problem> {
    let checked = check(catalog, body);
    let materials = match Uscc::parse(&body.enterprise_uscc) {
        Ok(u) => {
            state
                .materials
                .verify(authorization(req), u.as_str(), &body.materials)
                .await
        }
        Err(_) => Ok(()),
    };
    merge_checks(checked, materials)
}

/// Submit a combined application (一表申请). Every problem is reported at
/// once, each naming its field (`enterprise_uscc`, `answers.<key>`,
/// `form.<key>`, `materials.<code>`). Answers 201 with the application,
/// 已接件 (BLZT 1).
///
/// 调用方：申请人（为本企业）、帮办代办员（为已授权的企业）；其他角色答复 403。
#[utoipa::path(
    tag = "applications",
    request_body = SubmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "重试同一申请时携带同一键，返回首次结果")),
    responses(
        (status = 201, description = "已接件", body = ApplicationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权为该企业申请", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过（一次性逐项列出）", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/applications")]
pub async fn submit(
    principal: Principal,
    key: IdempotencyKey,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SubmitRequest>,
) -> Result<HttpResponse, Error> {
    principal.require_any(&SUBMITTERS)?;
    let forbidden = || Problem::forbidden("只能为本企业或已授权代办的企业提交申请");
    // Refused before anything is checked against the enterprise's archive.
    if let Ok(u) = Uscc::parse(&body.enterprise_uscc)
        && !principal.may_act_for(u.as_str())
    {
        return Err(forbidden().into());
    }
    let checked = check_with_materials(&state, &req, &state.catalog(), &body).await?;
    if !principal.may_act_for(&checked.uscc) {
        return Err(forbidden().into());
    }
    let body_bytes = serde_json::to_vec(&*body).unwrap_or_default();
    let fingerprint = idempotency::fingerprint(&[&body_bytes]);
    let scope = format!("{} POST /api/v1/applications", principal.sub);
    let idempotent = key.0.as_deref().map(|k| Idempotent {
        scope: &scope,
        key: k,
        fingerprint: &fingerprint,
    });
    let new = store::NewApplication {
        enterprise_uscc: checked.uscc,
        enterprise_name: checked.enterprise_name,
        notice: checked.notice,
        form: body.form.clone(),
        materials: body.materials.clone(),
        actor: actor(&principal, &SUBMITTERS),
        kind: ApplicationKind::New,
        predecessor_id: None,
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

/// The id when it can be one; a 404 otherwise (no query for garbage).
pub(crate) fn plausible(id: &str) -> Result<&str, Problem> {
    if is_plausible_id(id) {
        Ok(id)
    } else {
        Err(Problem::not_found("申请不存在"))
    }
}

/// Whether the caller may see the application; 404 otherwise.
async fn visible(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<application::Model, Error> {
    let not_found = || Error::from(Problem::not_found("申请不存在"));
    if !is_plausible_id(id) {
        return Err(not_found());
    }
    let app = store::find_application(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    if principal.has_role(Role::WindowClerk)
        || principal.has_role(Role::Admin)
        || principal.may_act_for(&app.enterprise_uscc)
    {
        return Ok(app);
    }
    if principal.has_role(Role::DeptReviewer)
        && let Some(dept) = principal.dept.as_deref()
        && store::has_task_in(&state.db, id, dept).await?
    {
        return Ok(app);
    }
    Err(not_found())
}

/// One application with its tasks (each with its BLZT code and remaining
/// working days), the bundle's remaining working days and the timeline of
/// every step with who and when.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）、综合窗口人员、管理员；部门审批人员（本部门有任务的申请）。他人答复 404。
#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "申请编号")),
    responses(
        (status = 200, description = "申请详情与办理进度", body = ApplicationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/applications/{id}")]
pub async fn get_application(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    visible(&state, &principal, &id).await?;
    let parts = store::load_parts(&state.db, &id)
        .await?
        .ok_or_else(|| Problem::not_found("申请不存在"))?;
    Ok(HttpResponse::Ok().json(view(&state, &parts, Utc::now())?))
}

/// Filter of the application list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// Only applications in this status.
    pub status: Option<ApplicationStatus>,
    /// `newest_first` (default) or `oldest_first` (submission order: the
    /// window's intake and hand-out queues). A cursor continues in the
    /// order it was made with, so keep `order` the same across pages.
    // A string, checked by hand: serde's unknown-variant error does not
    // name the parameter, and the answer must say `order`.
    #[param(value_type = Option<ListOrder>, inline)]
    pub order: Option<String>,
}

/// Order of the application list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    /// Newest submission first.
    #[default]
    NewestFirst,
    /// Oldest submission first (ids are UUIDv7, so id order is submission order).
    OldestFirst,
}

impl ListOrder {
    /// The `order` query parameter; unknown values are a 422 naming it.
    pub fn parse(value: Option<&str>) -> Result<Self, Problem> {
        match value {
            None => Ok(Self::NewestFirst),
            Some("newest_first") => Ok(Self::NewestFirst),
            Some("oldest_first") => Ok(Self::OldestFirst),
            Some(_) => Err(Problem::field(
                "order",
                "invalid_order",
                "order 须为 newest_first 或 oldest_first",
            )),
        }
    }
}

/// Applications, newest first by default or oldest first with
/// `order=oldest_first`: an applicant's own enterprise's, an agent's
/// authorising enterprises', or (clerks, admins, partners) everyone's.
/// Every item carries its own `cursor`, so a merged queue can continue
/// after any item. The window's intake queue is
/// `?status=submitted&order=oldest_first`, its hand-out queue
/// `?status=licence_issued&order=oldest_first`.
///
/// 调用方：申请人、帮办代办员（仅本企业/授权企业）、综合窗口人员、管理员、合作系统（queues:read 权限，只读，全部企业）；其他角色答复 403。
#[utoipa::path(
    tag = "applications",
    params(PageQuery, ListFilter),
    responses(
        (status = 200, description = "申请列表", body = Page<ApplicationSummary>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看申请列表，或合作系统缺少 queues:read 权限", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误（如 order 不是 newest_first 或 oldest_first）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/applications")]
pub async fn list_applications(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<ListFilter>,
) -> Result<HttpResponse, Error> {
    principal.require_any(&[
        Role::Applicant,
        Role::Agent,
        Role::WindowClerk,
        Role::Admin,
        Role::Partner,
    ])?;
    let everyone = principal.has_role(Role::WindowClerk)
        || principal.has_role(Role::Admin)
        || principal.reads_queues();
    if !everyone && !principal.has_role(Role::Applicant) && !principal.has_role(Role::Agent) {
        return Err(Problem::forbidden(format!(
            "合作系统须具备 {SCOPE_QUEUES_READ} 权限才能查看申请列表"
        ))
        .into());
    }
    let order = ListOrder::parse(filter.order.as_deref())?;
    let limit = page.limit()?;
    let after = page.position::<String>()?;
    let scope = if everyone {
        ListScope::All
    } else {
        let mut own: Vec<String> = Vec::new();
        if principal.has_role(Role::Applicant)
            && let Some(u) = &principal.uscc
        {
            own.push(u.clone());
        }
        if principal.has_role(Role::Agent) {
            own.extend(principal.enterprises.iter().cloned());
        }
        ListScope::Enterprises(own)
    };
    let rows = store::list_applications(
        &state.db,
        &scope,
        filter.status,
        order == ListOrder::OldestFirst,
        after.as_deref(),
        limit,
    )
    .await?;
    let page = Page::from_rows_with_cursors(
        rows,
        limit,
        |a| a.id.clone(),
        |a, cursor| {
            let status = a.status();
            ApplicationSummary {
                id: a.id,
                status,
                status_name: status.zh_name().into(),
                scenario_code: a.scenario_code,
                enterprise_uscc: a.enterprise_uscc,
                enterprise_name: a.enterprise_name,
                created_at: a.created_at,
                cursor: Some(cursor),
            }
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Correct and resubmit a returned application (不受理 → 已接件). The body
/// is the whole application again; scenario and enterprise cannot change.
/// It is checked against the catalog version the application was made on.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；他人答复 404，其他角色 403。
#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "申请编号")),
    request_body = SubmitRequest,
    responses(
        (status = 200, description = "已重新接件", body = ApplicationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权提交申请", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能重新提交", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过（一次性逐项列出）", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/applications/{id}")]
pub async fn resubmit(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<SubmitRequest>,
) -> Result<HttpResponse, Error> {
    principal.require_any(&SUBMITTERS)?;
    let app = store::find_application(&state.db, plausible(&id)?)
        .await?
        .filter(|a| principal.may_act_for(&a.enterprise_uscc))
        .ok_or_else(|| Problem::not_found("申请不存在"))?;
    let current = state.catalog();
    let catalog = if app.catalog_version == current.version {
        current.as_ref().clone()
    } else {
        crate::store::catalog::version(&state.db, app.catalog_version)
            .await?
            .ok_or_else(|| {
                sea_orm::DbErr::Custom(format!("catalog version {} missing", app.catalog_version))
            })?
    };
    let mut fixed = Vec::new();
    if body.scenario != app.scenario_code {
        fixed.push(FieldError::new(
            "scenario",
            "immutable",
            "重新提交时不能更改情形",
        ));
    }
    if body.enterprise_uscc != app.enterprise_uscc {
        fixed.push(FieldError::new(
            "enterprise_uscc",
            "immutable",
            "重新提交时不能更改申请企业",
        ));
    }
    if !fixed.is_empty() {
        return Err(Problem::validation(fixed).into());
    }
    let checked = check_with_materials(&state, &req, &catalog, &body).await?;
    let update = store::Resubmission {
        enterprise_name: checked.enterprise_name,
        notice: checked.notice,
        form: body.form.clone(),
        materials: body.materials.clone(),
    };
    let parts = store::resubmit(&state.db, &id, update, &actor(&principal, &SUBMITTERS)).await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(view(&state, &parts, Utc::now())?))
}

/// The window's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntakeDecision {
    /// 受理.
    Accept,
    /// 容缺受理: accept with non-key materials owed by a due date.
    AcceptWithTolerance,
    /// 不受理, with the one-time list of deficiencies.
    Reject,
}

/// Intake (前台综合受理).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "reject", "deficiencies": [{"material": "floor_plan", "reason": "平面布局图未标注消防通道"}]}))]
pub struct IntakeRequest {
    /// `accept`, `accept_with_tolerance` or `reject`.
    pub decision: IntakeDecision,
    /// Required (non-empty) with `reject`: every deficiency at once. With
    /// `accept_with_tolerance`: the non-key materials owed (materials
    /// only).
    #[serde(default)]
    pub deficiencies: Vec<DeficiencyInput>,
    /// With `accept_with_tolerance`: the last day (China local date) to
    /// supply the owed materials; after today, at most
    /// `MAX_TOLERANCE_DAYS` days ahead.
    #[serde(default)]
    pub tolerance_due_date: Option<NaiveDate>,
}

/// The furthest a 容缺 due date may lie, in calendar days.
pub const MAX_TOLERANCE_DAYS: i64 = 60;

/// Checks a 容缺受理: the list names non-key materials only, and the due
/// date lies after `today`, within `MAX_TOLERANCE_DAYS`.
fn check_tolerance(
    notice: &Notice,
    list: &[IntakeDeficiency],
    due: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<NaiveDate, Problem> {
    let mut errors = Vec::new();
    for (i, d) in list.iter().enumerate() {
        if d.field.is_some() {
            errors.push(FieldError::new(
                format!("deficiencies[{i}].field"),
                "not_allowed",
                "容缺受理只能容缺材料，表单内容须填写完整",
            ));
        }
        match d.material.as_deref() {
            None => errors.push(FieldError::new(
                format!("deficiencies[{i}].material"),
                "required",
                "请指明容缺的材料",
            )),
            Some(m) => {
                if notice.materials.iter().any(|x| x.code == m && x.key) {
                    errors.push(FieldError::new(
                        format!("deficiencies[{i}].material"),
                        "key_material",
                        "关键材料不得容缺，缺少关键材料的申请不能受理",
                    ));
                }
            }
        }
    }
    let latest = today + chrono::Duration::days(MAX_TOLERANCE_DAYS);
    match due {
        None => errors.push(FieldError::new(
            "tolerance_due_date",
            "required",
            "容缺受理须约定补交期限",
        )),
        Some(d) if d <= today || d > latest => errors.push(FieldError::new(
            "tolerance_due_date",
            "out_of_range",
            format!("补交期限须在 {today} 之后、{latest} 之前（含）"),
        )),
        Some(_) => {}
    }
    match (due, errors.is_empty()) {
        (Some(d), true) => Ok(d),
        _ => Err(Problem::validation(errors)),
    }
}

/// Checks a one-time list (`name` is its body field: `deficiencies` at
/// intake, `items` for a supplement request) against the application's
/// snapshot (`yizhan_events::one_time::check_list`).
pub(crate) fn check_deficiencies(
    notice: &Notice,
    list: &[DeficiencyInput],
    name: &str,
) -> Result<Vec<IntakeDeficiency>, Problem> {
    one_time::check_list(
        list,
        name,
        |f| notice.form.iter().any(|x| x.key == f),
        |m| notice.materials.iter().any(|x| x.code == m),
    )
}

/// Intake: accept (every item becomes a task in its department's queue at
/// once, BLZT 3 then 8, clocks started; the acceptance day is not counted);
/// accept with tolerance (容缺受理: the same, with non-key materials owed by
/// `tolerance_due_date`; approvals meanwhile are 容缺通过 (BLZT 12), the
/// licence waits for the materials, and the application is stopped if the
/// date passes first); or reject with the one-time list of every
/// deficiency (BLZT 4; the applicant corrects and resubmits). Accepting a
/// cancellation (注销) cancels the licence at once.
///
/// 调用方：综合窗口人员；其他角色答复 403。
#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "申请编号")),
    request_body = IntakeRequest,
    responses(
        (status = 200, description = "受理结果", body = ApplicationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非综合窗口人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "申请不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能受理（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "补齐清单有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/intake")]
pub async fn intake(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<IntakeRequest>,
) -> Result<HttpResponse, Error> {
    principal.require_any(&[Role::WindowClerk])?;
    let app = store::find_application(&state.db, plausible(&id)?)
        .await?
        .ok_or_else(|| Problem::not_found("申请不存在"))?;
    if body.decision != IntakeDecision::AcceptWithTolerance && body.tolerance_due_date.is_some() {
        return Err(Problem::field(
            "tolerance_due_date",
            "not_allowed",
            "只有容缺受理需要约定补交期限",
        )
        .into());
    }
    let decision = match body.decision {
        IntakeDecision::Accept if !body.deficiencies.is_empty() => {
            return Err(Problem::field(
                "deficiencies",
                "not_allowed",
                "受理时不应附带补齐清单；缺少非关键材料时请选择容缺受理",
            )
            .into());
        }
        IntakeDecision::Accept => store::Intake::Accept,
        IntakeDecision::AcceptWithTolerance => {
            let notice = app.notice()?;
            if app.kind() == ApplicationKind::Cancellation {
                return Err(Problem::field(
                    "decision",
                    "not_allowed",
                    "注销申请无需审批，不适用容缺受理",
                )
                .into());
            }
            let missing = check_deficiencies(&notice, &body.deficiencies, "deficiencies")?;
            let today = china_local(Utc::now()).date();
            let due = check_tolerance(&notice, &missing, body.tolerance_due_date, today)?;
            store::Intake::AcceptWithTolerance { missing, due }
        }
        IntakeDecision::Reject => store::Intake::Return(check_deficiencies(
            &app.notice()?,
            &body.deficiencies,
            "deficiencies",
        )?),
    };
    let parts = store::intake(
        &state.db,
        &state.calendar,
        &id,
        decision,
        &actor(&principal, &[Role::WindowClerk]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(view(&state, &parts, Utc::now())?))
}

/// Hand-out at the window (统一窗口出件): the issued licence is delivered;
/// the application is complete.
///
/// 调用方：综合窗口人员；其他角色答复 403。
#[utoipa::path(
    tag = "applications",
    params(("id" = String, Path, description = "申请编号")),
    responses(
        (status = 200, description = "已出件", body = ApplicationView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非综合窗口人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "申请不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "证照尚未签发或已出件（illegal_transition）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/hand-out")]
pub async fn hand_out(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    principal.require_any(&[Role::WindowClerk])?;
    let parts = store::hand_out(
        &state.db,
        plausible(&id)?,
        &actor(&principal, &[Role::WindowClerk]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(view(&state, &parts, Utc::now())?))
}
