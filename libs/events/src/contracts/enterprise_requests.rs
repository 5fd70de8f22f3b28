//! 诉求 and 好差评 events of the enterprise service: a request's way from
//! filing to the rating that closes it, its deadline alarms, and the rating
//! of any concluded service with the follow-up a bad one opens.
//!
//! Every event of a request carries the same [`RequestFacts`] (codes and
//! their Chinese names), so a consumer never looks anything up; every event
//! of a rating carries [`RatingFacts`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, Event, topics};

/// What every 诉求 event says about the request, as it stands after the
/// change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestFacts {
    /// The request.
    pub request_id: String,
    /// The enterprise's 统一社会信用代码.
    pub enterprise_uscc: String,
    /// Category code, e.g. `finance`.
    pub category: String,
    /// 类别名称, e.g. `融资服务`.
    pub category_name: String,
    /// Channel code, e.g. `hotline_12345`.
    pub channel: String,
    /// 渠道名称, e.g. `12345热线`.
    pub channel_name: String,
    /// The responsible department's code.
    pub department_code: String,
    /// 承办部门名称.
    pub department_name: String,
    /// Status code after the change.
    pub status: String,
    /// 状态名称, e.g. `办理中`.
    pub status_name: String,
    /// Handling round: 1, or 2 after a 不满意 rating.
    pub round: u8,
}

/// One step of a 诉求: the facts, who did it, when, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestStep {
    /// The request as it stands after the step.
    pub request: RequestFacts,
    /// Who did it (`system` for automatic steps).
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// What was said, zh-CN: the transfer reason, the answer, the question
    /// to the enterprise; absent when nothing was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Transfer: the department it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_department_code: Option<String>,
    /// Rating: the satisfaction code (`satisfied`, `acceptable`,
    /// `dissatisfied`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<String>,
    /// Rating: its Chinese name (`满意`, `基本满意`, `不满意`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction_name: Option<String>,
    /// Answer: whether it came after the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<bool>,
}

impl RequestStep {
    fn request_id(&self) -> &str {
        &self.request.request_id
    }
}

/// 诉求已受理: filed by the enterprise, its agent, a 营商专员 or a 12345
/// operator. Same JSON as [`RequestStep`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestFiled(pub RequestStep);

impl Event for EnterpriseRequestFiled {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_filed.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 诉求已派单: sent to the department its category's rule names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestDispatched(pub RequestStep);

impl Event for EnterpriseRequestDispatched {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_dispatched.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 诉求已转办: the department passed it on, with its reason (`text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestTransferred(pub RequestStep);

impl Event for EnterpriseRequestTransferred {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_transferred.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 诉求已签收: the department took it; the answer clock runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestAccepted(pub RequestStep);

impl Event for EnterpriseRequestAccepted {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_accepted.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 请企业补充: the department asked the enterprise (`text`); the clock
/// pauses until it replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestInfoRequested(pub RequestStep);

impl Event for EnterpriseRequestInfoRequested {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_info_requested.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 企业已补充: the enterprise replied; the clock runs again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestInfoSupplied(pub RequestStep);

impl Event for EnterpriseRequestInfoSupplied {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_info_supplied.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 诉求已答复: the department's answer (`text`), and whether it was late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestAnswered(pub RequestStep);

impl Event for EnterpriseRequestAnswered {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_answered.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 诉求已评价: the enterprise rated the answer (满意 / 基本满意 / 不满意).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestRated(pub RequestStep);

impl Event for EnterpriseRequestRated {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_rated.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 诉求已重新办理: a 不满意 rating sent it back for a second round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestReopened(pub RequestStep);

impl Event for EnterpriseRequestReopened {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_reopened.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}

/// A 诉求's time limit nearly used or passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestDeadlineNotice {
    /// The request.
    pub request: RequestFacts,
    /// `accept` (签收, 1 working day) or `answer` (答复, the category's limit).
    pub limit: String,
    /// 时限名称: `签收时限` or `答复时限`.
    pub limit_name: String,
    /// Last day of the limit.
    pub due_date: NaiveDate,
    /// Whole working days left, today excluded (negative once overdue).
    pub working_days_remaining: i32,
}

impl RequestDeadlineNotice {
    fn request_id(&self) -> &str {
        &self.request.request_id
    }
}

/// 诉求时限即将届满. Same JSON as [`RequestDeadlineNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestDeadlineApproaching(pub RequestDeadlineNotice);

impl Event for EnterpriseRequestDeadlineApproaching {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_deadline_approaching.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}
/// 诉求已超期. Same JSON as [`RequestDeadlineNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EnterpriseRequestDeadlineOverdue(pub RequestDeadlineNotice);

impl Event for EnterpriseRequestDeadlineOverdue {
    const TYPE: &'static str = "cn.yizhan.enterprise.request_deadline_overdue.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.request_id().to_owned()
    }
}

/// What every 好差评 event says about the rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RatingFacts {
    /// The rating.
    pub rating_id: String,
    /// What was rated: `licensing_application`, `construction_stage` or
    /// `request`.
    pub subject: String,
    /// Its Chinese name, e.g. `一业一证申请`.
    pub subject_name: String,
    /// The rated case (application, stage application or request id).
    pub case_id: String,
    /// 事项 (item, stage or request category) in Chinese.
    pub item_name: String,
    /// The enterprise that rated.
    pub enterprise_uscc: String,
    /// The responsible department's code.
    pub department_code: String,
    /// 责任部门名称.
    pub department_name: String,
    /// 1-5.
    pub score: u8,
    /// 评价等级, e.g. `不满意`.
    pub score_name: String,
    /// The applicant's comment, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// 评价已提交.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RatingRecorded {
    /// The rating.
    pub rating: RatingFacts,
    /// Who rated.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for RatingRecorded {
    const TYPE: &'static str = "cn.yizhan.enterprise.rating_recorded.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.rating.rating_id.clone()
    }
}

/// A bad rating's follow-up (差评回访整改) as it stands after a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FollowUpStep {
    /// The rating followed up.
    pub rating: RatingFacts,
    /// Follow-up status code: `open`, `verified`, `rectified`,
    /// `not_substantiated`.
    pub status: String,
    /// 状态名称, e.g. `待核实`.
    pub status_name: String,
    /// Last working day of the follow-up.
    pub due_date: NaiveDate,
    /// What the department recorded (verification or rectification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Concluded by its due date (on a concluding step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
    /// When.
    pub at: DateTime<Utc>,
}

impl FollowUpStep {
    fn rating_id(&self) -> &str {
        &self.rating.rating_id
    }
}

/// 差评回访已生成: a 1-2 rating opened a follow-up in the department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct RatingFollowUpOpened(pub FollowUpStep);

impl Event for RatingFollowUpOpened {
    const TYPE: &'static str = "cn.yizhan.enterprise.rating_follow_up_opened.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.rating_id().to_owned()
    }
}
/// 差评回访今日到期: the follow-up's last working day has come and it is
/// not concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct RatingFollowUpDue(pub FollowUpStep);

impl Event for RatingFollowUpDue {
    const TYPE: &'static str = "cn.yizhan.enterprise.rating_follow_up_due.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.rating_id().to_owned()
    }
}
/// 差评回访已办结: rectified, or verified as not substantiated; the
/// applicant sees the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct RatingFollowUpConcluded(pub FollowUpStep);

impl Event for RatingFollowUpConcluded {
    const TYPE: &'static str = "cn.yizhan.enterprise.rating_follow_up_concluded.v1";
    const TOPIC: &'static str = topics::ENTERPRISE;
    fn subject(&self) -> String {
        self.0.rating_id().to_owned()
    }
}
