//! Events of construction review between departments (the construction
//! service): 征求意见 and 联合验收. Same topic and subject (the project) as
//! the other construction events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, Event, topics};

/// 征求意见: a reviewer asked another department for an opinion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConsultationRequested {
    /// The consultation.
    pub consultation_id: String,
    /// The task it is about.
    pub task_id: String,
    /// The project.
    pub project_id: String,
    /// Asking department.
    pub from_department: String,
    /// Asked department.
    pub to_department: String,
    /// The asking department's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_department_name: Option<String>,
    /// The asked department's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_department_name: Option<String>,
    /// 事项名称 of the task asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// The question.
    pub question: String,
    /// Reply due by.
    pub due_date: chrono::NaiveDate,
    /// The asking reviewer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ConsultationRequested {
    const TYPE: &'static str = "cn.yizhan.construction.consultation_requested.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 意见已回复.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConsultationAnswered {
    /// The consultation.
    pub consultation_id: String,
    /// The task.
    pub task_id: String,
    /// The project.
    pub project_id: String,
    /// Answering department.
    pub to_department: String,
    /// The asking department (who hears the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_department: Option<String>,
    /// The answering department's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_department_name: Option<String>,
    /// The opinion.
    pub opinion: String,
    /// Whether it came after the due date.
    pub late: bool,
    /// The answering reviewer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ConsultationAnswered {
    const TYPE: &'static str = "cn.yizhan.construction.consultation_answered.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 联合验收已排期: departments invited to one slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JointInspectionScheduled {
    /// The inspection.
    pub inspection_id: String,
    /// The project.
    pub project_id: String,
    /// The completion stage application.
    pub stage_application_id: String,
    /// 1 for the first inspection, 2 for the first re-inspection …
    pub round: i32,
    /// The slot.
    pub slot: DateTime<Utc>,
    /// Where.
    pub location: String,
    /// Invited departments.
    pub departments: Vec<String>,
    /// Their names, in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub department_names: Vec<String>,
    /// The builder, who hosts the inspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder_uscc: Option<String>,
    /// The window clerk.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for JointInspectionScheduled {
    const TYPE: &'static str = "cn.yizhan.construction.joint_inspection_scheduled.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// One department recorded its joint-inspection result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JointInspectionResultRecorded {
    /// The inspection.
    pub inspection_id: String,
    /// The project.
    pub project_id: String,
    /// Department.
    pub department_code: String,
    /// Pass or fail.
    pub passed: bool,
    /// Failed points.
    pub points: Vec<String>,
    /// The reviewer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for JointInspectionResultRecorded {
    const TYPE: &'static str = "cn.yizhan.construction.joint_inspection_result_recorded.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// One point of a rectification list (整改清单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RectificationPoint {
    /// The department that found it.
    pub department_code: String,
    /// What to fix.
    pub point: String,
}

/// 联合验收结论: every invited department recorded; passed, or failed
/// with the rectification list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JointInspectionConcluded {
    /// The inspection.
    pub inspection_id: String,
    /// The project.
    pub project_id: String,
    /// The builder, told the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder_uscc: Option<String>,
    /// The round.
    #[serde(default)]
    pub round: i32,
    /// Whether every department passed.
    pub passed: bool,
    /// Failed points, when not passed.
    pub rectification: Vec<RectificationPoint>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for JointInspectionConcluded {
    const TYPE: &'static str = "cn.yizhan.construction.joint_inspection_concluded.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 整改完成: the builder reported the rectification done; re-inspection due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RectificationReported {
    /// The failed inspection.
    pub inspection_id: String,
    /// The project.
    pub project_id: String,
    /// The builder's statement.
    pub statement: String,
    /// Builder or agent.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for RectificationReported {
    const TYPE: &'static str = "cn.yizhan.construction.rectification_reported.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}
