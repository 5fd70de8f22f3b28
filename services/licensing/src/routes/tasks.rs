//! `/api/v1/tasks`: the department queues of parallel review (并联审批) and
//! the reviewers' decisions.
//!
//! Who may call: department reviewers, for their own department's tasks
//! only (the token's `dept`); another department's task answers 404. The
//! applicant (own enterprise) or an authorised agent supplies what a 补正
//! request asked for; another enterprise's task answers 404.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, Deadline, SlaState, Status};
use yizhan_auth::{Principal, Role};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::text::{has_control_chars, is_plausible_id};
use yizhan_kit::{FieldError, Problem};

use crate::AppState;
use crate::error::Error;
use crate::routes::applications::{authorization, check_deficiencies};
use crate::store::{self, Actor, Decision, TaskStep, task};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_events::one_time::DeficiencyInput;

/// One item task (事项实例).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    /// Task id.
    pub id: String,
    /// Its application.
    pub application_id: String,
    /// Applicant enterprise.
    pub enterprise_uscc: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// Status (`in_review`, `approved`, `rejected` …).
    pub status: String,
    /// 办理状态 (BLZT) code, 1-15.
    pub blzt: u8,
    /// National status name, e.g. `部门开始办理`.
    pub status_name: String,
    /// 承诺时限, working days.
    pub committed_days: f64,
    /// Working days left of the committed limit (negative once overdue).
    pub remaining_working_days: Option<f64>,
    /// Working days left of the statutory limit.
    pub statutory_remaining_working_days: Option<f64>,
    /// Last half-day of the committed limit.
    #[schema(value_type = Option<Object>)]
    pub due: Option<Deadline>,
    /// Committed-limit state: `on_time`, `warning`, `overdue`, `stopped` …
    #[schema(value_type = Option<String>)]
    pub sla_state: Option<SlaState>,
    /// Permit number once approved.
    pub permit_number: Option<String>,
    /// Reasons once rejected.
    pub reasons: Option<String>,
    /// Deciding reviewer.
    pub decided_by: Option<String>,
    /// Decision time.
    pub decided_at: Option<DateTime<Utc>>,
    /// While a 补正 is open (status `supplement_requested`): every field
    /// and material to supply, with the reviewer's reason (the one-time
    /// list the applicant answers).
    #[schema(value_type = Option<Vec<Object>>)]
    pub supplement_request: Option<Vec<IntakeDeficiency>>,
    /// Opaque position right after this item: pass it as `cursor` to
    /// continue the list from the next item (merged queues use it). Only on
    /// list pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl TaskView {
    /// The view of `t`, its clock read at `now`.
    pub fn new(calendar: &Calendar, t: &task::Model, now: DateTime<Utc>) -> Self {
        let reading = t.clock().map(|c| c.reading_at(calendar, china_local(now)));
        let status = t.status();
        Self {
            id: t.id.clone(),
            application_id: t.application_id.clone(),
            enterprise_uscc: t.enterprise_uscc.clone(),
            item_code: t.item_code.clone(),
            item_name: t.item_name.clone(),
            department_code: t.department_code.clone(),
            department_name: t.department_name.clone(),
            status: t.status.clone(),
            blzt: status.code(),
            status_name: status.name().into(),
            committed_days: t.committed_half_days as f64 / 2.0,
            remaining_working_days: reading.map(|r| r.committed.remaining.as_days_f64()),
            statutory_remaining_working_days: reading.map(|r| r.statutory.remaining.as_days_f64()),
            due: reading.and_then(|r| r.committed.due),
            sla_state: reading.map(|r| r.committed.state),
            permit_number: t.permit_number.clone(),
            reasons: t.reasons.clone(),
            decided_by: t.decided_by.clone(),
            decided_at: t.decided_at,
            supplement_request: (status == Status::SupplementRequested)
                .then(|| {
                    t.supplement_request
                        .as_deref()
                        .and_then(|json| serde_json::from_str(json).ok())
                })
                .flatten(),
            cursor: None,
        }
    }
}

