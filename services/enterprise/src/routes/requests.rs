//! `/api/v1/requests`: 诉求 — filing, the department's steps, the
//! enterprise's reply and rating, status and timeline with Chinese names,
//! the lists (department queue, the enterprise's and the specialist's) in
//! [`super::request_lists`].

use actix_web::{HttpResponse, get, http::header, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;
use yizhan_auth::{Principal, Role};
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::{FieldError, Problem};
use yizhan_types::Uscc;
use yizhan_workflow::idempotent::{Idempotent, Recorded};

use crate::AppState;
use crate::domain::requests::{Category, Channel, Satisfaction};
use crate::store::requests::commands::{self, NewRequest, Step};
use crate::store::requests::{Actor, queries, request, timeline};

/// Who may file: the enterprise, its agent, its 营商专员, a 12345 operator.
const FILERS: [Role; 4] = [
    Role::Applicant,
    Role::Agent,
    Role::Specialist,
    Role::HotlineOperator,
];
/// The enterprise's side of a request.
pub(crate) const ENTERPRISE: [Role; 2] = [Role::Applicant, Role::Agent];

/// Whether the caller acts for `uscc` as the enterprise or its specialist.
pub(crate) fn serves(p: &Principal, uscc: &str) -> bool {
    p.may_act_for(uscc) || (p.has_role(Role::Specialist) && p.enterprises.iter().any(|e| e == uscc))
}

/// Whether the caller may read request `r`.
fn may_read(p: &Principal, r: &request::Model) -> bool {
    serves(p, &r.enterprise_uscc)
        || p.has_role(Role::Admin)
        || (p.has_role(Role::DeptReviewer) && p.dept.as_deref() == Some(&r.department_code))
        || (p.has_role(Role::HotlineOperator) && r.filed_by == p.sub)
}

fn actor(p: &Principal, roles: &[Role]) -> Actor {
    Actor {
        sub: p.sub.clone(),
        role: p.acting_role(roles).to_owned(),
    }
}

/// A request as filed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "enterprise_uscc": "91350100M000100Y43",
    "category": "finance",
    "channel": "specialist_visit",
    "description": "企业扩大产能，需要 500 万元流动资金贷款，希望了解贴息政策",
    "attachments": []
}))]
pub struct FileRequest {
    /// The enterprise's 统一社会信用代码.
    pub enterprise_uscc: String,
    /// Category code: policy, finance, talent, land_planning, approvals,
    /// utilities, legal, other.
    pub category: String,
    /// Channel code: hotline_12345, gaoxintong, salon, specialist_visit.
    pub channel: String,
    /// What is asked, 1-2000 characters.
    pub description: String,
    /// Material ids at the document service.
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// One step of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// Order.
    pub seq: i32,
    /// Action code.
    pub action: String,
    /// What happened, zh-CN.
    pub title: String,
    /// Role acted in.
    pub actor_role: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The running time limit.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitView {
    /// `accept` or `answer`.
    pub limit: String,
    /// 签收时限 / 答复时限.
    pub limit_name: String,
    /// on_time, warning, overdue, paused.
    pub state: String,
    /// 正常 / 预警 / 超期 / 暂停计时.
    pub state_name: String,
    /// Last day of the limit.
    pub due_date: Option<chrono::NaiveDate>,
    /// Half working days left (negative once passed).
    pub remaining_half_days: i64,
}

/// A request with its status and timeline, names in Chinese.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f1c2-7a00-7000-8000-000000000001",
    "enterprise_uscc": "91350100M000100Y43",
    "category": "finance", "category_name": "融资服务",
    "channel": "specialist_visit", "channel_name": "营商专员走访",
    "description": "需要流动资金贷款",
    "attachments": [],
    "status": "dispatched", "status_name": "已派单",
    "round": 1,
    "department_code": "finance_bureau", "department_name": "金融服务中心",
    "filed_at": "2026-12-03T02:00:00Z",
    "limit": {"limit": "accept", "limit_name": "签收时限", "state": "on_time", "state_name": "正常", "due_date": "2026-12-04", "remaining_half_days": 2},
    "answer": null, "satisfaction": null, "satisfaction_name": null,
    "answered_late": false, "handling_half_days": null, "transfers": 0,
    "timeline": [{"seq": 1, "action": "filed", "title": "诉求已受理（营商专员走访，融资服务）", "actor_role": "specialist", "at": "2026-12-03T02:00:00Z"}]
}))]
pub struct RequestView {
    /// Request id.
    pub id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Category code.
    pub category: String,
    /// 类别.
    pub category_name: String,
    /// Channel code.
    pub channel: String,
    /// 渠道.
    pub channel_name: String,
    /// What was asked.
    pub description: String,
    /// Material ids.
    pub attachments: Vec<String>,
    /// Status code.
    pub status: String,
    /// 状态.
    pub status_name: String,
    /// Handling round.
    pub round: i32,
    /// Responsible department.
    pub department_code: String,
    /// 承办部门.
    pub department_name: String,
    /// Filed.
    pub filed_at: DateTime<Utc>,
    /// The running limit, if one runs.
    pub limit: Option<LimitView>,
    /// The last answer.
    pub answer: Option<String>,
    /// The last rating code.
    pub satisfaction: Option<String>,
    /// 满意度.
    pub satisfaction_name: Option<String>,
    /// Some answer came late.
    pub answered_late: bool,
    /// Working time used until the answers, half days.
    pub handling_half_days: Option<i64>,
    /// Times transferred.
    pub transfers: i32,
    /// Every step (empty in lists).
    pub timeline: Vec<TimelineEntry>,
}

