//! Views of stage applications and projects, with their timelines.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, Deadline, SlaState};
use yizhan_events::contracts::IntakeDeficiency;

use super::{InspectionView, TaskView, inspection_view, task_view};
use crate::AppState;
use crate::domain::catalog::{Category, Stage};
use crate::domain::project::{ProjectStatus, StageStatus};
use crate::store::projects::ProjectParts;
use crate::store::stages::StageParts;
use crate::store::{self, Task, consultation, inspection, parse_list, project, timeline};

/// One step of a project's timeline: the engine's entry and the stage
/// application it concerns.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// The step.
    #[serde(flatten)]
    pub entry: yizhan_workflow::api::TimelineEntry,
    /// The stage application concerned.
    pub stage_application_id: Option<String>,
}

pub(crate) fn timeline_entry(e: &timeline::Model) -> TimelineEntry {
    TimelineEntry {
        entry: yizhan_workflow::api::TimelineEntry::of(e),
        stage_application_id: e.case_id.clone(),
    }
}

/// One stage application (分阶段一件事).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::stage)]
pub struct StageView {
    /// Id (also the certificate request id).
    pub id: String,
    /// 申请编号, e.g. `GC2026120300012`: what people read and search by.
    pub number: String,
    /// The project.
    pub project_id: String,
    /// Stage.
    pub stage: Stage,
    /// zh-CN stage name.
    pub stage_name: String,
    /// Status.
    pub status: StageStatus,
    /// zh-CN status.
    pub status_name: String,
    /// Intake 办理状态: 1, 4, or 3 once accepted.
    pub blzt: u8,
    /// Catalog version of the form.
    pub catalog_version: i32,
    /// 拿地即开工 pre-review.
    pub pre_review: bool,
    /// Form values.
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Material code → id.
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
    /// Items under 告知承诺制.
    pub commitments: Vec<String>,
    /// The one-time notice when returned.
    #[schema(value_type = Option<Vec<Object>>)]
    pub deficiencies: Option<Vec<IntakeDeficiency>>,
    /// Non-key materials still owed (容缺受理).
    pub owed_materials: Vec<String>,
    /// Last day to supply them.
    pub tolerance_due: Option<NaiveDate>,
    /// Why it stopped.
    pub stop_reason: Option<String>,
    /// 电子证照标识 once issued (e.g. the construction permit).
    pub certificate_id: Option<String>,
    /// 统一窗口出件: when the window handed the result out.
    pub handed_out_at: Option<DateTime<Utc>>,
    /// The clerk who handed it out (`sub`).
    pub handed_out_by: Option<String>,
    /// Who submitted (`sub`).
    pub submitted_by: String,
    /// Their role (`agent` for 帮办代办).
    pub submitted_role: String,
    /// Working days with the centre (acceptance day not counted).
    pub used_working_days: Option<i64>,
    /// Tasks, one per item.
    pub tasks: Vec<TaskView>,
    /// 联合验收 rounds.
    pub inspections: Vec<InspectionView>,
    /// Submitted.
    pub created_at: DateTime<Utc>,
}