/// Filter of the queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueFilter {
    /// Task status (`in_review` by default: the work still to do; also
    /// `approved`, `rejected`, `supplement_requested` …).
    #[param(value_type = Option<String>)]
    pub status: Option<Status>,
    /// Department code. Partners (`queues:read`) must name the department
    /// whose queue they read; reviewers read their token's department and
    /// may leave it out (naming another is a 403).
    pub dept: Option<String>,
}

fn reviewer_dept(principal: &Principal) -> Result<String, Problem> {
    principal.require_any(&[Role::DeptReviewer])?;
    principal
        .dept
        .clone()
        .ok_or_else(|| Problem::forbidden("令牌未载明所属部门（dept），无法确定审批队列"))
}

/// A department queue, most urgent first (least committed working time
/// left; ties by task id), cursor-paginated. Every item carries its own
/// `cursor`, so a merged queue can continue after any item.
///
/// 调用方：部门审批人员，仅本部门（令牌 dept；dept 参数可省略，指定其他部门答复 403）；合作系统（queues:read 权限，只读，须以 dept 参数指明部门，缺少答复 422）；其他角色答复 403。
#[utoipa::path(
    tag = "tasks",
    params(PageQuery, QueueFilter),
    responses(
        (status = 200, description = "部门审批队列", body = Page<TaskView>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员或 queues:read 合作系统、未载明部门，或查看其他部门", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误（合作系统缺少或写错 dept）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/tasks")]
pub async fn queue(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
    filter: web::Query<QueueFilter>,
) -> Result<HttpResponse, Error> {
    let catalog = state.catalog();
    let dept =
        principal.queue_department(filter.dept.as_deref(), |d| catalog.department(d).is_some())?;
    let limit = page.limit()?;
    let after = page.position::<(String, String)>()?;
    let status = filter.status.unwrap_or(Status::InReview);
    let rows = store::queue(&state.db, &dept, status, after, limit).await?;
    let now = Utc::now();
    let page = Page::from_rows_with_cursors(
        rows,
        limit,
        |t| (t.due_key.clone(), t.id.clone()),
        |t, cursor| TaskView {
            cursor: Some(cursor),
            ..TaskView::new(&state.calendar, &t, now)
        },
    );
    Ok(HttpResponse::Ok().json(page))
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// 审批通过.
    Approve,
    /// 审批不通过.
    Reject,
}

/// Decision body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "approve", "permit_number": "JY13501020000001"}))]
pub struct DecisionRequest {
    /// `approve` or `reject`.
    pub decision: DecisionKind,
    /// 许可证号, required to approve.
    pub permit_number: Option<String>,
    /// Reasons, required to reject.
    pub reasons: Option<String>,
}

const MAX_PERMIT: usize = 64;
const MAX_REASONS: usize = 1000;

fn decision_of(body: &DecisionRequest) -> Result<Decision, Problem> {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // Control characters never belong in a permit number or reasons, and
    // PostgreSQL refuses NUL outright.
    for (field, value) in [
        ("permit_number", &body.permit_number),
        ("reasons", &body.reasons),
    ] {
        if value.as_deref().is_some_and(has_control_chars) {
            return Err(Problem::field(
                field,
                "invalid_character",
                "含有不可见的控制字符",
            ));
        }
    }
    match body.decision {
        DecisionKind::Approve => match text(&body.permit_number) {
            Some(p) if p.chars().count() <= MAX_PERMIT => {
                Ok(Decision::Approve { permit_number: p })
            }
            Some(_) => Err(Problem::field(
                "permit_number",
                "too_long",
                format!("许可证号最多 {MAX_PERMIT} 个字符"),
            )),
            None => Err(Problem::field(
                "permit_number",
                "required",
                "审批通过须填写许可证号",
            )),
        },
        DecisionKind::Reject => match text(&body.reasons) {
            Some(r) if r.chars().count() <= MAX_REASONS => Ok(Decision::Reject { reasons: r }),
            Some(_) => Err(Problem::field(
                "reasons",
                "too_long",
                format!("理由最多 {MAX_REASONS} 字"),
            )),
            None => Err(Problem::validation(vec![FieldError::new(
                "reasons",
                "required",
                "审批不通过须说明理由",
            )])),
        },
    }
}

