//! 免申即享: the policy catalog (`/api/v1/policies`), candidates and
//! disbursement batches (officers), and the enterprise's benefits
//! (`/api/v1/enterprises/{uscc}/benefits`, `/api/v1/benefits/{id}/…`).
//!
//! Who may call: admins publish; 部门审批人员 of the policy's department
//! and admins review candidates and batches; the enterprise (applicants,
//! authorised agents) sees, declines or objects to its own benefits, and
//! officers read any enterprise's list.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;
use yizhan_kit::idempotency::{self, IdempotencyKey};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_workflow::idempotent::{Idempotent, Recorded};

use crate::AppState;
use crate::routes::benefit_views::{
    BatchView, CandidateList, CandidateView, PolicyDraft, PolicyList, PolicyView, batch_view,
    candidate_view, policy_view,
};
use crate::routes::profile::{OFFICERS, actor, readable};
use crate::store::benefits::{self as store, CandidateRow, NewPolicy, PolicyRow};

const ADMIN: [Role; 1] = [Role::Admin];
const REVIEWERS: [Role; 2] = [Role::DeptReviewer, Role::Admin];
const ENTERPRISE: [Role; 2] = [Role::Applicant, Role::Agent];

/// Officers of the policy's department, or admins; 403 otherwise.
#[allow(clippy::result_large_err)]
fn reviews(principal: &Principal, p: &PolicyRow) -> Result<(), Problem> {
    principal.require_any(&REVIEWERS)?;
    if principal.has_role(Role::Admin) || principal.dept.as_deref() == Some(p.department.as_str()) {
        Ok(())
    } else {
        Err(Problem::forbidden("只有政策所属部门的审批人员可以审核"))
    }
}

/// Publishes a 免申即享 policy and matches it against every enterprise on
/// file at once. Refused whole, naming the field, for an unknown fact or
/// item, a value of the wrong kind, a bad amount, budget or window
/// (`eligibility.all[1].fact`).
///
/// 调用方：管理员；其他 403。
#[utoipa::path(
    tag = "benefits",
    request_body = PolicyDraft,
    params(("Idempotency-Key" = Option<String>, Header, description = "重试不会重复发布")),
    responses(
        (status = 201, description = "已发布并完成匹配", body = PolicyView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "仅管理员可发布", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "政策有误（字段已指明）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/policies")]
pub async fn publish(
    principal: Principal,
    key: IdempotencyKey,
    state: web::Data<AppState>,
    body: web::Json<PolicyDraft>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&ADMIN)?;
    let bytes = serde_json::to_vec(&*body).unwrap_or_default();
    let fingerprint = idempotency::fingerprint(&[&bytes]);
    let scope = format!("{} POST /api/v1/policies", principal.sub);
    let idempotent = key.0.as_deref().map(|k| Idempotent {
        scope: &scope,
        key: k,
        fingerprint: &fingerprint,
    });
    let body = body.into_inner();
    let new = NewPolicy {
        title: body.title,
        department: body.department,
        eligibility: body.eligibility,
        amount: body.amount,
        budget_fen: body.budget_fen,
        valid_from: body.valid_from,
        valid_until: body.valid_until,
    };
    let respond = |(p, n): &(PolicyRow, i64)| {
        serde_json::to_value(policy_view(p, Some(*n))).unwrap_or_default()
    };
    match store::publish(
        &state.db,
        new,
        &actor(&principal, &ADMIN),
        idempotent,
        respond,
    )
    .await?
    {
        Recorded::Created((p, n)) => {
            state.signal.wake();
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/api/v1/policies/{}", p.id)))
                .json(policy_view(&p, Some(n))))
        }
        Recorded::Replayed(stored) => Ok(stored.into_response()),
    }
}

/// The policy catalog, newest first, with budgets and what is left.
///
/// 调用方：部门审批人员、综合窗口人员、管理员；其他 403。
#[utoipa::path(
    tag = "benefits",
    responses(
        (status = 200, description = "政策目录", body = PolicyList),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/policies")]
pub async fn list_policies(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&OFFICERS)?;
    let items = store::policies(&state.db)
        .await?
        .iter()
        .map(|p| policy_view(p, None))
        .collect();
    Ok(HttpResponse::Ok().json(PolicyList { items }))
}

/// A policy's candidates with the reasons each matched and its amount.
///
/// 调用方：政策所属部门的部门审批人员、管理员；其他 403。
#[utoipa::path(
    tag = "benefits",
    params(("id" = String, Path, description = "政策编号")),
    responses(
        (status = 200, description = "候选企业", body = CandidateList),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非政策所属部门", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "政策不存在", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/policies/{id}/candidates")]
pub async fn list_candidates(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&REVIEWERS)?;
    let p = store::find_policy(&state.db, &id).await?;
    reviews(&principal, &p)?;
    let items = store::candidates(&state.db, &p.id)
        .await?
        .iter()
        .map(|c| candidate_view(c, &p))
        .collect();
    Ok(HttpResponse::Ok().json(CandidateList { items }))
}

/// A reason (exclusion, decline, objection).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "已享受同类补助"}))]
pub struct Reason {
    /// 1-500 characters.
    pub reason: Option<String>,
}

#[allow(clippy::result_large_err)]
fn reason_text(reason: Option<&str>, required: bool) -> Result<Option<String>, Problem> {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r.chars().count() <= 500 => Ok(Some(r.to_owned())),
        Some(_) => Err(Problem::field("reason", "too_long", "理由不超过 500 字")),
        None if required => Err(Problem::field("reason", "required", "请填写理由")),
        None => Ok(None),
    }
}

