//! The views every application route answers with, and the access rule
//! they share: who may see an application (404 otherwise, never data) and
//! who is acting.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;
use yizhan_auth::{Principal, Role};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_kit::Problem;
use yizhan_kit::text::is_plausible_id;
use yizhan_workflow::api::{ClockView, TimelineEntry};

use crate::AppState;
use crate::domain::application::{ApplicationKind, ApplicationStatus};
use crate::domain::notice::NoticeItem;
use crate::routes::tasks::TaskView;
use crate::store::{self, Actor, Parts, application};

/// An application as tracked by its applicant and the centre.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::application)]
pub struct ApplicationView {
    /// Application id.
    pub id: String,
    /// 申请编号, e.g. `YZ2026120300012`: what people read and search by.
    pub number: String,
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
    /// The bundle's clock (limits left, due date, state; after acceptance).
    #[serde(flatten)]
    pub clock: ClockView,
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
#[schema(example = crate::routes::examples::application_summary)]
pub struct ApplicationSummary {
    /// Application id.
    pub id: String,
    /// 申请编号, e.g. `YZ2026120300012`.
    pub number: String,
    /// Status.
    pub status: ApplicationStatus,
    /// zh-CN status.
    pub status_name: String,
    /// 情形编码.
    pub scenario_code: String,
    /// 情形名称 (as in the application's notice).
    pub scenario_name: String,
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
pub fn view(
    state: &AppState,
    parts: &Parts,
    now: DateTime<Utc>,
) -> Result<ApplicationView, Problem> {
    let app = &parts.app;
    let notice = app.notice()?;
    let local = china_local(now);
    let reading = app
        .clock(&parts.tasks)
        .map(|c| c.reading_at(&state.calendar, local));
    let status = app.status();
    Ok(ApplicationView {
        id: app.id.clone(),
        number: app.number.clone(),
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
            .map(|t| TaskView {
                application_number: Some(app.number.clone()),
                ..TaskView::new(&state.calendar, t, now)
            })
            .collect(),
        clock: ClockView::of_reading(notice.committed_total.as_days_f64(), reading),
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
        timeline: parts.timeline.iter().map(TimelineEntry::of).collect(),
        created_at: app.created_at,
        updated_at: app.updated_at,
    })
}

/// The actor for the timeline and events: the caller in the first of
/// `roles` it holds.
pub(crate) fn actor(principal: &Principal, roles: &[Role]) -> Actor {
    Actor {
        sub: principal.sub.clone(),
        role: principal.acting_role(roles).into(),
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
pub(crate) async fn visible(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<application::Model, Problem> {
    let not_found = || Problem::not_found("申请不存在");
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