/// Decide a task: approve with the permit number (BLZT 11) or reject with
/// reasons (BLZT 13). The last approval approves the bundle and requests
/// the comprehensive licence from the document service; any rejection
/// refuses the bundle (see `domain::application` for the rule). An illegal
/// transition (e.g. deciding twice) answers 409 `illegal_transition`.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "已办结", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能作此决定（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少许可证号或理由", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/decision")]
pub async fn decide(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<DecisionRequest>,
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
    if !is_plausible_id(&id) {
        return Err(Problem::not_found("任务不存在").into());
    }
    let decision = decision_of(&body)?;
    let actor = Actor {
        sub: principal.sub.clone(),
        role: Role::DeptReviewer.as_str().into(),
    };
    let task = store::decide(&state.db, &state.calendar, &id, &dept, decision, &actor).await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(TaskView::new(&state.calendar, &task, Utc::now())))
}

/// A 补正 request: the one-time list of what the applicant must supply.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [{"material": "floor_plan", "reason": "平面布局图未标注消防通道"}, {"field": "room_count", "reason": "客房数与平面图不符"}]}))]
pub struct SupplementRequestBody {
    /// Every field or material to supply, at once (non-empty).
    pub items: Vec<DeficiencyInput>,
}

async fn own_task(
    state: &AppState,
    id: &str,
    may_act: impl Fn(&task::Model) -> bool,
) -> Result<(task::Model, crate::domain::notice::Notice), Error> {
    let not_found = || Error::from(Problem::not_found("任务不存在"));
    if !is_plausible_id(id) {
        return Err(not_found());
    }
    let t = store::find_task(&state.db, id)
        .await?
        .filter(|t| may_act(t))
        .ok_or_else(not_found)?;
    let app = store::find_application(&state.db, &t.application_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((t, app.notice()?))
}

/// Request a supplement (要求补正): the task goes to 补正（开始）(BLZT 6)
/// with the one-time list of every field or material to supply, and its
/// SLA clock pauses (the pause day counts, the resume day does not). Only
/// from review (BLZT 8, 7, 10); otherwise 409 `illegal_transition`.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = SupplementRequestBody,
    responses(
        (status = 200, description = "已要求补正，暂停计时", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能要求补正（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "补正清单有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/supplement-requests")]
pub async fn request_supplement(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<SupplementRequestBody>,
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
    let (_, notice) = own_task(&state, &id, |t| t.department_code == dept).await?;
    let items = check_deficiencies(&notice, &body.items, "items")?;
    let actor = Actor {
        sub: principal.sub.clone(),
        role: Role::DeptReviewer.as_str().into(),
    };
    let task = store::step_task(
        &state.db,
        &state.calendar,
        &id,
        |t| t.department_code == dept,
        TaskStep::RequestSupplement { items },
        &actor,
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(TaskView::new(&state.calendar, &task, Utc::now())))
}

/// What the applicant supplies against the 补正 list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"form": {"room_count": 82}, "materials": {"floor_plan": "0193aa00-0000-7000-8000-000000000009"}}))]
pub struct SupplyBody {
    /// Form field key → corrected value (only fields on the list).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Material code → material id at the document service (only
    /// materials on the list).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
}

const SUPPLIERS: [Role; 2] = [Role::Applicant, Role::Agent];

/// Supply what a 补正 request asked for: every field and material on the
/// list, nothing else, each checked against the application's snapshot.
/// The values replace the application's; the task goes to 补正（结束）
/// (BLZT 7) and straight back to review (8), its clock resumed where it
/// stopped. Without an open request: 409 `illegal_transition`.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；他人的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = SupplyBody,
    responses(
        (status = 200, description = "补正已提交，恢复计时", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非申请人或代办员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本企业", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "未要求补正（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "补正内容与清单不符或校验未通过", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "材料服务暂不可用，未保存，请稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/supplements")]
pub async fn supply(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<SupplyBody>,
) -> Result<HttpResponse, Error> {
    principal.require_any(&SUPPLIERS)?;
    let mine = |t: &task::Model| principal.may_act_for(&t.enterprise_uscc);
    if !is_plausible_id(&id) {
        return Err(Problem::not_found("任务不存在").into());
    }
    let found = store::find_task(&state.db, &id)
        .await?
        .filter(|t| mine(t))
        .ok_or_else(|| Problem::not_found("任务不存在"))?;
    state
        .materials
        .verify(authorization(&req), &found.enterprise_uscc, &body.materials)
        .await?;
    let role = if principal.has_role(Role::Applicant) {
        Role::Applicant
    } else {
        Role::Agent
    };
    let actor = Actor {
        sub: principal.sub.clone(),
        role: role.as_str().into(),
    };
    let task = store::step_task(
        &state.db,
        &state.calendar,
        &id,
        mine,
        TaskStep::ProvideSupplement {
            form: body.form.clone(),
            materials: body.materials.clone(),
        },
        &actor,
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(TaskView::new(&state.calendar, &task, Utc::now())))
}

/// Start or end.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpecialAction {
    /// 启动特别程序.
    Start,
    /// 结束特别程序.
    End,
}