fn stage_view_of(
    calendar: &Calendar,
    s: &store::stage_application::Model,
    tasks: &[Task],
    inspections: &[inspection::Model],
    consultations: &[consultation::Model],
    now: DateTime<Utc>,
) -> StageView {
    let status = s.status();
    let stage = s.stage();
    let used = s.accepted_at.map(|a| {
        let end = s.concluded_at.unwrap_or_else(|| china_local(now));
        calendar.working_days_between(a.date(), end.date()).value
    });
    StageView {
        id: s.id.clone(),
        number: s.number.clone(),
        project_id: s.project_id.clone(),
        stage,
        stage_name: stage.zh_name().into(),
        status,
        status_name: status.zh_name().into(),
        blzt: status.intake_status().code(),
        catalog_version: s.catalog_version,
        pre_review: s.pre_review,
        form: serde_json::from_str(&s.form).unwrap_or_default(),
        materials: serde_json::from_str(&s.materials).unwrap_or_default(),
        commitments: parse_list(&s.commitments),
        deficiencies: s
            .deficiencies
            .as_deref()
            .filter(|_| status == StageStatus::Returned)
            .and_then(|d| serde_json::from_str(d).ok()),
        owed_materials: parse_list(&s.owed_materials),
        tolerance_due: s.tolerance_due,
        stop_reason: s.stop_reason.clone(),
        certificate_id: s.certificate_id.clone(),
        handed_out_at: s.handed_out_at,
        handed_out_by: s.handed_out_by.clone(),
        submitted_by: s.submitted_by.clone(),
        submitted_role: s.submitted_role.clone(),
        used_working_days: used,
        tasks: tasks
            .iter()
            .filter(|t| t.stage_application_id() == s.id)
            .map(|t| TaskView {
                application_number: Some(s.number.clone()),
                ..task_view(calendar, t, consultations, now)
            })
            .collect(),
        inspections: inspections
            .iter()
            .filter(|i| i.stage_application_id == s.id)
            .map(inspection_view)
            .collect(),
        created_at: s.created_at,
    }
}

/// The view of a stage application with its tasks and inspections.
pub fn stage_view(state: &AppState, parts: &StageParts, now: DateTime<Utc>) -> StageView {
    stage_view_of(
        &state.calendar,
        &parts.stage,
        &parts.tasks,
        &parts.inspections,
        &[],
        now,
    )
}

/// A stage application in the window's list, with its project.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::stage_summary)]
pub struct StageSummary {
    /// Stage application id.
    pub id: String,
    /// 申请编号, e.g. `GC2026120300012`.
    pub number: String,
    /// The project.
    pub project_id: String,
    /// 投资项目代码.
    pub project_code: String,
    /// Project name.
    pub project_name: String,
    /// Builder USCC.
    pub builder_uscc: String,
    /// Builder name.
    pub builder_name: String,
    /// Stage.
    pub stage: Stage,
    /// zh-CN stage name.
    pub stage_name: String,
    /// Status.
    pub status: StageStatus,
    /// zh-CN status.
    pub status_name: String,
    /// Intake 办理状态: 1, 4, or 3 once accepted.
    pub blzt: u8,
    /// 拿地即开工 pre-review.
    pub pre_review: bool,
    /// 电子证照标识 once issued.
    pub certificate_id: Option<String>,
    /// 统一窗口出件: when the window handed the result out.
    pub handed_out_at: Option<DateTime<Utc>>,
    /// Submitted.
    pub created_at: DateTime<Utc>,
    /// Opaque position right after this item: pass it as `cursor` to
    /// continue the list from the next item (merged queues use it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The list view of a stage application and its project (absent only if
/// the project row vanished, which the store never does).
pub fn stage_summary(
    s: store::stage_application::Model,
    p: Option<project::Model>,
    cursor: Option<String>,
) -> StageSummary {
    let status = s.status();
    let stage = s.stage();
    let (project_code, project_name, builder_name) = p
        .map(|p| (p.project_code, p.name, p.builder_name))
        .unwrap_or_default();
    StageSummary {
        id: s.id,
        number: s.number,
        project_id: s.project_id,
        project_code,
        project_name,
        builder_uscc: s.builder_uscc,
        builder_name,
        stage,
        stage_name: stage.zh_name().into(),
        status,
        status_name: status.zh_name().into(),
        blzt: status.intake_status().code(),
        pre_review: s.pre_review,
        certificate_id: s.certificate_id,
        handed_out_at: s.handed_out_at,
        created_at: s.created_at,
        cursor,
    }
}

/// 全流程时限: the category's budget against the working days used.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetView {
    /// Budget, working days.
    pub budget_days: i32,
    /// Working days used across stages (overlaps counted once).
    pub used_days: f64,
    /// Working days left (negative once overdue).
    pub remaining_days: f64,
    /// Last day of the budget as things stand.
    #[schema(value_type = Option<Object>)]
    pub due: Option<Deadline>,
    /// `on_time`, `warning`, `overdue`, `paused` (between stages) or
    /// `stopped` (project complete); absent before the first acceptance.
    #[schema(value_type = Option<String>)]
    pub state: Option<SlaState>,
    /// zh-CN state.
    pub state_name: Option<String>,
}

