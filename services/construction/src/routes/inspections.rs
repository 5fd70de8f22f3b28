//! `/api/v1/stages/{id}/inspections` and `/api/v1/inspections/{id}`:
//! 联合验收 — one slot for every department with a completion item, each
//! recording its result; failed points form one rectification list; the
//! builder reports it rectified and the window schedules a re-inspection.
//!
//! Who may call: window clerks schedule; reviewers of an invited department
//! record; builders and authorised agents report rectification; readers of
//! the project read. Others get 404.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_kit::idempotency::{IdempotencyKey, fingerprint};
use yizhan_kit::{FieldError, Problem};
use yizhan_workflow::idempotent::{Idempotent, Recorded};

use super::stages::readable_stage;
use super::views::{InspectionView, State, actor, inspection_view, plausible, readable_project};
use crate::store::inspections::ResultInput;
use crate::store::{self};
use yizhan_kit::text::has_control_chars;

/// 联合验收排期.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"slot": "2027-10-26T09:30:00+08:00", "location": "项目现场（闽侯县上街镇科技东路 8 号）"}))]
pub struct ScheduleRequest {
    /// The slot (RFC 3339).
    pub slot: DateTime<Utc>,
    /// Where.
    #[schema(min_length = 1, max_length = 200)]
    pub location: String,
}

fn clean(field: &str, value: &str, max: usize, label: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || has_control_chars(v) {
        Err(FieldError::new(
            field,
            "invalid_text",
            format!("请填写{label}（1 至 {max} 字，不含控制字符）"),
        ))
    } else {
        Ok(v.to_owned())
    }
}

/// Schedule the joint inspection (联合验收) of a completion stage in
/// review: every department with a completion item not yet approved is
/// invited to one slot. After a failed round the builder must report the
/// rectification first (409 `inspection_open`).
///
/// 调用方：综合窗口人员；其他角色答复 403。
#[utoipa::path(
    tag = "inspections",
    params(
        ("id" = String, Path, description = "竣工验收阶段申请编号"),
        ("Idempotency-Key" = Option<String>, Header, description = "重试同一排期时携带同一键，返回首次结果"),
    ),
    request_body = ScheduleRequest,
    responses(
        (status = 201, description = "已排期", body = InspectionView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非综合窗口人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "阶段申请不存在", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "不能排期（非竣工验收阶段、未受理或上一轮未结束）", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "地点有误", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/stages/{id}/inspections")]
pub async fn schedule(
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    state: State,
    id: web::Path<String>,
    body: web::Json<ScheduleRequest>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::WindowClerk])?;
    let location = clean("location", &body.location, 200, "验收地点")
        .map_err(|e| Problem::validation(vec![e]))?;
    let scope = format!("{} POST {}", principal.sub, req.path());
    let print = fingerprint(&[body.slot.to_rfc3339().as_bytes(), location.as_bytes()]);
    let recorded = store::inspections::schedule(
        &state.db,
        plausible(&id, "阶段申请")?,
        body.slot,
        location,
        &actor(&principal, &[Role::WindowClerk]),
        key.0.as_deref().map(|k| Idempotent {
            scope: &scope,
            key: k,
            fingerprint: &print,
        }),
        inspection_view,
    )
    .await?;
    match recorded {
        Recorded::Created(i) => {
            state.signal.wake();
            Ok(HttpResponse::Created().json(inspection_view(&i)))
        }
        Recorded::Replayed(stored) => Ok(stored.into_response()),
    }
}