pub(crate) fn view(
    state: &AppState,
    r: &request::Model,
    steps: &[timeline::Model],
    now: DateTime<Utc>,
) -> RequestView {
    let limit = r.clock().map(|(kind, clock)| {
        let reading = clock.reading_at(&state.calendar, china_local(now));
        let c = reading.committed;
        LimitView {
            limit: kind.code().to_owned(),
            limit_name: kind.name().to_owned(),
            state: serde_json::to_value(c.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            state_name: c.state.name().to_owned(),
            due_date: c.due.map(|d| d.date),
            remaining_half_days: c.remaining.half_days(),
        }
    });
    let (category, channel, status) = (r.category(), r.channel(), r.status());
    RequestView {
        id: r.id.clone(),
        enterprise_uscc: r.enterprise_uscc.clone(),
        category: category.code().into(),
        category_name: category.name().into(),
        channel: channel.code().into(),
        channel_name: channel.name().into(),
        description: r.description.clone(),
        attachments: r.attachments(),
        status: status.code().into(),
        status_name: status.name().into(),
        round: r.round,
        department_code: r.department_code.clone(),
        department_name: r.department_name.clone(),
        filed_at: r.filed_at,
        limit,
        answer: r.answer.clone(),
        satisfaction: r.satisfaction.clone(),
        satisfaction_name: r.satisfaction().map(|s| s.name().to_owned()),
        answered_late: r.answered_late,
        handling_half_days: r.handling_half_days,
        transfers: r.transfers,
        timeline: steps
            .iter()
            .map(|t| TimelineEntry {
                seq: t.seq,
                action: t.action.clone(),
                title: t.title.clone(),
                actor_role: t.actor_role.clone(),
                at: t.at,
            })
            .collect(),
    }
}

fn text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, "required", "不能为空"));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("不超过 {max} 个字"),
        ));
    }
    v.to_owned()
}

/// File a 诉求: it is dispatched at once by the category's rule, and the
/// department has 1 working day to accept or transfer it. Every problem is
/// reported at once, each naming its field.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）、营商专员（所服务企业）、12345热线话务员（任一企业）；其他角色答复 403。
#[utoipa::path(
    tag = "requests",
    request_body = FileRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "重试同一诉求时携带同一键，返回首次结果")),
    responses(
        (status = 201, description = "已受理并派单", body = RequestView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权为该企业提交", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "派单规则尚未配置", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests")]