/// A project with its stages, budget and timeline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::project)]
pub struct ProjectView {
    /// Project id.
    pub id: String,
    /// 投资项目代码.
    pub project_code: String,
    /// Name.
    pub name: String,
    /// Builder USCC.
    pub builder_uscc: String,
    /// Builder name.
    pub builder_name: String,
    /// 建设地点.
    pub location: String,
    /// Category.
    pub category: Category,
    /// zh-CN category.
    pub category_name: String,
    /// 总建筑面积, m².
    pub floor_area_m2: f64,
    /// 总投资, 万元.
    pub total_investment_wan: f64,
    /// Whether the land grant is recorded.
    pub land_granted: bool,
    /// 土地出让合同编号.
    pub land_contract_no: Option<String>,
    /// Status.
    pub status: ProjectStatus,
    /// zh-CN status.
    pub status_name: String,
    /// The stage to file next (none when all are filed or done).
    pub next_stage: Option<Stage>,
    /// The whole-process budget.
    pub budget: BudgetView,
    /// Stage applications, oldest first.
    pub stages: Vec<StageView>,
    /// Every step with who and when (agents included).
    pub timeline: Vec<TimelineEntry>,
    /// Registered.
    pub created_at: DateTime<Utc>,
}

/// The project view, clocks read at `now`.
pub fn project_view(state: &AppState, parts: &ProjectParts, now: DateTime<Utc>) -> ProjectView {
    let p = &parts.project;
    let category = p.category();
    let status = p.status();
    let reading = parts
        .budget_clock()
        .map(|c| c.reading_at(&state.calendar, china_local(now)));
    let budget = BudgetView {
        budget_days: p.budget_days,
        used_days: reading.map_or(0.0, |r| r.used.as_days_f64()),
        remaining_days: reading.map_or(f64::from(p.budget_days), |r| {
            r.committed.remaining.as_days_f64()
        }),
        due: reading.and_then(|r| r.committed.due),
        state: reading.map(|r| r.committed.state),
        state_name: reading.map(|r| r.committed.state.name().to_owned()),
    };
    let next_stage = Stage::ALL
        .into_iter()
        .find(|s| store::projects::live_stage(&parts.stages, *s).is_none());
    ProjectView {
        id: p.id.clone(),
        project_code: p.project_code.clone(),
        name: p.name.clone(),
        builder_uscc: p.builder_uscc.clone(),
        builder_name: p.builder_name.clone(),
        location: p.location.clone(),
        category,
        category_name: category.zh_name().into(),
        floor_area_m2: p.floor_area_m2,
        total_investment_wan: p.total_investment_wan,
        land_granted: p.land_granted,
        land_contract_no: p.land_contract_no.clone(),
        status,
        status_name: status.zh_name().into(),
        next_stage,
        budget,
        stages: parts
            .stages
            .iter()
            .map(|s| {
                stage_view_of(
                    &state.calendar,
                    s,
                    &parts.tasks,
                    &parts.inspections,
                    &parts.consultations,
                    now,
                )
            })
            .collect(),
        timeline: parts.timeline.iter().map(timeline_entry).collect(),
        created_at: p.created_at,
    }
}

/// A project in a list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::project_summary)]
pub struct ProjectSummary {
    /// Id.
    pub id: String,
    /// 投资项目代码.
    pub project_code: String,
    /// Name.
    pub name: String,
    /// Builder.
    pub builder_uscc: String,
    /// Category.
    pub category: Category,
    /// Status.
    pub status: ProjectStatus,
    /// Registered.
    pub created_at: DateTime<Utc>,
}

/// The list view of a project row.
pub fn project_summary(p: project::Model) -> ProjectSummary {
    ProjectSummary {
        category: p.category(),
        status: p.status(),
        id: p.id,
        project_code: p.project_code,
        name: p.name,
        builder_uscc: p.builder_uscc,
        created_at: p.created_at,
    }
}
