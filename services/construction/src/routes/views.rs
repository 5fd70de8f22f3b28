//! Response bodies, built from store rows, and the access rules every
//! route shares: who may read a project (404 otherwise, never data) and
//! who is acting.

use actix_web::web;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, Deadline, SlaState};
use yizhan_auth::{Principal, Role};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_kit::Problem;

use crate::AppState;
use crate::domain::catalog::{Category, Stage};
use crate::domain::inspection::{DepartmentResult, InspectionStatus, RectificationItem};
use crate::domain::project::{ProjectStatus, StageStatus};
use crate::error::Error;
use crate::store::projects::ProjectParts;
use crate::store::stages::StageParts;
use crate::store::{self, Actor, consultation, inspection, parse_list, project, task, timeline};
use yizhan_kit::text::is_plausible_id;

/// Partner scope that reads every project.
pub const SCOPE_READ: &str = "construction:read";
/// Partner scope that records land grants (a natural-resources system).
pub const SCOPE_LAND: &str = "construction:land_grant";

/// The actor for the timeline: the first of `roles` the caller holds.
pub fn actor(principal: &Principal, roles: &[Role]) -> Actor {
    let role = roles
        .iter()
        .find(|r| principal.has_role(**r))
        .map_or("unknown", |r| r.as_str());
    Actor {
        sub: principal.sub.clone(),
        role: role.into(),
    }
}

/// The caller's department, for reviewer routes.
pub fn reviewer_dept(principal: &Principal) -> Result<String, Problem> {
    principal.require_any(&[Role::DeptReviewer])?;
    principal
        .dept
        .clone()
        .ok_or_else(|| Problem::forbidden("令牌未载明所属部门（dept），无法确定审批队列"))
}

/// `id` when it can be one of ours; 404 `what` otherwise (no query for garbage).
pub fn plausible<'a>(id: &'a str, what: &str) -> Result<&'a str, Problem> {
    if is_plausible_id(id) {
        Ok(id)
    } else {
        Err(Problem::not_found(format!("{what}不存在")))
    }
}

/// The project if the caller may read it: window clerks, admins, partners
/// with `construction:read`, the builder (applicant of the enterprise or an
/// authorised agent), and reviewers of a department with a task in it.
/// Anyone else gets the same 404 as for a project that does not exist.
pub async fn readable_project(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<project::Model, Error> {
    let not_found = || Error::from(Problem::not_found("项目不存在"));
    let p = store::projects::find(&state.db, plausible(id, "项目")?)
        .await?
        .ok_or_else(not_found)?;
    if principal.has_role(Role::WindowClerk)
        || principal.has_role(Role::Admin)
        || (principal.has_role(Role::Partner) && principal.has_scope(SCOPE_READ))
        || principal.may_act_for(&p.builder_uscc)
    {
        return Ok(p);
    }
    if principal.has_role(Role::DeptReviewer)
        && let Some(dept) = principal.dept.as_deref()
        && store::projects::has_task_in(&state.db, id, dept).await?
    {
        return Ok(p);
    }
    Err(not_found())
}

/// Who did a step.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorView {
    /// `sub`.
    pub sub: String,
    /// Role (`agent` for 帮办代办, `system` for automatic steps).
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
    /// The stage application concerned.
    pub stage_application_id: Option<String>,
    /// The task concerned.
    pub task_id: Option<String>,
    /// 办理状态 code after the step, where one applies.
    pub blzt: Option<i32>,
    /// When.
    pub at: DateTime<Utc>,
}

fn timeline_entry(e: &timeline::Model) -> TimelineEntry {
    TimelineEntry {
        seq: e.seq,
        action: e.action.clone(),
        title: e.title.clone(),
        actor: ActorView {
            sub: e.actor_sub.clone(),
            role: e.actor_role.clone(),
        },
        stage_application_id: e.stage_application_id.clone(),
        task_id: e.task_id.clone(),
        blzt: e.blzt,
        at: e.at,
    }
}

/// 征求意见 and its reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultationView {
    /// Id.
    pub id: String,
    /// The task.
    pub task_id: String,
    /// The project.
    pub project_id: String,
    /// Asking department.
    pub from_department: String,
    /// Asked department.
    pub to_department: String,
    /// The question.
    pub question: String,
    /// Reply due by.
    pub due_date: NaiveDate,
    /// The opinion, once answered.
    pub opinion: Option<String>,
    /// Asking reviewer.
    pub requested_by: String,
    /// Answering reviewer.
    pub answered_by: Option<String>,
    /// Answer time.
    pub answered_at: Option<DateTime<Utc>>,
}

/// The view of a consultation row.
pub fn consultation_view(c: &consultation::Model) -> ConsultationView {
    ConsultationView {
        id: c.id.clone(),
        task_id: c.task_id.clone(),
        project_id: c.project_id.clone(),
        from_department: c.from_department.clone(),
        to_department: c.to_department.clone(),
        question: c.question.clone(),
        due_date: c.due_date,
        opinion: c.opinion.clone(),
        requested_by: c.requested_by.clone(),
        answered_by: c.answered_by.clone(),
        answered_at: c.answered_at,
    }
}

