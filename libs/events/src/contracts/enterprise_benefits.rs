//! Events the enterprise service publishes about the 一企一档 profile and
//! 免申即享 policy benefits (on `topics::ENTERPRISE`). Amounts are whole 分;
//! consumers show them in 元.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, Event, topics};

/// 企业档案事实已更新: an officer set a fact of an enterprise's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EnterpriseFactSet {
    /// The enterprise (统一社会信用代码).
    pub enterprise_uscc: String,
    /// Fact key (`employee_count`).
    pub fact: String,
    /// Its Chinese name (`从业人数`).
    pub fact_name: String,
    /// The value as people read it (`12人`, `小型`).
    pub value_display: String,
    /// Where the officer took it from.
    pub source: String,
    /// The officer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for EnterpriseFactSet {
    const TYPE: &'static str = "cn.yizhan.enterprise.fact_set.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.enterprise_uscc.clone()
    }
}

/// 企业档案证照已记录: a licence or permit of the enterprise was recorded
/// or changed in its profile (requested, issued, suspended, ended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EnterpriseLicenceRecorded {
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The issue request (application id).
    pub request_id: String,
    /// 电子证照标识, once issued.
    pub certificate_id: Option<String>,
    /// Item codes it carries.
    pub item_codes: Vec<String>,
    /// `requested`, `valid`, `suspended` or `ended`.
    pub state: String,
    /// When the profile recorded it.
    pub at: DateTime<Utc>,
}

impl Event for EnterpriseLicenceRecorded {
    const TYPE: &'static str = "cn.yizhan.enterprise.licence_recorded.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.enterprise_uscc.clone()
    }
}

/// 免申即享政策已发布.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitPolicyPublished {
    /// Policy id.
    pub policy_id: String,
    /// Title.
    pub title: String,
    /// The responsible department's code.
    pub department: String,
    /// Budget, 分.
    pub budget_fen: i64,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_until: NaiveDate,
    /// Enterprises matched on publishing.
    pub matched: i64,
    /// The administrator.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BenefitPolicyPublished {
    const TYPE: &'static str = "cn.yizhan.enterprise.benefit_policy_published.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.policy_id.clone()
    }
}

/// One enterprise's benefit under one policy, as every candidate event
/// carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitRef {
    /// Candidate id.
    pub candidate_id: String,
    /// Policy id.
    pub policy_id: String,
    /// Policy title.
    pub policy_title: String,
    /// The policy's department code.
    pub department: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Amount, 分; `None` when a fact it is computed from is not on file.
    pub amount_fen: Option<i64>,
}

/// 免申即享已匹配: an enterprise meets a policy's rule (why, in Chinese).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitMatched {
    /// The benefit.
    pub benefit: BenefitRef,
    /// The conditions that decided the match.
    pub reasons: Vec<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BenefitMatched {
    const TYPE: &'static str = "cn.yizhan.enterprise.benefit_matched.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.benefit.candidate_id.clone()
    }
}

/// 免申即享已确认 by an officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitConfirmed {
    /// The benefit.
    pub benefit: BenefitRef,
    /// The disbursement batch it is in.
    pub batch_id: String,
    /// The officer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BenefitConfirmed {
    const TYPE: &'static str = "cn.yizhan.enterprise.benefit_confirmed.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.benefit.candidate_id.clone()
    }
}

/// 免申即享已排除 by an officer, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitExcluded {
    /// The benefit.
    pub benefit: BenefitRef,
    /// Why.
    pub reason: String,
    /// The officer.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BenefitExcluded {
    const TYPE: &'static str = "cn.yizhan.enterprise.benefit_excluded.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.benefit.candidate_id.clone()
    }
}

/// 免申即享已发放: the batch the benefit was in was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitPaid {
    /// The benefit.
    pub benefit: BenefitRef,
    /// The batch.
    pub batch_id: String,
    /// The officer who recorded the payment.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BenefitPaid {
    const TYPE: &'static str = "cn.yizhan.enterprise.benefit_paid.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.benefit.candidate_id.clone()
    }
}

/// 企业放弃: the enterprise declined the benefit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitDeclined {
    /// The benefit.
    pub benefit: BenefitRef,
    /// Why, if the enterprise said.
    pub reason: Option<String>,
    /// The enterprise's user.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BenefitDeclined {
    const TYPE: &'static str = "cn.yizhan.enterprise.benefit_declined.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.benefit.candidate_id.clone()
    }
}

/// 企业提出异议: the enterprise objects (to the amount, an exclusion, …);
/// the objection goes to the policy's department as a 诉求.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitObjected {
    /// The benefit.
    pub benefit: BenefitRef,
    /// The objection.
    pub reason: String,
    /// The enterprise's user.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BenefitObjected {
    const TYPE: &'static str = "cn.yizhan.enterprise.benefit_objected.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.benefit.candidate_id.clone()
    }
}
