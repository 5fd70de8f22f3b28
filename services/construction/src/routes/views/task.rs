//! Views of item tasks, consultations and inspection rounds.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use yizhan_approval::Calendar;
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_workflow::api::{ClockView, TaskStatus};

use crate::domain::inspection::{DepartmentResult, InspectionStatus, RectificationItem};
use crate::store::{Task, consultation, inspection};

/// 征求意见 and its reply.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::consultation)]
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
#[schema(example = crate::routes::examples::task)]
pub struct TaskView {
    /// Task id.
    pub id: String,
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// The stage application's 申请编号 (on queue pages and in the stage's
    /// view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_number: Option<String>,
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
    #[schema(value_type = TaskStatus)]
    pub status: String,
    /// 办理状态 (BLZT) code, 1-15.
    pub blzt: u8,
    /// National status name.
    pub status_name: String,
    /// The clock: limits left, due date, state.
    #[serde(flatten)]
    pub clock: ClockView,
    /// While a 补正 is open (status `supplement_requested`): every field
    /// and material to supply, with the reviewer's reason.
    #[schema(value_type = Option<Vec<Object>>)]
    pub supplement_request: Option<Vec<IntakeDeficiency>>,
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
    t: &Task,
    consultations: &[consultation::Model],
    now: DateTime<Utc>,
) -> TaskView {
    let status = t.status();
    TaskView {
        id: t.id.clone(),
        project_id: t.project_id().to_owned(),
        stage_application_id: t.stage_application_id().to_owned(),
        application_number: None,
        stage: t.detail.stage.clone(),
        builder_uscc: t.builder_uscc().to_owned(),
        item_code: t.item_code.clone(),
        item_name: t.item_name.clone(),
        department_code: t.department_code.clone(),
        department_name: t.department_name.clone(),
        status: t.status.clone(),
        blzt: status.code(),
        status_name: status.name().into(),
        clock: ClockView::of(calendar, t, now),
        supplement_request: t.open_supplement(),
        pre_review: t.detail.pre_review,
        pre_approved: t.detail.pre_approved,
        commitment: t.detail.commitment,
        verification_due: t.detail.verification_due,
        verification: t.detail.verification.clone(),
        joint_inspection: t.detail.joint_inspection,
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
#[schema(example = crate::routes::examples::inspection)]
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
