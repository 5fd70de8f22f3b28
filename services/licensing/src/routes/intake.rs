//! `/api/v1/applications/{id}/intake` and `/hand-out`: 前台综合受理 (accept,
//! 容缺受理, or return with the one-time list) and 统一窗口出件.
//!
//! Who may call: window clerks; any other role answers 403.

use actix_web::{HttpResponse, post, web};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;
use yizhan_auth::{Principal, Role};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_events::one_time::{self, DeficiencyInput};
use yizhan_kit::{FieldError, Problem};

use crate::AppState;
use crate::domain::application::ApplicationKind;
use crate::domain::notice::Notice;
use crate::routes::views::{ApplicationView, actor, plausible, view};
use crate::store;

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
    /// supply the owed materials; after today, at most 60 days ahead.
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
        |f| {
            notice
                .form
                .iter()
                .find(|x| x.key == f)
                .map(|x| x.label.clone())
        },
        |m| {
            notice
                .materials
                .iter()
                .find(|x| x.code == m)
                .map(|x| x.name.clone())
        },
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
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::WindowClerk])?;
    let app = store::find_application(&state.db, plausible(&id)?)
        .await?
        .ok_or_else(|| Problem::not_found("申请不存在"))?;
    if body.decision != IntakeDecision::AcceptWithTolerance && body.tolerance_due_date.is_some() {
        return Err(Problem::field(
            "tolerance_due_date",
            "not_allowed",
            "只有容缺受理需要约定补交期限",
        ));
    }
    let decision = match body.decision {
        IntakeDecision::Accept if !body.deficiencies.is_empty() => {
            return Err(Problem::field(
                "deficiencies",
                "not_allowed",
                "受理时不应附带补齐清单；缺少非关键材料时请选择容缺受理",
            ));
        }
        IntakeDecision::Accept => store::Intake::Accept,
        IntakeDecision::AcceptWithTolerance => {
            let notice = app.notice()?;
            if app.kind() == ApplicationKind::Cancellation {
                return Err(Problem::field(
                    "decision",
                    "not_allowed",
                    "注销申请无需审批，不适用容缺受理",
                ));
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
) -> Result<HttpResponse, Problem> {
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
