//! Events of 一业一证 joint licensing (the licensing service).
//!
//! Every state change of a combined application is one of these facts on
//! `yizhan.licensing.v1`. The subject is always the application id, so one
//! application's events (its tasks' included) stay in order on one partition.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, CertificateItem, Event, topics};

/// 已接件: a combined application (一表申请) was submitted at the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApplicationSubmitted {
    /// The application.
    pub application_id: String,
    /// 情形 / scenario code, e.g. `hotel`.
    pub scenario_code: String,
    /// Catalog version the application was made on.
    pub catalog_version: i32,
    /// The enterprise's 统一社会信用代码.
    pub enterprise_uscc: String,
    /// The enterprise's name as filled in.
    pub enterprise_name: String,
    /// The selected items (事项编码).
    pub item_codes: Vec<String>,
    /// Ids of the materials the application references (document service
    /// ids); absent in events from before this field existed.
    #[serde(default)]
    pub material_ids: Vec<String>,
    /// Who submitted (applicant or agent).
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// `new`, `change` (变更), `renewal` (延续) or `cancellation` (注销).
    #[serde(default = "new_kind")]
    pub kind: String,
    /// For a change, renewal or cancellation: the application whose licence
    /// it concerns.
    #[serde(default)]
    pub predecessor_id: Option<String>,
    /// 申请编号 (e.g. `YZ2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

fn new_kind() -> String {
    "new".into()
}

impl Event for ApplicationSubmitted {
    const TYPE: &'static str = "cn.yizhan.licensing.application_submitted.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// One deficiency of the one-time notice (一次性告知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IntakeDeficiency {
    /// The form field concerned, if any.
    #[serde(default)]
    pub field: Option<String>,
    /// The material concerned, if any.
    #[serde(default)]
    pub material: Option<String>,
    /// What is wrong, zh-CN.
    pub reason: String,
    /// The Chinese name of the field or material, as people read it (set
    /// by the service that made the list; absent in events from before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// 不受理（退回补齐）: the window handed the application back with every
/// deficiency at once; the applicant may correct and resubmit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApplicationReturned {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Every deficiency found.
    pub deficiencies: Vec<IntakeDeficiency>,
    /// The window clerk.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `YZ2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for ApplicationReturned {
    const TYPE: &'static str = "cn.yizhan.licensing.application_returned.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 重新提交: a returned application was corrected and is 已接件 again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApplicationResubmitted {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The selected items after correction.
    pub item_codes: Vec<String>,
    /// Ids of the materials the corrected application references; absent
    /// in events from before this field existed.
    #[serde(default)]
    pub material_ids: Vec<String>,
    /// Who resubmitted.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `YZ2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for ApplicationResubmitted {
    const TYPE: &'static str = "cn.yizhan.licensing.application_resubmitted.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 已受理: the window accepted the application; its items became tasks
/// ([`TaskCreated`]) and the time-limit clock starts the next working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApplicationAccepted {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Committed limit of the bundle in half working days (11 = 5.5 days).
    pub committed_half_days: i64,
    /// Last day of the committed limit.
    pub committed_due_date: chrono::NaiveDate,
    /// 容缺受理: what is still owed and by when; `None` for a plain
    /// acceptance.
    #[serde(default)]
    pub tolerance: Option<ToleranceTerms>,
    /// The window clerk.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `YZ2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// 容缺受理 terms: the non-key materials accepted as missing and the day
/// (inclusive) by which they must arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToleranceTerms {
    /// What is owed (materials only).
    pub missing: Vec<IntakeDeficiency>,
    /// Last day to supply them.
    pub due_date: chrono::NaiveDate,
}

impl Event for ApplicationAccepted {
    const TYPE: &'static str = "cn.yizhan.licensing.application_accepted.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// An item of an accepted application entered its department's queue
/// (BLZT 3 then 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskCreated {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// The reviewing department's code.
    pub department_code: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// 办理状态 code (8).
    pub blzt: u8,
    /// Last day of the committed limit.
    pub due_date: chrono::NaiveDate,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for TaskCreated {
    const TYPE: &'static str = "cn.yizhan.licensing.task_created.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 办结: a department decided its task (BLZT 11 approved or 13 rejected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskDecided {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// The department.
    pub department_code: String,
    /// The department's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_name: Option<String>,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// 办理状态 code after the decision.
    pub blzt: u8,
    /// Permit number, when approved.
    #[serde(default)]
    pub permit_number: Option<String>,
    /// Reasons, when rejected.
    #[serde(default)]
    pub reasons: Option<String>,
    /// The reviewer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for TaskDecided {
    const TYPE: &'static str = "cn.yizhan.licensing.task_decided.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 一标核准: every item approved; the comprehensive licence was requested
/// ([`CertificateIssueRequested`], `request_id` = application id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BundleApproved {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The approved items with their permit numbers.
    pub items: Vec<CertificateItem>,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `YZ2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for BundleApproved {
    const TYPE: &'static str = "cn.yizhan.licensing.bundle_approved.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 不予许可: an item was rejected, so the bundle is refused (no licence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BundleRefused {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The rejected item.
    pub item_code: String,
    /// 事项名称 of the rejected item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// The department's reasons.
    pub reasons: String,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `YZ2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for BundleRefused {
    const TYPE: &'static str = "cn.yizhan.licensing.bundle_refused.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 已发证: the document service issued the comprehensive licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LicenceIssued {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// 电子证照标识.
    pub certificate_id: String,
    /// When licensing recorded it.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `YZ2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for LicenceIssued {
    const TYPE: &'static str = "cn.yizhan.licensing.licence_issued.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 统一窗口出件: the window handed the licence out; the application is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LicenceHandedOut {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// 电子证照标识.
    pub certificate_id: String,
    /// The window clerk.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// 申请编号 (e.g. `YZ2026120300012`); absent in events from before numbers
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl Event for LicenceHandedOut {
    const TYPE: &'static str = "cn.yizhan.licensing.licence_handed_out.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

#[cfg(test)]
mod material_ids_tests {
    use super::*;

    #[test]
    fn events_from_before_material_ids_still_decode() {
        let actor = r#"{"sub": "alice", "role": "applicant"}"#;
        let submitted: ApplicationSubmitted = serde_json::from_str(&format!(
            r#"{{"application_id": "a1", "scenario_code": "hotel", "catalog_version": 1,
                "enterprise_uscc": "91350100M000100Y43", "enterprise_name": "一站酒店",
                "item_codes": ["x"], "actor": {actor}, "at": "2026-01-01T00:00:00Z"}}"#
        ))
        .unwrap();
        assert!(submitted.material_ids.is_empty());
        let resubmitted: ApplicationResubmitted = serde_json::from_str(&format!(
            r#"{{"application_id": "a1", "enterprise_uscc": "91350100M000100Y43",
                "item_codes": ["x"], "actor": {actor}, "at": "2026-01-01T00:00:00Z"}}"#
        ))
        .unwrap();
        assert!(resubmitted.material_ids.is_empty());
    }
}