/// One item task (事项实例).
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    /// Task id.
    pub id: String,
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// Status wire name (`in_review`, `approved` …).
    pub status: String,
    /// 办理状态 (BLZT) code, 1-15.
    pub blzt: u8,
    /// National status name.
    pub status_name: String,
    /// 承诺时限, working days.
    pub committed_days: f64,
    /// Working days left of the committed limit.
    pub remaining_working_days: Option<f64>,
    /// Last half-day of the committed limit.
    #[schema(value_type = Option<Object>)]
    pub due: Option<Deadline>,
    /// Committed-limit state.
    #[schema(value_type = Option<String>)]
    pub sla_state: Option<SlaState>,
    /// 拿地即开工 pre-review task.
    pub pre_review: bool,
    /// Approved ahead of the land grant, final when it is recorded.
    pub pre_approved: bool,
    /// Approved on commitment (告知承诺制).
    pub commitment: bool,
    /// Verification deadline of a commitment approval.
    pub verification_due: Option<NaiveDate>,
    /// `passed` / `failed` once verified.
    pub verification: Option<String>,
    /// Decided in the joint inspection.
    pub joint_inspection: bool,
    /// Permit / record number.
    pub permit_number: Option<String>,
    /// Reasons (rejection, revocation, stop).
    pub reasons: Option<String>,
    /// Deciding reviewer.
    pub decided_by: Option<String>,
    /// Decision time.
    pub decided_at: Option<DateTime<Utc>>,
    /// 征求意见 about this task (on the detail view).
    pub consultations: Vec<ConsultationView>,
    /// Opaque position right after this item: pass it as `cursor` to
    /// continue the list from the next item (merged queues use it). Only on
    /// list pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The view of `t`, its clock read at `now`.
pub fn task_view(
    calendar: &Calendar,
    t: &task::Model,
    consultations: &[consultation::Model],
    now: DateTime<Utc>,
) -> TaskView {
    let reading = t.clock().map(|c| c.reading_at(calendar, china_local(now)));
    let status = t.status();
    TaskView {
        id: t.id.clone(),
        project_id: t.project_id.clone(),
        stage_application_id: t.stage_application_id.clone(),
        stage: t.stage.clone(),
        builder_uscc: t.builder_uscc.clone(),
        item_code: t.item_code.clone(),
        item_name: t.item_name.clone(),
        department_code: t.department_code.clone(),
        department_name: t.department_name.clone(),
        status: t.status.clone(),
        blzt: status.code(),
        status_name: status.name().into(),
        committed_days: t.committed_half_days as f64 / 2.0,
        remaining_working_days: reading.map(|r| r.committed.remaining.as_days_f64()),
        due: reading.and_then(|r| r.committed.due),
        sla_state: reading.map(|r| r.committed.state),
        pre_review: t.pre_review,
        pre_approved: t.pre_approved,
        commitment: t.commitment,
        verification_due: t.verification_due,
        verification: t.verification.clone(),
        joint_inspection: t.joint_inspection,
        permit_number: t.permit_number.clone(),
        reasons: t.reasons.clone(),
        decided_by: t.decided_by.clone(),
        decided_at: t.decided_at,
        consultations: consultations
            .iter()
            .filter(|c| c.task_id == t.id)
            .map(consultation_view)
            .collect(),
        cursor: None,
    }
}

/// One round of 联合验收.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionView {
    /// Id.
    pub id: String,
    /// The project.
    pub project_id: String,
    /// The completion stage application.
    pub stage_application_id: String,
    /// Round, from 1.
    pub round: i32,
    /// The slot.
    pub slot: DateTime<Utc>,
    /// Where.
    pub location: String,
    /// Invited departments.
    pub departments: Vec<String>,
    /// Results recorded so far.
    pub results: Vec<DepartmentResult>,
    /// Status.
    pub status: InspectionStatus,
    /// zh-CN status.
    pub status_name: String,
    /// 整改清单 when failed.
    pub rectification: Vec<RectificationItem>,
    /// The builder's rectification report.
    pub rectification_statement: Option<String>,
}

/// The view of an inspection row.
pub fn inspection_view(i: &inspection::Model) -> InspectionView {
    let status = i.status();
    InspectionView {
        id: i.id.clone(),
        project_id: i.project_id.clone(),
        stage_application_id: i.stage_application_id.clone(),
        round: i.round,
        slot: i.slot,
        location: i.location.clone(),
        departments: i.departments(),
        results: i.results(),
        status,
        status_name: status.zh_name().into(),
        rectification: i.rectification(),
        rectification_statement: i.rectification_statement.clone(),
    }
}

/// One stage application (分阶段一件事).
#[derive(Debug, Serialize, ToSchema)]
pub struct StageView {
    /// Id (also the certificate request id).
    pub id: String,
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
    tasks: &[task::Model],
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
            .filter(|t| t.stage_application_id == s.id)
            .map(|t| task_view(calendar, t, consultations, now))
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
pub struct StageSummary {
    /// Stage application id.
    pub id: String,
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

/// Shorthand for handlers: the state's data.
pub type State = web::Data<AppState>;