/// Kind of special procedure (行政许可法 Art. 45).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpecialKind {
    /// 听证.
    Hearing,
    /// 检验检测.
    Testing,
    /// 专家评审.
    ExpertReview,
}

impl SpecialKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Hearing => "hearing",
            Self::Testing => "testing",
            Self::ExpertReview => "expert_review",
        }
    }
}

/// Special procedure body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "start", "kind": "expert_review", "reason": "消防设计需专家论证"}))]
pub struct SpecialProcedureBody {
    /// `start` or `end`.
    pub action: SpecialAction,
    /// Required with `start`.
    pub kind: Option<SpecialKind>,
    /// Required with `start`.
    pub reason: Option<String>,
}

/// Start (BLZT 9, clock paused) or end (BLZT 10, clock resumed where it
/// stopped) a special procedure: hearing, testing or expert review. Only
/// from review to start, only from 9 to end; otherwise 409
/// `illegal_transition`.
///
/// 调用方：部门审批人员，仅本部门的任务；其他部门的任务答复 404，其他角色 403。
#[utoipa::path(
    tag = "tasks",
    params(("id" = String, Path, description = "任务编号")),
    request_body = SpecialProcedureBody,
    responses(
        (status = 200, description = "特别程序已启动或结束", body = TaskView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "任务不存在或不属于本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能启动或结束特别程序（illegal_transition）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少程序类型或理由", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/tasks/{id}/special-procedure")]
pub async fn special_procedure(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<SpecialProcedureBody>,
) -> Result<HttpResponse, Error> {
    let dept = reviewer_dept(&principal)?;
    if !is_plausible_id(&id) {
        return Err(Problem::not_found("任务不存在").into());
    }
    let step = match body.action {
        SpecialAction::Start => {
            let mut errors = Vec::new();
            if body.kind.is_none() {
                errors.push(FieldError::new(
                    "kind",
                    "required",
                    "启动特别程序须说明类型（hearing、testing 或 expert_review）",
                ));
            }
            let reason = body.reason.as_deref().map(str::trim).unwrap_or_default();
            if reason.is_empty()
                || reason.chars().count() > MAX_REASONS
                || has_control_chars(reason)
            {
                errors.push(FieldError::new(
                    "reason",
                    "invalid_reason",
                    format!("启动特别程序须说明理由（1 至 {MAX_REASONS} 字）"),
                ));
            }
            match body.kind {
                Some(kind) if errors.is_empty() => TaskStep::StartSpecialProcedure {
                    kind: kind.as_str().into(),
                    reason: reason.to_owned(),
                },
                _ => return Err(Problem::validation(errors).into()),
            }
        }
        SpecialAction::End => {
            if body.kind.is_some() || body.reason.is_some() {
                return Err(Problem::field(
                    "kind",
                    "not_allowed",
                    "结束特别程序时不应附带类型或理由",
                )
                .into());
            }
            TaskStep::EndSpecialProcedure
        }
    };
    let actor = Actor {
        sub: principal.sub.clone(),
        role: Role::DeptReviewer.as_str().into(),
    };
    let task = store::step_task(
        &state.db,
        &state.calendar,
        &id,
        |t| t.department_code == dept,
        step,
        &actor,
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(TaskView::new(&state.calendar, &task, Utc::now())))
}
