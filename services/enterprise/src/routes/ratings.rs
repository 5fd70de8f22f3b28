//! `/api/v1/ratings`: 好差评 — the applicant rates a concluded service
//! once; a 差评 is followed up by the responsible department, and the
//! applicant sees the result.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_kit::pagination::{Page, PageQuery};
use yizhan_kit::{FieldError, Problem};

use crate::AppState;
use crate::domain::ratings::Score;
use crate::store::ratings::{self, FollowUpAction, NewRating, Scope};
use crate::store::requests::{Actor, rateable, rating};

const ENTERPRISE: [Role; 2] = [Role::Applicant, Role::Agent];

/// A rating as given.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"rateable_id": "request:0192f1c2-7a00-7000-8000-000000000001", "score": 2, "comment": "答复慢，材料反复要求提交"}))]
pub struct RateBody {
    /// What is rated (from `GET /api/v1/rateables`).
    pub rateable_id: String,
    /// 1 (非常不满意) to 5 (非常满意).
    pub score: i64,
    /// Optional comment, at most 500 characters.
    pub comment: Option<String>,
}

/// A rating and its follow-up, names in Chinese.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f1c2-7a00-7000-8000-00000000000a", "rateable_id": "request:0192f1c2-7a00-7000-8000-000000000001",
    "subject": "request", "subject_name": "企业诉求", "case_id": "0192f1c2-7a00-7000-8000-000000000001",
    "item_name": "融资服务", "enterprise_uscc": "91350100M000100Y43",
    "department_code": "finance_bureau", "department_name": "金融服务中心", "channel": "specialist_visit",
    "score": 2, "score_name": "不满意", "comment": "答复慢", "rated_at": "2026-12-03T02:00:00Z",
    "follow_up": "open", "follow_up_name": "待核实", "follow_up_due": "2026-12-10",
    "verification": null, "rectification": null, "follow_up_on_time": null
}))]
pub struct RatingView {
    /// Rating id.
    pub id: String,
    /// What was rated.
    pub rateable_id: String,
    /// Subject code.
    pub subject: String,
    /// 评价对象类型.
    pub subject_name: String,
    /// The case.
    pub case_id: String,
    /// 事项.
    pub item_name: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Responsible department.
    pub department_code: String,
    /// 责任部门.
    pub department_name: String,
    /// Channel code.
    pub channel: String,
    /// 1-5.
    pub score: i32,
    /// 评价等级.
    pub score_name: String,
    /// Comment.
    pub comment: Option<String>,
    /// When.
    pub rated_at: DateTime<Utc>,
    /// Follow-up status code of a 差评.
    pub follow_up: Option<String>,
    /// 回访状态.
    pub follow_up_name: Option<String>,
    /// Its last working day.
    pub follow_up_due: Option<NaiveDate>,
    /// The department's verification.
    pub verification: Option<String>,
    /// Its rectification.
    pub rectification: Option<String>,
    /// Concluded by the due date.
    pub follow_up_on_time: Option<bool>,
}

fn view(r: &rating::Model) -> RatingView {
    RatingView {
        id: r.id.clone(),
        rateable_id: r.rateable_id.clone(),
        subject: r.subject.clone(),
        subject_name: ratings::subject_name(&r.subject).to_owned(),
        case_id: r.case_id.clone(),
        item_name: r.item_name.clone(),
        enterprise_uscc: r.enterprise_uscc.clone(),
        department_code: r.department_code.clone(),
        department_name: r.department_name.clone(),
        channel: r.channel.clone(),
        score: r.score,
        score_name: Score::new(i64::from(r.score)).map_or(String::new(), |s| s.name().to_owned()),
        comment: r.comment.clone(),
        rated_at: r.rated_at,
        follow_up: r.follow_up.clone(),
        follow_up_name: r.follow_up().map(|f| f.name().to_owned()),
        follow_up_due: r.follow_up_due,
        verification: r.verification.clone(),
        rectification: r.rectification.clone(),
        follow_up_on_time: r.follow_up_on_time,
    }
}

/// A concluded case not yet rated.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateableView {
    /// Rate it under this id.
    pub id: String,
    /// 评价对象类型.
    pub subject_name: String,
    /// The case.
    pub case_id: String,
    /// 事项.
    pub item_name: String,
    /// 责任部门.
    pub department_name: String,
    /// Concluded.
    pub concluded_at: Option<DateTime<Utc>>,
}

/// Concluded cases to rate.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"rateables": [{"id": "licensing_application:0192f1c2-7a00-7000-8000-000000000002", "subject_name": "一业一证申请", "case_id": "0192f1c2-7a00-7000-8000-000000000002", "item_name": "食品经营许可", "department_name": "市场监督管理局", "concluded_at": "2026-12-03T02:00:00Z"}]}))]
pub struct RateableList {
    /// Newest first.
    pub rateables: Vec<RateableView>,
}

fn own_enterprises(p: &Principal) -> Vec<String> {
    let mut own = p.enterprises.clone();
    if let Some(u) = &p.uscc {
        own.push(u.clone());
    }
    own
}

/// The caller's enterprises' concluded cases not yet rated.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；其他角色答复 403。
#[utoipa::path(
    tag = "ratings",
    responses(
        (status = 200, description = "待评价办件", body = RateableList),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/rateables")]
pub async fn rateables(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&ENTERPRISE)?;
    let rows = ratings::unrated(&state.db, &own_enterprises(&principal), 200).await?;
    Ok(HttpResponse::Ok().json(RateableList {
        rateables: rows
            .into_iter()
            .map(|c: rateable::Model| RateableView {
                subject_name: ratings::subject_name(&c.subject).to_owned(),
                id: c.id,
                case_id: c.case_id,
                item_name: c.item_name,
                department_name: c.department_name,
                concluded_at: c.concluded_at,
            })
            .collect(),
    }))
}