/// 补正（开始）: a reviewer asked the applicant for more, with the one-time
/// list of what to supply; the task's clock is paused (BLZT 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SupplementRequested {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// The department.
    pub department_code: String,
    /// The department's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_name: Option<String>,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// Everything to supply, at once.
    pub items: Vec<IntakeDeficiency>,
    /// 办理状态 code after the request (6).
    pub blzt: u8,
    /// The reviewer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for SupplementRequested {
    const TYPE: &'static str = "cn.yizhan.licensing.supplement_requested.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 补正（结束）: the applicant supplied what was asked; the task is back in
/// review (BLZT 7, then 8) and its clock resumed where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SupplementProvided {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// The department.
    pub department_code: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// Form fields supplied.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Material ids supplied (at the document service).
    #[serde(default)]
    pub material_ids: Vec<String>,
    /// 办理状态 code after the supplement (8).
    pub blzt: u8,
    /// The applicant or agent.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for SupplementProvided {
    const TYPE: &'static str = "cn.yizhan.licensing.supplement_provided.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 特别程序（开始 / 结束）: a reviewer started (BLZT 9, clock paused) or
/// ended (BLZT 10, clock resumed) a hearing, testing or expert review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpecialProcedureChanged {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// The department.
    pub department_code: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// `start` or `end`.
    pub action: String,
    /// `hearing`, `testing` or `expert_review` (with `start`).
    #[serde(default)]
    pub kind: Option<String>,
    /// Why (with `start`).
    #[serde(default)]
    pub reason: Option<String>,
    /// 办理状态 code after the change (9 or 10).
    pub blzt: u8,
    /// The reviewer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for SpecialProcedureChanged {
    const TYPE: &'static str = "cn.yizhan.licensing.special_procedure_changed.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 容缺材料已补交: the applicant supplied materials owed under 容缺受理.
/// When `still_missing` is empty the tolerance is fulfilled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToleranceMaterialsProvided {
    /// The application.
    pub application_id: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// Material code → id now supplied, as ids.
    pub material_ids: Vec<String>,
    /// What is still owed.
    pub still_missing: Vec<IntakeDeficiency>,
    /// Who supplied.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ToleranceMaterialsProvided {
    const TYPE: &'static str = "cn.yizhan.licensing.tolerance_materials_provided.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 已终止: an application accepted under 容缺受理 was stopped because the
/// owed materials did not arrive by the due date. Its running tasks were
/// withdrawn (BLZT 14) and approvals given with tolerance revoked (BLZT 15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApplicationTerminated {
    /// The application.
    pub application_id: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// What was still owed.
    pub missing: Vec<IntakeDeficiency>,
    /// The due date that passed.
    pub due_date: chrono::NaiveDate,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ApplicationTerminated {
    const TYPE: &'static str = "cn.yizhan.licensing.application_terminated.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 已注销: a cancellation (注销) was accepted; the licence it names is
/// cancelled (the document service is asked to set 04).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LicenceCancelled {
    /// The cancellation application.
    pub application_id: String,
    /// The application whose licence is cancelled.
    pub predecessor_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// 电子证照标识 of the cancelled licence.
    pub certificate_id: String,
    /// The window clerk.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for LicenceCancelled {
    const TYPE: &'static str = "cn.yizhan.licensing.licence_cancelled.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 事项目录已发布: an administrator published a new catalog version. New
/// notices and applications use it; applications already made keep theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CatalogPublished {
    /// The new version.
    pub version: i32,
    /// Its scenarios.
    pub scenario_codes: Vec<String>,
    /// Its items.
    pub item_codes: Vec<String>,
    /// The administrator.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for CatalogPublished {
    const TYPE: &'static str = "cn.yizhan.licensing.catalog_published.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        format!("catalog-{}", self.version)
    }
}