pub async fn file_request(
    principal: Principal,
    key: IdempotencyKey,
    state: web::Data<AppState>,
    body: web::Json<FileRequest>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&FILERS)?;
    let mut errors = Vec::new();
    let uscc = match Uscc::parse(body.enterprise_uscc.trim()) {
        Ok(u) => Some(u.as_str().to_owned()),
        Err(_) => {
            errors.push(FieldError::new(
                "enterprise_uscc",
                "invalid",
                "不是有效的统一社会信用代码",
            ));
            None
        }
    };
    if let Some(u) = &uscc
        && !principal.has_role(Role::HotlineOperator)
        && !serves(&principal, u)
    {
        return Err(Problem::forbidden(
            "只能为本企业、已授权或所服务的企业提交诉求",
        ));
    }
    let category = Category::from_code(&body.category);
    if category.is_none() {
        errors.push(FieldError::new("category", "unknown", "未知的诉求类别"));
    }
    let channel = Channel::from_code(&body.channel);
    if channel.is_none() {
        errors.push(FieldError::new("channel", "unknown", "未知的来源渠道"));
    }
    let description = text("description", &body.description, 2000, &mut errors);
    if body.attachments.len() > 20 {
        errors.push(FieldError::new(
            "attachments",
            "too_many",
            "附件不超过 20 件",
        ));
    }
    for (i, a) in body.attachments.iter().enumerate() {
        if a.trim().is_empty() || a.len() > 64 {
            errors.push(FieldError::new(
                format!("attachments[{i}]"),
                "invalid",
                "材料编号无效",
            ));
        }
    }
    let (Some(uscc), Some(category), Some(channel), true) =
        (uscc, category, channel, errors.is_empty())
    else {
        return Err(Problem::validation(errors));
    };
    let body_bytes = serde_json::to_vec(&*body).unwrap_or_default();
    let fingerprint = idempotency::fingerprint(&[&body_bytes]);
    let scope = format!("{} POST /api/v1/requests", principal.sub);
    let idempotent = key.0.as_deref().map(|k| Idempotent {
        scope: &scope,
        key: k,
        fingerprint: &fingerprint,
    });
    let now = Utc::now();
    let new = NewRequest {
        enterprise_uscc: uscc,
        category,
        channel,
        description,
        attachments: body.attachments.clone(),
        actor: actor(&principal, &FILERS),
    };
    let respond = |r: &request::Model| view(&state, r, &[], now);
    match commands::file(&state.db, &state.calendar, new, idempotent, respond, now).await? {
        Recorded::Created(row) => {
            state.signal.wake();
            let (row, steps) = queries::load(&state.db, &row.id)
                .await?
                .ok_or_else(|| Problem::not_found("诉求不存在"))?;
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/api/v1/requests/{}", row.id)))
                .json(view(&state, &row, &steps, now)))
        }
        Recorded::Replayed(stored) => Ok(stored.into_response()),
    }
}

