//! `/api/v1/applications`: 一表申请 (submit, correct and resubmit) and
//! tracking. Intake and hand-out are in `routes::intake`, the views in
//! `routes::views`.
//!
//! Who may call: applicants (their own enterprise) and agents (enterprises
//! that authorised them) submit, resubmit and read their applications;
//! window clerks take intake and hand-out and read all; admins read all;
//! department reviewers read applications with a task in their department.
//! An application the caller may not see answers 404, never data.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::{Principal, Role, SCOPE_QUEUES_READ, authorization};
use yizhan_kit::conditional::{IfNoneMatch, etag_of, prefer_wait, wait_applied};
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::problem::merge_checks;
use yizhan_kit::{FieldError, Problem};
use yizhan_types::Uscc;

use crate::AppState;
use crate::domain::application::{ApplicationKind, ApplicationStatus};
use crate::domain::catalog::Catalog;
use crate::domain::form;
use crate::domain::notice::{self, Notice};
use crate::routes::catalog::unknown_scenario;
use crate::routes::views::{ApplicationSummary, ApplicationView, actor, plausible, view, visible};
use crate::store::{self, Idempotent, ListScope, Parts, Recorded};

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
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
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
        Ok(u) => state
            .materials
            .verify(authorization(req), u.as_str(), &body.materials)
            .await
            .map_err(Problem::from),
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
) -> Result<HttpResponse, Problem> {
    principal.require_any(&SUBMITTERS)?;
    let forbidden = || Problem::forbidden("只能为本企业或已授权代办的企业提交申请");
    // Refused before anything is checked against the enterprise's archive.
    if let Ok(u) = Uscc::parse(&body.enterprise_uscc)
        && !principal.may_act_for(u.as_str())
    {
        return Err(forbidden());
    }
    let checked = check_with_materials(&state, &req, &state.catalog(), &body).await?;
    if !principal.may_act_for(&checked.uscc) {
        return Err(forbidden());
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

/// One application with its tasks (each with its BLZT code and remaining
/// working days), the bundle's remaining working days and the timeline of
/// every step with who and when.
///
/// Every answer carries an `ETag`. Send it back in `If-None-Match` to get
/// `304 Not Modified` while nothing changed; add `Prefer: wait=<seconds>`
/// (at most 60) to have the answer wait until the application changes
/// (then 200 with the new state at once) or the wait is over (then 304).
/// A tracker thus asks once per change instead of once per tick.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）、综合窗口人员、管理员；部门审批人员（本部门有任务的申请）。他人答复 404。
#[utoipa::path(
    tag = "applications",
    params(
        ("id" = String, Path, description = "申请编号"),
        ("If-None-Match" = Option<String>, Header, description = "上次答复的 ETag：申请未变化时答复 304"),
        ("Prefer" = Option<String>, Header, description = "`wait=<秒>`（最多 60）：与 If-None-Match 同用，申请变化时立即答复，否则等满后答复 304"),
    ),
    responses(
        (status = 200, description = "申请详情与办理进度", body = ApplicationView,
            headers(
                ("ETag" = String, description = "本答复的实体标签"),
                ("Preference-Applied" = String, description = "按请求等待时：`wait=<秒>`"),
            )),
        (status = 304, description = "与 If-None-Match 所给版本相同（等待期间未变化）",
            headers(
                ("ETag" = String, description = "当前实体标签"),
                ("Preference-Applied" = String, description = "按请求等待时：`wait=<秒>`"),
            )),
        (status = 400, description = "If-None-Match 或 Prefer 格式错误", body = Problem, content_type = "application/problem+json"),
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
    request: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let held = IfNoneMatch::of(&request)?;
    let wait = prefer_wait(&request)?;
    // Registered before the first read, so a change relayed while the
    // answer is being built still ends the wait.
    let watching = match (&held, wait) {
        (Some(_), Some(_)) => Some(state.subjects.watch(&id)),
        _ => None,
    };
    let deadline = wait.map(|w| Instant::now() + w);
    loop {
        let mut changed = watching.as_ref().map(|w| Box::pin(w.notify().notified()));
        if let Some(changed) = changed.as_mut() {
            changed.as_mut().enable();
        }
        let app = visible(&state, &principal, &id).await?;
        let parts = store::parts_of(&state.db, app).await?;
        let body = serde_json::to_vec(&view(&state, &parts, Utc::now())?).map_err(|e| {
            tracing::error!(error = %e, "application view not serialisable");
            Problem::internal()
        })?;
        let etag = etag_of(&body);
        let unchanged = held.as_ref().is_some_and(|h| h.matches(&etag));
        if let (true, Some(changed), Some(deadline)) = (unchanged, changed, deadline)
            && Instant::now() < deadline
            && !state.subjects.is_closed()
        {
            // Woken by the relay of this process; a change another replica
            // relays is seen at the next look.
            let look = (Instant::now() + LOOK_AGAIN).min(deadline);
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(look) => {}
            }
            continue;
        }
        let mut answer = if unchanged {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        answer.insert_header((header::ETAG, etag));
        if let Some(wait) = wait.filter(|_| held.is_some()) {
            answer.insert_header(wait_applied(wait));
        }
        return Ok(if unchanged {
            answer.finish()
        } else {
            answer.content_type(header::ContentType::json()).body(body)
        });
    }
}

/// How often a waiting read looks at the application without being woken
/// (a change relayed by another replica, a clock reading that moved).
const LOOK_AGAIN: Duration = Duration::from_secs(2);

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
    /// Search: 申请编号 (exact), the enterprise's 统一社会信用代码 (exact)
    /// or its name (substring); at most 100 characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
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
        (status = 422, description = "查询参数错误（如 order 不是 newest_first 或 oldest_first，q 过长）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/applications")]
pub async fn list_applications(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<ListFilter>,
) -> Result<HttpResponse, Problem> {
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
        )));
    }
    let order = ListOrder::parse(filter.order.as_deref())?;
    let search = store::Search::parse(filter.q.as_deref())?;
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
        search.as_ref(),
        order == ListOrder::OldestFirst,
        after.as_deref(),
        limit,
    )
    .await?;
    // The scenario's name as the application's notice snapshot has it.
    let rows = rows
        .into_iter()
        .map(|a| a.notice().map(|n| (n.scenario_name, a)))
        .collect::<Result<Vec<_>, _>>()?;
    let page = Page::from_rows_with_cursors(
        rows,
        limit,
        |(_, a)| a.id.clone(),
        |(scenario_name, a), cursor| {
            let status = a.status();
            ApplicationSummary {
                id: a.id,
                number: a.number,
                status,
                status_name: status.zh_name().into(),
                scenario_code: a.scenario_code,
                scenario_name,
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
) -> Result<HttpResponse, Problem> {
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
        return Err(Problem::validation(fixed));
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