/// Excludes a candidate, with a reason (409 unless 待审核).
///
/// 调用方：政策所属部门的部门审批人员、管理员；其他 403。
#[utoipa::path(
    tag = "benefits",
    params(("id" = String, Path, description = "候选编号")),
    request_body = Reason,
    responses(
        (status = 200, description = "已排除", body = CandidateView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非政策所属部门", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "候选不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能排除", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "未填写理由", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/candidates/{id}/exclude")]
pub async fn exclude(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&REVIEWERS)?;
    let (_, p) = store::find_candidate(&state.db, &id).await?;
    reviews(&principal, &p)?;
    let reason = reason_text(body.reason.as_deref(), true)?.unwrap_or_default();
    let c = store::exclude(
        &state.db,
        &id,
        |_, _| true,
        &reason,
        &actor(&principal, &REVIEWERS),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(candidate_view(&c, &p)))
}

/// Candidates confirmed together.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"candidate_ids": ["0193aa00-0000-7000-8000-000000000011"]}))]
pub struct NewBatch {
    /// Candidates of the policy, each 待审核 with an amount.
    pub candidate_ids: Vec<String>,
}

/// Confirms candidates as one disbursement batch. Refused whole (409
/// `over_budget`, both sums in 元) when it exceeds what is left of the
/// budget; 422 naming `candidate_ids[i]` for one not 待审核 or without an
/// amount.
///
/// 调用方：政策所属部门的部门审批人员、管理员；其他 403。
#[utoipa::path(
    tag = "benefits",
    params(("id" = String, Path, description = "政策编号")),
    request_body = NewBatch,
    responses(
        (status = 201, description = "已确认，生成发放批次", body = BatchView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非政策所属部门", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "政策不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "超出预算余额", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "候选企业有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/policies/{id}/batches")]
pub async fn create_batch(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<NewBatch>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&REVIEWERS)?;
    let p = store::find_policy(&state.db, &id).await?;
    reviews(&principal, &p)?;
    let (b, members) = store::create_batch(
        &state.db,
        &p.id,
        &body.candidate_ids,
        &actor(&principal, &REVIEWERS),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Created().json(batch_view(&b, &p, &members)))
}

/// Records a batch as paid: its benefits still 已确认 become 已发放.
///
/// 调用方：政策所属部门的部门审批人员、管理员；其他 403。
#[utoipa::path(
    tag = "benefits",
    params(("id" = String, Path, description = "批次编号")),
    responses(
        (status = 200, description = "已发放", body = BatchView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非政策所属部门", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "批次不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "已发放", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/batches/{id}/paid")]
pub async fn pay_batch(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&REVIEWERS)?;
    let (_, p) = store::find_batch(&state.db, &id).await?;
    reviews(&principal, &p)?;
    let (b, paid) = store::pay_batch(&state.db, &id, &actor(&principal, &REVIEWERS)).await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(batch_view(&b, &p, &paid)))
}

/// The enterprise's 免申即享 benefits: "无需申请" with the amount in 元,
/// the state and why it matched.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）、部门审批人员、综合窗口人员、管理员；其他 403。
#[utoipa::path(
    tag = "benefits",
    params(("uscc" = String, Path, description = "统一社会信用代码"), PageQuery),
    responses(
        (status = 200, description = "惠企政策", body = Page<CandidateView>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "无权查看该企业", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "统一社会信用代码、cursor 或 limit 无效", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/enterprises/{uscc}/benefits")]
pub async fn enterprise_benefits(
    principal: Principal,
    state: web::Data<AppState>,
    uscc: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let uscc = readable(&principal, &uscc)?;
    let limit = page.limit()?;
    let before = page.position::<String>()?;
    let rows = store::of_enterprise(&state.db, &uscc, before, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |(c, _): &(CandidateRow, PolicyRow)| c.id.clone(),
        |(c, p)| candidate_view(&c, &p),
    )))
}

async fn respond(
    principal: &Principal,
    state: &AppState,
    id: &str,
    object: bool,
    reason: Option<String>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&ENTERPRISE)?;
    let (c, p) = store::respond(
        &state.db,
        &state.calendar,
        id,
        |c, _| principal.may_act_for(&c.enterprise_uscc),
        object,
        reason,
        &actor(principal, &ENTERPRISE),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(candidate_view(&c, &p)))
}

/// The enterprise declines a benefit (reason optional) while it is not
/// paid.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；他人 404，其他角色 403。
#[utoipa::path(
    tag = "benefits",
    params(("id" = String, Path, description = "候选编号")),
    request_body = Reason,
    responses(
        (status = 200, description = "已放弃", body = CandidateView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权操作", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或非本企业", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能放弃", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "理由过长", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/benefits/{id}/decline")]
pub async fn decline(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, Problem> {
    let reason = reason_text(body.reason.as_deref(), false)?;
    respond(&principal, &state, &id, false, reason).await
}

/// The enterprise objects to a benefit, with its reason; the objection is
/// recorded, published and filed as a 诉求 to the policy's department in
/// one transaction (the enterprise follows it in its requests).
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；他人 404，其他角色 403。
#[utoipa::path(
    tag = "benefits",
    params(("id" = String, Path, description = "候选编号")),
    request_body = Reason,
    responses(
        (status = 200, description = "异议已记录", body = CandidateView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权操作", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或非本企业", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能提出异议，或派单规则尚未配置", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "未填写理由", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/benefits/{id}/objection")]
pub async fn raise_objection(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, Problem> {
    let reason = reason_text(body.reason.as_deref(), true)?;
    respond(&principal, &state, &id, true, reason).await
}