/// One request: status, the running limit and the timeline, in Chinese.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）、营商专员（所服务企业）、部门审批人员（当前承办部门）、12345热线话务员（本人登记的）、管理员；他人答复 404。
#[utoipa::path(
    tag = "requests",
    params(("id" = String, Path, description = "诉求编号")),
    responses(
        (status = 200, description = "诉求详情", body = RequestView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/requests/{id}")]
pub async fn get_request(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let (row, steps) = queries::load(&state.db, &id)
        .await?
        .filter(|(r, _)| may_read(&principal, r))
        .ok_or_else(|| Problem::not_found("诉求不存在"))?;
    Ok(HttpResponse::Ok().json(view(&state, &row, &steps, Utc::now())))
}

/// What a step says (each step reads the fields it needs).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"to_department": "talent_office", "reason": "属人才政策，请人才办承办"}))]
pub struct StepBody {
    /// Transfer: the department to pass it to.
    pub to_department: Option<String>,
    /// Transfer: why.
    pub reason: Option<String>,
    /// Ask: the question to the enterprise.
    pub question: Option<String>,
    /// Reply: what the enterprise supplies.
    pub reply: Option<String>,
    /// Answer: the department's answer.
    pub answer: Option<String>,
    /// Rate: satisfied (满意), acceptable (基本满意), dissatisfied (不满意).
    pub satisfaction: Option<String>,
}

fn required(field: &str, value: Option<&String>, max: usize) -> Result<String, Problem> {
    let mut errors = Vec::new();
    let v = text(field, value.map_or("", String::as_str), max, &mut errors);
    if errors.is_empty() {
        Ok(v)
    } else {
        Err(Problem::validation(errors))
    }
}

/// A step on a request: `accept`, `transfer` (`to_department`, `reason`)
/// and `ask` (`question`) and `answer` (`answer`) by the department it is
/// with; `reply` (`reply`), `rate` (`satisfaction`) and `withdraw` by the
/// enterprise. 不满意 sends it back once for a second round. A step not
/// allowed in the request's status is a 409 naming both in Chinese.
///
/// 调用方：accept/transfer/ask/answer：部门审批人员（当前承办部门）；reply/rate/withdraw：申请人（本企业）、帮办代办员（已授权企业）；其他答复 403 或 404。
#[utoipa::path(
    tag = "requests",
    request_body = StepBody,
    params(
        ("id" = String, Path, description = "诉求编号"),
        ("step" = String, Path, description = "accept, transfer, ask, answer, reply, rate, withdraw"),
    ),
    responses(
        (status = 200, description = "已办理", body = RequestView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权办理", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权办理", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能办理", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/{step}")]
pub async fn request_step(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<StepBody>,
) -> Result<HttpResponse, Problem> {
    let (id, name) = path.into_inner();
    let department_step = matches!(name.as_str(), "accept" | "transfer" | "ask" | "answer");
    let step = match name.as_str() {
        "accept" => Step::Accept,
        "transfer" => Step::Transfer {
            to: required("to_department", body.to_department.as_ref(), 64)?,
            reason: required("reason", body.reason.as_ref(), 500)?,
        },
        "ask" => Step::Ask {
            question: required("question", body.question.as_ref(), 1000)?,
        },
        "answer" => Step::Answer {
            answer: required("answer", body.answer.as_ref(), 4000)?,
        },
        "reply" => Step::Reply {
            text: required("reply", body.reply.as_ref(), 2000)?,
        },
        "rate" => {
            let code = required("satisfaction", body.satisfaction.as_ref(), 32)?;
            Step::Rate(Satisfaction::from_code(&code).ok_or_else(|| {
                Problem::field(
                    "satisfaction",
                    "unknown",
                    "满意度应为 satisfied（满意）、acceptable（基本满意）或 dissatisfied（不满意）",
                )
            })?)
        }
        "withdraw" => Step::Withdraw,
        _ => return Err(Problem::not_found("没有这个办理环节")),
    };
    let who = if department_step {
        principal.reviewer_department()?;
        actor(&principal, &[Role::DeptReviewer])
    } else {
        principal.require_any(&ENTERPRISE)?;
        actor(&principal, &ENTERPRISE)
    };
    let p = &principal;
    let may = |r: &request::Model| {
        if department_step {
            p.dept.as_deref() == Some(r.department_code.as_str())
        } else {
            p.may_act_for(&r.enterprise_uscc)
        }
    };
    let now = Utc::now();
    let row = commands::act(&state.db, &state.calendar, &id, may, step, &who, now).await?;
    state.signal.wake();
    let steps = yizhan_workflow::timeline::of_subject(&state.db, &row.id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &row, &steps, now)))
}
