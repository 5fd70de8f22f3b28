//! Events of 一站式 construction-project approval (the construction service).
//!
//! Every state change of a construction project is one of these facts on
//! `yizhan.construction.v1`. The subject is always the project id, so one
//! project's events (its stages, tasks, inspections included) stay in order
//! on one partition. The construction permit itself is requested with
//! `ByConstruction(CertificateIssueRequested)` (request id = the stage
//! application id) and answered by `CertificateIssued` on the document topic.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, DeadlineNotice, Event, IntakeDeficiency, topics};

/// 项目已登记: a construction project was registered with its 项目代码.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectRegistered {
    /// The project.
    pub project_id: String,
    /// 投资项目代码.
    pub project_code: String,
    /// Project name.
    pub name: String,
    /// Builder (建设单位) 统一社会信用代码.
    pub builder_uscc: String,
    /// Builder name.
    pub builder_name: String,
    /// Category (`small_low_risk` …).
    pub category: String,
    /// Whole-process budget in working days.
    pub budget_days: i32,
    /// Who registered (builder or agent).
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ProjectRegistered {
    const TYPE: &'static str = "cn.yizhan.construction.project_registered.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 阶段申请已接件: one stage's merged form was submitted (BLZT 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageApplicationSubmitted {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage (`land_planning` …).
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// The stage's items.
    pub item_codes: Vec<String>,
    /// Material ids referenced (document service ids).
    pub material_ids: Vec<String>,
    /// Items applied for under 告知承诺制.
    pub commitments: Vec<String>,
    /// Filed for pre-review before the land grant (拿地即开工).
    pub pre_review: bool,
    /// Who submitted (builder or agent).
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `GC2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for StageApplicationSubmitted {
    const TYPE: &'static str = "cn.yizhan.construction.stage_application_submitted.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 不受理: the window returned a stage application with the one-time list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageApplicationReturned {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// Every deficiency at once.
    pub deficiencies: Vec<IntakeDeficiency>,
    /// The window clerk.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `GC2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for StageApplicationReturned {
    const TYPE: &'static str = "cn.yizhan.construction.stage_application_returned.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 已受理 (or 容缺受理 when `owed_materials` is not empty): the stage's
/// items became tasks in their departments' queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageApplicationAccepted {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// Non-key materials owed under 容缺受理.
    pub owed_materials: Vec<String>,
    /// Last day to supply them.
    pub tolerance_due: Option<chrono::NaiveDate>,
    /// The window clerk.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `GC2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for StageApplicationAccepted {
    const TYPE: &'static str = "cn.yizhan.construction.stage_application_accepted.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// A construction item task changed status: `action` is one of `created`,
/// `commitment_approved`, `pre_approved`, `approved`, `rejected`,
/// `finalised` (pre-approval made final by the land grant), `verified`,
/// `revoked`, `withdrawn` (its stage stopped), `supplement_requested`,
/// `supplement_provided`, `special_procedure_started`,
/// `special_procedure_ended`; `blzt` is the national code after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConstructionTaskStatusChanged {
    /// The task.
    pub task_id: String,
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// Department.
    pub department_code: String,
    /// The department's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_name: Option<String>,
    /// Builder.
    pub builder_uscc: String,
    /// What happened.
    pub action: String,
    /// 办理状态 code after it.
    pub blzt: u8,
    /// Permit / record number, when approved.
    #[serde(default)]
    pub permit_number: Option<String>,
    /// Reasons, when rejected, revoked or stopped.
    #[serde(default)]
    pub reasons: Option<String>,
    /// Committed due date (created) or verification deadline (commitment).
    #[serde(default)]
    pub due_date: Option<chrono::NaiveDate>,
    /// With `supplement_requested`: the one-time list of what to supply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supplement: Vec<IntakeDeficiency>,
    /// With `supplement_provided`: the material ids supplied (the document
    /// service grants the reviewers read access to them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub material_ids: Vec<String>,
    /// With `special_procedure_started`: `hearing`, `testing` or
    /// `expert_review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_procedure: Option<String>,
    /// Who.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ConstructionTaskStatusChanged {
    const TYPE: &'static str = "cn.yizhan.construction.task_status_changed.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 容缺材料已补齐.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToleranceMaterialsSupplied {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Builder.
    pub builder_uscc: String,
    /// Material codes supplied.
    pub materials: Vec<String>,
    /// Material ids supplied.
    pub material_ids: Vec<String>,
    /// Builder or agent.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ToleranceMaterialsSupplied {
    const TYPE: &'static str = "cn.yizhan.construction.tolerance_materials_supplied.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 阶段办结: every item of the stage approved; the next stage is unlocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageCompleted {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// Certificate types requested from the document service (request id
    /// = the stage application id).
    #[serde(default)]
    pub certificates_requested: Vec<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `GC2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for StageCompleted {
    const TYPE: &'static str = "cn.yizhan.construction.stage_completed.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 终止办理: a stage stopped (an item rejected or revoked, or 容缺
/// materials not supplied by the due date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageStopped {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// Why, zh-CN.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `GC2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for StageStopped {
    const TYPE: &'static str = "cn.yizhan.construction.stage_stopped.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 土地出让已登记 (拿地即开工): the land grant was recorded; pre-approved
/// items were finalised at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LandGrantRecorded {
    /// The project.
    pub project_id: String,
    /// Builder.
    pub builder_uscc: String,
    /// 土地出让合同编号.
    pub contract_number: String,
    /// Day of the grant.
    pub granted_on: chrono::NaiveDate,
    /// Tasks finalised by it.
    pub finalised_task_ids: Vec<String>,
    /// Who recorded it.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for LandGrantRecorded {
    const TYPE: &'static str = "cn.yizhan.construction.land_grant_recorded.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// The document service issued a certificate a stage requested (e.g. the
/// 建筑工程施工许可证); recorded on the stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConstructionCertificateRecorded {
    /// The project.
    pub project_id: String,
    /// The stage application (the request id).
    pub stage_application_id: String,
    /// Builder.
    pub builder_uscc: String,
    /// 电子证照标识.
    pub certificate_id: String,
    /// Certificate type.
    pub certificate_type: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ConstructionCertificateRecorded {
    const TYPE: &'static str = "cn.yizhan.construction.certificate_recorded.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 全流程时限预警 / 超期: a project's budget clock reached the warning
/// share (`level` = `warning`) or passed the budget (`overdue`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectBudgetAlerted {
    /// The project.
    pub project_id: String,
    /// Builder.
    pub builder_uscc: String,
    /// Category.
    pub category: String,
    /// `warning` or `overdue`.
    pub level: String,
    /// Budget, working days.
    pub budget_days: i32,
    /// Working days used.
    pub used_days: f64,
    /// Last day of the budget, as things stand.
    pub due_date: Option<chrono::NaiveDate>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ProjectBudgetAlerted {
    const TYPE: &'static str = "cn.yizhan.construction.project_budget_alerted.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 统一窗口出件: the window handed a completed stage's result (its issued
/// certificate, e.g. the 建筑工程施工许可证) to the builder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageResultHandedOut {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// 电子证照标识 handed out.
    pub certificate_id: String,
    /// The window clerk.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `GC2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for StageResultHandedOut {
    const TYPE: &'static str = "cn.yizhan.construction.stage_result_handed_out.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 时限即将届满 on a construction item task: it used the warning share of
/// its committed limit. Same JSON as [`DeadlineNotice`] (`application_id`
/// is the stage application, `project_id` the project).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct ConstructionDeadlineApproaching(pub DeadlineNotice);

impl Event for ConstructionDeadlineApproaching {
    const TYPE: &'static str = "cn.yizhan.construction.deadline_approaching.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.0
            .project_id
            .clone()
            .unwrap_or_else(|| self.0.task_id.clone())
    }
}

/// 已超期 on a construction item task. Same JSON as [`DeadlineNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct ConstructionDeadlineOverdue(pub DeadlineNotice);

impl Event for ConstructionDeadlineOverdue {
    const TYPE: &'static str = "cn.yizhan.construction.deadline_overdue.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.0
            .project_id
            .clone()
            .unwrap_or_else(|| self.0.task_id.clone())
    }
}

/// The Chinese name of a construction stage code: the four national
/// stages of 工程建设项目审批, part of this contract.
pub fn stage_name(code: &str) -> Option<&'static str> {
    match code {
        "land_planning" => Some("立项用地规划许可"),
        "engineering_permit" => Some("工程建设许可"),
        "construction_permit" => Some("施工许可"),
        "completion" => Some("竣工验收"),
        _ => None,
    }
}