/// Rate a concluded service 1-5, once. 1-2 (差评) opens a follow-up in the
/// responsible department, due in the configured working days.
///
/// 调用方：申请人（本企业）、帮办代办员（已授权企业）；其他角色答复 403，他企业的办件答复 404。
#[utoipa::path(
    tag = "ratings",
    request_body = RateBody,
    responses(
        (status = 201, description = "已评价", body = RatingView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权评价", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "办件不存在或不属本企业", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "未办结或已评价", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/ratings")]
pub async fn rate_service(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Json<RateBody>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&ENTERPRISE)?;
    let mut errors = Vec::new();
    let score = Score::new(body.score)
        .map_err(|m| errors.push(FieldError::new("score", "out_of_range", m)))
        .ok();
    let comment = body
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 500) {
        errors.push(FieldError::new(
            "comment",
            "too_long",
            "评价内容不超过 500 个字",
        ));
    }
    if body.rateable_id.trim().is_empty() {
        errors.push(FieldError::new(
            "rateable_id",
            "required",
            "请指明评价的办件",
        ));
    }
    let (Some(score), true) = (score, errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let new = NewRating {
        rateable_id: body.rateable_id.trim().to_owned(),
        score,
        comment: comment.map(str::to_owned),
        actor: Actor {
            sub: principal.sub.clone(),
            role: principal.acting_role(&ENTERPRISE).to_owned(),
        },
    };
    let p = &principal;
    let row = ratings::rate(
        &state.db,
        &state.calendar,
        new,
        |c| p.may_act_for(&c.enterprise_uscc),
        state.follow_up_days,
        Utc::now(),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Created().json(view(&row)))
}

fn scope_of(p: &Principal) -> Result<Scope, Problem> {
    if p.has_role(Role::Admin) {
        Ok(Scope::All)
    } else if p.has_role(Role::DeptReviewer) {
        Ok(Scope::Department(p.reviewer_department()?))
    } else {
        p.require_any(&[
            Role::Applicant,
            Role::Agent,
            Role::DeptReviewer,
            Role::Admin,
        ])?;
        Ok(Scope::Enterprises(own_enterprises(p)))
    }
}

/// Ratings: the enterprise's own with their follow-up results, a
/// department's (its follow-ups), or all for admins; newest first, a page
/// at a time.
///
/// 调用方：申请人、帮办代办员（本企业/已授权企业）、部门审批人员（本部门）、管理员（全部）；其他角色答复 403。
#[utoipa::path(
    tag = "ratings",
    params(PageQuery),
    responses(
        (status = 200, description = "评价列表", body = Page<RatingView>),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "cursor 或 limit 无效", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/ratings")]
pub async fn list_ratings(
    principal: Principal,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let scope = scope_of(&principal)?;
    let limit = page.limit()?;
    let before = page.position::<String>()?;
    let rows = ratings::list(&state.db, &scope, before, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(
        rows,
        limit,
        |r: &rating::Model| r.id.clone(),
        |r| view(&r),
    )))
}

/// One rating with its follow-up, for whoever may list it.
///
/// 调用方：申请人、帮办代办员（本企业/已授权企业）、部门审批人员（本部门）、管理员（全部）；其他角色答复 403，他人的评价答复 404。
#[utoipa::path(
    tag = "ratings",
    params(("id" = String, Path, description = "评价编号")),
    responses(
        (status = 200, description = "评价", body = RatingView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/ratings/{id}")]
pub async fn get_rating(
    principal: Principal,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let scope = scope_of(&principal)?;
    let row = ratings::find_in(&state.db, &scope, &id)
        .await?
        .ok_or_else(|| Problem::not_found("评价不存在"))?;
    Ok(HttpResponse::Ok().json(view(&row)))
}

/// What the department records.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"substantiated": true, "note": "经核实，窗口未一次性告知所需材料"}))]
pub struct FollowUpBody {
    /// Verify: whether the complaint holds (omit when rectifying).
    pub substantiated: Option<bool>,
    /// What was found or changed, 1-1000 characters.
    pub note: String,
}

/// A 差评's follow-up: `verify` (核实: `substantiated`, `note`), then
/// `rectify` (整改: `note`). Not substantiated closes it at once.
///
/// 调用方：部门审批人员（责任部门）；其他角色答复 403，他部门的评价答复 404。
#[utoipa::path(
    tag = "ratings",
    request_body = FollowUpBody,
    params(
        ("id" = String, Path, description = "评价编号"),
        ("step" = String, Path, description = "verify 或 rectify"),
    ),
    responses(
        (status = 200, description = "已登记", body = RatingView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权办理", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或非本部门", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "当前状态不能办理", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "校验未通过", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/ratings/{id}/{step}")]
pub async fn follow_up_rating(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<FollowUpBody>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    let (id, step) = path.into_inner();
    let note = body.note.trim().to_owned();
    if note.is_empty() || note.chars().count() > 1000 {
        return Err(Problem::field(
            "note",
            "invalid",
            "请填写 1-1000 字的核实或整改情况",
        ));
    }
    let action = match step.as_str() {
        "verify" => FollowUpAction::Verify {
            substantiated: body.substantiated.ok_or_else(|| {
                Problem::field("substantiated", "required", "请说明差评反映的问题是否属实")
            })?,
            note,
        },
        "rectify" => FollowUpAction::Rectify { note },
        _ => return Err(Problem::not_found("没有这个办理环节")),
    };
    let row = ratings::follow_up(
        &state.db,
        &id,
        |r| r.department_code == dept,
        action,
        Utc::now(),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(view(&row)))
}