/// One inspection round with its results and rectification list.
///
/// 调用方：可查看该项目者（见项目详情），以及受邀部门的审批人员；他人答复 404。
#[utoipa::path(
    tag = "inspections",
    params(("id" = String, Path, description = "联合验收编号")),
    responses(
        (status = 200, description = "联合验收详情", body = InspectionView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/inspections/{id}")]
pub async fn get_inspection(
    principal: Principal,
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let not_found = || Problem::not_found("联合验收不存在");
    let i = store::inspections::find(&state.db, plausible(&id, "联合验收")?)
        .await?
        .ok_or_else(not_found)?;
    let invited = principal.has_role(Role::DeptReviewer)
        && principal
            .dept
            .as_ref()
            .is_some_and(|d| i.departments().contains(d));
    if !invited {
        readable_project(&state, &principal, &i.project_id)
            .await
            .map_err(|_| not_found())?;
    }
    Ok(HttpResponse::Ok().json(inspection_view(&i)))
}

/// One department's inspection result.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"passed": false, "points": ["二层疏散指示标志缺失", "消火栓箱未设置操作说明"]}))]
pub struct ResultRequest {
    /// Whether the department's items passed.
    pub passed: bool,
    /// 验收意见书编号, required when passed.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub record_number: Option<String>,
    /// Every failed point, required (non-empty) when failed; each 1 to 500
    /// characters.
    #[serde(default)]
    pub points: Vec<String>,
}

/// Record the caller's department result for an inspection it is invited
/// to (once per round). A pass approves the department's completion items
/// at once (BLZT 11). When every department has recorded, the round is
/// passed, or failed with the rectification list of every failed point;
/// the stage (and the project) completes when all items have passed.
///
/// 调用方：受邀部门的审批人员；未受邀部门答复 404，其他角色 403。
#[utoipa::path(
    tag = "inspections",
    params(("id" = String, Path, description = "联合验收编号")),
    request_body = ResultRequest,
    responses(
        (status = 200, description = "已录入", body = InspectionView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "非部门审批人员", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或本部门未受邀", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "已录入或本轮已结束", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少意见书编号或整改事项", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/inspections/{id}/results")]
pub async fn record_result(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<ResultRequest>,
) -> Result<HttpResponse, Problem> {
    let dept = principal.reviewer_department()?;
    plausible(&id, "联合验收")?;
    let mut errors = Vec::new();
    let record_number = match (body.passed, body.record_number.as_deref()) {
        (true, Some(n)) => clean("record_number", n, 64, "验收意见书编号")
            .map_err(|e| errors.push(e))
            .ok(),
        (true, None) => {
            errors.push(FieldError::new(
                "record_number",
                "required",
                "验收合格须填写验收意见书编号",
            ));
            None
        }
        (false, Some(_)) => {
            errors.push(FieldError::new(
                "record_number",
                "not_allowed",
                "验收不合格时不填写意见书编号",
            ));
            None
        }
        (false, None) => None,
    };
    if !body.passed && body.points.is_empty() {
        errors.push(FieldError::new(
            "points",
            "required",
            "验收不合格须一次性列出全部整改事项",
        ));
    }
    if body.passed && !body.points.is_empty() {
        errors.push(FieldError::new(
            "points",
            "not_allowed",
            "验收合格时不列整改事项",
        ));
    }
    let mut points = Vec::new();
    for (i, p) in body.points.iter().enumerate() {
        match clean(&format!("points[{i}]"), p, 500, "整改事项") {
            Ok(p) => points.push(p),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let i = store::inspections::record(
        &state.db,
        &state.calendar,
        &id,
        &dept,
        ResultInput {
            passed: body.passed,
            record_number,
            points,
            department_name: state.catalog.department_name(&dept),
        },
        &actor(&principal, &[Role::DeptReviewer]),
    )
    .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(inspection_view(&i)))
}

/// 整改完成报告.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"statement": "已补设二层疏散指示标志并完成消火栓箱标识，附整改照片"}))]
pub struct RectificationRequest {
    /// What was done.
    #[schema(min_length = 1, max_length = 2000)]
    pub statement: String,
}

/// Report the rectification of a failed round done; the window then
/// schedules a re-inspection of the departments not yet passed.
///
/// 调用方：申请人（本企业项目）、帮办代办员（已授权企业的项目）；他人答复 404，其他角色 403。
#[utoipa::path(
    tag = "inspections",
    params(("id" = String, Path, description = "联合验收编号")),
    request_body = RectificationRequest,
    responses(
        (status = 200, description = "已报告整改", body = InspectionView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权报告整改", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "不存在或无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "本轮无须整改", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "缺少整改说明", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/inspections/{id}/rectification")]
pub async fn rectify(
    principal: Principal,
    state: State,
    id: web::Path<String>,
    body: web::Json<RectificationRequest>,
) -> Result<HttpResponse, Problem> {
    const BUILDERS: [Role; 2] = [Role::Applicant, Role::Agent];
    principal.require_any(&BUILDERS)?;
    let not_found = || Problem::not_found("联合验收不存在");
    let i = store::inspections::find(&state.db, plausible(&id, "联合验收")?)
        .await?
        .ok_or_else(not_found)?;
    let app = readable_stage(&state, &principal, &i.stage_application_id).await?;
    if !principal.may_act_for(&app.builder_uscc) {
        return Err(not_found());
    }
    let statement = clean("statement", &body.statement, 2000, "整改说明")
        .map_err(|e| Problem::validation(vec![e]))?;
    let i = store::inspections::rectify(&state.db, &id, statement, &actor(&principal, &BUILDERS))
        .await?;
    state.signal.wake();
    Ok(HttpResponse::Ok().json(inspection_view(&i)))
}
